#!/usr/bin/env python3
"""setup.py - prepares a freshly initialised xiaoan for bench/api/run.sh.

    setup.py PORT ONE_TIME_PASSWORD BODY_FILE

Signs the administrator in, changes the one-time password, signs in again,
creates three regions and one school, fetches GET /api/schools/ID once and
writes that exact body to BODY_FILE (nginx serves it). Prints shell
assignments on stdout: COOKIE, CSRF, SCHOOL_ID, BODY_BYTES.

    setup.py --login LB_PORT SCHOOL_ID PORT1 PORT2 ...

For the servers behind a load balancer, after the first form ran on one of
them: signs the administrator in through the balancer (LB_PORT), then checks
that this session works on every server directly: GET /api/schools/ID and a
PATCH that changes nothing (so the CSRF token is checked but nothing is
written) must answer 200 on each. Prints COOKIE, CSRF and SESSIONS (a line
for the report); exits 1 when a server refuses the session.
"""
import http.client
import json
import re
import sys

PASSWORD = "Xiaoan-Bench-2026!"


def die(msg):
    sys.stderr.write("bench setup: %s\n" % msg)
    sys.exit(1)


class Client:
    def __init__(self, port):
        self.port = port
        self.cookie = None
        self.csrf = None

    def req(self, method, path, body=None):
        h = {}
        if self.cookie:
            h["Cookie"] = "xiaoan_session=" + self.cookie
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                m = re.match(r"xiaoan_session=([^;]*)", v)
                if m and "Max-Age=0" not in v:
                    self.cookie = m.group(1)
        c.close()
        return r.status, raw

    def login(self, pw):
        self.cookie = self.csrf = None
        st, raw = self.req("POST", "/api/auth/login", {"username": "admin", "password": pw})
        if st != 200:
            die("login: %d %s" % (st, raw[:300]))
        self.csrf = json.loads(raw)["csrf"]
        if not self.cookie:
            die("login: no xiaoan_session cookie")


def login_check(lb_port, sid, ports):
    c = Client(lb_port)
    c.login(PASSWORD)
    path = "/api/schools/%d" % sid
    seen = []
    for p in ports:
        d = Client(p)
        d.cookie, d.csrf = c.cookie, c.csrf
        st, raw = d.req("GET", path)
        if st != 200:
            die("the session from a sign-in through nginx is refused by the server on port %d: GET %d %s"
                % (p, st, raw[:200]))
        enrollment = json.loads(raw)["enrollment"]
        st2, raw2 = d.req("PATCH", path, {"enrollment": enrollment})
        if st2 != 200:
            die("the session from a sign-in through nginx is refused by the server on port %d: PATCH %d %s"
                % (p, st2, raw2[:200]))
        seen.append("port %d GET %d PATCH %d" % (p, st, st2))
    print("COOKIE='%s'" % c.cookie)
    print("CSRF='%s'" % c.csrf)
    print("SESSIONS='signed in through nginx; the cookie and CSRF token work on every server: %s'"
          % ", ".join(seen))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "--login":
        login_check(int(sys.argv[2]), int(sys.argv[3]), [int(p) for p in sys.argv[4:]])
        return
    if len(sys.argv) != 4:
        die("usage: setup.py PORT ONE_TIME_PASSWORD BODY_FILE")
    port, otp, body_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Client(port)
    c.login(otp)
    st, raw = c.req("POST", "/api/auth/password", {"old_password": otp, "new_password": PASSWORD})
    if st != 204:
        die("password change: %d %s" % (st, raw[:300]))
    c.login(PASSWORD)

    for reg in ({"code": "340000", "name": "安徽省"},
                {"code": "340800", "name": "安庆市", "parent_code": "340000"},
                {"code": "340899", "name": "示范县", "parent_code": "340800"}):
        st, raw = c.req("POST", "/api/regions", reg)
        if st == 404 and b"not_found" in raw or st == 405:
            die("POST /api/regions answered %d: is the admin API routed yet (src/routes.c)? %s" % (st, raw[:200]))
        if st not in (200, 201, 409):
            die("POST /api/regions %s: %d %s" % (reg["code"], st, raw[:300]))

    school = {
        "name": "示范县实验小学", "code": "3408990001", "stage": "小学", "ownership": "公办",
        "boarding": False, "region_code": "340899", "address": "示范县城关镇人民路 1 号",
        "lat": 30.52, "lon": 117.05, "enrollment": 100000, "staff_count": 86, "guard_count": 4,
        "principal_name": "王校长", "principal_phone": "0556-5123456",
        "safety_officer_name": "李老师", "safety_officer_phone": "13800000000",
        "legal_vp_name": "张警官", "legal_vp_unit": "城关派出所", "legal_vp_phone": "0556-5110110",
    }
    st, raw = c.req("POST", "/api/schools", school)
    if st != 201:
        die("POST /api/schools: %d %s" % (st, raw[:300]))
    sid = json.loads(raw)["id"]
    st, raw = c.req("GET", "/api/schools/%d" % sid)
    if st != 200:
        die("GET /api/schools/%d: %d %s" % (sid, st, raw[:300]))
    with open(body_file, "wb") as f:
        f.write(raw)
    print("COOKIE='%s'" % c.cookie)
    print("CSRF='%s'" % c.csrf)
    print("SCHOOL_ID=%d" % sid)
    print("BODY_BYTES=%d" % len(raw))


if __name__ == "__main__":
    main()

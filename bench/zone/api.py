#!/usr/bin/env python3
"""api.py - the through-API cost of the zone engine's incremental check.

    api.py PORT ONE_TIME_PASSWORD [ROUNDS]

Signs the administrator in (changing the one-time password first, as
bench/api/setup.py does), picks a venue of the demo county (or creates one
beside a school when the demo has none), then on one keep-alive connection
alternates, ROUNDS times (default 2000):
  - PATCH /api/venues/:id {"note": ...}  (a new note each time: a committed,
    audited write the zone engine ignores), and
  - PATCH /api/venues/:id {"lat", "lon"} (the venue moves 33 m and back: the
    same write plus the engine's incremental check and the findings it
    changes, in the same transaction).
Interleaving gives both the same disk and cache conditions. Prints the
latency percentiles of each and "@ KEY VALUE" lines for run.sh. Exits 1 when
it cannot measure (sign-in refused, no venue API).
"""
import http.client
import json
import re
import sys
import time

PASSWORD = "Xiaoan-Bench-2026!"


def die(msg):
    sys.stderr.write("bench/zone api: %s\n" % msg)
    sys.exit(1)


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = self.csrf = None

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
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                m = re.match(r"xiaoan_session=([^;]*)", v)
                if m and "Max-Age=0" not in v:
                    self.cookie = m.group(1)
        return r.status, raw

    def login(self, pw):
        self.cookie = self.csrf = None
        st, raw = self.req("POST", "/api/auth/login", {"username": "admin", "password": pw})
        if st != 200:
            die("login: %d %s" % (st, raw[:300]))
        self.csrf = json.loads(raw)["csrf"]


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    if len(sys.argv) < 3:
        die("usage: api.py PORT ONE_TIME_PASSWORD [ROUNDS]")
    port, otp = int(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    c = Client(port)
    c.login(otp)
    st, raw = c.req("POST", "/api/auth/password", {"old_password": otp, "new_password": PASSWORD})
    if st != 204:
        die("password change: %d %s" % (st, raw[:300]))
    c.login(PASSWORD)

    st, raw = c.req("GET", "/api/venues?page_size=50&status=%E8%90%A5%E4%B8%9A")
    if st != 200:
        die("GET /api/venues answered %d: is the venue API routed? %s" % (st, raw[:200]))
    items = json.loads(raw)["items"]
    total_venues = json.loads(raw).get("total", len(items))
    venue = None
    for it in items:  # prefer an internet cafe: it has the most rules to judge
        if it.get("category") == "internet_cafe":
            venue = it
            break
    if venue is None and items:
        venue = items[0]
    if venue is None:
        st, raw = c.req("GET", "/api/schools?page_size=1")
        school = json.loads(raw)["items"][0]
        st, raw = c.req("POST", "/api/venues", {
            "name": "测试网吧", "category": "internet_cafe", "region_code": school["region_code"],
            "lat": school["lat"] + 0.001, "lon": school["lon"], "status": "营业"})
        if st != 201:
            die("POST /api/venues: %d %s" % (st, raw[:300]))
        venue = json.loads(raw)
    vid = venue["id"]
    st, raw = c.req("GET", "/api/venues/%d" % vid)
    venue = json.loads(raw)
    lat, lon = venue["lat"], venue["lon"]
    path = "/api/venues/%d" % vid
    print("venue %d (%s, %s) of %d in the database; %d rounds on one keep-alive connection"
          % (vid, venue.get("name"), venue.get("category"), total_venues, rounds))

    note_ms, move_ms, bad = [], [], 0
    warm = 100
    for i in range(rounds + warm):
        t = time.perf_counter()
        st, raw = c.req("PATCH", path, {"note": "bench %d" % i})
        dn = time.perf_counter() - t
        bad += st != 200
        body = {"lat": lat + (0.0003 if i % 2 == 0 else 0.0), "lon": lon}
        t = time.perf_counter()
        st, raw = c.req("PATCH", path, body)
        dm = time.perf_counter() - t
        if st != 200:
            bad += 1
            if bad == 1:
                sys.stderr.write("bench/zone api: PATCH answered %d %s\n" % (st, raw[:200]))
        if i >= warm:
            note_ms.append(dn * 1000)
            move_ms.append(dm * 1000)
    c.req("PATCH", path, {"lat": lat, "lon": lon, "note": venue.get("note") or ""})
    for name, v in (("note", note_ms), ("move", move_ms)):
        print("PATCH %-4s  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  mean %.3f ms"
              % (name, pct(v, 50), pct(v, 90), pct(v, 99), sum(v) / len(v)))
        print("@ api_%s_p50 %.4f\n@ api_%s_p99 %.4f" % (name, pct(v, 50), name, pct(v, 99)))
    d50 = pct(move_ms, 50) - pct(note_ms, 50)
    d99 = pct(move_ms, 99) - pct(note_ms, 99)
    print("through-API incremental cost (move minus note): p50 %.3f ms, p99 %.3f ms" % (d50, d99))
    print("@ api_diff_p50 %.4f\n@ api_diff_p99 %.4f\n@ api_errors %d" % (d50, d99, bad))


if __name__ == "__main__":
    main()

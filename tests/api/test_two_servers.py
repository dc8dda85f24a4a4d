"""Two servers on one database (SQLite: one data directory; PostgreSQL:
one database) serve the same data: a session made on one works on the
other, and sign-in failures count across both, so spreading guesses over
servers does not escape the lockout."""
import tempfile

import xa
from xa import Client, STRONG, expect_error

OWN_SERVER = True


def pair(binary):
    data = tempfile.mkdtemp(prefix="xiaoan-two-")
    a = xa.Server(binary, data=data).start()
    b = xa.Server(binary, data=data, init=False).start()
    return a, b


def test_sessions_work_on_either_server(binary):
    a, b = pair(binary)
    try:
        c = Client(a)
        c.login("admin", a.admin_password)
        c.change_password(a.admin_password, STRONG)
        c = Client(a)
        c.login("admin", STRONG)
        # the same cookie and CSRF token, sent to the other server
        on_b = Client(b)
        on_b.cookies = dict(c.cookies)
        on_b.csrf = c.csrf
        assert on_b.get("/api/auth/me").json["username"] == "admin"
        r = on_b.post("/api/regions", {"code": "990000", "name": "测试省"})
        assert r.status == 201, r
        assert c.get("/api/regions?code=990000").json["total"] == 1
        # logging out on b ends the session on a too (within the cache's recheck)
        assert on_b.post("/api/auth/logout").status == 204
        a.advance_clock(6)
        expect_error(c.get("/api/auth/me"), 401, "auth.required")
    finally:
        b.stop()
        a.cleanup()


def test_lockout_counts_across_servers(binary):
    a, b = pair(binary)
    try:
        c = Client(a)
        c.login("admin", a.admin_password)
        c.change_password(a.admin_password, STRONG)
        for i in range(5):
            srv = a if i % 2 == 0 else b
            expect_error(Client(srv).login("admin", "Wrong-password-%d" % i, expect=401), 401, "auth.invalid")
        for srv in (a, b):
            expect_error(Client(srv).login("admin", STRONG, expect=429), 429, "auth.locked")
    finally:
        b.stop()
        a.cleanup()


def test_concurrent_partial_updates_lose_nothing(binary):
    """Two officials on two servers edit different fields of one school at
    the same time: every field keeps its last acknowledged value, and the
    audit trail's before/after chain has no gap."""
    import threading
    a, b = pair(binary)
    try:
        c = Client(a)
        c.login("admin", a.admin_password)
        c.change_password(a.admin_password, STRONG)
        a.cli("demo")
        ca, cb = Client(a), Client(b)
        ca.login("admin", STRONG)
        cb.login("admin", STRONG)
        sid = ca.get("/api/schools?page_size=1").json["items"][0]["id"]
        last = {}

        def edit(client, field, values):
            for v in values:
                r = client.patch("/api/schools/%d" % sid, {field: v})
                assert r.status == 200, r
                last[field] = v

        ta = threading.Thread(target=edit, args=(ca, "enrollment", range(1000, 1040)))
        tb = threading.Thread(target=edit, args=(cb, "guard_count", range(100, 140)))
        ta.start(), tb.start()
        ta.join(), tb.join()
        rec = ca.get("/api/schools/%d" % sid).json
        assert rec["enrollment"] == last["enrollment"] and rec["guard_count"] == last["guard_count"], rec
        # each update's "before" is the previous update's "after"
        hist = list(reversed(ca.get("/api/schools/%d/audit" % sid).json["items"]))
        ups = [h for h in hist if h["action"] == "update"]
        for prev, cur in zip(ups, ups[1:]):
            assert cur["before"]["enrollment"] == prev["after"]["enrollment"]
            assert cur["before"]["guard_count"] == prev["after"]["guard_count"]
    finally:
        b.stop()
        a.cleanup()

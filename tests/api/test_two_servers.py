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

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


def test_zone_index_follows_the_other_server(binary):
    """A venue opened through one server is in the other server's index:
    its surroundings list and its findings agree, and a closure made on the
    second server clears the finding the first one wrote."""
    a, b = pair(binary)
    try:
        c = Client(a)
        c.login("admin", a.admin_password)
        c.change_password(a.admin_password, STRONG)
        c = Client(a)
        c.login("admin", STRONG)
        on_b = Client(b)
        on_b.cookies = dict(c.cookies)
        on_b.csrf = c.csrf
        assert c.post("/api/regions", {"code": "990000", "name": "测试省"}).status == 201
        assert c.post("/api/regions", {"code": "990100", "name": "测试市", "parent_code": "990000"}).status == 201
        assert c.post("/api/regions", {"code": "990101", "name": "测试县", "parent_code": "990100"}).status == 201
        school = {"name": "测试小学", "code": "9901010001", "stage": "小学", "ownership": "公办",
                  "region_code": "990101", "lat": 30.5, "lon": 117.05}
        r = c.post("/api/schools", school)
        assert r.status == 201, r
        sid = r.json["id"]
        # a café 100 m north, opened through server a
        r = c.post("/api/venues", {"name": "测试网咖", "category": "internet_cafe", "region_code": "990101",
                                   "lat": 30.5009, "lon": 117.05})
        assert r.status == 201, r
        vid = r.json["id"]
        # server b lists it around the school, judged
        items = on_b.get("/api/schools/%d/surroundings" % sid).json["items"]
        assert [x["venue_id"] for x in items] == [vid] and items[0]["verdict"] == "需审查", items
        # closed through server b: the finding server a wrote is cleared
        assert on_b.patch("/api/venues/%d" % vid, {"status": "取缔"}).status == 200
        f = c.get(xa.q("/api/zone/findings", school_id=sid, all=1)).json["items"]
        assert len(f) == 1 and f[0]["state"] == "已消除", f
        items = c.get("/api/schools/%d/surroundings" % sid).json["items"]
        assert items and items[0]["verdict"] == "", items
    finally:
        b.stop()
        a.cleanup()

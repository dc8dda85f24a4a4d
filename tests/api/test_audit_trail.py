"""The audit trail (操作审计) as an auditor relies on it: every write leaves
exactly one entry naming who, from where, what and which record; the
entries can be searched; the table refuses UPDATE and DELETE; and when an
attacker with the database file goes around that, `xiaoan audit verify`
names the entry he altered, the one he removed, or the end he cut off."""
import os
import re
import shutil
import sqlite3
import tempfile

import xa
from fixtures import audit_since, last_seq, n_audit, school_body, sql1
from xa import Client, STRONG, expect_error

OWN_SERVER = True


def fresh(binary):
    s = xa.Server(binary).start()
    c = Client(s)
    c.login("admin", s.admin_password)
    c.change_password(s.admin_password, STRONG)
    c = Client(s)
    c.login("admin", STRONG)
    return s, c


def one_entry(s, seq, action, entity, entity_id, username="admin"):
    """Exactly one audit entry after seq, and it is this one."""
    new = audit_since(s, seq)
    assert len(new) == 1, "expected one audit entry for %s %s, got %r" % (action, entity, new)
    e = new[0]
    assert (e["action"], e["entity"], e["entity_id"], e["username"], e["client_ip"]) == \
        (action, entity, str(entity_id), username, "127.0.0.1"), e
    return e


def writes(s, c):
    """A day of an office's writes, each checked for its one audit entry;
    returns the ids made."""
    ids = {}
    for body in ({"code": "340000", "name": "安徽省"}, {"code": "340800", "name": "安庆市", "parent_code": "340000"},
                 {"code": "340899", "name": "示范县", "parent_code": "340800"},
                 {"code": "340899001", "name": "城东街道", "parent_code": "340899"}):
        seq = last_seq(s)
        r = c.post("/api/regions", body)
        assert r.status == 201, r
        e = one_entry(s, seq, "create", "region", body["code"])
        assert e["before_json"] is None and '"name":"%s"' % body["name"] in e["after_json"]
    seq = last_seq(s)
    assert c.patch("/api/regions/340899001", {"name": "城东街道办事处"}).status == 200
    one_entry(s, seq, "update", "region", "340899001")

    seq = last_seq(s)
    r = c.post("/api/units", {"code": "pcs001", "name": "城东派出所", "type": "派出所", "region_code": "340899001"})
    assert r.status == 201, r
    ids["unit"] = r.json["id"]
    one_entry(s, seq, "create", "unit", ids["unit"])
    seq = last_seq(s)
    assert c.patch("/api/units/%d" % ids["unit"], {"phone": "0556-5550110"}).status == 200
    one_entry(s, seq, "update", "unit", ids["unit"])

    seq = last_seq(s)
    r = c.post("/api/roles", {"code": "viewer", "name": "查看员", "perms": ["school.read"]})
    assert r.status == 201, r
    one_entry(s, seq, "create", "role", "viewer")
    seq = last_seq(s)
    assert c.patch("/api/roles/viewer", {"require_totp": True}).status == 200
    one_entry(s, seq, "update", "role", "viewer")

    seq = last_seq(s)
    r = c.post("/api/users", {"username": "liu", "display_name": "刘文斌", "unit_id": ids["unit"], "roles": ["viewer"],
                              "phone": "13912345678"})
    assert r.status == 201, r
    ids["user"] = r.json["id"]
    e = one_entry(s, seq, "create", "user", ids["user"])
    assert "password_hash" not in (e["after_json"] or "") and r.json["one_time_password"] not in (e["after_json"] or "")
    seq = last_seq(s)
    assert c.patch("/api/users/%d" % ids["user"], {"display_name": "刘文斌（城东）"}).status == 200
    one_entry(s, seq, "update", "user", ids["user"])
    seq = last_seq(s)
    assert c.patch("/api/users/%d" % ids["user"], {"disabled": True}).status == 200
    one_entry(s, seq, "disable", "user", ids["user"])
    seq = last_seq(s)
    assert c.get("/api/users/%d" % ids["user"]).status == 200
    one_entry(s, seq, "read", "user", ids["user"])

    seq = last_seq(s)
    r = c.post("/api/schools", school_body(code="3408990001", region_code="340899001", police_unit_id=ids["unit"]))
    assert r.status == 201, r
    ids["school"] = r.json["id"]
    one_entry(s, seq, "create", "school", ids["school"])
    seq = last_seq(s)
    assert c.patch("/api/schools/%d" % ids["school"], {"enrollment": 640}).status == 200
    e = one_entry(s, seq, "update", "school", ids["school"])
    assert '"enrollment":300' in e["before_json"] and '"enrollment":640' in e["after_json"]
    seq = last_seq(s)
    r = c.post("/api/schools", school_body(code="3408990002", region_code="340899001"))
    ids["school2"] = r.json["id"]
    one_entry(s, seq, "create", "school", ids["school2"])
    seq = last_seq(s)
    assert c.delete("/api/schools/%d" % ids["school2"]).status == 204
    one_entry(s, seq, "delete", "school", ids["school2"])
    # refusals and no-op edits leave nothing
    seq = last_seq(s)
    expect_error(c.post("/api/schools", school_body(code="3408990001", region_code="340899001")), 409)
    expect_error(c.patch("/api/schools/%d" % ids["school"], {"stage": "x"}), 400)
    assert c.patch("/api/schools/%d" % ids["school"], {"enrollment": 640}).status == 200
    assert c.patch("/api/regions/340899001", {"name": "城东街道办事处"}).status == 200
    assert c.get("/api/schools").status == 200
    assert last_seq(s) == seq
    return ids


def verify(s, data=None):
    p = s.cli("audit", "verify", check=False) if data is None else \
        xa.subprocess.run([s.binary, "audit", "verify", "--data", data], env=xa.data_env(s.env, data),
                          capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def tampered(s, *statements):
    """A copy of the stopped server's data with the statements applied as
    an attacker with the file (on PostgreSQL: with the database owner's
    rights) would; returns the copy's directory."""
    if xa.PG:
        d = xa.copy_data(s.data)
        db = xa.PgConn(xa.pg_url(xa.data_database(d)))
        for st in statements:
            # PostgreSQL names a trigger with its table
            db.execute(re.sub(r"^DROP TRIGGER (\w+)$", r"DROP TRIGGER \1 ON audit", st))
        return d
    d = tempfile.mkdtemp(prefix="xiaoan-tamper-")
    for name in os.listdir(s.data):
        if name.startswith("xiaoan.db"):
            shutil.copy(os.path.join(s.data, name), d)
    db = sqlite3.connect(os.path.join(d, "xiaoan.db"))
    for st in statements:
        db.execute(st)
    db.commit()
    db.close()
    return d


def test_every_write_is_recorded_and_the_chain_verifies(binary):
    s, c = fresh(binary)
    try:
        writes(s, c)
        rc, out = verify(s)
        assert rc == 0 and "chain intact" in out, out
        n = int(re.search(r"(\d+) entries", out).group(1))
        assert n == n_audit(s) == last_seq(s)
        # the table itself refuses changes
        db = s.db()
        try:
            for st in ("UPDATE audit SET username = 'nobody' WHERE seq = 3", "DELETE FROM audit WHERE seq = 3",
                       "DELETE FROM audit"):
                try:
                    db.execute(st)
                    db.commit()
                    raise AssertionError("audit accepted: " + st)
                except sqlite3.DatabaseError as e:
                    assert "append-only" in str(e), e
                    db.rollback()
        finally:
            db.close()
        assert n_audit(s) == n
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_verify_names_what_an_attacker_did(binary):
    s, c = fresh(binary)
    dirs = []
    try:
        writes(s, c)
        assert s.stop() == 0
        n = sql1(s, "SELECT max(seq) FROM audit")
        k = n // 2
        rc, out = verify(s)
        assert rc == 0 and "chain intact" in out, out
        # an altered entry, the triggers dropped first
        d = tampered(s, "DROP TRIGGER audit_no_update",
                     "UPDATE audit SET after_json = '{\"enrollment\":1}' WHERE seq = %d" % k)
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1, out
        assert re.search(r"entry %d was altered" % k, out), out
        assert "chain intact" not in out
        assert not re.search(r"entry %d was altered" % (k + 1), out), out
        # the attacker recomputes nothing; changing who did it is caught too
        d = tampered(s, "DROP TRIGGER audit_no_update", "UPDATE audit SET username = 'someone' WHERE seq = %d" % (k + 1))
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1 and re.search(r"entry %d was altered" % (k + 1), out), out
        # an entry removed from the middle
        d = tampered(s, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq = %d" % k)
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1, out
        assert re.search(r"entries %d\.\.%d are missing" % (k, k), out), out
        # the last entry removed: only the head knows
        d = tampered(s, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq = %d" % n)
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1, out
        assert re.search(r"ends at entry %d but the recorded head is entry %d" % (n - 1, n), out), out
        # ... and cutting the head back as well leaves the hash mismatch
        d = tampered(s, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq = %d" % n,
                     "UPDATE audit_head SET seq = %d" % (n - 1))
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1 and "head" in out, out
        # an entry slipped in with a made-up hash
        d = tampered(s, "INSERT INTO audit (seq, at, user_id, username, client_ip, action, entity, entity_id,"
                        " before_json, after_json, request_id, prev_hash, hash) SELECT seq + 1000, at, user_id,"
                        " username, client_ip, action, entity, entity_id, before_json, after_json, request_id,"
                        " prev_hash, hash FROM audit WHERE seq = %d" % k)
        dirs.append(d)
        rc, out = verify(s, d)
        assert rc == 1 and "chain intact" not in out, out
        # the original still verifies
        rc, out = verify(s)
        assert rc == 0 and "chain intact" in out, out
    finally:
        for d in dirs:
            xa.remove_data(d)
        s.cleanup()


def test_audit_search(binary):
    s, c = fresh(binary)
    try:
        ids = writes(s, c)
        sid = str(ids["school"])
        r = c.get(xa.q("/api/audit", entity="school", entity_id=sid))
        assert r.status == 200, r
        items = r.json["items"]
        assert [i["action"] for i in items] == ["update", "create"]
        assert all(i["entity"] == "school" and i["entity_id"] == sid for i in items)
        assert items[0]["before"]["enrollment"] == 300 and items[0]["after"]["enrollment"] == 640
        assert all(len(i["hash"]) == 64 and len(i["request_id"]) == 16 for i in items)
        # by user: the CLI's entries are "system" from "cli", the server's own (the zone rules it seeds)
        # "system" from "server", the API's are the signed-in user
        sysitems = c.get(xa.q("/api/audit", user="system", page_size=500)).json["items"]
        assert sysitems and all(i["username"] == "system" and i["client_ip"] in ("cli", "server") for i in sysitems)
        assert {i["client_ip"] for i in sysitems} == {"cli", "server"}
        assert all(i["entity"] == "zone_rule" for i in sysitems if i["client_ip"] == "server")
        mine = c.get(xa.q("/api/audit", user="admin", entity="region", page_size=500)).json["items"]
        assert {i["entity_id"] for i in mine} == {"340000", "340800", "340899", "340899001"}
        assert c.get(xa.q("/api/audit", user="nobody")).json["items"] == []
        # the searches themselves are in the trail, by whom and from where
        seq = last_seq(s)
        c.get(xa.q("/api/audit", entity="unit"))
        e = one_entry(s, seq, "read", "audit", "search")
        assert e["username"] == "admin"
        # by time: move the clock 20 minutes on (the session lives 30 idle), write once more
        stamp = audit_since(s, seq)[0]["seq"]
        first_at = sql1(s, "SELECT at FROM audit WHERE seq = ?", stamp)
        s.advance_clock(20 * 60)
        seq = last_seq(s)
        assert c.patch("/api/schools/" + sid, {"guard_count": 5}).status == 200
        later = audit_since(s, seq)
        assert len(later) == 1 and later[0]["action"] == "update"
        later_at = sql1(s, "SELECT at FROM audit WHERE seq = ?", later[0]["seq"])
        assert later_at > first_at
        got = c.get(xa.q("/api/audit", entity="school", **{"from": later_at})).json["items"]
        assert [i["seq"] for i in got] == [later[0]["seq"]]
        got = c.get(xa.q("/api/audit", to=first_at, entity="school", entity_id=sid)).json["items"]
        assert [i["action"] for i in got] == ["update", "create"]
        # pages: newest first, with the total (each search is recorded after it answers)
        top = last_seq(s)
        p1 = c.get(xa.q("/api/audit", page_size=3)).json
        p2 = c.get(xa.q("/api/audit", page_size=3, page=2)).json
        assert p1["page"] == 1 and p1["page_size"] == 3 and p2["page"] == 2 and len(p1["items"]) == 3
        assert p1["total"] == top and p2["total"] == top + 1
        assert [i["seq"] for i in p1["items"]] == [top, top - 1, top - 2]
        assert [i["seq"] for i in p2["items"]] == [top - 2, top - 3, top - 4]
        expect_error(c.get(xa.q("/api/audit", page_size=501)), 400, "validation.range", "page_size")
        expect_error(c.get(xa.q("/api/audit", page=0)), 400, "validation.range", "page")
        expect_error(c.get(xa.q("/api/audit", user="x" * 65)), 400, "validation.too_long", "user")
        assert s.stop() == 0
    finally:
        s.cleanup()

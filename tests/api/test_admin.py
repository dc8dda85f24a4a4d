"""Administration as a county office runs it: a county administrator
manages his county and nothing wider, nobody grants what he does not hold,
regions and units follow the code rules, roles take effect at once, a
disabled account is out at once, a reset password is one-time, reading a
person's record is on the record, and `xiaoan user` behaves for scripts."""
import re

import xa
from fixtures import COUNTY, TOWN_A, account, demo, n_audit, school_body, sign_in, sql1, unit_id, user_id
from xa import Client, STRONG, expect_error


def setup(t):
    if getattr(t, "_adm", None):
        return t._adm
    demo(t)
    s = {"zzb": unit_id(t, "zzb"), "system": unit_id(t, "system"), "pcs001": unit_id(t, "pcs001")}
    # a county administrator: every permission, the county only
    s["cadmin"], s["cadmin_name"] = account(t, "admin", "zzb", "region:" + COUNTY, "cadmin")
    # a user administrator without school or audit rights beyond reading
    r = t.admin.post("/api/roles", {"code": "useradmin", "name": "用户管理员",
                                    "perms": ["user.read", "user.write", "school.read", "unit.read", "region.read",
                                              "venue.read", "zone.read", "zone.review"]})
    assert r.status == 201, r
    s["uadmin"], _ = account(t, "useradmin", "zzb", "region:" + COUNTY, "uadmin")
    r = t.admin.post("/api/roles", {"code": "roleadmin", "name": "角色管理员",
                                    "perms": ["role.read", "role.write", "school.read"]})
    assert r.status == 201, r
    # roles are global: only an all-scope administrator edits them
    s["radmin"], _ = account(t, "roleadmin", "zzb", "all", "radmin")
    t._adm = s
    return s


def n_users(t):
    return sql1(t.server, "SELECT count(*) FROM users")


def new_user_body(username, unit, roles=("cadre",), scope=None, **kw):
    b = {"username": username, "display_name": "测试 " + username, "unit_id": unit, "roles": list(roles)}
    if scope is not None:
        b["scope"] = scope
    b.update(kw)
    return b


def test_county_admin_cannot_give_a_wider_scope(t):
    s = setup(t)
    c = s["cadmin"]
    n, audit = n_users(t), n_audit(t.server)
    for scope in ({"kind": "all"}, {"kind": "region", "value": "340800"}, {"kind": "region", "value": "340000"},
                  {"kind": "unit", "value": "system"}):
        e = expect_error(c.post("/api/users", new_user_body("wide1", s["zzb"], scope=scope)), 403,
                         "admin.scope_too_wide", "scope")
        assert "范围" in e["message"]
    expect_error(c.post("/api/users", new_user_body("wide1", s["zzb"], scope={"kind": "region", "value": "999999"})),
                 400, "admin.scope_invalid", "scope")
    expect_error(c.post("/api/users", new_user_body("wide1", s["zzb"], scope={"kind": "county", "value": COUNTY})),
                 400, "validation.enum", "scope")
    expect_error(c.post("/api/users", new_user_body("wide1", s["zzb"], scope={"kind": "region"})),
                 400, "validation.required", "scope")
    # a unit outside the county (the system unit has no region)
    expect_error(c.post("/api/users", new_user_body("wide1", s["system"])), 400, "admin.unit_not_found", "unit_id")
    assert n_users(t) == n and n_audit(t.server) == audit
    # inside the county: a township, a police station, the county itself
    for i, scope in enumerate(({"kind": "region", "value": TOWN_A}, {"kind": "unit", "value": "pcs001"},
                               {"kind": "region", "value": COUNTY})):
        r = c.post("/api/users", new_user_body("narrow%d" % i, s["zzb"], scope=scope))
        assert r.status == 201, r
        assert r.json["scope"]["kind"] == scope["kind"] and r.json["scope"]["value"] == scope["value"]
        assert len(r.json["one_time_password"]) == 16 and "password_hash" not in r.json
        assert Client(t.server).login("narrow%d" % i, r.json["one_time_password"]).json["must_change_password"]


def test_county_admin_does_not_see_or_touch_wider_users(t):
    s = setup(t)
    c = s["cadmin"]
    # the system administrator's unit is outside the county: he does not exist here
    expect_error(c.get("/api/users/1"), 404, "not_found")
    expect_error(c.patch("/api/users/1", {"disabled": True}), 404, "not_found")
    expect_error(c.patch("/api/users/1", {"reset_password": True}), 404, "not_found")
    names = [u["username"] for u in c.get("/api/users?page_size=200").json["items"]]
    assert "admin" not in names and s["cadmin_name"] in names
    # a user of a county unit with an all-China scope is seen but not edited
    r = t.admin.post("/api/users", new_user_body("widecounty", s["zzb"], roles=["inspector"], scope={"kind": "all"}))
    assert r.status == 201, r
    wide = r.json
    assert c.get("/api/users/%d" % wide["id"]).status == 200
    expect_error(c.patch("/api/users/%d" % wide["id"], {"reset_password": True}), 403, "admin.target_too_wide")
    expect_error(c.patch("/api/users/%d" % wide["id"], {"display_name": "改名"}), 403, "admin.target_too_wide")
    after = t.admin.get("/api/users/%d" % wide["id"]).json
    assert after["display_name"] == wide["display_name"] and after["must_change_password"] is True
    Client(t.server).login("widecounty", wide["one_time_password"])
    assert t.admin.get("/api/users/1").status == 200


def test_nobody_grants_what_he_does_not_hold(t):
    s = setup(t)
    u = s["uadmin"]
    n = n_users(t)
    for roles in (["coordinator"], ["admin"], ["inspector"], ["cadre", "coordinator"]):
        expect_error(u.post("/api/users", new_user_body("grant1", s["zzb"], roles=roles)), 403, "admin.role_too_wide",
                     "roles")
    expect_error(u.post("/api/users", new_user_body("grant1", s["zzb"], roles=["nosuchrole"])), 400,
                 "admin.role_unknown", "roles")
    expect_error(u.post("/api/users", new_user_body("grant1", s["zzb"], roles=[])), 400, "validation.required", "roles")
    body = new_user_body("grant1", s["zzb"])
    body["roles"] = "police"
    expect_error(u.post("/api/users", body), 400, "validation.type", "roles")
    assert n_users(t) == n
    r = u.post("/api/users", new_user_body("grant1", s["zzb"], roles=["police"], scope={"kind": "unit", "value": "pcs001"}))
    assert r.status == 201, r
    uid = r.json["id"]
    # nor by an edit
    expect_error(u.patch("/api/users/%d" % uid, {"roles": ["admin"]}), 403, "admin.role_too_wide", "roles")
    assert t.admin.get("/api/users/%d" % uid).json["roles"] == ["police"]
    # nor the role itself: no role.write
    expect_error(u.post("/api/roles", {"code": "x", "name": "x", "perms": ["school.read"]}), 403, "forbidden")
    # a role administrator cannot put into a role what he lacks, nor edit a role wider than himself
    ra = s["radmin"]
    expect_error(ra.post("/api/roles", {"code": "sneaky", "name": "偷偷", "perms": ["school.read", "audit.read"]}), 403,
                 "admin.role_too_wide", "perms")
    expect_error(ra.patch("/api/roles/coordinator", {"name": "统筹员"}), 403, "admin.role_too_wide")
    expect_error(ra.patch("/api/roles/roleadmin", {"perms": ["role.read", "role.write", "user.write"]}), 403,
                 "admin.role_too_wide", "perms")
    assert t.admin.get("/api/roles/coordinator").json["name"] == "综治办统筹"
    assert t.admin.get("/api/roles/sneaky").status == 404


def test_a_user_administrator_cannot_reach_above_himself(t):
    s = setup(t)
    u = s["uadmin"]
    cid, uid = user_id(t, s["cadmin_name"]), u.get("/api/auth/me").json["id"]
    audit = n_audit(t.server)
    # a county administrator holds more than he does: not disabled, not reset, not renamed
    for change in ({"disabled": True}, {"reset_password": True}, {"display_name": "x"}, {"reset_totp": True}):
        expect_error(u.patch("/api/users/%d" % cid, change), 403, "admin.target_too_wide")
    # nor does he raise himself
    expect_error(u.patch("/api/users/%d" % uid, {"scope": {"kind": "all"}}), 403, "admin.scope_too_wide", "scope")
    expect_error(u.patch("/api/users/%d" % uid, {"roles": ["admin"]}), 403, "admin.role_too_wide", "roles")
    expect_error(u.patch("/api/users/%d" % uid, {"unit_id": s["system"]}), 400, "admin.unit_not_found", "unit_id")
    assert n_audit(t.server) == audit
    assert s["cadmin"].get("/api/auth/me").status == 200
    me = u.get("/api/auth/me").json
    assert me["roles"] == ["useradmin"] and me["scope"]["value"] == COUNTY


def test_a_new_scope_takes_effect_at_once(t):
    s = setup(t)
    r = s["cadmin"].post("/api/users", new_user_body("mover", s["zzb"], roles=["cadre"],
                                                     scope={"kind": "region", "value": TOWN_A}))
    assert r.status == 201, r
    uid = r.json["id"]
    c = sign_in(t.server, "mover", r.json["one_time_password"])
    a_total = c.get("/api/schools").json["total"]
    assert a_total == t.admin.get(xa.q("/api/schools", region=TOWN_A)).json["total"]
    r = s["cadmin"].patch("/api/users/%d" % uid, {"scope": {"kind": "region", "value": "340899101"}})
    assert r.status == 200 and r.json["scope"]["value"] == "340899101", r
    # the old session (with the old scope) is over; a new one sees the new township
    expect_error(c.get("/api/schools"), 401, "auth.required")
    c = Client(t.server)
    c.login("mover", STRONG)
    j = c.get("/api/schools?page_size=200").json
    assert j["total"] == t.admin.get(xa.q("/api/schools", region="340899101")).json["total"]
    assert {x["region_code"] for x in j["items"]} == {"340899101"}


def test_region_rules(t):
    s = setup(t)
    c = s["cadmin"]
    r = t.admin.post("/api/regions", {"code": "340898", "name": "测试县", "parent_code": "340800"})
    assert r.status == 201 and r.json["level"] == "county" and r.json["path"] == "/340000/340800/340898/", r
    nreg, audit = sql1(t.server, "SELECT count(*) FROM regions"), n_audit(t.server)
    cases = [
        ({"code": "34089", "name": "x", "parent_code": COUNTY}, 400, "validation.format", "code"),
        ({"code": "34089a001", "name": "x", "parent_code": COUNTY}, 400, "validation.format", "code"),
        ({"code": "3408990011", "name": "x", "parent_code": COUNTY}, 400, "validation.too_long", "code"),
        ({"code": "001234", "name": "x", "parent_code": COUNTY}, 400, "validation.format", "code"),
        ({"code": "340899301", "name": "", "parent_code": COUNTY}, 400, "validation.required", "name"),
        ({"code": "340899301", "parent_code": COUNTY}, 400, "validation.required", "name"),
        ({"code": "340899301", "name": "x", "parent_code": "340800"}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340899301", "name": "x"}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340897", "name": "x", "parent_code": COUNTY}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340900", "name": "x", "parent_code": COUNTY}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340000", "name": "x", "parent_code": "340800"}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340899001", "name": "x", "parent_code": "340899001"}, 400, "admin.parent_mismatch", "parent_code"),
        ({"code": "340896001", "name": "x", "parent_code": "340896"}, 400, "admin.parent_not_found", "parent_code"),
        ({"code": "340899001", "name": "重复", "parent_code": COUNTY}, 409, "admin.region_code_taken", "code"),
        # outside his county
        ({"code": "340898001", "name": "x", "parent_code": "340898"}, 403, "admin.scope_too_wide", "parent_code"),
        ({"code": "340897", "name": "x", "parent_code": "340800"}, 403, "admin.scope_too_wide", "parent_code"),
        ({"code": "350000", "name": "福建省"}, 403, "admin.scope_too_wide", "code"),
        ({"code": "340899301", "name": "x", "parent_code": COUNTY, "level": "township"}, 400,
         "validation.unknown_field", "level"),
    ]
    for body, status, code, field in cases:
        expect_error(c.post("/api/regions", body), status, code, field)
    assert sql1(t.server, "SELECT count(*) FROM regions") == nreg and n_audit(t.server) == audit
    r = c.post("/api/regions", {"code": "340899301", "name": "新区乡", "parent_code": COUNTY})
    assert r.status == 201, r
    assert r.json["level"] == "township" and r.json["path"] == "/340000/340800/340899/340899301/"
    # edits: his own, not above him; a county with townships is not disabled
    expect_error(c.patch("/api/regions/340800", {"name": "改名"}), 404, "not_found")
    expect_error(c.patch("/api/regions/340898", {"name": "改名"}), 404, "not_found")
    expect_error(t.admin.patch("/api/regions/" + COUNTY, {"disabled": True}), 409, "admin.region_has_children",
                 "disabled")
    expect_error(c.patch("/api/regions/340899301", {"name": ""}), 400, "validation.required", "name")
    r = c.patch("/api/regions/340899301", {"name": "新区镇"})
    assert r.status == 200 and r.json["name"] == "新区镇", r
    r = c.patch("/api/regions/340899301", {"disabled": True})
    assert r.status == 200 and r.json["disabled"] is True, r
    last = t.admin.get("/api/audit?entity=region&entity_id=340899301").json["items"]
    assert [i["action"] for i in last] == ["disable", "update", "create"]
    assert last[1]["before"]["name"] == "新区乡" and last[1]["after"]["name"] == "新区镇"
    # a disabled township takes no new schools
    expect_error(t.admin.post("/api/schools", school_body(region_code="340899301")), 400, "school.region_unknown",
                 "region_code")


def test_unit_rules(t):
    s = setup(t)
    c = s["cadmin"]
    n, audit = sql1(t.server, "SELECT count(*) FROM units"), n_audit(t.server)
    base = {"code": "cdjws", "name": "城东社区警务室", "type": "其他", "region_code": TOWN_A}
    cases = [
        ({"code": "bad code"}, 400, "validation.format", "code"),
        ({"code": "a" * 33}, 400, "validation.too_long", "code"),
        ({"code": "单位"}, 400, "validation.format", "code"),
        ({"type": "警察"}, 400, "validation.enum", "type"),
        ({"name": ""}, 400, "validation.required", "name"),
        ({"phone": "12345"}, 400, "validation.format", "phone"),
        ({"region_code": None}, 400, "validation.required", "region_code"),
        ({"region_code": "340898"}, 403, "admin.scope_too_wide", "region_code"),
        ({"region_code": "340896"}, 400, "admin.region_not_found", "region_code"),
        ({"parent_id": 999999}, 400, "admin.parent_not_found", "parent_id"),
        ({"parent_id": s["system"]}, 400, "admin.parent_not_found", "parent_id"),
        ({"code": "zzb"}, 409, "admin.unit_code_taken", "code"),
        ({"disabled": False}, 400, "validation.unknown_field", "disabled"),
    ]
    for change, status, code, field in cases:
        body = dict(base)
        body.update(change)
        expect_error(c.post("/api/units", body), status, code, field)
    assert sql1(t.server, "SELECT count(*) FROM units") == n and n_audit(t.server) == audit
    # under a police station it lies where the station lies
    r = c.post("/api/units", {"code": "cdjws", "name": "城东社区警务室", "type": "其他", "parent_id": s["pcs001"]})
    assert r.status == 201, r
    u = r.json
    assert u["region_code"] == TOWN_A and u["parent_id"] == s["pcs001"] and u["path"].endswith("/%d/" % u["id"])
    expect_error(c.patch("/api/units/%d" % u["id"], {"parent_id": u["id"]}), 400, "admin.parent_cycle", "parent_id")
    expect_error(c.patch("/api/units/%d" % s["pcs001"], {"parent_id": u["id"]}), 400, "admin.parent_cycle", "parent_id")
    expect_error(c.patch("/api/units/%d" % u["id"], {"code": "other"}), 400, "validation.unknown_field", "code")
    expect_error(c.get("/api/units/%d" % s["system"]), 404, "not_found")
    expect_error(c.patch("/api/units/%d" % s["system"], {"name": "x"}), 404, "not_found")
    assert t.admin.get("/api/units/%d" % u["id"]).json == u


def test_role_changes_take_effect_at_once(t):
    s = setup(t)
    r = t.admin.post("/api/roles", {"code": "reviewer", "name": "学校信息查看", "perms": ["school.read"]})
    assert r.status == 201 and r.json["perms"] == ["school.read"] and r.json["builtin"] is False, r
    c, _ = account(t, "reviewer", "jyj", "region:" + COUNTY, "reviewer")
    assert c.get("/api/schools").status == 200
    expect_error(t.admin.post("/api/roles", {"code": "reviewer2", "name": "学校信息查看", "perms": ["school.read"]}),
                 409, "admin.role_name_taken", "name")
    expect_error(t.admin.post("/api/roles", {"code": "reviewer", "name": "别的", "perms": ["school.read"]}), 409,
                 "admin.role_code_taken", "code")
    expect_error(t.admin.post("/api/roles", {"code": "r3", "name": "r3", "perms": ["school.fly"]}), 400,
                 "admin.perm_unknown", "perms")
    expect_error(t.admin.post("/api/roles", {"code": "r3", "name": "r3", "perms": []}), 400, "validation.required",
                 "perms")
    expect_error(t.admin.post("/api/roles", {"code": "r 3", "name": "r3", "perms": ["school.read"]}), 400,
                 "validation.format", "code")
    # taking the permission away works on the next request of a signed-in holder
    r = t.admin.patch("/api/roles/reviewer", {"perms": ["unit.read"]})
    assert r.status == 200 and r.json["perms"] == ["unit.read"], r
    expect_error(c.get("/api/schools"), 403, "forbidden")
    assert t.admin.patch("/api/roles/reviewer", {"perms": ["school.read", "unit.read"]}).status == 200
    assert c.get("/api/schools").status == 200
    # a disabled role gives nothing
    assert t.admin.patch("/api/roles/reviewer", {"disabled": True}).status == 200
    expect_error(c.get("/api/schools"), 403, "forbidden")
    h = t.admin.get("/api/audit?entity=role&entity_id=reviewer").json["items"]
    assert [i["action"] for i in h] == ["disable", "update", "update", "create"]
    assert h[2]["before"]["perms"] == ["school.read"] and h[2]["after"]["perms"] == ["unit.read"]
    # the administrator role stays whole
    expect_error(t.admin.patch("/api/roles/admin", {"perms": ["school.read"]}), 409, "admin.role_protected", "perms")
    expect_error(t.admin.patch("/api/roles/admin", {"disabled": True}), 409, "admin.role_protected", "disabled")
    # built-in roles are changed by an all-scope administrator only
    # roles are shared by every county: a county administrator assigns them, never changes them
    for call in (lambda c: c.patch("/api/roles/police", {"perms": ["school.read", "school.write"]}),
                 lambda c: c.patch("/api/roles/reviewer", {"name": "县里改的名"}),
                 lambda c: c.post("/api/roles", {"code": "county1", "name": "县角色", "perms": ["school.read"]})):
        e = expect_error(call(s["cadmin"]), 403, "admin.roles_global")
        assert "全局" in e["message"]
    assert t.admin.get("/api/roles/police").json["perms"] == ["school.read", "unit.read", "region.read", "venue.read",
                                                             "zone.read", "zone.review"]
    assert t.admin.get("/api/roles/reviewer").json["name"] == "学校信息查看"
    assert t.admin.get("/api/roles/county1").status == 404
    expect_error(t.admin.patch("/api/roles/nosuch", {"name": "x"}), 404)


def test_disabled_user_is_out_at_once(t):
    s = setup(t)
    r = t.admin.post("/api/users", new_user_body("leaver", s["pcs001"], roles=["police"]))
    assert r.status == 201, r
    uid = r.json["id"]
    c = sign_in(t.server, "leaver", r.json["one_time_password"])
    assert c.get("/api/schools").status == 200
    r = s["cadmin"].patch("/api/users/%d" % uid, {"disabled": True})
    assert r.status == 200 and r.json["disabled"] is True, r
    expect_error(c.get("/api/schools"), 401, "auth.required")
    expect_error(c.get("/api/auth/me"), 401, "auth.required")
    expect_error(Client(t.server).login("leaver", STRONG, expect=401), 401, "auth.invalid")
    assert sql1(t.server, "SELECT count(*) FROM sessions WHERE user_id = ?", uid) == 0
    h = t.admin.get("/api/audit?entity=user&entity_id=%d&action=disable" % uid).json["items"]
    assert len(h) == 1 and h[0]["username"] == s["cadmin_name"]
    # nobody disables himself
    me = s["cadmin"].get("/api/auth/me").json
    my_id = me.get("id") or me.get("user_id") or user_id(t, s["cadmin_name"])
    expect_error(s["cadmin"].patch("/api/users/%d" % my_id, {"disabled": True}), 400, "admin.self_disable",
                 "disabled")
    # enabled again, the password still works
    assert s["cadmin"].patch("/api/users/%d" % uid, {"disabled": False}).status == 200
    Client(t.server).login("leaver", STRONG)


def test_reset_password_is_one_time_and_forces_a_change(t):
    s = setup(t)
    r = t.admin.post("/api/users", new_user_body("forgetful", s["zzb"], roles=["cadre"]))
    uid = r.json["id"]
    c = sign_in(t.server, "forgetful", r.json["one_time_password"])
    r = s["cadmin"].patch("/api/users/%d" % uid, {"reset_password": True})
    assert r.status == 200, r
    otp = r.json["one_time_password"]
    assert len(otp) == 16 and r.json["must_change_password"] is True
    expect_error(c.get("/api/schools"), 401, "auth.required")
    Client(t.server).login("forgetful", STRONG, expect=401)
    c = Client(t.server)
    assert c.login("forgetful", otp).json["must_change_password"] is True
    expect_error(c.get("/api/schools"), 403, "auth.password_change_required")
    c.change_password(otp, STRONG + "x")
    assert c.get("/api/schools").status == 200
    Client(t.server).login("forgetful", otp, expect=401)
    # the password is in no audit entry, the reset is
    entries = t.admin.get("/api/audit?entity=user&entity_id=%d&action=reset_password" % uid).json["items"]
    assert len(entries) == 1 and entries[0]["after"] == {"must_change_password": True}
    assert sql1(t.server, "SELECT count(*) FROM audit WHERE after_json LIKE ? OR before_json LIKE ?",
                "%" + otp + "%", "%" + otp + "%") == 0
    # the answer to a plain read never carries a password
    assert "one_time_password" not in t.admin.get("/api/users/%d" % uid).json


def test_reading_a_person_is_on_the_record(t):
    s = setup(t)
    r = t.admin.post("/api/users", new_user_body("phoned", s["zzb"], phone="13955556666"))
    uid = r.json["id"]

    def reads():
        return sql1(t.server, "SELECT count(*) FROM audit WHERE action = 'read' AND entity = 'user' AND entity_id = ?",
                    str(uid))
    before = reads()
    j = s["cadmin"].get("/api/users/%d" % uid).json
    assert j["phone"] == "13955556666"
    assert reads() == before + 1
    e = t.admin.get("/api/audit?action=read&entity=user&entity_id=%d" % uid).json["items"][0]
    assert e["username"] == s["cadmin_name"] and e["client_ip"] == "127.0.0.1" and "phone" in e["after"]["fields"]
    # a list shows no phone and leaves no read entry
    items = s["cadmin"].get(xa.q("/api/users", q="phoned")).json["items"]
    assert items and "phone" not in items[0]
    assert reads() == before + 1
    # a refused read leaves none either
    expect_error(s["cadmin"].get("/api/users/1"), 404)
    assert sql1(t.server, "SELECT count(*) FROM audit WHERE action = 'read' AND entity_id = '1' AND username = ?",
                s["cadmin_name"]) == 0


def test_audit_search_follows_the_scope(t):
    s = setup(t)
    # something done in the county and something done outside it
    county_user = s["cadmin"].get("/api/users?page_size=1").json["items"][0]["id"]
    s["cadmin"].get("/api/users/%d" % county_user)
    t.admin.get("/api/users/1")
    r = s["cadmin"].get(xa.q("/api/audit", page_size=500))
    assert r.status == 200, r
    names = {i["username"] for i in r.json["items"]}
    assert s["cadmin_name"] in names
    assert "admin" not in names and "system" not in names, names
    assert r.json["total"] == len(r.json["items"]) or r.json["total"] > 500
    # the administrator with scope all sees everything, the CLI's entries too
    names = {i["username"] for i in t.admin.get(xa.q("/api/audit", page_size=500)).json["items"]}
    assert {"admin", s["cadmin_name"]} <= names
    assert t.admin.get(xa.q("/api/audit", user="system")).json["total"] > 0
    # a user without audit.read does not search at all
    expect_error(s["uadmin"].get("/api/audit"), 403, "forbidden")


def test_cli_user_add(t):
    setup(t)
    out = t.server.cli("user", "add", "--username", "cliuser", "--role", "cadre,police", "--unit", "jyj",
                       "--name", "教育局 张三")
    lines = out.rstrip("\n").split("\n")
    pw = lines[-1]
    assert re.fullmatch(r"\S{16}", pw), out
    assert all(pw not in line for line in lines[:-1])
    c = Client(t.server)
    j = c.login("cliuser", pw).json
    assert j["must_change_password"] is True
    u = t.admin.get("/api/users/%d" % user_id(t, "cliuser")).json
    assert u["display_name"] == "教育局 张三" and sorted(u["roles"]) == ["cadre", "police"]
    assert u["scope"] == {"kind": "region", "value": COUNTY, "name": "示范县"}   # the unit's region by default
    e = t.admin.get("/api/audit?entity=user&entity_id=%d" % u["id"]).json["items"][-1]
    assert e["action"] == "create" and e["username"] == "system" and e["client_ip"] == "cli"
    # help
    p = t.server.cli("user", "--help", check=False)
    assert p.returncode == 0 and "usage" in p.stdout and "--username" in p.stdout
    p = t.server.cli("user", "add", "--help", check=False)
    assert p.returncode == 0 and "usage" in p.stdout
    # passwd: a new one-time password, alone on the last line; disable: out within the session recheck
    c = sign_in(t.server, "cliuser", pw)
    out = t.server.cli("user", "passwd", "--username", "cliuser")
    pw2 = out.rstrip("\n").split("\n")[-1]
    assert re.fullmatch(r"\S{16}", pw2) and pw2 != pw, out
    t.server.advance_clock(6)
    expect_error(c.get("/api/schools"), 401, "auth.required")
    c = sign_in(t.server, "cliuser", pw2)
    t.server.cli("user", "disable", "--username", "cliuser")
    t.server.advance_clock(6)
    expect_error(c.get("/api/schools"), 401, "auth.required")
    Client(t.server).login("cliuser", STRONG, expect=401)
    assert "already disabled" in t.server.cli("user", "disable", "--username", "cliuser")
    # mistakes: a non-zero exit and one line on stderr saying what is wrong, nothing created
    n = n_users(t)
    for args in (["user"], ["user", "frobnicate"], ["user", "add", "--username", "x2"],
                 ["user", "add", "--bogus", "1"], ["user", "add", "--username"],
                 ["user", "add", "--username", "cli2", "--role", "nosuch", "--unit", "jyj"],
                 ["user", "add", "--username", "Bad Name", "--role", "cadre", "--unit", "jyj"],
                 ["user", "add", "--username", "cli2", "--role", "cadre", "--unit", "nounit"],
                 ["user", "add", "--username", "cli2", "--role", "cadre", "--unit", "jyj", "--scope", "county:1"],
                 ["user", "add", "--username", "cli2", "--role", "cadre", "--unit", "jyj", "--scope", "region:999999"],
                 ["user", "add", "--username", "cliuser", "--role", "cadre", "--unit", "jyj"],
                 ["user", "passwd", "--username", "nobody"], ["user", "disable"]):
        p = t.server.cli(*args, check=False)
        assert p.returncode != 0, (args, p.stdout, p.stderr)
        err = p.stderr.rstrip("\n").split("\n")
        assert len(err) == 1 and err[0].startswith("xiaoan:"), (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)
    assert n_users(t) == n

"""Data scope (属地管理、分级负责) as the people of the demo county meet it: a
township officer sees and edits only his township's schools, a police
station the schools it is responsible for, a principal his own school; a
school outside one's scope does not exist (404, never 403), a missing
permission is 403, and nothing outside the scope is ever changed - not by
an edit, a deletion, an import or a new school - nor leaves in an export."""
import xa
from fixtures import (CSV_TYPE, TOWN_A, TOWN_A_NAME, TOWN_B, TOWN_B_NAME, account, csv_bytes, demo,
                      list_all, n_audit, n_schools, read_csv, school_body, unique_code, unit_id, upload)
from xa import expect_error


def setup(t):
    """The accounts (made once per module) and the schools they look at."""
    if getattr(t, "_scope", None):
        return t._scope
    demo(t)
    r = t.admin.post("/api/roles", {"code": "town_editor", "name": "乡镇学校信息员", "perms": ["school.read", "school.write"]})
    assert r.status in (201, 409), r
    s = {}
    s["a"], _ = account(t, "coordinator", "xz001", "region:" + TOWN_A, "towna")
    s["b"], _ = account(t, "coordinator", "xz101", "region:" + TOWN_B, "townb")
    s["editor"], _ = account(t, "town_editor", "xz001", "region:" + TOWN_A, "editor")
    s["police"], _ = account(t, "police", "pcs001", "unit:pcs001", "police")
    s["inspector"], _ = account(t, "inspector", "zzb", "region:340899", "inspector")
    own = [x for x in list_all(t.admin, q="示范县实验小学") if x["name"] == "示范县实验小学"][0]
    s["own"] = own
    s["principal"], _ = account(t, "principal", "sch-syxx", "school:%d" % own["id"], "principal")
    s["pcs001"] = unit_id(t, "pcs001")
    s["school_a"] = list_all(t.admin, region=TOWN_A)[1]
    s["school_b"] = list_all(t.admin, region=TOWN_B)[0]
    t._scope = s
    return s


def unchanged(t, school):
    assert t.admin.get("/api/schools/%d" % school["id"]).json == school


def test_each_sees_only_their_schools(t):
    s = setup(t)
    for who, region in (("a", TOWN_A), ("b", TOWN_B)):
        want = t.admin.get(xa.q("/api/schools", region=region)).json["total"]
        assert want > 5
        j = s[who].get("/api/schools?page_size=200").json
        assert j["total"] == want and len(j["items"]) == want
        assert all(x["region_code"] == region for x in j["items"])
        st = s[who].get("/api/schools/stats").json
        assert st["total"] == want and [x["region_code"] for x in st["by_region"]] == [region]
        # a filter naming another township finds nothing rather than failing
        other = TOWN_B if region == TOWN_A else TOWN_A
        assert s[who].get(xa.q("/api/schools", region=other)).json["total"] == 0
    # the police station: the schools it is responsible for, in any township
    want = list_all(t.admin, police_unit_id=s["pcs001"])
    got = list_all(s["police"])
    assert want and {x["id"] for x in got} == {x["id"] for x in want}
    assert s["police"].get("/api/schools/stats").json["total"] == len(want)
    # the principal: his own school and nothing else
    j = s["principal"].get("/api/schools").json
    assert j["total"] == 1 and j["items"][0]["id"] == s["own"]["id"]
    assert s["principal"].get("/api/schools/stats").json["total"] == 1
    # the county inspector: the whole county
    assert s["inspector"].get("/api/schools").json["total"] == t.admin.get("/api/schools").json["total"]


def test_another_townships_school_does_not_exist(t):
    s = setup(t)
    b = s["school_b"]
    n, audit = n_schools(t.server), n_audit(t.server)
    path = "/api/schools/%d" % b["id"]
    for who in ("a", "editor", "police", "principal"):
        c = s[who]
        expect_error(c.get(path), 404, "not_found")
        expect_error(c.get(path + "/audit"), 404, "not_found")
        if who != "police":
            expect_error(c.patch(path, {"enrollment": 1}), 404, "not_found")
        if who == "a":
            expect_error(c.delete(path), 404, "not_found")
        # the same answer as a school that does not exist at all
        assert c.get("/api/schools/999999").json == c.get(path).json
    # the principal cannot see his neighbour in the same township either
    expect_error(s["principal"].get("/api/schools/%d" % s["school_a"]["id"]), 404)
    expect_error(s["principal"].patch("/api/schools/%d" % s["school_a"]["id"], {"enrollment": 1}), 404)
    unchanged(t, b)
    unchanged(t, s["school_a"])
    assert n_schools(t.server) == n and n_audit(t.server) == audit
    # and the owner of the school can
    assert s["b"].get(path).json == b


def test_missing_permission_is_forbidden(t):
    s = setup(t)
    a, own = s["school_a"], s["own"]
    n, audit = n_schools(t.server), n_audit(t.server)
    # seen, but no school.delete
    expect_error(s["editor"].delete("/api/schools/%d" % a["id"]), 403, "forbidden")
    expect_error(s["principal"].delete("/api/schools/%d" % own["id"]), 403, "forbidden")
    # no school.write
    police_school = list_all(s["police"])[0]
    expect_error(s["police"].patch("/api/schools/%d" % police_school["id"], {"enrollment": 5}), 403, "forbidden")
    expect_error(s["police"].post("/api/schools", school_body()), 403, "forbidden")
    # no school.import / school.export
    expect_error(upload(s["police"], "/api/schools/import", csv_bytes([["学校名称"], ["x"]])), 403, "forbidden")
    expect_error(s["police"].get("/api/schools/export?format=csv"), 403, "forbidden")
    expect_error(upload(s["editor"], "/api/schools/import", csv_bytes([["学校名称"], ["x"]])), 403, "forbidden")
    # nor administration
    expect_error(s["a"].post("/api/users", {"username": "x1x", "display_name": "x", "unit_id": 1, "roles": ["admin"]}),
                 403, "forbidden")
    unchanged(t, a)
    unchanged(t, own)
    unchanged(t, police_school)
    assert n_schools(t.server) == n and n_audit(t.server) == audit
    # what they may do, they can
    r = s["editor"].patch("/api/schools/%d" % a["id"], {"guard_count": 4})
    assert r.status == 200 and r.json["guard_count"] == 4, r
    r = s["principal"].patch("/api/schools/%d" % own["id"], {"safety_officer_name": "周明辉"})
    assert r.status == 200, r
    s["school_a"] = t.admin.get("/api/schools/%d" % a["id"]).json
    s["own"] = t.admin.get("/api/schools/%d" % own["id"]).json


def test_no_school_is_added_or_moved_outside_the_scope(t):
    s = setup(t)
    n, audit = n_schools(t.server, deleted=True), n_audit(t.server)
    e = expect_error(s["a"].post("/api/schools", school_body(region_code=TOWN_B)), 400, "school.region_scope",
                     "region_code")
    assert "管辖范围" in e["message"]
    expect_error(s["a"].post("/api/schools", school_body(region_code="340899")), 400, "school.region_scope",
                 "region_code")
    expect_error(s["principal"].post("/api/schools", school_body(region_code=TOWN_A)), 403, "forbidden")
    # nor carried out of it by an edit
    a = s["school_a"]
    expect_error(s["a"].patch("/api/schools/%d" % a["id"], {"region_code": TOWN_B}), 400, "school.region_scope",
                 "region_code")
    expect_error(s["principal"].patch("/api/schools/%d" % s["own"]["id"], {"region_code": TOWN_B}), 400,
                 "school.region_scope", "region_code")
    unchanged(t, a)
    unchanged(t, s["own"])
    assert n_schools(t.server, deleted=True) == n and n_audit(t.server) == audit
    # in his own township, he can
    r = s["a"].post("/api/schools", school_body(region_code=TOWN_A))
    assert r.status == 201, r
    assert s["b"].get("/api/schools/%d" % r.json["id"]).status == 404


def test_import_touching_another_township_writes_nothing(t):
    s = setup(t)
    b = s["school_b"]
    new = school_body(region_code=TOWN_A)
    rows = [["学校名称", "学校标识码", "学段", "办学性质", "所属乡镇（街道）", "在校学生数"],
            [new["name"], new["code"], "小学", "公办", TOWN_A_NAME, "120"],
            [b["name"], b["code"], b["stage"], b["ownership"], TOWN_A_NAME, "1"]]
    n, audit = n_schools(t.server, deleted=True), n_audit(t.server)
    r = upload(s["a"], "/api/schools/import?dry_run=1", csv_bytes(rows))
    assert r.status == 200, r
    j = r.json
    assert j["ok"] is False and j["dry_run"] is True and len(j["errors"]) == 1
    err = j["errors"][0]
    assert err["row"] == 3 and err["column"] == "学校标识码" and err["field"] == "code"
    assert "管辖范围" in err["message"]
    r = upload(s["a"], "/api/schools/import", csv_bytes(rows))
    e = expect_error(r, 422, "import.invalid_rows")
    assert r.json["errors"][0]["row"] == 3
    # a row putting a school in the other township, named or by code
    for region in (TOWN_B_NAME, TOWN_B):
        rows2 = [rows[0], [new["name"], unique_code(), "小学", "公办", region, "10"]]
        r = upload(s["a"], "/api/schools/import", csv_bytes(rows2))
        expect_error(r, 422, "import.invalid_rows")
        err = r.json["errors"][0]
        assert err["row"] == 2 and err["column"] == "所属乡镇（街道）" and err["field"] == "region_code"
        assert region in err["message"]
    # a principal cannot add schools by import either
    rows3 = [rows[0], [new["name"], unique_code(), "小学", "公办", TOWN_A_NAME, "10"]]
    expect_error(upload(s["principal"], "/api/schools/import", csv_bytes(rows3)), 403, "forbidden")
    assert n_schools(t.server, deleted=True) == n and n_audit(t.server) == audit
    unchanged(t, b)
    assert t.admin.get(xa.q("/api/schools", q=new["code"])).json["total"] == 0
    # without the foreign row the import goes through
    r = upload(s["a"], "/api/schools/import", csv_bytes(rows[:2]))
    assert r.status == 200 and r.json["created"] == 1, r


def test_export_holds_only_what_one_may_see(t):
    s = setup(t)
    for who, region_name, region in (("a", TOWN_A_NAME, TOWN_A), ("b", TOWN_B_NAME, TOWN_B)):
        r = s[who].get("/api/schools/export?format=csv")
        assert r.status == 200, r
        rows = read_csv(r.body)
        assert rows[0][0] == "学校名称"
        data = rows[1:]
        assert len(data) == t.admin.get(xa.q("/api/schools", region=region)).json["total"]
        col = rows[0].index("所属乡镇（街道）")
        assert {row[col] for row in data} == {region_name}
    r = s["principal"].get("/api/schools/export?format=csv")
    assert r.status == 200, r
    rows = read_csv(r.body)
    assert len(rows) == 2 and rows[1][1] == s["own"]["code"]
    r = s["inspector"].get("/api/schools/export?format=csv")
    assert len(read_csv(r.body)) - 1 == t.admin.get("/api/schools").json["total"]


def test_inspector_reads_but_never_writes(t):
    s = setup(t)
    c = s["inspector"]
    target = s["school_b"]
    path = "/api/schools/%d" % target["id"]
    assert c.get(path).status == 200
    assert c.get(path + "/audit").status == 200
    assert c.get("/api/schools/stats").status == 200
    assert c.get("/api/audit?entity=school").status == 200
    n, audit = n_schools(t.server, deleted=True), n_audit(t.server)
    expect_error(c.post("/api/schools", school_body()), 403, "forbidden")
    expect_error(c.patch(path, {"enrollment": 9}), 403, "forbidden")
    expect_error(c.delete(path), 403, "forbidden")
    good = csv_bytes([["学校名称", "学校标识码", "学段", "办学性质", "所属乡镇（街道）"],
                      ["督导新校", unique_code(), "小学", "公办", TOWN_A_NAME]])
    expect_error(upload(c, "/api/schools/import", good), 403, "forbidden")
    expect_error(upload(c, "/api/schools/import?dry_run=1", good), 403, "forbidden")
    expect_error(upload(c, "/api/schools/import/preview", good, CSV_TYPE), 403, "forbidden")
    expect_error(c.patch("/api/regions/" + TOWN_A, {"name": "改名"}), 403, "forbidden")
    expect_error(c.post("/api/units", {"code": "dz1", "name": "x", "type": "其他", "region_code": TOWN_A}), 403,
                 "forbidden")
    unchanged(t, target)
    assert n_schools(t.server, deleted=True) == n and n_audit(t.server) == audit


def test_a_police_station_keeps_its_schools_in_sight(t):
    s = setup(t)
    r = t.admin.post("/api/roles", {"code": "pcs_clerk", "name": "派出所学校信息员", "perms": ["school.read", "school.write"]})
    assert r.status in (201, 409), r
    c, _ = account(t, "pcs_clerk", "pcs001", "unit:pcs001", "pcsclerk")
    pcs101 = unit_id(t, "pcs101")
    n, audit = n_schools(t.server, deleted=True), n_audit(t.server)
    # a school it could not see after saving is refused, naming the station field
    for body in (school_body(police_unit_id=pcs101), school_body()):
        expect_error(c.post("/api/schools", body), 400, "school.unit_scope", "police_unit_id")
    # and a township outside the station's own
    expect_error(c.post("/api/schools", school_body(region_code=TOWN_B, police_unit_id=s["pcs001"])), 400,
                 "school.region_scope", "region_code")
    mine = list_all(c)[0]
    for change in ({"police_unit_id": pcs101}, {"police_unit_id": None}):
        expect_error(c.patch("/api/schools/%d" % mine["id"], change), 400, "school.unit_scope", "police_unit_id")
    unchanged(t, mine)
    assert n_schools(t.server, deleted=True) == n and n_audit(t.server) == audit
    r = c.post("/api/schools", school_body(police_unit_id=s["pcs001"]))
    assert r.status == 201 and r.json["police_unit_name"] == "示范县公安局城东派出所", r
    assert s["police"].get("/api/schools/%d" % r.json["id"]).status == 200

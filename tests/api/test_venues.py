"""The venue registry (场所) as an office meets it: adding an internet café
picked on 高德 (GCJ-02) and its doors, stored in WGS84; reading, listing,
editing, soft deletion; every refusal of bad input naming the field with
nothing changed; data scope across two townships (list, read, edit,
delete, import); import with a dry run, row errors, all-or-nothing and
upserts by 许可证号; export in the offices' column order; the history."""
import itertools
import os

import xa
from fixtures import (TOWN_A, TOWN_A_NAME, TOWN_B, TOWN_B_NAME, XLSX_TYPE, account, audit_since, csv_bytes,
                      demo, distance_m, last_seq, read_csv, read_xlsx, sign_in, sql, sql1, unit_id, upload, wgs84_to_gcj02,
                      xlsx_bytes)
from xa import expect_error

HEADERS = ["场所名称", "类别", "许可证号", "经营者", "联系电话", "所属乡镇", "地址", "纬度", "经度", "坐标系", "出入口",
           "状态", "责任单位", "备注"]
STORED = ["name", "category", "licence_no", "operator_name", "operator_phone", "region_code", "address", "lat", "lon",
          "entrances", "status", "unit_id", "note"]

_n = itertools.count(1)
_base = os.getpid() % 9000 + 1000


def licence():
    """A licence number no demo venue and no other test uses."""
    return "测试许可%04d-%04d" % (_base, next(_n))


def venue_body(**kw):
    body = {"name": "测试网咖%d" % next(_n), "category": "internet_cafe", "licence_no": licence(),
            "operator_name": "王经营", "operator_phone": "13912345678", "region_code": TOWN_A,
            "address": "示范县城东街道测试路 8 号", "lat": 30.4185, "lon": 116.7031,
            "entrances": [{"lat": 30.4186, "lon": 116.7032, "name": "正门"}], "note": "测试"}
    body.update(kw)
    return body


def create(c, **kw):
    r = c.post("/api/venues", venue_body(**kw))
    assert r.status == 201, "create venue: %r" % r
    return r.json


def n_venues(server, deleted=False):
    return sql1(server, "SELECT count(*) FROM venues" + ("" if deleted else " WHERE deleted_at IS NULL"))


def n_audit(server):
    return sql1(server, "SELECT count(*) FROM audit")


def venue_row(server, vid):
    db = server.db()
    try:
        cur = db.execute("SELECT * FROM venues WHERE id = ?", (vid,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None
    finally:
        db.close()


def by_licence(c, lic):
    r = c.get(xa.q("/api/venues", q=lic))
    assert r.status == 200, r
    items = [v for v in r.json["items"] if v["licence_no"] == lic]
    return items[0] if items else None


def test_create_read_update_delete(t):
    demo(t)
    body = venue_body(category="互联网上网服务营业场所", unit_id=unit_id(t, "wlj"))
    before, seq = n_venues(t.server), last_seq(t.server)
    r = t.admin.post("/api/venues", body)
    assert r.status == 201, r
    v = r.json
    for k in ("name", "licence_no", "operator_name", "operator_phone", "region_code", "address", "lat", "lon",
              "entrances", "note", "unit_id"):
        assert v[k] == body[k], (k, v[k], body[k])
    # the category may be given by its Chinese name; it is stored as its code
    assert v["category"] == "internet_cafe" and v["category_name"] == "互联网上网服务营业场所"
    assert v["status"] == "营业" and v["region_name"] == TOWN_A_NAME and v["unit_name"] == "示范县文化旅游体育局"
    assert v["created_at"] == v["updated_at"] and v["created_at"].endswith("Z") and v["id"] > 0
    assert n_venues(t.server) == before + 1
    assert t.admin.get("/api/venues/%d" % v["id"]).json == v
    row = venue_row(t.server, v["id"])
    assert row["category"] == "internet_cafe" and row["deleted_at"] is None and row["entrances"].startswith("[")
    # audited with the record as answered
    entries = audit_since(t.server, seq)
    assert [(e["action"], e["entity"], e["entity_id"]) for e in entries] == [("create", "venue", str(v["id"]))]
    # optional fields left out get their defaults
    m = t.admin.post("/api/venues", {"name": "老街烟酒店", "category": "tobacco", "region_code": TOWN_A,
                                     "lat": 30.42, "lon": 116.70}).json
    assert m["licence_no"] == "" and m["entrances"] == [] and m["unit_id"] is None and m["unit_name"] is None
    assert m["category_name"] == "烟草零售"

    # PATCH changes only what is sent
    t.server.advance_clock(3)
    p = t.admin.patch("/api/venues/%d" % v["id"], {"status": "停业", "note": None, "operator_phone": "0556-5550123"})
    assert p.status == 200, p
    p = p.json
    assert p["status"] == "停业" and p["note"] == "" and p["operator_phone"] == "0556-5550123"
    for k in STORED:
        if k not in ("status", "note", "operator_phone"):
            assert p[k] == v[k], k
    assert p["updated_at"] > v["updated_at"] and p["created_at"] == v["created_at"]
    # the same values again write nothing
    seq = n_audit(t.server)
    same = t.admin.patch("/api/venues/%d" % v["id"], {"status": "停业", "category": "互联网上网服务营业场所"})
    assert same.status == 200 and same.json == p and n_audit(t.server) == seq
    # entrances cleared with null or []
    assert t.admin.patch("/api/venues/%d" % v["id"], {"entrances": None}).json["entrances"] == []

    # soft delete: hidden everywhere, kept in the table
    total = t.admin.get("/api/venues").json["total"]
    r = t.admin.delete("/api/venues/%d" % v["id"])
    assert r.status == 204 and r.body == b""
    expect_error(t.admin.get("/api/venues/%d" % v["id"]), 404, "not_found")
    expect_error(t.admin.patch("/api/venues/%d" % v["id"], {"note": "x"}), 404, "not_found")
    expect_error(t.admin.delete("/api/venues/%d" % v["id"]), 404, "not_found")
    assert t.admin.get("/api/venues").json["total"] == total - 1
    assert t.admin.get(xa.q("/api/venues", q=v["licence_no"])).json["total"] == 0
    row = venue_row(t.server, v["id"])
    assert row is not None and row["deleted_at"] and row["name"] == v["name"]
    # its licence number is free again
    create(t.admin, licence_no=v["licence_no"])
    # malformed ids are not found
    for bad in ("0", "-1", "abc", "999999999"):
        expect_error(t.admin.get("/api/venues/" + bad), 404)


def test_a_change_made_elsewhere_is_read_at_once(t):
    # the server keeps the printed record of a venue it has read; a change
    # made past it (another server, a repair by hand), even one that leaves
    # updated_at as it was, shows on the next read
    demo(t)
    v = t.admin.post("/api/venues", venue_body()).json
    path = "/api/venues/%d" % v["id"]
    assert t.admin.get(path).json == t.admin.get(path).json == v
    db = t.server.db()
    try:
        db.execute("UPDATE venues SET operator_name = '赵另改', status = '停业' WHERE id = ?", (v["id"],))
        db.commit()
    finally:
        db.close()
    r = t.admin.get(path).json
    assert r["operator_name"] == "赵另改" and r["status"] == "停业" and r["updated_at"] == v["updated_at"]
    # a deleted venue is gone at once too
    assert t.admin.delete(path).status in (200, 204)
    expect_error(t.admin.get(path), 404)


def test_crs_conversion_of_point_and_entrances(t):
    demo(t)
    glat, glon = 30.41850, 116.70310          # as picked on 高德地图
    ents = [{"lat": 30.41860, "lon": 116.70320, "name": "正门"}, {"lat": 30.41840, "lon": 116.70300, "name": "后门"}]
    v = create(t.admin, lat=glat, lon=glon, crs="gcj02", entrances=ents)
    assert "crs" not in v
    moved = distance_m(glat, glon, v["lat"], v["lon"])
    assert 200 < moved < 1000, moved
    back = wgs84_to_gcj02(v["lat"], v["lon"])
    assert distance_m(glat, glon, back[0], back[1]) < 0.5
    for sent, got in zip(ents, v["entrances"]):
        assert got["name"] == sent["name"]
        b = wgs84_to_gcj02(got["lat"], got["lon"])
        assert distance_m(sent["lat"], sent["lon"], b[0], b[1]) < 0.5
        assert round(got["lat"], 7) == got["lat"]
    row = venue_row(t.server, v["id"])
    assert (row["lat"], row["lon"]) == (v["lat"], v["lon"])
    # 百度 (bd09) further still; a PATCH in gcj02 lands where the POST did
    b = create(t.admin, lat=glat, lon=glon, crs="bd09", entrances=[])
    assert distance_m(glat, glon, b["lat"], b["lon"]) > moved
    p = t.admin.patch("/api/venues/%d" % b["id"], {"lat": glat, "lon": glon, "crs": "gcj02", "entrances": ents})
    assert p.status == 200, p
    assert (p.json["lat"], p.json["lon"]) == (v["lat"], v["lon"]) and p.json["entrances"] == v["entrances"]
    # outside China only when said so
    far = venue_body(lat=48.8566, lon=2.3522, entrances=[])
    expect_error(t.admin.post("/api/venues", far), 400, "venue.outside_china", "lat")
    r = t.admin.post("/api/venues", dict(far, allow_outside_china=True))
    assert r.status == 201 and r.json["lat"] == 48.8566, r


BAD = [
    ({"name": ""}, "validation.required", "name"),
    ({"name": "名" * 101}, "validation.too_long", "name"),
    ({"name": 12}, "validation.type", "name"),
    ({"category": "网吧酒店"}, "venue.category_unknown", "category"),
    ({"category": None}, None, "category"),
    ({"licence_no": "号" * 51}, "validation.too_long", "licence_no"),
    ({"operator_name": "名" * 41}, "validation.too_long", "operator_name"),
    ({"operator_phone": "12345"}, "validation.format", "operator_phone"),
    ({"region_code": "3408"}, "validation.format", "region_code"),
    ({"region_code": "340899999"}, "venue.region_unknown", "region_code"),
    ({"address": "址" * 201}, "validation.too_long", "address"),
    ({"lat": 91}, "validation.range", "lat"),
    ({"lon": "116.7"}, "validation.type", "lon"),
    ({"lat": None}, None, "lat"),
    ({"status": "歇业"}, "validation.enum", "status"),
    ({"unit_id": 99999999}, "venue.unit_unknown", "unit_id"),
    ({"unit_id": "wlj"}, "validation.type", "unit_id"),
    ({"note": "注" * 501}, "validation.too_long", "note"),
    ({"crs": "utm"}, "validation.enum", "crs"),
    ({"nickname": "x"}, "validation.unknown_field", "nickname"),
    ({"entrances": {"lat": 30.4, "lon": 116.7}}, "validation.type", "entrances"),
    ({"entrances": [{"lat": 30.4186, "lon": 116.7032}] * 11}, "validation.range", "entrances"),
    ({"entrances": [{"lat": 30.4186}]}, "validation.entrances", "entrances"),
    ({"entrances": [{"lat": 30.4186, "lon": 116.7032, "floor": 1}]}, "validation.entrances", "entrances"),
    ({"entrances": [{"lat": "30.4186", "lon": 116.7032}]}, "validation.entrances", "entrances"),
    ({"entrances": [{"lat": 30.4186, "lon": 116.7032, "name": "门" * 31}]}, "validation.entrances", "entrances"),
    ({"entrances": [{"lat": 30.5186, "lon": 116.7032}]}, "validation.entrances", "entrances"),
    ({"entrances": ["正门"]}, "validation.entrances", "entrances"),
]


def test_every_bad_input_is_refused_with_its_field(t):
    demo(t)
    v = create(t.admin)
    count, seq, row = n_venues(t.server, deleted=True), n_audit(t.server), venue_row(t.server, v["id"])
    for change, code, field in BAD:
        r = t.admin.post("/api/venues", venue_body(**change))
        e = expect_error(r, 400, code, field)
        assert e["message"], change
        r = t.admin.patch("/api/venues/%d" % v["id"], change)
        if change == {"category": None}:
            expect_error(r, 400, None, "category")
        else:
            expect_error(r, 400, code, field)
    # required fields missing on create
    for k in ("name", "category", "region_code", "lat", "lon"):
        body = venue_body()
        del body[k]
        expect_error(t.admin.post("/api/venues", body), 400, "validation.required", k)
    # a PATCH with only one coordinate
    expect_error(t.admin.patch("/api/venues/%d" % v["id"], {"lat": 30.42}), 400, "validation.required", "lon")
    # not JSON, invalid UTF-8
    r = t.admin.request("POST", "/api/venues", raw=b'{"name":"\xff\xfe"}', content_type="application/json")
    assert r.status == 400, r
    r = t.admin.request("POST", "/api/venues", raw=b"[1,2]", content_type="application/json")
    assert r.status == 400, r
    # nothing changed
    assert n_venues(t.server, deleted=True) == count and n_audit(t.server) == seq
    assert venue_row(t.server, v["id"]) == row
    # a licence number held by another live venue
    expect_error(t.admin.post("/api/venues", venue_body(licence_no=v["licence_no"])), 409, "venue.licence_taken",
                 "licence_no")
    other = create(t.admin)
    expect_error(t.admin.patch("/api/venues/%d" % other["id"], {"licence_no": v["licence_no"]}), 409,
                 "venue.licence_taken", "licence_no")


def test_categories_and_stats(t):
    demo(t)
    r = t.admin.get("/api/venues/categories")
    assert r.status == 200, r
    items = r.json["items"]
    assert len(items) == 19 and items[0] == {"code": "internet_cafe", "name": "互联网上网服务营业场所"}
    assert items[-1] == {"code": "other", "name": "其他"}
    tag = "统计测试%d" % next(_n)
    create(t.admin, name=tag + "甲", category="bar")
    create(t.admin, name=tag + "乙", category="bar", status="停业")
    create(t.admin, name=tag + "丙", category="酒类零售", region_code=TOWN_B, lat=30.465, lon=116.625,
           entrances=[])
    s = t.admin.get(xa.q("/api/venues/stats", q=tag))
    assert s.status == 200, s
    s = s.json
    assert s["total"] == 3
    assert s["by_category"] == [{"code": "bar", "name": "酒吧", "count": 2},
                                {"code": "alcohol", "name": "酒类零售", "count": 1}]
    assert {x["status"]: x["count"] for x in s["by_status"]} == {"营业": 2, "停业": 1}
    assert {x["region_code"]: x["count"] for x in s["by_region"]} == {TOWN_A: 2, TOWN_B: 1}
    # the list filters
    c = t.admin
    assert c.get(xa.q("/api/venues", q=tag, category="酒吧")).json["total"] == 2
    assert c.get(xa.q("/api/venues", q=tag, category="bar", status="停业")).json["total"] == 1
    assert c.get(xa.q("/api/venues", q=tag, region=TOWN_B)).json["total"] == 1
    assert c.get(xa.q("/api/venues", q=tag, region="340899")).json["total"] == 3
    names = [v["name"] for v in c.get(xa.q("/api/venues", q=tag, sort="-name")).json["items"]]
    assert names == sorted(names, reverse=True)
    j = c.get(xa.q("/api/venues", q=tag, page_size=2, page=2)).json
    assert j["page"] == 2 and j["page_size"] == 2 and len(j["items"]) == 1 and j["total"] == 3
    # the address and the licence number are searched too; % is itself
    assert c.get(xa.q("/api/venues", q="测试路 8 号", category="bar")).json["total"] >= 2
    assert c.get(xa.q("/api/venues", q="%")).json["total"] == 0
    wlj = unit_id(t, "wlj")
    create(t.admin, name=tag + "丁", unit_id=wlj)
    assert c.get(xa.q("/api/venues", q=tag, unit_id=wlj)).json["total"] == 1
    expect_error(c.get(xa.q("/api/venues", category="casino")), 400, "venue.category_unknown", "category")
    expect_error(c.get(xa.q("/api/venues", status="x")), 400, "validation.enum", "status")
    expect_error(c.get(xa.q("/api/venues", sort="operator_phone")), 400, "validation.enum", "sort")
    expect_error(c.get(xa.q("/api/venues", page_size=500)), 400, "validation.range", "page_size")
    expect_error(c.get(xa.q("/api/venues", region="340899999")), 400, "venue.region_unknown", "region")
    expect_error(c.get(xa.q("/api/venues", unit_id="x")), 400, "validation.range", "unit_id")


def test_scope_across_two_townships(t):
    demo(t)
    a_user, _ = account(t, "cadre", "xz001", "region:" + TOWN_A, prefix="ven")
    b_user, _ = account(t, "cadre", "xz101", "region:" + TOWN_B, prefix="ven")
    co_a, _ = account(t, "coordinator", "xz001", "region:" + TOWN_A, prefix="ven")
    va = create(t.admin, region_code=TOWN_A)
    vb = create(t.admin, region_code=TOWN_B, lat=30.465, lon=116.625, entrances=[])
    # lists hold only one's own township
    la = a_user.get(xa.q("/api/venues", page_size=200, region=TOWN_A)).json
    assert la["total"] > 0 and all(v["region_code"] == TOWN_A for v in la["items"])
    assert a_user.get(xa.q("/api/venues", q=vb["licence_no"])).json["total"] == 0
    assert b_user.get(xa.q("/api/venues", q=va["licence_no"])).json["total"] == 0
    assert all(v["region_code"] == TOWN_A for v in a_user.get(xa.q("/api/venues", page_size=200)).json["items"])
    stats = a_user.get("/api/venues/stats").json
    assert {x["region_code"] for x in stats["by_region"]} == {TOWN_A}
    # another township's venue does not exist for them: read, edit, delete, history
    count, seq = n_venues(t.server), n_audit(t.server)
    expect_error(a_user.get("/api/venues/%d" % vb["id"]), 404, "not_found")
    expect_error(a_user.patch("/api/venues/%d" % vb["id"], {"note": "越权"}), 404, "not_found")
    expect_error(a_user.get("/api/venues/%d/audit" % vb["id"]), 404, "not_found")
    # (a cadre may not delete at all; the coordinator's township account may)
    expect_error(a_user.delete("/api/venues/%d" % vb["id"]), 403, "forbidden")
    expect_error(co_a.delete("/api/venues/%d" % vb["id"]), 404, "not_found")
    # nor can one add a venue there or move one there
    expect_error(a_user.post("/api/venues", venue_body(region_code=TOWN_B)), 400, "venue.region_scope", "region_code")
    expect_error(a_user.patch("/api/venues/%d" % va["id"], {"region_code": TOWN_B}), 400, "venue.region_scope",
                 "region_code")
    assert n_venues(t.server) == count and n_audit(t.server) == seq
    assert a_user.patch("/api/venues/%d" % va["id"], {"note": "本辖区"}).json["note"] == "本辖区"
    assert co_a.delete("/api/venues/%d" % va["id"]).status == 204
    # import: a row in the other township, or upserting the other township's
    # licence number, writes nothing
    lic = licence()
    rows = [HEADERS[:9], ["本辖区网吧", "互联网上网服务营业场所", lic, "", "", TOWN_A_NAME, "",
                          "30.4185", "116.7031"],
            ["邻镇网吧", "internet_cafe", licence(), "", "", TOWN_B_NAME, "", "30.465", "116.625"],
            ["冒名网吧", "internet_cafe", vb["licence_no"], "", "", TOWN_A_NAME, "", "30.4185", "116.7031"]]
    seq = n_audit(t.server)
    r = upload(a_user, "/api/venues/import", csv_bytes(rows))
    assert r.status == 422, r
    errs = {(e["row"], e["field"]) for e in r.json["errors"]}
    assert errs == {(3, "region_code"), (4, "licence_no")}, r.json["errors"]
    assert by_licence(t.admin, lic) is None and n_audit(t.server) == seq
    assert t.admin.get("/api/venues/%d" % vb["id"]).json["name"] == vb["name"]
    # the unit scope: a police station sees the venues it is responsible for
    pcs = unit_id(t, "pcs001")
    vp = create(t.admin, unit_id=pcs, category="hotel")
    police, _ = account(t, "police", "pcs001", "unit:pcs001", prefix="ven")
    lp = police.get(xa.q("/api/venues", page_size=200)).json
    assert lp["total"] >= 1 and all(v["unit_id"] == pcs for v in lp["items"])
    assert police.get("/api/venues/%d" % vp["id"]).status == 200
    expect_error(police.get("/api/venues/%d" % vb["id"]), 404, "not_found")
    # the school scope: the venues of its school's township
    pw = demo(t)
    head = sign_in(t.server, "xiaozhang", pw["xiaozhang"])
    ls = head.get(xa.q("/api/venues", page_size=200)).json
    assert ls["total"] > 0 and all(v["region_code"] == TOWN_A for v in ls["items"])
    expect_error(head.get("/api/venues/%d" % vb["id"]), 404, "not_found")
    expect_error(head.post("/api/venues", venue_body()), 403, "forbidden")


def test_import_dry_run_errors_all_or_nothing_and_upsert(t):
    demo(t)
    lic1, lic2 = licence(), licence()
    wlj = unit_id(t, "wlj")
    glat, glon = wgs84_to_gcj02(30.4185, 116.7031)
    rows = [HEADERS,
            ["星际网咖", "互联网上网服务营业场所", lic1, "李老板", "13800001111", TOWN_A_NAME, "城东街道人民路 1 号",
             "30.4185", "116.7031", "wgs84", "正门:30.4186,116.7032；侧门：30.4184,116.7030", "营业",
             "示范县文化旅游体育局", ""],
            ["老街烟酒店", "tobacco", lic2, "", "", TOWN_A, "", "%.7f" % glat, "%.7f" % glon, "gcj02", "", "停业", "wlj",
             "多行\n备注"],
            ["无证流动摊", "流动摊点", "", "", "", TOWN_A_NAME, "", "30.419", "116.704", "", "", "", "", ""]]
    # the preview suggests the mapping
    p = upload(t.admin, "/api/venues/import/preview", csv_bytes(rows))
    assert p.status == 200 and p.json["missing"] == [] and p.json["unknown"] == [], p
    assert [f["label"] for f in p.json["fields"]] == HEADERS
    # a dry run reports and writes nothing
    count, seq = n_venues(t.server), n_audit(t.server)
    r = upload(t.admin, "/api/venues/import?dry_run=1", csv_bytes(rows))
    assert r.status == 200 and r.json["dry_run"] and r.json["ok"] and r.json["created"] == 3, r
    assert n_venues(t.server) == count and n_audit(t.server) == seq
    # a dry run names each bad row and column
    bad = [list(x) for x in rows]
    bad[1][1] = "赌场"
    bad[2][4] = "12345"
    bad[3][10] = "北门 30.4"
    bad.append(["重复许可", "bar", lic1, "", "", TOWN_A_NAME, "", "30.4185", "116.7031", "", "", "", "", ""])
    bad.append(["远门", "bar", "", "", "", TOWN_A_NAME, "", "30.4185", "116.7031", "", "门:31.4185,116.7031", "", "",
                ""])
    r = upload(t.admin, "/api/venues/import?dry_run=1", csv_bytes(bad))
    assert r.status == 200 and not r.json["ok"], r
    got = {(e["row"], e["column"], e["field"]) for e in r.json["errors"]}
    # (rows are the file's lines: the note of the second row spans two)
    assert got == {(2, "类别", "category"), (3, "联系电话", "operator_phone"), (5, "出入口", "entrances"),
                   (6, "许可证号", "licence_no"), (7, "出入口", "entrances")}, r.json["errors"]
    assert all(e["message"] for e in r.json["errors"])
    # committing with a bad row writes nothing at all
    r = upload(t.admin, "/api/venues/import", csv_bytes(bad))
    assert r.status == 422 and r.json["error"]["code"] == "import.invalid_rows", r
    assert n_venues(t.server) == count and n_audit(t.server) == seq
    # the good file goes in whole, one audit entry per row
    r = upload(t.admin, "/api/venues/import", csv_bytes(rows))
    assert r.status == 200 and r.json["created"] == 3 and not r.json["dry_run"], r
    assert n_venues(t.server) == count + 3
    entries = audit_since(t.server, seq)
    assert [e["action"] for e in entries] == ["import_create"] * 3 and {e["entity"] for e in entries} == {"venue"}
    v1, v2 = by_licence(t.admin, lic1), by_licence(t.admin, lic2)
    assert v1["category"] == "internet_cafe" and v1["unit_id"] == wlj and v1["region_code"] == TOWN_A
    assert v1["entrances"] == [{"lat": 30.4186, "lon": 116.7032, "name": "正门"},
                               {"lat": 30.4184, "lon": 116.703, "name": "侧门"}]
    assert distance_m(v2["lat"], v2["lon"], 30.4185, 116.7031) < 0.5 and v2["status"] == "停业"
    assert v2["note"] == "多行\n备注" and v2["unit_id"] == wlj
    # upsert by 许可证号: the same licence updates, a row without one is new
    rows2 = [HEADERS[:9] + ["状态"], ["星际网咖（新址）", "internet_cafe", lic1, "李老板", "13800001111", TOWN_A_NAME,
                                     "城东街道人民路 9 号", "30.4190", "116.7040", "停业"],
             ["无证流动摊", "stall", "", "", "", TOWN_A_NAME, "", "30.419", "116.704", ""]]
    seq = n_audit(t.server)
    r = upload(t.admin, "/api/venues/import", csv_bytes(rows2))
    assert r.status == 200 and r.json["created"] == 1 and r.json["updated"] == 1, r
    n1 = by_licence(t.admin, lic1)
    assert n1["id"] == v1["id"] and n1["name"] == "星际网咖（新址）" and n1["lat"] == 30.419
    assert n1["status"] == "停业" and n1["entrances"] == v1["entrances"] and n1["unit_id"] == wlj
    entries = audit_since(t.server, seq)
    assert sorted(e["action"] for e in entries) == ["import_create", "import_update"]
    # the same file once more changes nothing for the licensed venue
    r = upload(t.admin, "/api/venues/import?dry_run=1", csv_bytes(rows2[:2]))
    assert r.json["unchanged"] == 1, r.json
    # a deleted venue comes back when its licence is imported
    assert t.admin.delete("/api/venues/%d" % v2["id"]).status == 204
    r = upload(t.admin, "/api/venues/import", csv_bytes(rows[:1] + rows[2:3]))
    assert r.status == 200 and r.json["updated"] == 1, r
    assert t.admin.get("/api/venues/%d" % v2["id"]).status == 200
    # xlsx works the same
    lic3 = licence()
    data = xlsx_bytes([HEADERS[:9], ["阳光便利店", "小商店/文具店", lic3, "", "", TOWN_B_NAME, "", "30.465", "116.625"]],
                      numbers=(7, 8))
    r = upload(t.admin, "/api/venues/import", data, XLSX_TYPE)
    assert r.status == 200 and r.json["created"] == 1, r
    assert by_licence(t.admin, lic3)["region_code"] == TOWN_B


def test_export_in_the_offices_column_order(t):
    demo(t)
    tag = "导出测试%d" % next(_n)
    v = create(t.admin, name=tag, unit_id=unit_id(t, "wlj"),
               entrances=[{"lat": 30.4186, "lon": 116.7032, "name": "正门"}, {"lat": 30.4184, "lon": 116.703}])
    r = t.admin.get(xa.q("/api/venues/export", format="csv", q=tag))
    assert r.status == 200 and r.header("Content-Type").startswith("text/csv"), r
    assert "filename*=UTF-8''" in r.header("Content-Disposition")
    rows = read_csv(r.body)
    assert rows[0] == HEADERS and len(rows) == 2
    assert rows[1] == [tag, "互联网上网服务营业场所", v["licence_no"], "王经营", "13912345678", TOWN_A_NAME,
                       v["address"], "30.4185", "116.7031", "wgs84", "正门:30.4186,116.7032;30.4184,116.703", "营业",
                       "示范县文化旅游体育局", "测试"]
    # the export re-imports unchanged
    seq = n_audit(t.server)
    r2 = upload(t.admin, "/api/venues/import", r.body)
    assert r2.status == 200 and r2.json["unchanged"] == 1 and r2.json["created"] == 0, r2
    assert n_audit(t.server) == seq
    x = t.admin.get(xa.q("/api/venues/export", format="xlsx", q=tag))
    assert x.status == 200 and x.header("Content-Type").startswith(XLSX_TYPE), x
    rows = read_xlsx(x.body)
    assert rows[0] == HEADERS and rows[1][0] == tag and float(rows[1][7]) == 30.4185
    r3 = upload(t.admin, "/api/venues/import", x.body, XLSX_TYPE)
    assert r3.status == 200 and r3.json["unchanged"] == 1, r3
    # the filters apply; only what one may see is exported
    b_user, _ = account(t, "cadre", "xz101", "region:" + TOWN_B, prefix="ven")
    rows = read_csv(b_user.get(xa.q("/api/venues/export", format="csv", q=tag)).body)
    assert rows == [HEADERS]
    expect_error(t.admin.get(xa.q("/api/venues/export", format="pdf")), 400, "validation.enum", "format")


def test_history_and_zone_relevant_changes(t):
    demo(t)
    v = create(t.admin)
    t.admin.patch("/api/venues/%d" % v["id"], {"lat": 30.4190, "lon": 116.7035})
    t.admin.patch("/api/venues/%d" % v["id"], {"status": "取缔"})
    r = t.admin.get("/api/venues/%d/audit" % v["id"])
    assert r.status == 200, r
    items = r.json["items"]
    assert [i["action"] for i in items] == ["update", "update", "create"]
    assert items[0]["before"]["status"] == "营业" and items[0]["after"]["status"] == "取缔"
    assert items[1]["before"]["lat"] == 30.4185 and items[1]["after"]["lat"] == 30.419
    assert items[2]["before"] is None and items[2]["after"]["licence_no"] == v["licence_no"]
    t.admin.delete("/api/venues/%d" % v["id"])
    assert sql(t.server, "SELECT action FROM audit WHERE entity = 'venue' AND entity_id = ? ORDER BY seq DESC",
               str(v["id"]))[0][0] == "delete"
    expect_error(t.admin.get("/api/venues/%d/audit" % v["id"]), 404, "not_found")


def test_permissions(t):
    demo(t)
    reader, _ = account(t, "inspector", "zzb", "region:340899", prefix="ven")
    v = create(t.admin)
    assert reader.get("/api/venues/%d" % v["id"]).status == 200
    assert reader.get(xa.q("/api/venues/export", format="csv")).status == 200
    expect_error(reader.post("/api/venues", venue_body()), 403, "forbidden")
    expect_error(reader.patch("/api/venues/%d" % v["id"], {"note": "x"}), 403, "forbidden")
    expect_error(reader.delete("/api/venues/%d" % v["id"]), 403, "forbidden")
    expect_error(upload(reader, "/api/venues/import", csv_bytes([HEADERS])), 403, "forbidden")
    # a unit-scope writer keeps what it saves in sight
    cadre, _ = account(t, "cadre", "wlj", "unit:wlj", prefix="ven")
    expect_error(cadre.post("/api/venues", venue_body(unit_id=unit_id(t, "scjgj"))), 400, "venue.unit_scope",
                 "unit_id")
    r = cadre.post("/api/venues", venue_body(region_code="340899", unit_id=unit_id(t, "wlj")))
    assert r.status == 201, r

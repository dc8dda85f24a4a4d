"""A school's campus boundary (校园边界) and entrances (出入口) as an office
meets them: drawn or pasted as GeoJSON (also in GCJ-02 from 高德), cleared,
bad polygons refused with the reason and nothing changed, entrances checked,
WKT and GeoJSON in a CSV import, the GeoJSON FeatureCollection import (dry
run, all or nothing, data scope), the audit trail, and `xiaoan geo` on the
command line."""
import json
import os
import subprocess

import xa
from fixtures import (CSV_TYPE, SCHOOL_HEADERS, TOWN_A, TOWN_B, account, audit_since, create_school, csv_bytes, demo,
                      distance_m, last_seq, read_csv, school_row, sql1, upload, wgs84_to_gcj02)
from xa import expect_error

# a 0.001 deg square near the demo schools: about 111 m x 96 m
LAT0, LON0 = 30.418, 116.703


def square(lat=LAT0, lon=LON0, d=0.001):
    """A closed ring, rounded to 7 decimals as the server stores it."""
    pts = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return [[round(x, 7), round(y, 7)] for x, y in pts]


def polygon(lat=LAT0, lon=LON0, d=0.001):
    return {"type": "Polygon", "coordinates": [square(lat, lon, d)]}


def wkt(lat=LAT0, lon=LON0, d=0.001):
    return "POLYGON ((" + ", ".join("%s %s" % (x, y) for x, y in square(lat, lon, d)) + "))"


def row(server, sid):
    db = server.db()
    try:
        return db.execute("SELECT boundary, entrances FROM schools WHERE id = ?", (sid,)).fetchone()
    finally:
        db.close()


def test_boundary_stored_and_read_back(t):
    demo(t)
    s = create_school(t.admin, boundary=polygon(), entrances=[{"lat": LAT0, "lon": LON0 + 0.0005, "name": "正门",
                                                              "pupils": True}])
    b = s["boundary"]
    assert b["type"] == "MultiPolygon" and b["coordinates"] == [[square()]], b
    assert 10000 < s["area_m2"] < 11000, s["area_m2"]
    assert s["entrances"] == [{"lat": LAT0, "lon": LON0 + 0.0005, "name": "正门", "pupils": True}]
    assert t.admin.get("/api/schools/%d" % s["id"]).json == s
    stored, ents = row(t.server, s["id"])
    assert json.loads(stored) == [[square()]] and json.loads(ents)[0]["name"] == "正门"
    # the list carries it too
    items = t.admin.get(xa.q("/api/schools", q=s["code"])).json["items"]
    assert items[0]["boundary"] == b and items[0]["area_m2"] == s["area_m2"]
    # a school without one
    plain = create_school(t.admin)
    assert plain["boundary"] is None and plain["area_m2"] is None and plain["entrances"] == []
    # a MultiPolygon of a split campus and a Feature are accepted
    two = {"type": "MultiPolygon", "coordinates": [[square()], [square(LAT0, LON0 + 0.003)]]}
    p = t.admin.patch("/api/schools/%d" % plain["id"], {"boundary": two}).json
    assert len(p["boundary"]["coordinates"]) == 2 and 20000 < p["area_m2"] < 22000
    f = {"type": "Feature", "properties": {}, "geometry": polygon()}
    p = t.admin.patch("/api/schools/%d" % plain["id"], {"boundary": f}).json
    assert p["boundary"]["coordinates"] == [[square()]]


def test_boundary_in_gcj02_is_stored_in_wgs84(t):
    demo(t)
    # drawn on 高德: every vertex comes in GCJ-02, like lat/lon
    s = create_school(t.admin, lat=LAT0, lon=LON0, crs="gcj02", boundary=polygon(),
                      entrances=[{"lat": LAT0, "lon": LON0, "name": "东门"}])
    ring = s["boundary"]["coordinates"][0][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    for (glon, glat), (lon, lat) in zip(square(), ring):
        assert 200 < distance_m(glat, glon, lat, lon) < 1000
        back = wgs84_to_gcj02(lat, lon)
        assert distance_m(glat, glon, back[0], back[1]) < 0.5
        assert round(lat, 7) == lat and round(lon, 7) == lon
    e = s["entrances"][0]
    assert (e["lat"], e["lon"]) == (s["lat"], s["lon"]) and e["pupils"] is False


def test_boundary_cleared_with_null(t):
    demo(t)
    s = create_school(t.admin, boundary=polygon())
    p = t.admin.patch("/api/schools/%d" % s["id"], {"boundary": None, "entrances": None})
    assert p.status == 200, p
    assert p.json["boundary"] is None and p.json["area_m2"] is None and p.json["entrances"] == []
    assert row(t.server, s["id"]) == (None, "[]")


BAD_BOUNDARIES = [
    ({"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + 0.001, LAT0 + 0.001], [LON0 + 0.001, LAT0],
                                          [LON0, LAT0 + 0.001], [LON0, LAT0]]]}, "自相交"),
    ({"type": "Polygon", "coordinates": [square()[:4]]}, "未闭合"),
    ({"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + 0.001, LAT0], [LON0, LAT0]]]}, "至少需要 4 个点"),
    (polygon(d=0.07), "面积过大"),
    (polygon(d=0.00002), "面积过小"),
    ({"type": "Polygon", "coordinates": [[[LON0, 91], [LON0 + 0.001, 91], [LON0 + 0.001, LAT0], [LON0, 91]]]}, "纬度"),
    ({"type": "Polygon", "coordinates": [[["a", LAT0], [LON0 + 0.001, LAT0], [LON0 + 0.001, LAT0 + 0.001],
                                          ["a", LAT0]]]}, "经度, 纬度"),
    ({"type": "MultiPolygon", "coordinates": [[square()], [square(LAT0 + 0.0005, LON0 + 0.0005)]]}, "重叠"),
    ({"type": "Point", "coordinates": [LON0, LAT0]}, "Polygon"),
    ("POLYGON ((116.703 30.418, 116.704 30.418, 116.704 30.419, 116.703 30.418))", "GeoJSON"),
    ([1, 2], "GeoJSON"),
]


def test_bad_boundaries_are_refused_and_change_nothing(t):
    demo(t)
    s = create_school(t.admin, boundary=polygon(LAT0 + 0.01))
    seq = last_seq(t.server)
    for bad, reason in BAD_BOUNDARIES:
        r = t.admin.patch("/api/schools/%d" % s["id"], {"boundary": bad, "name": "不应保存"})
        e = expect_error(r, 400, field="boundary")
        assert reason in e["message"], (reason, e)
        r = t.admin.post("/api/schools", dict(xa_body(), boundary=bad))
        expect_error(r, 400, field="boundary")
    assert t.admin.get("/api/schools/%d" % s["id"]).json == s
    assert last_seq(t.server) == seq
    # area_m2 is read-only
    expect_error(t.admin.patch("/api/schools/%d" % s["id"], {"area_m2": 5}), 400, "validation.unknown_field")


def xa_body():
    from fixtures import school_body
    return school_body()


def test_entrances_are_checked(t):
    demo(t)
    s = create_school(t.admin)
    bad = [
        ({"lat": LAT0}, "纬度（lat）和经度（lon）须为数字"),
        ({"lat": 91, "lon": LON0}, "超出范围"),
        ({"lat": LAT0, "lon": LON0, "name": "门" * 41}, "40"),
        ({"lat": LAT0, "lon": LON0, "pupils": "是"}, "true 或 false"),
        ({"lat": LAT0, "lon": LON0, "gate": 1}, "只能有"),
        ({"lat": -33.9, "lon": 151.2}, "不在中国境内"),
        ("正门", "须为对象"),
    ]
    seq = last_seq(t.server)
    for ent, reason in bad:
        e = expect_error(t.admin.patch("/api/schools/%d" % s["id"], {"entrances": [{"lat": LAT0, "lon": LON0}, ent]}),
                         400, field="entrances")
        assert reason in e["message"] and "第 2 个" in e["message"], (reason, e)
    e = expect_error(t.admin.patch("/api/schools/%d" % s["id"], {"entrances": [{"lat": LAT0, "lon": LON0}] * 21}),
                     400, field="entrances")
    assert "20" in e["message"]
    expect_error(t.admin.patch("/api/schools/%d" % s["id"], {"entrances": {"lat": LAT0}}), 400, field="entrances")
    assert last_seq(t.server) == seq and t.admin.get("/api/schools/%d" % s["id"]).json == s
    ok = [{"lat": LAT0, "lon": LON0, "name": "门" * 40, "pupils": True}] * 20
    assert len(t.admin.patch("/api/schools/%d" % s["id"], {"entrances": ok}).json["entrances"]) == 20


def test_audit_records_geometry(t):
    demo(t)
    s = create_school(t.admin)
    seq = last_seq(t.server)
    t.admin.patch("/api/schools/%d" % s["id"], {"boundary": polygon(), "entrances": [{"lat": LAT0, "lon": LON0}]})
    t.admin.patch("/api/schools/%d" % s["id"], {"boundary": None})
    new = audit_since(t.server, seq)
    assert [a["action"] for a in new] == ["update", "update"]
    b0, a0 = json.loads(new[0]["before_json"]), json.loads(new[0]["after_json"])
    assert b0["boundary"] is None and a0["boundary"]["coordinates"] == [[square()]] and len(a0["entrances"]) == 1
    assert json.loads(new[1]["after_json"])["boundary"] is None
    # the same boundary again: no write, no entry
    t.admin.patch("/api/schools/%d" % s["id"], {"entrances": [{"lat": LAT0, "lon": LON0}]})
    assert len(audit_since(t.server, seq)) == 2


def geo_rows(codes, boundaries, entrances):
    rows = [["学校名称", "学校标识码", "学段", "办学性质", "所属乡镇（街道）", "校园边界", "出入口"]]
    for i, (code, b, e) in enumerate(zip(codes, boundaries, entrances)):
        rows.append(["边界导入测试%d" % i, code, "小学", "公办", TOWN_A, b, e])
    return rows


def test_csv_import_with_wkt_and_geojson(t):
    demo(t)
    from fixtures import unique_code
    codes = [unique_code() for _ in range(3)]
    rows = geo_rows(codes, [wkt(), json.dumps(polygon(LAT0 + 0.01)), ""],
                    ["30.418,116.7035,正门,学生;30.4185,116.703,东门",
                     json.dumps([{"lat": LAT0, "lon": LON0, "name": "北门", "pupils": False}], ensure_ascii=False), ""])
    r = upload(t.admin, "/api/schools/import", csv_bytes(rows))
    assert r.status == 200 and r.json["created"] == 3, r
    a = t.admin.get(xa.q("/api/schools", q=codes[0])).json["items"][0]
    assert a["boundary"]["coordinates"] == [[square()]]
    assert a["entrances"] == [{"lat": 30.418, "lon": 116.7035, "name": "正门", "pupils": True},
                              {"lat": 30.4185, "lon": 116.703, "name": "东门", "pupils": False}]
    b = t.admin.get(xa.q("/api/schools", q=codes[1])).json["items"][0]
    assert b["boundary"]["coordinates"] == [[square(LAT0 + 0.01)]] and b["entrances"][0]["name"] == "北门"
    c = t.admin.get(xa.q("/api/schools", q=codes[2])).json["items"][0]
    assert c["boundary"] is None and c["entrances"] == []

    # export writes 校园边界 as WKT, 出入口 as JSON; the file re-imports unchanged
    r = t.admin.get(xa.q("/api/schools/export", format="csv", q=codes[0]))
    got = read_csv(r.body)
    assert got[0] == SCHOOL_HEADERS
    cells = dict(zip(got[0], got[1]))
    assert cells["校园边界"] == wkt(), cells["校园边界"]
    assert json.loads(cells["出入口"])[0]["name"] == "正门"
    r = upload(t.admin, "/api/schools/import", r.body)
    assert r.status == 200 and r.json["unchanged"] == 1, r

    # a bad polygon in one row: named by row and column, nothing written
    seq = last_seq(t.server)
    bow = "POLYGON ((116.703 30.418, 116.704 30.419, 116.704 30.418, 116.703 30.419, 116.703 30.418))"
    bad = geo_rows([codes[2], unique_code(), unique_code()], [wkt(), bow, wkt()], ["", "", "30.418,116.703,门,也许"])
    r = upload(t.admin, "/api/schools/import", csv_bytes(bad))
    expect_error(r, 422, "import.invalid_rows")
    errs = {(x["row"], x["column"], x["field"]): x["message"] for x in r.json["errors"]}
    assert set(errs) == {(3, "校园边界", "boundary"), (4, "出入口", "entrances")}, r.json["errors"]
    assert "自相交" in errs[(3, "校园边界", "boundary")]
    assert "学生" in errs[(4, "出入口", "entrances")]
    assert last_seq(t.server) == seq
    assert t.admin.get(xa.q("/api/schools", q=codes[2])).json["items"][0]["boundary"] is None

    # GCJ-02 file: every vertex converted
    rows = geo_rows([codes[2]], [wkt()], [""])
    r = upload(t.admin, "/api/schools/import?crs=gcj02", csv_bytes(rows))
    assert r.status == 200, r
    ring = t.admin.get(xa.q("/api/schools", q=codes[2])).json["items"][0]["boundary"]["coordinates"][0][0]
    assert 200 < distance_m(LAT0, LON0, ring[0][1], ring[0][0]) < 1000


def feature(code, geometry, **props):
    props["code"] = code
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_feature_collection_import(t):
    demo(t)
    s1, s2 = create_school(t.admin), create_school(t.admin, region_code=TOWN_B)
    fc = {"type": "FeatureCollection", "features": [
        feature(s1["code"], polygon(), entrances=[{"lat": LAT0, "lon": LON0, "name": "正门", "pupils": True}]),
        feature(s2["code"], {"type": "MultiPolygon", "coordinates": [[square(LAT0 + 0.01)]]}),
    ]}
    seq = last_seq(t.server)
    r = t.admin.post("/api/schools/boundaries/import?dry_run=1", fc)
    assert r.status == 200, r
    assert r.json == {"dry_run": True, "ok": True, "total": 2, "updated": 2, "unchanged": 0, "errors": []}
    assert last_seq(t.server) == seq and t.admin.get("/api/schools/%d" % s1["id"]).json["boundary"] is None

    # one bad feature: every problem listed with its index, nothing written
    bad = json.loads(json.dumps(fc))
    bad["features"].append(feature("1234567890", polygon()))
    bad["features"].append(feature(s1["code"], polygon()))
    bad["features"].append(feature(s2["code"][:-1] + "x", polygon()))
    bad["features"][1]["geometry"] = BAD_BOUNDARIES[0][0]
    r = t.admin.post("/api/schools/boundaries/import", bad)
    expect_error(r, 422, "import.invalid_features")
    errs = {x["index"]: x for x in r.json["errors"]}
    assert set(errs) == {1, 2, 3, 4}, r.json["errors"]
    assert errs[1]["code"] == s2["code"] and errs[1]["field"] == "geometry" and "自相交" in errs[1]["message"]
    assert errs[2]["field"] == "properties.code" and "不存在" in errs[2]["message"]
    assert "重复" in errs[3]["message"] and "10 位" in errs[4]["message"]
    assert last_seq(t.server) == seq and t.admin.get("/api/schools/%d" % s1["id"]).json["boundary"] is None
    r = t.admin.post("/api/schools/boundaries/import?dry_run=1", bad)
    assert r.status == 200 and r.json["ok"] is False and len(r.json["errors"]) == 4

    # the good collection: written, one audit entry per school
    r = t.admin.post("/api/schools/boundaries/import", fc)
    assert r.status == 200 and r.json["updated"] == 2 and r.json["ok"] is True, r
    a = t.admin.get("/api/schools/%d" % s1["id"]).json
    assert a["boundary"]["coordinates"] == [[square()]] and a["entrances"][0]["pupils"] is True, a
    new = audit_since(t.server, seq)
    assert sorted((x["action"], x["entity_id"]) for x in new) == \
        sorted([("boundary_import", str(s1["id"])), ("boundary_import", str(s2["id"]))])
    assert json.loads(new[0]["before_json"])["boundary"] is None
    # again: unchanged, no entries
    seq = last_seq(t.server)
    r = t.admin.post("/api/schools/boundaries/import", fc)
    assert r.json["unchanged"] == 2 and r.json["updated"] == 0 and last_seq(t.server) == seq

    # data scope: a coordinator for 城东街道 sees s1 (TOWN_A), not s2 (TOWN_B)
    town, _ = account(t, "coordinator", "xz001", "region:" + TOWN_A, "geo")
    r = town.post("/api/schools/boundaries/import", {"type": "FeatureCollection", "features": [
        feature(s1["code"], polygon(LAT0 + 0.02)), feature(s2["code"], polygon(LAT0 + 0.02))]})
    expect_error(r, 422, "import.invalid_features")
    assert [(x["index"], x["field"]) for x in r.json["errors"]] == [(1, "properties.code")]
    assert "不在您的管辖范围内" in r.json["errors"][0]["message"]
    r = town.post("/api/schools/boundaries/import", {"type": "FeatureCollection", "features": [
        feature(s1["code"], polygon(LAT0 + 0.02))]})
    assert r.status == 200 and r.json["updated"] == 1, r

    # not a FeatureCollection, no features, a read-only account
    expect_error(t.admin.post("/api/schools/boundaries/import", polygon()), 400, field="type")
    expect_error(t.admin.post("/api/schools/boundaries/import", {"type": "FeatureCollection", "features": []}),
                 400, field="features")
    expect_error(t.admin.post("/api/schools/boundaries/import?crs=utm", fc), 400, field="crs")
    expect_error(t.admin.post("/api/schools/boundaries/import", dict(fc, style="red")), 400, field="style")
    r = t.admin.post("/api/schools/boundaries/import?dry_run=1", dict(fc, name="校园边界", bbox=[0, 0, 1, 1]))
    assert r.status == 200 and r.json["ok"] is True, r
    ro, _ = account(t, "inspector", "zzb", "region:340899", "geo_ro")
    assert ro.post("/api/schools/boundaries/import", fc).status == 403


def test_geo_command_line(t):
    ref = os.path.join(xa.ROOT, "tests", "data", "geodesic_ref.csv")
    with open(ref) as f:
        lines = f.read().splitlines()
    pairs = ["id,lat1,lon1,lat2,lon2"] + [",".join(l.split(",")[:5]) for l in lines[1:]]
    p = subprocess.run([t.binary, "geo", "distance"], input="\n".join(pairs) + "\n", capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr == "", p
    out = p.stdout.splitlines()
    assert out[0] == "id,s12_m" and len(out) == len(lines)
    for want, got in zip(lines[1:], out[1:]):
        w, g = want.split(","), got.split(",")
        assert w[0] == g[0] and abs(float(w[5]) - float(g[1])) < 0.001, (want, got)
    # bad rows are named on stderr, the rest still answered, exit non-zero
    p = subprocess.run([t.binary, "geo", "distance"], capture_output=True, text=True, timeout=60,
                       input="id,lat1,lon1,lat2,lon2\na,30,116,30.001,116\nb,30,116\nc,95,116,30,116\n"
                             "d,x,116,30,116\ne,30,116,30,116.001\n")
    assert p.returncode != 0 and [l.split(",")[0] for l in p.stdout.splitlines()] == ["id", "a", "e"]
    err = p.stderr.splitlines()
    assert len(err) == 3 and "第 3 行" in err[0] and "第 4 行" in err[1] and "第 5 行" in err[2]
    # convert: GCJ-02 back to WGS84 lands where the public formula started
    g = wgs84_to_gcj02(LAT0, LON0)
    p = subprocess.run([t.binary, "geo", "convert", "--from", "gcj02", "--to", "wgs84"], capture_output=True,
                       text=True, timeout=60, input="id,lat,lon\nx,%.9f,%.9f\n" % g)
    assert p.returncode == 0, p
    _, lat, lon = p.stdout.splitlines()[1].split(",")
    assert len(lat.split(".")[1]) >= 7 and distance_m(LAT0, LON0, float(lat), float(lon)) < 0.5
    for args in (["geo"], ["geo", "convert", "--from", "mars", "--to", "wgs84"], ["geo", "convert"]):
        assert subprocess.run([t.binary, *args], capture_output=True, timeout=60).returncode != 0
    for args in (["geo", "--help"], ["geo", "distance", "--help"], ["geo", "convert", "--help"]):
        p = subprocess.run([t.binary, *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "usage" in p.stdout

"""The surroundings as officials meet them: a school's 200 m zone with the
venues in it judged by the rules, findings that follow venues opening,
closing and moving, reviews (confirm, exempt with a reason, a measured
walking distance), local rules an administrator enables for his county,
and data scope: a township sees only its own findings."""
import math

import xa
from fixtures import COUNTY, TOWN_A, TOWN_B, account, demo, list_all, sql, sql1
from xa import expect_error


def setup(t):
    if getattr(t, "_zone", None):
        return t._zone
    demo(t)
    # the demo was written by another process: build the index afresh
    r = t.admin.post("/api/zone/recompute", {})
    assert r.status == 200 and r.json["pairs"] > 50, r
    s = {}
    s["a"], _ = account(t, "coordinator", "xz001", "region:" + TOWN_A, "zta")
    s["b"], _ = account(t, "coordinator", "xz101", "region:" + TOWN_B, "ztb")
    s["police"], _ = account(t, "police", "pcs001", "unit:pcs001", "ztp")
    t._zone = s
    return s


def offset(lat, lon, north, east):
    """A point north/east metres from (lat, lon) (small distances)."""
    mlat = 111132.954 - 559.822 * math.cos(2 * math.radians(lat))
    mlon = 111412.84 * math.cos(math.radians(lat))
    return lat + north / mlat, lon + east / mlon


def primary_school(t, region=TOWN_A, with_boundary=False):
    for s in list_all(t.admin, region=region, stage="小学"):
        full = t.admin.get("/api/schools/%d" % s["id"]).json
        if full.get("lat") is not None and bool(full.get("boundary")) == with_boundary:
            return full
    raise AssertionError("no primary school in %s" % region)


def findings(c, **q):
    r = c.get(xa.q("/api/zone/findings", page_size=500, **q))
    assert r.status == 200, r
    return r.json["items"]


def finding_of(c, school_id, venue_id):
    items = findings(c, school_id=school_id, venue_id=venue_id, all=1)
    return items[0] if items else None


def new_venue(t, lat, lon, category="internet_cafe", region=TOWN_A, **kw):
    body = {"name": "测试场所%d" % int(lat * 1e7 % 100000), "category": category, "region_code": region,
            "address": "测试路 1 号", "lat": lat, "lon": lon}
    body.update(kw)
    r = t.admin.post("/api/venues", body)
    assert r.status == 201, r
    return r.json


def test_demo_has_every_verdict_and_the_surroundings_list(t):
    setup(t)
    st = t.admin.get("/api/zone/findings/stats").json
    for v in ("禁止", "需审查", "重点关注"):
        assert st["by_verdict"][v] > 0, st
    # a school with a campus boundary: venues nearest first, judged
    school = primary_school(t, with_boundary=True) if any(
        x.get("boundary") for x in [t.admin.get("/api/schools/%d" % s["id"]).json
                                    for s in list_all(t.admin, stage="小学")[:60]]) else primary_school(t)
    r = t.admin.get("/api/schools/%d/surroundings?radius=300" % school["id"])
    assert r.status == 200, r
    items = r.json["items"]
    assert items, "no venue within 300 m of %s" % school["name"]
    d = [x["distance_m"] for x in items]
    assert d == sorted(d) and max(d) <= 300
    assert all(x["verdict"] in ("", "禁止", "需审查", "重点关注") for x in items)
    assert any(b["rule_code"] == "Z-NET-1" and b["distance_m"] == 200 for b in r.json["buffers"])
    # bad input
    expect_error(t.admin.get("/api/schools/%d/surroundings?radius=0" % school["id"]), 400, "validation.range", "radius")
    expect_error(t.admin.get("/api/schools/%d/surroundings?radius=abc" % school["id"]), 400, None, "radius")
    expect_error(t.admin.get("/api/schools/999999/surroundings"), 404)


def test_a_venue_opening_closing_and_moving(t):
    setup(t)
    school = primary_school(t)
    lat, lon = offset(school["lat"], school["lon"], 120, 0)
    v = new_venue(t, lat, lon)
    f = finding_of(t.admin, school["id"], v["id"])
    # no campus boundary: the internet-café rule falls back to the point, so at most 需审查
    assert f and f["verdict"] == "需审查" and f["state"] == "待核实" and f["method"] == "point" and f["fallback"], f
    assert abs(f["distance_m"] - 120) < 0.5 and f["rule_code"] == "Z-NET-1" and f["limit_m"] == 200
    # the school gains a campus reaching 40 m towards the café: 禁止 by the boundary
    ring = [offset(school["lat"], school["lon"], n, e) for n, e in ((-60, -60), (-60, 60), (80, 60), (80, -60))]
    coords = [[[lo, la] for la, lo in ring + ring[:1]]]
    r = t.admin.patch("/api/schools/%d" % school["id"], {"boundary": {"type": "Polygon", "coordinates": coords}})
    assert r.status == 200, r
    f = finding_of(t.admin, school["id"], v["id"])
    assert f["verdict"] == "禁止" and f["method"] == "boundary_straight" and not f["fallback"], f
    assert abs(f["distance_m"] - 40) < 0.5
    # closes: the finding is cleared, and says why
    r = t.admin.patch("/api/venues/%d" % v["id"], {"status": "停业"})
    assert r.status == 200, r
    f = finding_of(t.admin, school["id"], v["id"])
    assert f["state"] == "已消除" and f["reason"], f
    assert not findings(t.admin, school_id=school["id"], venue_id=v["id"])
    # reopens: back to be checked
    t.admin.patch("/api/venues/%d" % v["id"], {"status": "营业"})
    assert finding_of(t.admin, school["id"], v["id"])["state"] == "待核实"
    # moves 1 km away: cleared
    far = offset(school["lat"], school["lon"], 1000, 0)
    t.admin.patch("/api/venues/%d" % v["id"], {"lat": far[0], "lon": far[1]})
    f = finding_of(t.admin, school["id"], v["id"])
    assert f["state"] == "已消除"
    ev = t.admin.get("/api/zone/findings/%d" % f["id"]).json["events"]
    assert [e["event"][:2] for e in ev][:1] == ["发现"] and any(e["event"].startswith("消除") for e in ev)
    # the boundary removed again
    assert t.admin.patch("/api/schools/%d" % school["id"], {"boundary": None}).status == 200


def test_review_confirm_exempt_and_measure(t):
    s = setup(t)
    school = primary_school(t)
    lat, lon = offset(school["lat"], school["lon"], -90, 30)
    v = new_venue(t, lat, lon, category="tobacco")
    f = finding_of(t.admin, school["id"], v["id"])
    assert f["verdict"] == "需审查" and f["limit_m"] is None, f   # the law gives no number
    url = "/api/zone/findings/%d" % f["id"]
    expect_error(t.admin.post(url + "/exempt", {}), 400, "validation.required", "reason")
    expect_error(t.admin.post(url + "/exempt", {"reason": ""}), 400, "validation.required", "reason")
    expect_error(t.admin.post(url + "/exempt", {"reason": 5}), 400, None, "reason")
    expect_error(t.admin.post(url + "/exempt", {"reason": "x", "color": "red"}), 400, None, "color")
    assert t.admin.get(url).json["state"] == "待核实"
    r = t.admin.post(url + "/exempt", {"reason": "持证经营且不向未成年人售烟，经核查予以豁免"})
    assert r.status == 200 and r.json["state"] == "已豁免" and "豁免" in r.json["reason"], r
    r = t.admin.post(url + "/confirm", {"note": "复核后确认"})
    assert r.status == 200 and r.json["state"] == "已确认", r
    # not a walking rule: no walking distance to record
    expect_error(t.admin.post(url + "/measure", {"walking_m": 80}), 409, "zone.not_walking", "walking_m")
    events = [e["event"] for e in t.admin.get(url).json["events"]]
    assert "豁免" in events and "确认" in events
    audit = sql(t.server, "SELECT action FROM audit WHERE entity = 'zone_finding' AND entity_id = ?", str(f["id"]))
    assert {a[0] for a in audit} >= {"exempt", "confirm"}
    # the township next door does not see it; the police station is not responsible for it
    expect_error(s["b"].get(url), 404)
    expect_error(s["b"].post(url + "/confirm", {}), 404)
    assert s["a"].get(url).status == 200


def test_walking_rule_needs_a_measurement(t):
    setup(t)
    school = primary_school(t, region=TOWN_B)
    gate = offset(school["lat"], school["lon"], 50, 0)
    r = t.admin.patch("/api/schools/%d" % school["id"], {
        "entrances": [{"lat": gate[0], "lon": gate[1], "name": "南门", "pupils": True}]})
    assert r.status == 200, r
    door = offset(gate[0], gate[1], 0, 150)
    v = new_venue(t, door[0], door[1], region=TOWN_B, entrances=[{"lat": door[0], "lon": door[1], "name": "门"}])
    # the Guangdong-style walking rule, bound to the demo county and enabled
    rule = [x for x in t.admin.get("/api/zone/rules").json["items"] if x["code"] == "L-GD-NET"][0]
    assert rule["enabled"] is False and rule["region_code"] is None
    r = t.admin.patch("/api/zone/rules/%d" % rule["id"], {"region_code": COUNTY, "enabled": True, "confirmed": True})
    assert r.status == 200 and r.json["version"] == rule["version"] + 1, r
    try:
        f = finding_of(t.admin, school["id"], v["id"])
        assert f["rule_code"] == "L-GD-NET" and f["method"] == "walking" and f["verdict"] == "需审查", f
        assert f["rule_version"] == r.json["version"]
        url = "/api/zone/findings/%d/measure" % f["id"]
        expect_error(t.admin.post(url, {"walking_m": -3}), 400, None, "walking_m")
        expect_error(t.admin.post(url, {}), 400, "validation.required", "walking_m")
        m = t.admin.post(url, {"walking_m": 260})
        assert m.status == 200 and m.json["walking_m"] == 260, m
        assert finding_of(t.admin, school["id"], v["id"])["state"] == "已消除"   # measured beyond 200 m
        m = t.admin.post(url, {"walking_m": 150})
        assert m.status == 409    # a cleared finding is not reviewed
    finally:
        r = t.admin.patch("/api/zone/rules/%d" % rule["id"], {"enabled": False})
        assert r.status == 200, r
    versions = t.admin.get("/api/zone/rules/%d/versions" % rule["id"]).json["items"]
    assert len(versions) >= 3 and versions[0]["snapshot"]["enabled"] is False


def test_local_rule_layering_inside_its_region_only(t):
    s = setup(t)
    rules = {x["code"]: x for x in t.admin.get("/api/zone/rules").json["items"]}
    nat = rules["Z-NET-1"]
    assert nat["confidence"] == "V" and "第九条" in nat["article"] and nat["distance_m"] == 200
    loc = rules["L-HB-TOB"]
    # a township administrator may not bind a rule to the whole county, nor touch national rows
    expect_error(s["a"].patch("/api/zone/rules/%d" % nat["id"], {"distance_m": 100}), 403)
    # enabling a local row needs a region; then it governs inside it only
    expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"enabled": True}), 400, "zone.rule_needs_region",
                 "region_code")
    expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"distance_m": -5}), 400, None, "distance_m")
    expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"method": "teleport"}), 400, None, "method")
    expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"stages": ["大学"]}), 400, None, "stages")
    sa = primary_school(t, region=TOWN_A)
    sb = primary_school(t, region=TOWN_B)
    va = new_venue(t, *offset(sa["lat"], sa["lon"], 30, 0), category="tobacco")
    vb = new_venue(t, *offset(sb["lat"], sb["lon"], 30, 0), category="tobacco", region=TOWN_B)
    r = t.admin.patch("/api/zone/rules/%d" % loc["id"], {"region_code": TOWN_A, "enabled": True})
    assert r.status == 200, r
    try:
        fa = finding_of(t.admin, sa["id"], va["id"])
        fb = finding_of(t.admin, sb["id"], vb["id"])
        # inside: the local 50 m row decides; S confidence, unconfirmed: 需审查 at most
        assert fa["rule_code"] == "L-HB-TOB" and fa["verdict"] == "需审查" and fa["limit_m"] == 50, fa
        assert fb["rule_code"] == "Z-M59-TOB", fb
        r = t.admin.patch("/api/zone/rules/%d" % loc["id"], {"confirmed": True})
        assert r.status == 200
        fa = finding_of(t.admin, sa["id"], va["id"])
        # the point fallback (no boundary) still caps it at 需审查 - never 禁止 on a guess
        assert fa["verdict"] == "需审查" and fa["fallback"], fa
    finally:
        assert t.admin.patch("/api/zone/rules/%d" % loc["id"], {"enabled": False}).status == 200
    assert finding_of(t.admin, sa["id"], va["id"])["rule_code"] == "Z-M59-TOB"


def test_scope_recompute_and_nearby(t):
    s = setup(t)
    a = findings(s["a"])
    b = findings(s["b"])
    assert a and b
    assert all(x["region_code"] == TOWN_A for x in a) and all(x["region_code"] == TOWN_B for x in b)
    assert not {x["id"] for x in a} & {x["id"] for x in b}
    # filters
    for v in ("禁止", "需审查", "重点关注"):
        assert all(x["verdict"] == v for x in findings(t.admin, verdict=v))
    expect_error(t.admin.get(xa.q("/api/zone/findings", verdict="坏")), 400, "validation.enum", "verdict")
    expect_error(t.admin.get("/api/zone/findings?category=nosuch"), 400, "validation.enum", "category")
    # recompute: administrators and coordinators; the police station has no such permission
    r = s["a"].post("/api/zone/recompute", {})
    assert r.status == 200 and r.json["pairs"] > 0, r
    expect_error(s["police"].post("/api/zone/recompute", {}), 403)
    expect_error(s["a"].post("/api/zone/recompute", {"region": TOWN_B}), 404, None, "region")
    before = len(findings(t.admin))
    r = t.admin.post("/api/zone/recompute", {"region": COUNTY})
    assert r.status == 200 and r.json["changed"] == 0, r     # nothing changed since the last computation
    assert len(findings(t.admin)) == before
    # nearby: an officer standing at a school's gate
    school = primary_school(t)
    r = s["a"].get(xa.q("/api/geo/nearby", lat=school["lat"], lon=school["lon"], radius=300))
    assert r.status == 200 and r.json["items"][0]["id"] == school["id"], r
    assert r.json["items"][0]["distance_m"] <= 1
    # the township next door does not learn of it
    r = s["b"].get(xa.q("/api/geo/nearby", lat=school["lat"], lon=school["lon"], radius=300))
    assert school["id"] not in [x["id"] for x in r.json["items"]]
    expect_error(t.admin.get("/api/geo/nearby?lat=91&lon=117"), 400, "validation.range", "lat")
    expect_error(t.admin.get("/api/geo/nearby?lon=117"), 400, "validation.required", "lat")
    expect_error(t.admin.get("/api/geo/nearby?lat=30&lon=117&radius=50000"), 400, None, "radius")
    expect_error(t.admin.get("/api/geo/nearby?lat=30&lon=117&crs=mars"), 400, None, "crs")


def test_effective_dates_decide_whether_a_rule_applies(t):
    setup(t)
    loc = [x for x in t.admin.get("/api/zone/rules").json["items"] if x["code"] == "L-SN-STALL"][0]
    school = primary_school(t)
    v = new_venue(t, *offset(school["lat"], school["lon"], 15, 0), category="stall")
    assert finding_of(t.admin, school["id"], v["id"])["rule_code"] == "Z-OTH-STALL"
    try:
        # in force until yesterday: not applied
        r = t.admin.patch("/api/zone/rules/%d" % loc["id"], {"region_code": COUNTY, "enabled": True,
                                                             "effective_from": "2012-01-01",
                                                             "effective_to": "2020-12-31"})
        assert r.status == 200, r
        assert finding_of(t.admin, school["id"], v["id"])["rule_code"] == "Z-OTH-STALL"
        # in force: the Shaanxi-style 30 m round the gate (no gate recorded: point fallback)
        r = t.admin.patch("/api/zone/rules/%d" % loc["id"], {"effective_to": None})
        assert r.status == 200, r
        f = finding_of(t.admin, school["id"], v["id"])
        assert f["rule_code"] == "L-SN-STALL" and f["verdict"] == "需审查" and f["fallback"], f
        expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"effective_to": "2011-01-01"}), 400,
                     "validation.range", "effective_to")
        expect_error(t.admin.patch("/api/zone/rules/%d" % loc["id"], {"effective_to": "2011-13-01"}), 400, None,
                     "effective_to")
    finally:
        assert t.admin.patch("/api/zone/rules/%d" % loc["id"], {"enabled": False}).status == 200


def test_an_administrator_adds_a_local_rule_for_his_county(t):
    s = setup(t)
    body = {"code": "L-SFX-TOB", "region_code": COUNTY, "category": "烟草零售", "stages": ["小学", "初中"],
            "distance_m": 50, "method": "gate_radius", "effect": "禁止",
            "source_doc": "《示范县烟草制品零售点合理布局规划》", "issuer": "示范县烟草专卖局", "confidence": "V",
            "enabled": False}
    for field, bad in (("code", "坏 编号"), ("category", "军火"), ("method", "by_car"), ("confidence", "X"),
                       ("distance_m", 0), ("stages", [])):
        b = dict(body)
        b[field] = bad
        expect_error(t.admin.post("/api/zone/rules", b), 400, None, field)
    b = dict(body)
    del b["source_doc"]
    expect_error(t.admin.post("/api/zone/rules", b), 400, "validation.required", "source_doc")
    # a township coordinator has no rule permission; the county is outside a township's reach anyway
    expect_error(s["a"].post("/api/zone/rules", body), 403)
    r = t.admin.post("/api/zone/rules", body)
    assert r.status == 201 and r.json["category"] == "tobacco" and r.json["jurisdiction"] == "示范县", r
    expect_error(t.admin.post("/api/zone/rules", body), 409, "zone.rule_code_taken", "code")
    rid = r.json["id"]
    assert t.admin.get("/api/zone/rules/%d/versions" % rid).json["items"][0]["version"] == 1
    # enabled: a tobacco shop 20 m from a primary school's pupils' gate is 禁止
    school = primary_school(t, region=TOWN_B)
    gate = offset(school["lat"], school["lon"], -40, 0)
    assert t.admin.patch("/api/schools/%d" % school["id"], {
        "entrances": [{"lat": gate[0], "lon": gate[1], "name": "北门", "pupils": True}]}).status == 200
    v = new_venue(t, *offset(gate[0], gate[1], -20, 0), category="tobacco", region=TOWN_B)
    assert t.admin.patch("/api/zone/rules/%d" % rid, {"enabled": True}).status == 200
    f = finding_of(t.admin, school["id"], v["id"])
    assert f["rule_code"] == "L-SFX-TOB" and f["verdict"] == "禁止" and f["method"] == "gate_radius", f
    assert abs(f["distance_m"] - 20) < 0.5
    assert t.admin.patch("/api/zone/rules/%d" % rid, {"enabled": False}).status == 200
    assert finding_of(t.admin, school["id"], v["id"])["rule_code"] == "Z-M59-TOB"

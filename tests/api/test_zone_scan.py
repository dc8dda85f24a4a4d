"""xiaoan zone scan: the zone engine over CSV files, without a database (issue 6, item 7).
Each test writes small files into a temporary directory and runs the binary."""
import csv
import io
import math
import os
import subprocess
import tempfile

OWN_SERVER = True

HEAD_S = ["id", "name", "lat", "lon", "stage", "region", "boundary", "entrances"]
HEAD_V = ["id", "name", "lat", "lon", "category", "status", "entrances"]
OUT_HEAD = "school_id,school_name,venue_id,venue_name,category,distance_m,method,fallback,rule,limit_m,verdict"


def m_lat(lat):
    p = math.radians(lat)
    return 111132.954 - 559.822 * math.cos(2 * p) + 1.175 * math.cos(4 * p)


def m_lon(lat):
    p = math.radians(lat)
    return 111412.84 * math.cos(p) - 93.5 * math.cos(3 * p)


def north(lat, metres):
    return lat + metres / m_lat(lat)


def square(lat, lon, half):
    """WKT of a square campus, half metres from its centre to each side."""
    a, b = half / m_lat(lat), half / m_lon(lat)
    pts = [(lon - b, lat - a), (lon + b, lat - a), (lon + b, lat + a), (lon - b, lat + a), (lon - b, lat - a)]
    return "POLYGON((" + ",".join("%.7f %.7f" % p for p in pts) + "))"


def write(path, header, rows, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    with open(path, "wb") as f:
        f.write(buf.getvalue().encode(encoding))


def scan(binary, *args, cwd=None):
    return subprocess.run([binary, "zone", "scan", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def pairs(text):
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {(int(r["school_id"]), int(r["venue_id"])): r for r in rows}


# Schools 5 km apart so that nothing interferes: a primary school with a
# 100 m square campus, a kindergarten, a primary school and a junior middle
# school without one.
SCHOOLS = [
    [1, "实验小学", 30.50, 117.0, "小学", "340899", square(30.50, 117.0, 50), ""],
    [2, "阳光幼儿园", 30.55, 117.0, "幼儿园", "340899", "", ""],
    [3, "城关小学", 30.60, 117.0, "小学", "/340000/340800/340899/", "", ""],
    [4, "第二中学", 30.65, 117.0, "初中", "", "", ""],
]
VENUES = [
    [11, "飞速网吧", north(30.50, 50 + 150), 117.0, "internet_cafe", "营业", ""],        # 150 m from the campus
    [12, "星星网吧", north(30.55, 150), 117.0, "互联网上网服务营业场所", "营业", ""],  # 150 m from a kindergarten
    [13, "便民烟酒", north(30.60, 100), 117.0, "tobacco", "营业", ""],                 # tobacco, no national number
    [14, "远方网吧", north(30.65, 300), 117.0, "internet_cafe", "营业", ""],           # beyond 200 m
    [15, "关门网吧", north(30.50, 50 + 100), 117.0, "internet_cafe", "注销", ""],      # closed: no finding
]


def files(d, schools=SCHOOLS, venues=VENUES, encoding="utf-8"):
    s, v = os.path.join(d, "schools.csv"), os.path.join(d, "venues.csv")
    write(s, HEAD_S, schools, encoding)
    write(v, HEAD_V, venues, encoding)
    return s, v


def test_help(binary):
    p = subprocess.run([binary, "zone", "scan", "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "usage: xiaoan zone scan" in p.stdout and "Exit status" in p.stdout
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    assert "zone scan" in p.stdout


def test_known_verdicts(binary):
    d = tempfile.mkdtemp()
    s, v = files(d)
    p = scan(binary, "--schools", s, "--venues", v, cwd=d)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == OUT_HEAD
    got = pairs(p.stdout)
    cafe = got[(1, 11)]
    assert cafe["verdict"] == "禁止" and cafe["rule"] == "Z-NET-1", cafe
    assert cafe["method"] == "boundary_straight" and cafe["fallback"] == "0" and cafe["limit_m"] == "200.00"
    assert abs(float(cafe["distance_m"]) - 150) < 1.0, cafe
    assert cafe["school_name"] == "实验小学" and cafe["venue_name"] == "飞速网吧"
    assert cafe["category"] == "互联网上网服务营业场所"
    kg = got[(2, 12)]
    assert kg["verdict"] == "需审查", kg  # the national 200 m rule does not name kindergartens
    tob = got[(3, 13)]
    assert tob["verdict"] == "需审查" and tob["category"] == "烟草零售", tob  # no national number
    assert (4, 14) not in got and not any(k[1] == 15 for k in got), got
    assert len(got) == 3
    assert "学校 4 所" in p.stderr and "场所 5 个" in p.stderr and "禁止 1" in p.stderr, p.stderr


def test_fallback_without_campus_is_at_most_review(binary):
    d = tempfile.mkdtemp()
    schools = [[1, "河西小学", 30.70, 117.0, "小学", "", "", ""]]
    venues = [[1, "河西网吧", north(30.70, 120), 117.0, "internet_cafe", "", ""]]
    s, v = files(d, schools, venues)
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 0, p.stderr
    r = pairs(p.stdout)[(1, 1)]
    assert r["verdict"] == "需审查" and r["method"] == "point" and r["fallback"] == "1", r


def test_sorted_by_school_then_distance(binary):
    d = tempfile.mkdtemp()
    schools = [[2, "乙校", 30.55, 117.0, "初中", "", "", ""], [1, "甲校", 30.50, 117.0, "小学", "", "", ""]]
    venues = [[i, "店%d" % i, north(30.50 if i < 10 else 30.55, 190 - 10 * (i % 10)), 117.0, "shop", "", ""]
              for i in (1, 2, 3, 11, 12)]
    s, v = files(d, schools, venues)
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    keys = [(int(r["school_id"]), float(r["distance_m"])) for r in rows]
    assert keys == sorted(keys) and len(keys) == 5, keys
    assert all(r["verdict"] == "重点关注" for r in rows)


def test_bad_rows_named_and_skipped(binary):
    d = tempfile.mkdtemp()
    schools = SCHOOLS + [
        [5, "坏学段", 30.7, 117.0, "大学堂", "", "", ""],
        [6, "坏边界", 30.75, 117.0, "小学", "", "POLYGON((117 30.75, 117.001 30.751, 117 30.751, 117.001 30.75, 117 30.75))", ""],
        [1, "重复", 30.8, 117.0, "小学", "", "", ""],
        ["x7", "坏编号", 30.8, 117.0, "小学", "", "", ""],
    ]
    venues = VENUES + [
        [16, "坏坐标", "95.5", 117.0, "bar", "", ""],
        [17, "坏类别", 30.5, 117.0, "spaceport", "", ""],
        [18, "坏状态", 30.5, 117.0, "bar", "开张", ""],
        [19, "坏出入口", 30.5, 117.0, "bar", "", "30.5"],
    ]
    s, v = files(d, schools, venues)
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 2, (p.returncode, p.stderr)
    err = p.stderr
    # header on line 1: the n-th data row is on line n + 1
    assert "schools.csv 第 6 行" in err and "大学堂" in err, err
    assert "schools.csv 第 7 行" in err and "边界" in err, err
    assert "schools.csv 第 8 行" in err and "重复" in err, err
    assert "schools.csv 第 9 行" in err, err
    assert "venues.csv 第 7 行" in err and "坐标" in err, err
    assert "venues.csv 第 8 行" in err and "spaceport" in err, err
    assert "venues.csv 第 9 行" in err and "开张" in err, err
    assert "venues.csv 第 10 行" in err and "出入口" in err, err
    assert "跳过的坏行 8" in err, err
    got = pairs(p.stdout)  # the good rows are judged all the same
    assert got[(1, 11)]["verdict"] == "禁止" and got[(1, 11)]["school_name"] == "实验小学"


def test_row_numbers_are_file_lines(binary):
    """A quoted name spanning two lines, and a file longer than one slice of
    the table reader (50 000 rows): bad rows keep their physical line."""
    d = tempfile.mkdtemp()
    s = os.path.join(d, "schools.csv")
    write(s, HEAD_S, [[1, "两行\n名称", 30.5, 117.0, "小学", "", "", ""], [2, "坏", 30.6, 117.0, "xx", "", "", ""]])
    v = os.path.join(d, "venues.csv")
    rows = [[i, "店", 31.0 + (i % 1000) * 0.001, 118.0 + (i // 1000) * 0.001, "shop", "", ""] for i in range(1, 60001)]
    rows[55000][2] = "abc"  # the 55 001st data row: line 55 002
    write(v, HEAD_V, rows)
    p = scan(binary, "--schools", s, "--venues", v, "--out", os.path.join(d, "o.csv"))
    assert p.returncode == 2, p.stderr
    assert "schools.csv 第 4 行" in p.stderr, p.stderr
    assert "venues.csv 第 55002 行" in p.stderr, p.stderr
    assert "场所 59999 个" in p.stderr, p.stderr


def test_missing_column_and_file(binary):
    d = tempfile.mkdtemp()
    s, v = files(d)
    write(v, ["id", "name", "lat", "lon", "status"], [[1, "x", 30.5, 117.0, "营业"]])
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 1 and p.stdout == ""
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("xiaoan:") and "category" in lines[0], p.stderr
    p = scan(binary, "--schools", os.path.join(d, "nope.csv"), "--venues", v)
    assert p.returncode == 1 and "nope.csv" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = scan(binary, "--schools", s)
    assert p.returncode == 1 and "--venues" in p.stderr
    p = scan(binary, "--schools", s, "--venues", v, "--radius", "abc")
    assert p.returncode == 1 and "--radius" in p.stderr


def test_out_file(binary):
    d = tempfile.mkdtemp()
    s, v = files(d)
    out = os.path.join(d, "pairs.csv")
    p = scan(binary, "--schools", s, "--venues", v, "--out", out)
    assert p.returncode == 0 and p.stdout == "", p.stderr
    raw = open(out, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf" + OUT_HEAD.encode()), raw[:120]
    text = raw.decode("utf-8")
    assert len(pairs(text)) == 3 and "\r\n" in text


def test_gb18030_input(binary):
    d = tempfile.mkdtemp()
    s, v = files(d, encoding="gb18030")
    assert "阳光".encode("utf-8") not in open(s, "rb").read()
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 0, p.stderr
    got = pairs(p.stdout)
    assert got[(2, 12)]["school_name"] == "阳光幼儿园" and got[(2, 12)]["venue_name"] == "星星网吧"
    assert got[(1, 11)]["verdict"] == "禁止"


def test_rules_file_local_row_inside_its_region_only(binary):
    """A local tobacco row (50 m round the pupils' gate, confirmed) forbids
    inside its county; elsewhere the national row still says 需审查."""
    d = tempfile.mkdtemp()
    gate = "%.7f %.7f" % (north(30.60, 40), 117.0)
    schools = [[1, "县内小学", 30.60, 117.0, "小学", "340899101", "", gate],
               [2, "县外小学", 30.70, 117.0, "小学", "340100", "", "%.7f 117.0" % north(30.70, 40)]]
    venues = [[1, "县内烟店", north(30.60, 70), 117.0, "tobacco", "", ""],
              [2, "县外烟店", north(30.70, 70), 117.0, "烟草零售", "", ""]]
    s, v = files(d, schools, venues)
    r = os.path.join(d, "rules.csv")
    head = ["code", "region_path", "category", "stages", "distance_m", "method", "effect", "confidence",
            "confirmed", "enabled"]
    write(r, head, [
        ["L-TOB-50", "/340000/340800/340899/", "tobacco", "小学 初中", "50", "gate_radius", "禁止", "S", "1", "1"],
        ["Z-M59-TOB", "", "烟草零售", "幼儿园、小学、初中", "", "boundary_straight", "需审查", "V", "0", "1"],
        ["L-OFF", "", "tobacco", "小学", "500", "boundary_straight", "禁止", "V", "1", "0"],
    ])
    p = scan(binary, "--schools", s, "--venues", v, "--rules", r)
    assert p.returncode == 0, p.stderr
    got = pairs(p.stdout)
    inside, outside = got[(1, 1)], got[(2, 2)]
    assert inside["verdict"] == "禁止" and inside["rule"] == "L-TOB-50" and inside["method"] == "gate_radius", inside
    assert abs(float(inside["distance_m"]) - 30) < 1.0, inside
    assert outside["verdict"] == "需审查" and outside["rule"] == "Z-M59-TOB", outside
    # a bad rules row is named like any other
    write(r, head, [["X", "", "tobacco", "小学", "50", "by_car", "禁止", "V", "1", "1"]])
    p = scan(binary, "--schools", s, "--venues", v, "--rules", r)
    assert p.returncode == 2 and "rules.csv 第 2 行" in p.stderr and "by_car" in p.stderr, p.stderr


def test_large_ids_and_duplicates(binary):
    """10-digit ids (学校标识码) work, and a repeated one is named."""
    d = tempfile.mkdtemp()
    schools = [[3408990001, "实验小学", 30.50, 117.0, "小学", "", square(30.50, 117.0, 50), ""],
               [3408990001, "重名", 30.60, 117.0, "小学", "", "", ""]]
    venues = [[9000000000001, "飞速网吧", north(30.50, 50 + 150), 117.0, "internet_cafe", "营业", ""]]
    s, v = files(d, schools, venues)
    p = scan(binary, "--schools", s, "--venues", v)
    assert p.returncode == 2 and "schools.csv 第 3 行" in p.stderr and "3408990001" in p.stderr, p.stderr
    r = pairs(p.stdout)[(3408990001, 9000000000001)]
    assert r["verdict"] == "禁止" and r["school_name"] == "实验小学", r

"""fixtures.py - helpers shared by the registry and administration tests:
the demo county, accounts with a scope, school bodies with unique codes,
reading the database, building CSV and .xlsx files the way offices' tools
write them, reading exported files back, and the public GCJ-02 formula.
"""
import csv
import io
import itertools
import math
import os
import re
import socket
import zipfile
from xml.sax.saxutils import escape

import xa
from xa import Client, STRONG

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# the demo county (xiaoan demo): 示范县 340899
COUNTY = "340899"
TOWN_A = "340899001"       # 城东街道
TOWN_A_NAME = "城东街道"
TOWN_B = "340899101"       # 清溪镇
TOWN_B_NAME = "清溪镇"

# the registry's columns, in the order export writes them
SCHOOL_HEADERS = ["学校名称", "学校标识码", "学段", "办学性质", "是否寄宿", "所属乡镇（街道）", "地址", "经度", "纬度",
                  "在校学生数", "教职工数", "专职保安数", "校长（第一责任人）", "校长电话", "安全干部", "安全干部电话",
                  "法治副校长", "法治副校长单位", "法治副校长电话", "责任派出所", "状态", "校园边界", "出入口"]

_codes = itertools.count(1)
_base = os.getpid() % 9000 + 1000


def unique_code():
    """A 10-digit 学校标识码 no demo school and no other test uses."""
    return "77%04d%04d" % (_base, next(_codes))


def school_body(**kw):
    body = {"name": "测试学校%s" % unique_code()[-4:], "code": unique_code(), "stage": "小学", "ownership": "公办",
            "region_code": TOWN_A, "boarding": False, "address": "示范县城东街道测试路1号",
            "lat": 30.418, "lon": 116.703, "enrollment": 300, "staff_count": 25, "guard_count": 2,
            "principal_name": "王测试", "principal_phone": "13912345678"}
    body.update(kw)
    return body


def create_school(c, **kw):
    r = c.post("/api/schools", school_body(**kw))
    assert r.status == 201, "create school: %r" % r
    return r.json


# ---- the demo county and accounts ------------------------------------------

def demo(t):
    """Seeds the demo county once per server; returns {username: one-time password}."""
    if getattr(t, "_demo", None) is None:
        out = t.server.cli("demo")
        t._demo = {}
        for line in out.splitlines():
            m = re.match(r"\s+([a-z]+)\s+(\S{16})\s", line)
            if m:
                t._demo[m.group(1)] = m.group(2)
    return t._demo


def sign_in(server, username, one_time):
    """Signs in with a one-time password, changes it to STRONG, signs in again."""
    c = Client(server)
    c.login(username, one_time)
    c.change_password(one_time, STRONG)
    c = Client(server)
    c.login(username, STRONG)
    return c


_users = itertools.count(1)


def account(t, role, unit, scope=None, prefix="u"):
    """A new signed-in account made with `xiaoan user add`; returns (client, username)."""
    name = "%s%d" % (prefix, next(_users))
    return t.new_user(name, role, unit, scope), name


def unit_id(t, code):
    r = t.admin.get(xa.q("/api/units", page_size=200))
    assert r.status == 200, r
    for u in r.json["items"]:
        if u["code"] == code:
            return u["id"]
    raise AssertionError("no unit %s" % code)


def user_id(t, username):
    r = t.admin.get(xa.q("/api/users", q=username, page_size=200))
    for u in r.json["items"]:
        if u["username"] == username:
            return u["id"]
    raise AssertionError("no user %s" % username)


def school_by_code(c, code):
    r = c.get(xa.q("/api/schools", q=code))
    assert r.status == 200, r
    items = [s for s in r.json["items"] if s["code"] == code]
    return items[0] if items else None


def list_all(c, **params):
    """Every school the client sees (all pages)."""
    out, page = [], 1
    while True:
        r = c.get(xa.q("/api/schools", page=page, page_size=200, **params))
        assert r.status == 200, r
        out += r.json["items"]
        if len(out) >= r.json["total"] or not r.json["items"]:
            return out
        page += 1


# ---- the database ----------------------------------------------------------

def sql(server, query, *args):
    db = server.db()
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def sql1(server, query, *args):
    return sql(server, query, *args)[0][0]


def n_schools(server, deleted=False):
    return sql1(server, "SELECT count(*) FROM schools" + ("" if deleted else " WHERE deleted_at IS NULL"))


def n_audit(server):
    return sql1(server, "SELECT count(*) FROM audit")


def audit_since(server, seq):
    """Audit rows after seq as dicts, oldest first."""
    db = server.db()
    try:
        cur = db.execute("SELECT seq, username, client_ip, action, entity, entity_id, before_json, after_json"
                         " FROM audit WHERE seq > ? ORDER BY seq", (seq,))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        db.close()


def last_seq(server):
    return sql1(server, "SELECT COALESCE(max(seq), 0) FROM audit")


def school_row(server, sid):
    db = server.db()
    try:
        cur = db.execute("SELECT * FROM schools WHERE id = ?", (sid,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None
    finally:
        db.close()


# ---- files -----------------------------------------------------------------

def csv_bytes(rows, encoding="utf-8", bom=False, newline="\r\n"):
    s = io.StringIO()
    w = csv.writer(s, lineterminator=newline)
    for row in rows:
        w.writerow(row)
    data = s.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx_bytes(rows, shared=False, numbers=()):
    """A minimal real .xlsx: inline strings (or shared strings), row numbers
    r=1.. in the sheet; columns listed in numbers are written as numbers."""
    sst, sst_index = [], {}
    sheet_rows = []
    for ri, row in enumerate(rows, 1):
        cells = []
        for ci, v in enumerate(row):
            if v is None or v == "":
                continue
            ref = "%s%d" % (_col(ci), ri)
            if ri > 1 and ci in numbers:
                cells.append('<c r="%s"><v>%s</v></c>' % (ref, v))
            elif shared:
                if v not in sst_index:
                    sst_index[v] = len(sst)
                    sst.append(v)
                cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, sst_index[v]))
            else:
                cells.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, escape(str(v))))
        sheet_rows.append('<row r="%d">%s</row>' % (ri, "".join(cells)))
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
               'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else "") +
            '</Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>' % rel_ns,
        "xl/workbook.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook %s xmlns:r="%s"><sheets><sheet name="学校名录" sheetId="1" r:id="rId1"/></sheets>'
            '</workbook>' % (ns, rel_ns),
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/>'
            % rel_ns
            + ('<Relationship Id="rId2" Type="%s/sharedStrings" Target="sharedStrings.xml"/>' % rel_ns
               if shared else "") +
            '</Relationships>',
        "xl/worksheets/sheet1.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet %s><sheetData>%s</sheetData></worksheet>' % (ns, "".join(sheet_rows)),
    }
    if shared:
        files["xl/sharedStrings.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst %s count="%d" uniqueCount="%d">%s</sst>'
            % (ns, len(sst), len(sst), "".join("<si><t>%s</t></si>" % escape(s) for s in sst)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def read_csv(data):
    """Rows of an exported CSV (UTF-8 with BOM, CRLF)."""
    assert data.startswith(b"\xef\xbb\xbf"), "CSV export without the UTF-8 BOM Excel needs"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def read_xlsx(data):
    """Rows of the first sheet of an .xlsx (shared or inline strings, numbers as text)."""
    import xml.etree.ElementTree as ET
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    m = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    sst = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(m + "si"):
            sst.append("".join(t.text or "" for t in si.iter(m + "t")))
    rows = []
    for row in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter(m + "row"):
        cells = {}
        for c in row.iter(m + "c"):
            ref = re.match(r"([A-Z]+)", c.get("r")).group(1)
            ci = 0
            for ch in ref:
                ci = ci * 26 + ord(ch) - 64
            v = c.find(m + "v")
            if c.get("t") == "s":
                cells[ci - 1] = sst[int(v.text)]
            elif c.get("t") == "inlineStr":
                cells[ci - 1] = "".join(t.text or "" for t in c.iter(m + "t"))
            else:
                cells[ci - 1] = v.text if v is not None else ""
        n = max(cells) + 1 if cells else 0
        rows.append([cells.get(i, "") for i in range(n)])
    return rows


def school_rows(schools, region_key="region_name"):
    """A file's rows (header first) for schools given as API bodies."""
    rows = [SCHOOL_HEADERS[:6] + ["在校学生数", "校长电话"]]
    for s in schools:
        rows.append([s["name"], s["code"], s["stage"], s["ownership"], "是" if s.get("boarding") else "否",
                     s[region_key], str(s.get("enrollment", "")), s.get("principal_phone", "")])
    return rows


def upload(c, path, data, content_type=CSV_TYPE):
    return c.request("POST", path, raw=data, content_type=content_type)


def announce_only(server, client, path, length, content_type):
    """Sends only the headers of a request announcing a body of length bytes;
    returns the status line's code and the body read."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                "Cookie: %s\r\nX-CSRF-Token: %s\r\nConnection: close\r\n\r\n"
                % (path, content_type, length, "; ".join("%s=%s" % kv for kv in client.cookies.items()),
                   client.csrf))
        s.sendall(head.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    status = int(data.split(b" ", 2)[1])
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body


# ---- coordinates -------------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323


def _in_china(lat, lon):
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def wgs84_to_gcj02(lat, lon):
    """The public GCJ-02 forward formula (Krasovsky ellipsoid, offset series from 105E 35N)."""
    if not _in_china(lat, lon):
        return lat, lon
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (_A / sq * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def distance_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(min(1.0, h)))

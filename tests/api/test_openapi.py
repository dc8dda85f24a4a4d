"""docs/openapi.yaml against the real server and the real route tables.

* every documented operation exists: walked on a running server as the
  administrator, none answers 404 no_route or 405, and what it answers is a
  documented status whose JSON matches the documented schema;
* every route in the C route tables (`.method = ..., .pattern = ...` in
  src/**/*.c) is documented, with the same permission (x-permission), the
  same public / CSRF-exempt / pre-password-change status and, for uploads,
  the accepted file types;
* every state-changing operation documents the CSRF header and the
  session+csrf security requirement, and the server refuses it without the
  token;
* the writes answer what the document says they answer.

The document is read without third-party libraries: a small reader for the
block-style YAML subset docs/openapi.yaml keeps to (see read_yaml).
"""
import json
import os
import re

from xa import ROOT, STRONG, Client, expect_error, q

SPEC_PATH = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TYPES = {"text/csv", XLSX, "application/octet-stream"}


# ---- a small YAML reader -----------------------------------------------------
#
# Enough for docs/openapi.yaml: block mappings and sequences by indentation
# (paths at 2 spaces, methods at 4), "- key: value" items, plain, 'single'
# and "double" quoted scalars, flow lists [a, b], {} and [], literal (|) and
# folded (>) block scalars, and comments. Anything else is an error rather
# than a guess.

def _strip_comment(line):
    quote = None
    prev = " "
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and prev in " [,{:-":
            quote = ch
        elif ch == "#" and prev in " \t":
            return line[:i]
        prev = ch
    return line


def _split_flow(s, lineno):
    items, cur, quote = [], "", None
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "'\"" and not cur.strip():
            quote = ch
            cur += ch
        elif ch in "[]{}":
            raise ValueError("line %d: nested flow collections are not supported" % lineno)
        elif ch == ",":
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def _scalar(s, lineno):
    if s.startswith("'"):
        if not s.endswith("'") or len(s) < 2:
            raise ValueError("line %d: unterminated quoted scalar" % lineno)
        return s[1:-1].replace("''", "'")
    if s.startswith('"'):
        return json.loads(s)
    if s.startswith("["):
        if not s.endswith("]"):
            raise ValueError("line %d: unterminated flow list" % lineno)
        return [_scalar(x, lineno) for x in _split_flow(s[1:-1], lineno)]
    if s.startswith("{"):
        if s.replace(" ", "") != "{}":
            raise ValueError("line %d: flow mappings other than {} are not supported" % lineno)
        return {}
    if s in ("null", "~", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", s):
        return float(s)
    if s[0] in "&*!|>%@`":
        raise ValueError("line %d: unsupported YAML: %s" % (lineno, s))
    return s


def _split_key(s):
    """(key, rest) when s is "key: rest" or "key:", else None."""
    if s[0] in "'\"":
        end = s.find(s[0], 1)
        while s[0] == "'" and end != -1 and s[end + 1:end + 2] == "'":
            end = s.find("'", end + 2)
        if end == -1 or s[end + 1:end + 2] != ":" or s[end + 2:end + 3] not in ("", " "):
            return None
        return _scalar(s[:end + 1], 0), s[end + 2:].strip()
    if s[0] in "[{":
        return None
    m = re.match(r"([^:]+?):(?: +(.*))?$", s)
    if not m or ": " in m.group(1):
        return None
    return m.group(1), (m.group(2) or "").strip()


class _Reader:
    def __init__(self, text):
        self.lines = text.split("\n")
        self.i = 0

    def peek(self):
        """(indent, content) of the next meaningful line, or None."""
        while self.i < len(self.lines):
            s = _strip_comment(self.lines[self.i]).rstrip()
            if s.strip():
                if "\t" in s[:len(s) - len(s.lstrip())]:
                    raise ValueError("line %d: tab in indentation" % (self.i + 1))
                return len(s) - len(s.lstrip(" ")), s.strip()
            self.i += 1
        return None

    def node(self, min_indent):
        nxt = self.peek()
        if nxt is None or nxt[0] < min_indent:
            return None
        if nxt[1] == "-" or nxt[1].startswith("- "):
            return self.seq(nxt[0])
        return self.mapping(nxt[0])

    def mapping(self, ind):
        out = {}
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < ind:
                return out
            lineno = self.i + 1
            if nxt[0] > ind:
                raise ValueError("line %d: unexpected indentation" % lineno)
            kv = _split_key(nxt[1])
            if kv is None:
                raise ValueError("line %d: expected 'key: value', got %r" % (lineno, nxt[1]))
            key, rest = kv
            if key in out:
                raise ValueError("line %d: duplicate key %r" % (lineno, key))
            self.i += 1
            out[key] = self.value(rest, ind, lineno)

    def value(self, rest, ind, lineno):
        if rest == "":
            return self.node(ind + 1)
        if rest in ("|", "|-", "|+", ">", ">-", ">+"):
            return self.block_scalar(rest, ind)
        return _scalar(rest, lineno)

    def seq(self, ind):
        out = []
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < ind:
                return out
            lineno = self.i + 1
            if nxt[0] > ind or not (nxt[1] == "-" or nxt[1].startswith("- ")):
                raise ValueError("line %d: expected a '- ' item" % lineno)
            body = nxt[1][1:].lstrip()
            if body == "":
                self.i += 1
                out.append(self.node(ind + 1))
            elif _split_key(body) is not None:
                # "- key: value": a mapping whose keys line up with "key"
                item_ind = ind + len(nxt[1]) - len(body)
                self.lines[self.i] = " " * item_ind + body
                out.append(self.mapping(item_ind))
            else:
                self.i += 1
                out.append(_scalar(body, lineno))

    def block_scalar(self, style, ind):
        lines, block_ind = [], None
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip() == "":
                lines.append("")
                self.i += 1
                continue
            cur = len(raw) - len(raw.lstrip(" "))
            if block_ind is None:
                if cur <= ind:
                    break
                block_ind = cur
            if cur < block_ind:
                break
            lines.append(raw[block_ind:])
            self.i += 1
        while lines and lines[-1] == "":
            lines.pop()
        if style[0] == "|":
            text = "\n".join(lines)
        else:
            paras, cur = [], []
            for ln in lines:
                if ln == "":
                    paras.append(" ".join(cur))
                    cur = []
                else:
                    cur.append(ln)
            paras.append(" ".join(cur))
            text = "\n".join(paras)
        if style.endswith("-") or not text:
            return text
        return text + "\n"


def read_yaml(text):
    r = _Reader(text)
    doc = r.node(0)
    if r.peek() is not None:
        raise ValueError("line %d: content after the document" % (r.i + 1))
    return doc


_spec_cache = []


def spec():
    if not _spec_cache:
        with open(SPEC_PATH, encoding="utf-8") as f:
            _spec_cache.append(read_yaml(f.read()))
    return _spec_cache[0]


def operations(doc):
    """[(METHOD, path, operation, path item)] in document order."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                out.append((method.upper(), path, op, item))
    return out


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), "only local $refs: %s" % ref
        node = doc
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, "dangling $ref %s" % ref
            node = node[part]
        seen += 1
        assert seen < 20, "$ref loop at %s" % ref
    return node


def op_parameters(doc, op, item):
    return [deref(doc, p) for p in item.get("parameters", []) + op.get("parameters", [])]


def security_of(doc, op):
    return op["security"] if "security" in op else doc.get("security", [])


def requires_csrf(doc, op, item):
    sec = security_of(doc, op)
    in_security = any("csrf" in req for req in sec)
    in_header = any(p["in"] == "header" and p["name"].lower() == "x-csrf-token" and p.get("required")
                    for p in op_parameters(doc, op, item))
    return in_security, in_header


# ---- a small schema checker (the subset of OpenAPI 3.0 schemas used) -----------

def _merged(doc, schema):
    schema = deref(doc, schema)
    if "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props, required = dict(out.get("properties", {})), list(out.get("required", []))
    for part in schema["allOf"]:
        part = _merged(doc, part)
        for k, v in part.items():
            if k == "properties":
                props.update(v)
            elif k == "required":
                required += [x for x in v if x not in required]
            elif k == "additionalProperties":
                if out.get("additionalProperties", True) is not False:
                    out[k] = v
            elif k not in out:
                out[k] = v
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def conforms(doc, value, schema, where, errors):
    s = _merged(doc, schema)
    if "oneOf" in s:
        if value is None and s.get("nullable"):
            return
        ok = 0
        for alt in s["oneOf"]:
            sub = []
            conforms(doc, value, alt, where, sub)
            ok += not sub
        if ok != 1:
            errors.append("%s: matches %d of the oneOf schemas" % (where, ok))
        return
    t = s.get("type")
    if value is None:
        if t is not None and not s.get("nullable"):
            errors.append("%s: null where the document says %s (not nullable)" % (where, t))
        return
    if "enum" in s and value not in s["enum"]:
        errors.append("%s: %r is not one of the documented values" % (where, value))
    if t == "object":
        if not isinstance(value, dict):
            errors.append("%s: expected an object, got %r" % (where, value))
            return
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in value:
                errors.append("%s: documented field %r missing from the answer" % (where, k))
        extra = s.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                conforms(doc, v, props[k], "%s.%s" % (where, k), errors)
            elif extra is False:
                errors.append("%s: undocumented field %r in the answer" % (where, k))
            elif isinstance(extra, dict):
                conforms(doc, v, extra, "%s.%s" % (where, k), errors)
    elif t == "array":
        if not isinstance(value, list):
            errors.append("%s: expected an array, got %r" % (where, value))
            return
        if "maxItems" in s and len(value) > s["maxItems"]:
            errors.append("%s: more than %d items" % (where, s["maxItems"]))
        if "minItems" in s and len(value) < s["minItems"]:
            errors.append("%s: fewer than %d items" % (where, s["minItems"]))
        for i, v in enumerate(value[:50]):
            conforms(doc, v, s.get("items", {}), "%s[%d]" % (where, i), errors)
    elif t == "string":
        if not isinstance(value, str):
            errors.append("%s: expected a string, got %r" % (where, value))
            return
        if "maxLength" in s and len(value) > s["maxLength"]:
            errors.append("%s: longer than %d" % (where, s["maxLength"]))
        if "pattern" in s and not re.search(s["pattern"], value):
            errors.append("%s: %r does not match %s" % (where, value, s["pattern"]))
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append("%s: expected an integer, got %r" % (where, value))
            return
        if "minimum" in s and value < s["minimum"] or "maximum" in s and value > s["maximum"]:
            errors.append("%s: %r out of the documented range" % (where, value))
    elif t == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append("%s: expected a number, got %r" % (where, value))
    elif t == "boolean":
        if not isinstance(value, bool):
            errors.append("%s: expected a boolean, got %r" % (where, value))


def find_op(doc, method, path):
    for m, p, op, item in operations(doc):
        if m == method and p == path:
            return op
    raise AssertionError("%s %s is not documented" % (method, path))


def check_answer(doc, method, path, r):
    """The answer r to METHOD path has a documented status and, for JSON,
    matches the documented schema; a file has a documented type."""
    op = find_op(doc, method, path)
    responses = op["responses"]
    key = str(r.status)
    if key not in responses:
        assert "default" in responses and r.status >= 500, \
            "%s %s answered %d, which is not documented: %r" % (method, path, r.status, r)
        key = "default"
    resp = deref(doc, responses[key])
    content = resp.get("content")
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    if not content:
        assert not r.body, "%s %s %d: documented without a body, got %r" % (method, path, r.status, r)
        return None
    assert ctype in content, "%s %s %d: answered %s, documented %s" % (method, path, r.status, ctype,
                                                                       sorted(content))
    if ctype != JSON:
        return None
    body = r.json
    errors = []
    conforms(doc, body, content[JSON]["schema"], "%s %s %d" % (method, path, r.status), errors)
    assert not errors, "answer does not match the document:\n  " + "\n  ".join(errors[:20])
    return body


# ---- the route tables in the C sources ------------------------------------------

ROUTE_RE = re.compile(r'\{\s*\.method\s*=\s*"([A-Z]+)"\s*,\s*\.pattern\s*=\s*"([^"]+)"([^{}]*)\}')


def source_routes():
    """[(METHOD, /path/{param}, perm or None, set of flags, file)] from src/**/*.c."""
    out = []
    for base, dirs, files in os.walk(os.path.join(ROOT, "src")):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            fn = os.path.join(base, name)
            with open(fn, encoding="utf-8") as f:
                text = f.read()
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
            text = re.sub(r"//[^\n]*", " ", text)
            for m in ROUTE_RE.finditer(text):
                rest = m.group(3)
                perm = re.search(r'\.perm\s*=\s*"([^"]+)"', rest)
                flags = re.search(r"\.flags\s*=\s*([A-Z_|\s]+)", rest)
                out.append((m.group(1), re.sub(r":(\w+)", r"{\1}", m.group(2)), perm.group(1) if perm else None,
                            set(re.findall(r"ROUTE_\w+", flags.group(1))) if flags else set(),
                            os.path.relpath(fn, ROOT)))
    return out


def example_path(doc, path, op, item):
    """The path with each {param} replaced by its documented example, else 1."""
    params = {p["name"]: p for p in op_parameters(doc, op, item) if p["in"] == "path"}

    def sub(m):
        p = params.get(m.group(1))
        assert p is not None, "%s: path parameter {%s} is not declared" % (path, m.group(1))
        assert p.get("required") is True, "%s: path parameter {%s} must be required" % (path, m.group(1))
        ex = p.get("example", deref(doc, p.get("schema", {})).get("example", 1))
        return str(ex)

    return re.sub(r"\{(\w+)\}", sub, path)


SCHOOL = {"name": "城关第一小学", "code": "3408990001", "stage": "小学", "ownership": "公办", "boarding": False,
          "region_code": "340899", "address": "城关镇人民路 1 号", "lat": 30.5, "lon": 117.05,
          "enrollment": 1200, "principal_name": "李校长", "principal_phone": "13900000000"}

VENUE = {"name": "星际网咖", "category": "互联网上网服务营业场所", "region_code": "340899", "lat": 30.5, "lon": 117.05,
         "entrances": [{"lat": 30.5001, "lon": 117.0501, "name": "正门"}]}


def ensure_examples(t, doc):
    """The records the documented path examples name (region 340899, school
    1, venue 1), created through the API when missing, each answer checked
    against the document. Returns the school."""
    a = t.admin
    for code, name, parent in (("340000", "安徽省", None), ("340800", "安庆市", "340000"),
                               ("340899", "示范县", "340800")):
        if a.get("/api/regions/" + code).status == 404:
            body = {"code": code, "name": name}
            if parent:
                body["parent_code"] = parent
            r = a.post("/api/regions", body)
            check_answer(doc, "POST", "/api/regions", r)
            assert r.status == 201, r
    if a.get("/api/venues/1").status == 404:
        r = a.post("/api/venues", VENUE)
        check_answer(doc, "POST", "/api/venues", r)
        assert r.status == 201, r
    r = a.get(q("/api/schools", q=SCHOOL["code"]))
    if r.json["total"]:
        return r.json["items"][0]
    r = a.post("/api/schools", SCHOOL)
    check_answer(doc, "POST", "/api/schools", r)
    assert r.status == 201, r
    return r.json


# ---- the tests ------------------------------------------------------------------

def test_document_is_openapi_and_self_consistent(t):
    doc = spec()
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] and doc["info"]["version"]
    comps = doc["components"]
    for name in ("School", "SchoolInput", "User", "Unit", "Region", "Role", "AuditEntry", "ImportReport", "Error"):
        assert name in comps["schemas"], "components.schemas.%s missing" % name
    session = comps["securitySchemes"]["session"]
    assert (session["type"], session["in"], session["name"]) == ("apiKey", "cookie", "xiaoan_session")
    csrf = comps["securitySchemes"]["csrf"]
    assert (csrf["type"], csrf["in"], csrf["name"]) == ("apiKey", "header", "X-CSRF-Token")
    assert doc["security"] == [{"session": []}]
    # the one error shape
    err = _merged(doc, comps["schemas"]["Error"])
    assert err["required"] == ["error"] and err["additionalProperties"] is False
    detail = _merged(doc, err["properties"]["error"])
    assert sorted(detail["required"]) == ["code", "field", "message"]
    assert detail["properties"]["field"].get("nullable") is True
    # the list shape
    meta = _merged(doc, comps["schemas"]["ListMeta"])
    assert sorted(meta["required"]) == ["items", "page", "page_size", "total"]

    # every $ref resolves
    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                deref(doc, node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)

    seen_ids = set()
    for method, path, op, item in operations(doc):
        where = "%s %s" % (method, path)
        assert re.search(r"[\u4e00-\u9fff]", op.get("summary", "")), where + ": summary must be in Chinese"
        assert op.get("operationId") and op["operationId"] not in seen_ids, where + ": operationId missing or reused"
        seen_ids.add(op["operationId"])
        assert "x-permission" in op, where + ": x-permission missing"
        assert op.get("tags"), where + ": no tag"
        assert op.get("responses"), where + ": no responses"
        for code, resp in op["responses"].items():
            assert code == "default" or re.fullmatch(r"[1-5][0-9][0-9]", code), "%s: response %r" % (where, code)
            resp = deref(doc, resp)
            assert resp.get("description"), "%s %s: response without a description" % (where, code)
            if code.startswith(("4", "5")) or code == "default":
                schema = resp["content"][JSON]["schema"]
                if "oneOf" not in schema:
                    assert schema == {"$ref": "#/components/schemas/Error"} or "error" in \
                        _merged(doc, schema).get("properties", {}), "%s %s: not the error shape" % (where, code)
            if code == "204":
                assert "content" not in resp, where + ": a 204 has no body"
        # path parameters declared and examples usable
        example_path(doc, path, op, item)
        for p in op_parameters(doc, op, item):
            assert p["in"] in ("path", "query", "header", "cookie") and "schema" in p, where + ": bad parameter"
            if p["in"] == "query":
                assert p.get("description"), "%s: query parameter %s without a description" % (where, p["name"])
        if method == "GET":
            assert "requestBody" not in op, where + ": GET with a body"
        if "requestBody" in op:
            body = deref(doc, op["requestBody"])
            for ctype, media in body["content"].items():
                schema = _merged(doc, media["schema"])
                if ctype == JSON:
                    assert schema.get("type") == "object" and schema.get("additionalProperties") is False, \
                        where + ": a JSON body refuses unknown fields (additionalProperties: false)"
                else:
                    assert schema == {"type": "string", "format": "binary"}, where + ": upload schema"


def test_every_route_in_the_source_is_documented(t):
    doc = spec()
    routes = source_routes()
    assert len(routes) >= 30, "the route tables were not found in src/ (%d routes)" % len(routes)
    documented = {(m, p): (op, item) for m, p, op, item in operations(doc)}
    missing = ["%s %s (%s)" % (m, p, fn) for m, p, _, _, fn in routes if (m, p) not in documented]
    assert not missing, "routes not in docs/openapi.yaml:\n  " + "\n  ".join(missing)
    in_source = {(m, p) for m, p, _, _, _ in routes}
    extra = ["%s %s" % k for k in documented if k not in in_source]
    assert not extra, "documented but not in any route table:\n  " + "\n  ".join(extra)
    assert len(in_source) == len(routes), "a route is declared twice in the route tables"

    problems = []
    for method, path, perm, flags, fn in routes:
        op, item = documented[(method, path)]
        where = "%s %s (%s)" % (method, path, fn)
        if op.get("x-permission") != perm:
            problems.append("%s: x-permission %r, the route needs %r" % (where, op.get("x-permission"), perm))
        public = "ROUTE_PUBLIC" in flags
        sec = security_of(doc, op)
        if public and sec != []:
            problems.append("%s: a public route must say security: []" % where)
        if not public and not any("session" in req for req in sec):
            problems.append("%s: a signed-in route must require the session cookie" % where)
        in_security, in_header = requires_csrf(doc, op, item)
        wants_csrf = method not in ("GET", "HEAD") and not public and "ROUTE_NO_CSRF" not in flags
        if wants_csrf != (in_security and in_header):
            problems.append("%s: CSRF documented (security %s, header %s), the server %s it" % (
                where, in_security, in_header, "requires" if wants_csrf else "does not require"))
        if bool(op.get("x-csrf-exempt")) != ("ROUTE_NO_CSRF" in flags):
            problems.append("%s: x-csrf-exempt does not match ROUTE_NO_CSRF" % where)
        if bool(op.get("x-allowed-before-password-change")) != ("ROUTE_PWCHANGE_OK" in flags):
            problems.append("%s: x-allowed-before-password-change does not match ROUTE_PWCHANGE_OK" % where)
        body = deref(doc, op["requestBody"]) if "requestBody" in op else None
        types = set(body["content"]) if body else set()
        if "ROUTE_UPLOAD" in flags:
            if types != UPLOAD_TYPES:
                problems.append("%s: an upload route takes %s, documented %s" % (where, sorted(UPLOAD_TYPES),
                                                                                   sorted(types)))
        elif types and types != {JSON}:
            problems.append("%s: a JSON route documents %s" % (where, sorted(types)))
        if types and "413" not in op["responses"]:
            problems.append("%s: a route with a body must document 413" % where)
        if types and "415" not in op["responses"]:
            problems.append("%s: a route with a body must document 415" % where)
        if not public and "401" not in op["responses"]:
            problems.append("%s: a signed-in route must document 401" % where)
        if public and method not in ("GET", "HEAD") and "429" not in op["responses"]:
            problems.append("%s: a public write is rate-limited and must document 429" % where)
        if (perm or wants_csrf) and "403" not in op["responses"]:
            problems.append("%s: must document 403" % where)
    assert not problems, "\n  ".join([""] + problems)


def test_state_changing_operations_require_csrf(t):
    doc = spec()
    for method, path, op, item in operations(doc):
        if method in ("GET", "HEAD"):
            continue
        in_security, in_header = requires_csrf(doc, op, item)
        if op.get("x-csrf-exempt"):
            assert security_of(doc, op) == [], "%s %s: only a public route can be CSRF-exempt" % (method, path)
            continue
        assert in_security or in_header, "%s %s documents neither the CSRF header nor its security" % (method, path)
        assert in_security and in_header, "%s %s: document both the header and the requirement" % (method, path)
        # and the server does refuse it without the token (before any handler runs)
        r = t.admin.request(method, example_path(doc, path, op, item), csrf=False)
        expect_error(r, 403, "auth.csrf")


def test_writes_answer_as_documented(t):
    doc = spec()
    a = t.admin

    def call(method, doc_path, real_path, body=None, **kw):
        r = a.request(method, real_path, body=body, **kw)
        return r, check_answer(doc, method, doc_path, r)

    school = ensure_examples(t, doc)
    sid = school["id"]
    r, region = call("GET", "/api/regions/{code}", "/api/regions/340899")
    assert r.status == 200 and region["level"] == "county", r
    r, _ = call("PATCH", "/api/regions/{code}", "/api/regions/340899", {"name": "示范县（测试）"})
    assert r.status == 200, r
    r, _ = call("POST", "/api/regions", "/api/regions", {"code": "340899", "name": "重复", "parent_code": "340800"})
    assert r.status == 409, r
    r, unit = call("POST", "/api/units", "/api/units",
                   {"code": "pcs-chengguan", "name": "城关派出所", "type": "派出所", "region_code": "340899",
                    "phone": "0556-1234567"})
    assert r.status == 201, r
    r, _ = call("PATCH", "/api/units/{id}", "/api/units/%d" % unit["id"], {"duties": "负责城关镇学校周边治安"})
    assert r.status == 200, r
    r, _ = call("POST", "/api/roles", "/api/roles", {"code": "viewer", "name": "只读查看", "perms": ["school.read"]})
    assert r.status == 201, r
    r, _ = call("PATCH", "/api/roles/{code}", "/api/roles/viewer", {"require_totp": False, "name": "学校只读"})
    assert r.status == 200, r
    r, user = call("POST", "/api/users", "/api/users",
                   {"username": "viewer1", "display_name": "张三", "phone": "13800000000", "unit_id": unit["id"],
                    "roles": ["viewer"], "scope": {"kind": "region", "value": "340899"}})
    assert r.status == 201 and user["one_time_password"], r
    r, _ = call("PATCH", "/api/users/{id}", "/api/users/%d" % user["id"], {"reset_password": True})
    assert r.status == 200 and r.json["one_time_password"], r
    r, _ = call("GET", "/api/users", q("/api/users", role="viewer"))
    assert r.status == 200 and r.json["total"] == 1, r

    r, _ = call("PATCH", "/api/schools/{id}", "/api/schools/%d" % sid,
                {"enrollment": 1250, "address": None, "police_unit_id": unit["id"]})
    assert r.status == 200 and r.json["address"] == "" and r.json["police_unit_name"] == "城关派出所", r
    r, _ = call("POST", "/api/schools", "/api/schools", dict(SCHOOL, name="重复的学校"))
    assert r.status == 409, r
    r, _ = call("POST", "/api/schools", "/api/schools", dict(SCHOOL, code="3408990009", nickname="x"))
    expect_error(r, 400, "validation.unknown_field", "nickname")
    r, _ = call("GET", "/api/schools/{id}/audit", "/api/schools/%d/audit" % sid)
    assert r.status == 200 and [i["action"] for i in r.json["items"]][:2] == ["update", "create"], r
    r, _ = call("GET", "/api/schools/stats", q("/api/schools/stats", region="340899"))
    assert r.status == 200 and r.json["total"] == 1, r

    csv = ("学校名称,学校标识码,学段,办学性质,所属乡镇（街道）,责任派出所\r\n"
           "城关第二小学,3408990002,小学,公办,340899,城关派出所\r\n").encode("utf-8")
    r, _ = call("POST", "/api/schools/import/preview", "/api/schools/import/preview", raw=csv,
                content_type="text/csv")
    assert r.status == 200 and r.json["total_rows"] == 1, r
    r, _ = call("POST", "/api/schools/import", "/api/schools/import?dry_run=1", raw=csv, content_type="text/csv")
    assert r.status == 200 and r.json["dry_run"] and r.json["created"] == 1, r
    bad = csv.replace("小学,公办".encode(), "大学,公办".encode())
    r, _ = call("POST", "/api/schools/import", "/api/schools/import", raw=bad, content_type="text/csv")
    assert r.status == 422 and r.json["error"]["code"] == "import.invalid_rows", r
    r, _ = call("POST", "/api/schools/import", "/api/schools/import", raw=csv,
                content_type="application/octet-stream")
    assert r.status == 200 and r.json["created"] == 1 and not r.json["dry_run"], r
    r, _ = call("POST", "/api/schools/import", "/api/schools/import", raw=csv, content_type="application/pdf")
    expect_error(r, 415, "request.unsupported_type")
    for fmt, ctype in (("csv", "text/csv"), ("xlsx", XLSX)):
        r, _ = call("GET", "/api/schools/export", q("/api/schools/export", format=fmt))
        assert r.status == 200 and r.header("Content-Type").startswith(ctype), r
        assert r.header("Content-Disposition").startswith("attachment;")
    r, _ = call("GET", "/api/schools/export", q("/api/schools/export", format="pdf"))
    expect_error(r, 400, "validation.enum", "format")
    r, _ = call("GET", "/api/audit", q("/api/audit", entity="school", limit=5))
    assert r.status == 200 and r.json["items"], r
    # the sign-in answers what the document says (a fresh client: its own session)
    c = Client(t.server)
    r = c.post("/api/auth/login", {"username": "admin", "password": "wrong-Password-1"})
    check_answer(doc, "POST", "/api/auth/login", r)
    assert r.status == 401
    r = c.post("/api/auth/login", {"username": "admin", "password": STRONG})
    check_answer(doc, "POST", "/api/auth/login", r)
    assert r.status == 200 and "xiaoan_session=" in r.header("Set-Cookie")
    c.csrf = r.json["csrf"]
    check_answer(doc, "POST", "/api/auth/totp/setup", c.post("/api/auth/totp/setup"))
    r = c.post("/api/auth/totp/enable", {"code": "000000"})
    check_answer(doc, "POST", "/api/auth/totp/enable", r)
    r = c.post("/api/auth/logout")
    check_answer(doc, "POST", "/api/auth/logout", r)
    assert r.status == 204


def test_every_documented_route_exists(t):
    """Walks the document on the server: each operation is routed (no 404
    no_route, no 405) and answers a documented status with the documented
    shape. State-changing operations go without the CSRF token, so the
    server refuses them before any handler: nothing is changed."""
    doc = spec()
    ensure_examples(t, doc)
    ops = operations(doc)
    assert len(ops) >= 30
    for method, path, op, item in ops:
        real = example_path(doc, path, op, item)
        r = t.admin.request(method, real, csrf=False)
        where = "%s %s (as %s)" % (method, path, real)
        if r.status == 404:
            assert r.json["error"]["code"] != "no_route", where + ": no such route on the server"
        assert r.status != 405, "%s: the server answers 405, Allow: %s" % (where, r.header("Allow"))
        check_answer(doc, method, path, r)
        if method == "GET" and "{" in path:
            # the example names a record that exists by now
            assert r.status == 200, "%s: %r" % (where, r)
    # and the unknown ones are still unknown
    expect_error(t.admin.get("/api/not-documented"), 404, "no_route")

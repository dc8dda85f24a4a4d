"""What every client meets before any module: routing errors, body limits,
content types, malformed JSON, security headers, health and version."""
import http.client
import json

from xa import Client, expect_error


def test_health_ready_version(t):
    c = Client(t.server)
    assert c.get("/healthz").json["status"] == "ok"
    assert c.get("/readyz").json["status"] == "ready"
    v = c.get("/api/version").json
    assert v["name"] == "xiaoan" and v["schema"] >= 1


def test_security_headers_on_every_response(t):
    for r in (Client(t.server).get("/healthz"), Client(t.server).get("/api/nope"), t.admin.get("/api/audit")):
        csp = r.header("Content-Security-Policy")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert r.header("X-Content-Type-Options") == "nosniff"
        assert r.header("X-Frame-Options") == "DENY"
        rid = r.header("X-Request-Id")
        assert rid and len(rid) == 16
        server = r.header("Server") or ""
        assert "microhttpd" not in server.lower() and not any(ch.isdigit() for ch in server)
    # the request id is in the log line
    r = Client(t.server).get("/healthz")
    assert t.server.wait_log(r.header("X-Request-Id")), t.server.tail(50)


def test_unknown_route_and_method(t):
    expect_error(t.admin.get("/api/nothing-here"), 404, "no_route")
    r = t.admin.request("PUT", "/api/auth/login", body={})
    expect_error(r, 405, "method_not_allowed")
    assert r.header("Allow") == "POST"
    r = t.admin.request("DELETE", "/healthz")
    assert r.status == 405 and "GET" in r.header("Allow") and "HEAD" in r.header("Allow")


def test_head_answers_without_body(t):
    c = http.client.HTTPConnection("127.0.0.1", t.server.port, timeout=10)
    c.request("HEAD", "/api/version")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b""
    c.close()


def test_malformed_and_wrong_bodies(t):
    c = t.admin
    r = c.request("POST", "/api/auth/password", raw=b'{"old_password": "x",', content_type="application/json")
    expect_error(r, 400, "request.malformed_json")
    r = c.request("POST", "/api/auth/password", raw=b'[1,2]', content_type="application/json")
    expect_error(r, 400, "request.not_object")
    r = c.request("POST", "/api/auth/password", raw=b'{"old_password":"\xff\xfe"}', content_type="application/json")
    expect_error(r, 400, "request.malformed_json")
    r = c.request("POST", "/api/auth/password", raw=b'{"a":1,"a":2}', content_type="application/json")
    expect_error(r, 400, "request.malformed_json")
    r = c.request("POST", "/api/auth/password", raw=b'old=x', content_type="application/x-www-form-urlencoded")
    expect_error(r, 415, "request.unsupported_type")
    r = c.request("POST", "/api/auth/password", raw=b'{}', content_type="text/plain")
    expect_error(r, 415)


def test_oversized_body_is_refused(t):
    # login caps its body at 4 KiB; the default cap elsewhere is 1 MiB
    big = json.dumps({"username": "admin", "password": "x" * 5000}).encode()
    r = Client(t.server).request("POST", "/api/auth/login", raw=big, content_type="application/json")
    expect_error(r, 413, "request.too_large")
    huge = b'{"old_password":"' + b"x" * (1 << 20) + b'"}'
    r = t.admin.request("POST", "/api/auth/password", raw=huge, content_type="application/json")
    expect_error(r, 413, "request.too_large")
    # the server is still fine
    assert t.admin.get("/api/auth/me").status == 200


def test_chunked_oversized_body_is_refused(t):
    # no Content-Length: the cap is enforced while reading
    c = http.client.HTTPConnection("127.0.0.1", t.server.port, timeout=30)
    c.putrequest("POST", "/api/auth/login")
    c.putheader("Content-Type", "application/json")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    chunk = b"x" * 1024
    for _ in range(8):
        c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    assert r.status == 413, r.status
    c.close()


def test_audit_search(t):
    r = t.admin.get("/api/audit?user=admin&action=login")
    assert r.status == 200
    items = r.json["items"]
    assert items and all(i["username"] == "admin" and i["action"] == "login" for i in items)
    assert all(len(i["hash"]) == 64 for i in items)
    assert r.json["total"] >= len(items) and r.json["page"] == 1 and r.json["page_size"] == 50
    expect_error(t.admin.get("/api/audit?page_size=0"), 400, "validation.range", "page_size")
    expect_error(t.admin.get("/api/audit?page=abc"), 400, "validation.range", "page")
    # the search itself is in the trail
    r = t.admin.get("/api/audit?entity=audit&action=read")
    assert r.json["total"] >= 1

"""The session cookie is Secure whenever the request came over TLS: served
by xiaoan itself with a certificate, or by a trusted reverse proxy on
loopback that says X-Forwarded-Proto: https."""
import http.client
import json
import os
import ssl
import subprocess

import xa
from xa import Client

OWN_SERVER = True


def test_tls_in_server(binary):
    data = None
    s = None
    try:
        import tempfile
        data = tempfile.mkdtemp(prefix="xiaoan-tls-")
        cert, key = os.path.join(data, "cert.pem"), os.path.join(data, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        s = xa.Server(binary, env={"XIAOAN_TLS_CERT": cert, "XIAOAN_TLS_KEY": key})
        # start() polls over plain HTTP; do it by hand over TLS here
        logf = open(s.log, "ab")
        s.proc = subprocess.Popen([binary, "serve", "--data", s.data, "--listen", "127.0.0.1:%d" % s.port],
                                  env=s.env, stdout=logf, stderr=logf)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        import time
        for _ in range(200):
            try:
                c = http.client.HTTPSConnection("127.0.0.1", s.port, context=ctx, timeout=5)
                c.request("GET", "/healthz")
                assert c.getresponse().status == 200
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.05)
        body = json.dumps({"username": "admin", "password": s.admin_password})
        c = http.client.HTTPSConnection("127.0.0.1", s.port, context=ctx, timeout=10)
        c.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 200, r.read()
        cookie = r.getheader("Set-Cookie")
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert "max-age" in (r.getheader("Strict-Transport-Security") or "")
    finally:
        if s:
            s.cleanup()


def test_secure_cookie_behind_trusted_proxy(binary):
    s = xa.Server(binary, env={"XIAOAN_TRUST_PROXY": "1"}).start()
    try:
        c = Client(s)
        r = c.request("POST", "/api/auth/login", body={"username": "admin", "password": s.admin_password},
                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"})
        assert r.status == 200
        assert "Secure" in r.header("Set-Cookie")
        # the client address recorded is the one the proxy reported
        db = s.db()
        ip = db.execute("SELECT client_ip FROM audit WHERE action = 'login' ORDER BY seq DESC").fetchone()[0]
        db.close()
        assert ip == "10.1.2.3"
    finally:
        s.cleanup()
    # without trust_proxy the header is ignored
    s = xa.Server(binary).start()
    try:
        r = Client(s).request("POST", "/api/auth/login", body={"username": "admin", "password": s.admin_password},
                              headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"})
        assert r.status == 200 and "Secure" not in r.header("Set-Cookie")
    finally:
        s.cleanup()


"""Sign-in as officials meet it: the forced password change, CSRF, session
expiry, lockout after five failures, the TOTP second factor."""
import time

import totp
import xa
from xa import Client, STRONG, expect_error

OWN_SERVER = True   # lockouts and clock moves must not leak into other modules


def fresh(binary):
    return xa.Server(binary).start()


def test_first_login_forces_password_change(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        r = c.login("admin", s.admin_password)
        assert r.json["must_change_password"] is True
        # everything but the password change is refused until then
        expect_error(c.get("/api/audit"), 403, "auth.password_change_required")
        assert c.get("/api/auth/me").status == 200
        # the policy is applied to the new password
        e = expect_error(c.post("/api/auth/password", {"old_password": s.admin_password, "new_password": "short1A"}),
                         400, "auth.weak_password", "new_password")
        assert "10" in e["message"]
        expect_error(c.post("/api/auth/password", {"old_password": s.admin_password, "new_password": "alllowercaseletters"}),
                     400, "auth.weak_password", "new_password")
        expect_error(c.post("/api/auth/password", {"old_password": "wrong-Password-1", "new_password": STRONG}),
                     400, "auth.wrong_password", "old_password")
        c.change_password(s.admin_password, STRONG)
        assert c.get("/api/audit").status == 200
        # the one-time password no longer works, the new one does
        Client(s).login("admin", s.admin_password, expect=401)
        Client(s).login("admin", STRONG)
    finally:
        s.cleanup()


def test_session_cookie_and_csrf(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        r = c.login("admin", s.admin_password)
        cookie = r.header("Set-Cookie")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie   # plain HTTP on loopback
        token = c.cookies["xiaoan_session"]
        assert len(token) == 43
        # the database keeps only a hash of the token
        db = s.db()
        ids = [row[0] for row in db.execute("SELECT id FROM sessions")]
        db.close()
        assert token not in ids and len(ids) == 1 and len(ids[0]) == 64
        # a state-changing request without the CSRF token is refused
        r = c.post("/api/auth/password", {"old_password": s.admin_password, "new_password": STRONG}, csrf=False)
        expect_error(r, 403, "auth.csrf")
        r = c.post("/api/auth/password", {"old_password": s.admin_password, "new_password": STRONG},
                   csrf=False, headers={"X-CSRF-Token": "x" * 43})
        expect_error(r, 403, "auth.csrf")
        c.change_password(s.admin_password, STRONG)
        # no cookie: 401
        expect_error(Client(s).get("/api/audit"), 401, "auth.required")
        # a forged cookie: 401
        f = Client(s)
        f.cookies["xiaoan_session"] = "A" * 43
        expect_error(f.get("/api/audit"), 401, "auth.required")
        # logout ends the session for good
        r = c.post("/api/auth/logout")
        assert r.status == 204
        assert "Max-Age=0" in r.header("Set-Cookie")
        c.cookies["xiaoan_session"] = token
        expect_error(c.get("/api/audit"), 401, "auth.required")
    finally:
        s.cleanup()


def test_session_expires_idle_and_absolute(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        c.login("admin", s.admin_password)
        c.change_password(s.admin_password, STRONG)
        c = Client(s)
        c.login("admin", STRONG)
        # 29 minutes idle: still signed in, and the request renews it
        s.advance_clock(29 * 60)
        assert c.get("/api/audit").status == 200
        s.advance_clock(29 * 60)
        assert c.get("/api/audit").status == 200
        # 31 minutes idle: gone
        s.advance_clock(31 * 60)
        expect_error(c.get("/api/audit"), 401, "auth.required")
        # absolute: active every 20 minutes, still ends after 12 hours
        c = Client(s)
        c.login("admin", STRONG)
        for _ in range(35):
            s.advance_clock(20 * 60)
            assert c.get("/api/audit").status == 200
        s.advance_clock(20 * 60)   # 12 h 0 min since sign-in
        s.advance_clock(5 * 60)
        expect_error(c.get("/api/audit"), 401, "auth.required")
    finally:
        s.cleanup()


def test_five_failures_lock_account_and_address(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        c.login("admin", s.admin_password)
        c.change_password(s.admin_password, STRONG)
        for i in range(5):
            r = Client(s).login("admin", "Wrong-password-%d" % i, expect=401)
            expect_error(r, 401, "auth.invalid")
        # now even the right password is refused, with a time to wait
        r = Client(s).login("admin", STRONG, expect=429)
        e = expect_error(r, 429, "auth.locked")
        assert "15" in e["message"]
        assert int(r.header("Retry-After")) > 800
        # the address is locked too: another account from here is refused
        s.cli("user", "add", "--username", "officer1", "--role", "police", "--unit", "system", "--scope", "all")
        expect_error(Client(s).login("officer1", "whatever-Pass1", expect=429), 429, "auth.locked")
        # failures are in the audit trail
        db = s.db()
        n = db.execute("SELECT count(*) FROM audit WHERE action = 'login_failed'").fetchone()[0]
        db.close()
        assert n >= 5
        # 15 minutes later the lock is over
        s.advance_clock(15 * 60 + 1)
        Client(s).login("admin", STRONG)
    finally:
        s.cleanup()


def test_unknown_users_count_against_the_address(binary):
    s = fresh(binary)
    try:
        for i in range(5):
            expect_error(Client(s).login("nobody%d" % i, "Whatever-pass-1", expect=401), 401, "auth.invalid")
        expect_error(Client(s).login("admin", s.admin_password, expect=429), 429, "auth.locked")
    finally:
        s.cleanup()


def test_totp_required_by_role(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        c.login("admin", s.admin_password)
        c.change_password(s.admin_password, STRONG)
        c = Client(s)
        c.login("admin", STRONG)
        r = c.patch("/api/roles/admin", {"require_totp": True})
        assert r.status == 200, r
        # next sign-in: enrolment is required before anything else
        c = Client(s)
        r = c.login("admin", STRONG)
        assert r.json["totp_setup_required"] is True
        expect_error(c.get("/api/audit"), 403, "auth.totp_setup_required")
        r = c.post("/api/auth/totp/setup")
        assert r.status == 200
        secret = r.json["secret"]
        assert r.json["otpauth_uri"].startswith("otpauth://totp/")
        expect_error(c.post("/api/auth/totp/enable", {"code": "000000" if totp.code(secret) != "000000" else "111111"}),
                     400, "auth.totp_invalid", "code")
        assert c.post("/api/auth/totp/enable", {"code": totp.code(secret)}).status == 204
        # the secret is not stored in clear
        db = s.db()
        stored = db.execute("SELECT totp_secret FROM users WHERE username = 'admin'").fetchone()[0]
        db.close()
        assert secret not in stored and stored.startswith("v1:")
        # sign-in now needs the code
        expect_error(Client(s).login("admin", STRONG, expect=401), 401, "auth.totp_required", "totp")
        expect_error(Client(s).login("admin", STRONG, totp="12345a", expect=401), 401, "auth.totp_invalid")
        # a code from the next step (the enable used the current one)
        nxt = totp.code(secret, time.time() + 30)
        c2 = Client(s)
        c2.login("admin", STRONG, totp=nxt)
        assert c2.get("/api/audit").status == 200
        # the same code cannot be replayed
        expect_error(Client(s).login("admin", STRONG, totp=nxt, expect=401), 401, "auth.totp_invalid")
    finally:
        s.cleanup()


def test_login_input_is_validated(binary):
    s = fresh(binary)
    try:
        c = Client(s)
        expect_error(c.post("/api/auth/login", {"username": "admin"}), 400, "validation.required", "password")
        expect_error(c.post("/api/auth/login", {"username": 1, "password": "x"}), 400, "validation.type", "username")
        expect_error(c.post("/api/auth/login", {"username": "admin", "password": "x", "role": "admin"}), 400,
                     "validation.unknown_field", "role")
        expect_error(c.post("/api/auth/login", {"username": "a" * 65, "password": "x"}), 400, "validation.too_long",
                     "username")
    finally:
        s.cleanup()

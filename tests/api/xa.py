"""xa.py - the API test harness: a real xiaoan server on a random loopback
port with its own data directory, and a small HTTP client that keeps the
session cookie and CSRF token the way the console does.

Tests are plain functions `test_*(t)` in tests/api/test_*.py; run.py finds
and runs them and prints TAP lines. `t` is a Ctx: t.server (a Server),
t.admin (a signed-in Client of the first administrator), helpers below.

On PostgreSQL. When XIAOAN_TEST_PG_BASE names a PostgreSQL server
(postgres://user@host:port, set by tests/run.sh through tests/pg.sh), each
Server gets a fresh database xa_<random> on it (XIAOAN_DATABASE for every
command it runs), dropped again by cleanup(); the database's name is kept in
the data directory, so a Server started on an existing data directory uses
the same database. Server.db() then answers through psql with sqlite3's
shape, so a test reads the database the same way on either backend.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRONG = "Xiaoan-Test-2026!"

# ---- PostgreSQL -------------------------------------------------------------

PG_BASE = os.environ.get("XIAOAN_TEST_PG_BASE") or None
PG = PG_BASE is not None          # this run is on PostgreSQL
PG_MARKER = "pg-database"         # in a data directory: the name of its database


class Skip(Exception):
    """Raised by a test that does not apply to this run; run.py prints
    'ok N - name # SKIP reason'."""


def pg_url(dbname, base=None):
    """The URL of database dbname on the test server."""
    u = urllib.parse.urlsplit(base or PG_BASE)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, ""))


def psql(url, sql, check=True):
    """Runs sql through psql on url; returns its stdout (unaligned, tuples only)."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PGCONNECT_TIMEOUT="10", PGOPTIONS="-c client_min_messages=warning"))
    if check and p.returncode != 0:
        raise PgError(p.stderr.strip() or "psql exited %d" % p.returncode)
    return p.stdout


def pg_create_database(template=None):
    """Creates an empty database (or a copy of template) on the test server;
    returns its name. C collation: text sorts by code point, as on SQLite."""
    name = "xa_" + os.urandom(6).hex()
    psql(pg_url("postgres"), 'CREATE DATABASE "%s" TEMPLATE "%s" ENCODING \'UTF8\' LC_COLLATE \'C\' LC_CTYPE \'C\''
         % (name, template or "template0"))
    return name


def pg_drop_database(name):
    psql(pg_url("postgres"), 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)


def data_database(data):
    """The PostgreSQL database of a data directory, or None."""
    try:
        with open(os.path.join(data, PG_MARKER)) as f:
            return f.read().strip() or None
    except OSError:
        return None


def data_env(env, data):
    """env with XIAOAN_DATABASE pointing at data's own database (on PostgreSQL
    the data directory does not hold the database)."""
    env = dict(env)
    name = data_database(data) if PG else None
    if name:
        env["XIAOAN_DATABASE"] = pg_url(name)
    return env


def copy_data(data):
    """A copy of a stopped server's data directory, with a copy of its
    PostgreSQL database on PostgreSQL; remove it with remove_data()."""
    d = tempfile.mkdtemp(prefix="xiaoan-copy-")
    for name in os.listdir(data):
        src = os.path.join(data, name)
        if os.path.isfile(src) and name != PG_MARKER:
            shutil.copy(src, d)
    if PG and data_database(data):
        with open(os.path.join(d, PG_MARKER), "w") as f:
            f.write(pg_create_database(template=data_database(data)))
    return d


def remove_data(d):
    if PG and data_database(d):
        pg_drop_database(data_database(d))
    shutil.rmtree(d, ignore_errors=True)


class PgError(sqlite3.DatabaseError):
    """A PostgreSQL error, catchable as sqlite3.DatabaseError."""


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, bytes):
        return "'\\x%s'::bytea" % v.hex()
    return "'" + str(v).replace("'", "''") + "'"


def _bind(sql, params):
    """sql with each ? outside quotes replaced by the next parameter as a literal."""
    out, k, quote = [], 0, None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(_literal(params[k]))
            k += 1
            continue
        out.append(ch)
    assert k == len(params), "%d parameters for %d placeholders" % (len(params), k)
    return "".join(out)


class PgCursor:
    def __init__(self, cols, rows):
        self.description = [(c, None, None, None, None, None, None) for c in cols]
        self.rows = rows
        self.rowcount = len(rows)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows

    def __iter__(self):
        while self.rows:
            yield self.rows.pop(0)


class PgConn:
    """sqlite3's connection shape over psql: execute(sql, params) with ?
    placeholders, cursors with fetchone/fetchall/description, commit,
    rollback and close, errors as sqlite3.DatabaseError. Each statement
    runs on its own and commits at once. Rows come back with their types
    (integers, floats, text, None) through row_to_json."""

    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        sql = _bind(sql, tuple(params)).strip().rstrip(";")
        head = sql.split(None, 1)[0].upper() if sql else ""
        if head not in ("SELECT", "WITH", "VALUES"):
            psql(self.url, sql)
            return PgCursor([], [])
        out = psql(self.url, "SELECT row_to_json(t) FROM (%s) t" % sql)
        cols, rows = None, []
        for line in out.splitlines():
            if not line:
                continue
            pairs = json.loads(line, object_pairs_hook=list)
            cols = cols or [k for k, _ in pairs]
            rows.append(tuple(v for _, v in pairs))
        return PgCursor(cols or [], rows)

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error(self):
        return self.json["error"]

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Server:
    """One xiaoan process over a fresh data directory."""

    def __init__(self, binary, env=None, data=None, init=True):
        self.binary = binary
        self.data = data or tempfile.mkdtemp(prefix="xiaoan-api-")
        self.port = free_port()
        self.clock = os.path.join(self.data, "clock")
        self.env = dict(os.environ)
        self.env.update({"XIAOAN_PW_COST": "fast", "XIAOAN_CLOCK_FILE": self.clock,
                         "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
                         "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"})
        self.pg_db, self.pg_owned = None, False
        if PG:
            self.pg_db = data_database(self.data)
            if not self.pg_db:
                self.pg_db, self.pg_owned = pg_create_database(), True
                with open(os.path.join(self.data, PG_MARKER), "w") as f:
                    f.write(self.pg_db)
            self.env["XIAOAN_DATABASE"] = pg_url(self.pg_db)
        if env:
            self.env.update(env)
        self.proc = None
        self.log = os.path.join(self.data, "server.log")
        self.admin_password = None
        if init:
            out = self.cli("init")
            self.admin_password = out.strip().splitlines()[-1]

    def cli(self, *args, check=True, stdin=None):
        p = subprocess.run([self.binary, *args, "--data", self.data], env=self.env, capture_output=True,
                           text=True, input=stdin, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("xiaoan %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p.stdout if check else p

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", self.data, "--listen",
                                      "127.0.0.1:%d" % self.port], env=self.env, stdout=logf, stderr=logf)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited %d: %s" % (self.proc.returncode, self.tail()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not start: " + self.tail())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def wait_log(self, text, timeout=5.0):
        """True once text is in the server's log: a server writes its request
        lines in batches every few milliseconds."""
        end = time.time() + timeout
        while True:
            if text in self.tail(10 ** 6):
                return True
            if time.time() > end:
                return False
            time.sleep(0.01)

    def tail(self, n=40):
        try:
            with open(self.log, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def advance_clock(self, seconds):
        off = 0
        if os.path.exists(self.clock):
            with open(self.clock) as f:
                off = int(f.read().strip() or 0)
        with open(self.clock, "w") as f:
            f.write(str(off + seconds))

    def db(self):
        """A connection to the server's database (sqlite3, or PgConn on PostgreSQL)."""
        if self.pg_db:
            return PgConn(pg_url(self.pg_db))
        return sqlite3.connect(os.path.join(self.data, "xiaoan.db"))

    def cleanup(self):
        self.stop()
        if self.pg_owned:
            pg_drop_database(self.pg_db)
            self.pg_owned = False
        shutil.rmtree(self.data, ignore_errors=True)


class Client:
    """An HTTP client with a cookie jar and the session's CSRF token."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}
        self.csrf = None
        self.me = None

    def request(self, method, path, body=None, headers=None, raw=None, content_type=None, csrf=True):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        data = None
        if raw is not None:
            data = raw
            h["Content-Type"] = content_type or "application/octet-stream"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = content_type or "application/json"
        if headers:
            h.update(headers)
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        resp = Response(r.status, r.getheaders(), r.read())
        c.close()
        for v in resp.headers_all("Set-Cookie"):
            m = re.match(r"([^=]+)=([^;]*)", v)
            if m:
                if "Max-Age=0" in v:
                    self.cookies.pop(m.group(1), None)
                else:
                    self.cookies[m.group(1)] = m.group(2)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password, totp=None, expect=200):
        body = {"username": username, "password": password}
        if totp:
            body["totp"] = totp
        r = self.post("/api/auth/login", body)
        assert r.status == expect, "login %s: %r" % (username, r)
        if r.status == 200:
            self.csrf = r.json["csrf"]
            self.me = r.json
        return r

    def change_password(self, old, new):
        r = self.post("/api/auth/password", {"old_password": old, "new_password": new})
        assert r.status == 204, "password change: %r" % r
        return r


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def expect_error(r, status, code=None, field=None):
    assert r.status == status, "expected %d, got %r" % (status, r)
    e = r.json["error"]
    assert e["message"], "error without a message: %r" % r
    assert re.search(r"[\u4e00-\u9fff]", e["message"]), "error message not in Chinese: %r" % e["message"]
    if code:
        assert e["code"] == code, "expected code %s, got %r" % (code, e)
    if field is not None:
        assert e["field"] == field, "expected field %s, got %r" % (field, e)
    return e


class Ctx:
    """What a test module gets: its server and a signed-in administrator."""

    def __init__(self, binary):
        self.binary = binary
        self.server = Server(binary).start()
        self.admin = Client(self.server)
        self.admin.login("admin", self.server.admin_password)
        self.admin.change_password(self.server.admin_password, STRONG)
        self.admin = Client(self.server)
        self.admin.login("admin", STRONG)

    def new_user(self, username, role, unit, scope=None):
        """Creates a user via the CLI and signs them in with a changed password."""
        args = ["user", "add", "--username", username, "--role", role, "--unit", unit]
        if scope:
            args += ["--scope", scope]
        pw = self.server.cli(*args).strip().splitlines()[-1]
        c = Client(self.server)
        c.login(username, pw)
        c.change_password(pw, STRONG)
        c = Client(self.server)
        c.login(username, STRONG)
        return c

    def close(self):
        self.server.cleanup()

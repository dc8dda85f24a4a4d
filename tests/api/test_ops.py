"""Backups and moving a county up, as an operator does them.

`xiaoan backup` while a clerk keeps editing: a server started on the backup
(the copy as xiaoan.db, PATH.key as secret.key) finds every record that was
committed before the backup started, and its audit chain verifies. On
PostgreSQL `xiaoan backup` refuses and the documented pg_dump/pg_restore
procedure (docs/deploy.md) does the same job under the same test.

`xiaoan copy`: SQLite -> PostgreSQL -> SQLite with every count equal, the
audit rows identical and the chain verifying, sign-in and new records
working on each copy (needs a PostgreSQL server: the PostgreSQL pass, or
XIAOAN_TEST_PG); SQLite -> SQLite with every row identical; a target that
is not empty is refused and left as it was."""
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time

import xa
from fixtures import TOWN_A, school_body, sign_in

OWN_SERVER = True


def pg_base():
    """A PostgreSQL server to copy to: the PostgreSQL pass's, or the one
    XIAOAN_TEST_PG names; None when there is none."""
    return xa.PG_BASE or os.environ.get("XIAOAN_TEST_PG") or None


def create_db(base):
    name = "xa_" + os.urandom(6).hex()
    xa.psql(xa.pg_url("postgres", base),
            'CREATE DATABASE "%s" TEMPLATE template0 ENCODING \'UTF8\' LC_COLLATE \'C\' LC_CTYPE \'C\'' % name)
    return name


def drop_db(base, name):
    xa.psql(xa.pg_url("postgres", base), 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)


def xiaoan(binary, *args, env=None):
    """Runs a command outside any test server (its own scratch data directory)."""
    scratch = tempfile.mkdtemp(prefix="xiaoan-ops-")
    e = dict(os.environ, XIAOAN_PW_COST="fast")
    e.pop("XIAOAN_DATABASE", None)
    e.update(env or {})
    try:
        return subprocess.run([binary, *args, "--data", scratch], capture_output=True, text=True, env=e,
                              timeout=120)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def copy(binary, src, dst):
    """xiaoan copy; returns {table: (source, copied, target)} after checking it succeeded."""
    p = xiaoan(binary, "copy", "--from", src, "--to", dst)
    assert p.returncode == 0, "copy %s -> %s: %s%s" % (src, dst, p.stdout, p.stderr)
    counts = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(\w+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            counts[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    assert counts and all(a == b == c for a, b, c in counts.values()), p.stdout
    assert "chain intact" in p.stdout, p.stdout
    return counts


def sqlite_server(binary, data=None):
    """A server on SQLite, also in the PostgreSQL pass."""
    data = data or tempfile.mkdtemp(prefix="xiaoan-api-")
    return xa.Server(binary, data=data, init=not os.path.exists(os.path.join(data, "xiaoan.db")),
                     env={"XIAOAN_DATABASE": "sqlite:" + os.path.join(data, "xiaoan.db")})


def verify(binary, database):
    p = xiaoan(binary, "audit", "verify", "--database", database)
    assert p.returncode == 0 and "chain intact" in p.stdout, p.stdout + p.stderr
    return p.stdout


def rows(path, table):
    db = sqlite3.connect(path)
    try:
        return [tuple((type(v).__name__, v) for v in r) for r in db.execute("SELECT * FROM %s ORDER BY 1" % table)]
    finally:
        db.close()


def tables(path):
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                         " AND name <> 'schema_migrations' ORDER BY name")]
    finally:
        db.close()


# ---- backup while serving ----------------------------------------------------

class Clerk(threading.Thread):
    """Keeps editing schools (a rising enrollment) and adding new ones, and
    remembers when each write was acknowledged."""

    def __init__(self, client, ids):
        super().__init__(daemon=True)
        self.client, self.ids = client, ids
        self.stop = threading.Event()
        self.acked = []          # (monotonic time, school id, enrollment)
        self.created = []        # (monotonic time, school id)
        self.failed = []

    def run(self):
        k = 1000
        while not self.stop.is_set():
            k += 1
            sid = self.ids[k % len(self.ids)]
            r = self.client.patch("/api/schools/%d" % sid, {"enrollment": k})
            if r.status == 200:
                self.acked.append((time.monotonic(), sid, k))
            else:
                self.failed.append(r)
            if k % 10 == 0:
                r = self.client.post("/api/schools", school_body(region_code=TOWN_A))
                if r.status == 201:
                    self.created.append((time.monotonic(), r.json["id"]))
                else:
                    self.failed.append(r)


def check_restored(server, clerk, t0):
    """Every write acknowledged before t0 is in the restored server."""
    c = xa.Client(server)
    c.login("admin", xa.STRONG)
    last = {}
    for t, sid, k in clerk.acked:
        if t < t0:
            last[sid] = k
    sent = {}
    for _, sid, k in clerk.acked:
        sent.setdefault(sid, set()).add(k)
    assert last, "no write was acknowledged before the backup started"
    for sid, k in last.items():
        r = c.get("/api/schools/%d" % sid)
        assert r.status == 200, r
        got = r.json["enrollment"]
        # that write, or a later one the clerk made before the snapshot
        assert got >= k and got in sent[sid], "school %d: enrollment %r, acknowledged %d before the backup" % (
            sid, got, k)
    for t, sid in clerk.created:
        if t < t0:
            assert c.get("/api/schools/%d" % sid).status == 200, "school %d created before the backup is gone" % sid


def test_backup_while_serving_restores_every_record(binary):
    s = xa.Server(binary)
    restored, dump_dir, restored_db = None, tempfile.mkdtemp(prefix="xiaoan-backup-"), None
    try:
        s.cli("demo")
        s.start()
        admin = sign_in(s, "admin", s.admin_password)
        ids = [admin.post("/api/schools", school_body(region_code=TOWN_A)).json["id"] for _ in range(10)]
        clerk = Clerk(admin, ids)
        clerk.start()
        time.sleep(0.5)
        path = os.path.join(dump_dir, "xiaoan-backup.db")
        t0 = time.monotonic()
        if not xa.PG:
            p = s.cli("backup", path, check=False)
        else:
            # xiaoan backup refuses on PostgreSQL and points to pg_dump ...
            p = s.cli("backup", path, check=False)
            assert p.returncode == 1 and "pg_dump" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p
            assert not os.path.exists(path)
            # ... and the procedure in docs/deploy.md does the job
            t0 = time.monotonic()
            p = subprocess.run(["pg_dump", "-Fc", "-f", path, "-d", xa.pg_url(s.pg_db)], capture_output=True,
                               text=True, timeout=120)
        t1 = time.monotonic()
        time.sleep(0.3)
        clerk.stop.set()
        clerk.join(30)
        assert p.returncode == 0, p.stdout + p.stderr
        assert not clerk.failed, "writes failed while backing up: %r" % clerk.failed[:3]

        data = tempfile.mkdtemp(prefix="xiaoan-restored-")
        if not xa.PG:
            assert "integrity_check: ok" in p.stdout and "chain intact" in p.stdout, p.stdout
            assert "secret.key" in p.stdout, p.stdout
            key = path + ".key"
            assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
            with open(key, "rb") as a, open(os.path.join(s.data, "secret.key"), "rb") as b:
                assert a.read() == b.read()
            # a second backup to the same path is refused, the first left alone
            size = os.path.getsize(path)
            again = s.cli("backup", path, check=False)
            assert again.returncode == 1 and "exists" in again.stderr, again
            assert os.path.getsize(path) == size
            shutil.copy(path, os.path.join(data, "xiaoan.db"))
            shutil.copy(key, os.path.join(data, "secret.key"))
        else:
            # pg_restore into a fresh database, and xiaoan pointed at it
            restored_db = xa.pg_create_database()
            r = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d",
                                xa.pg_url(restored_db), path], capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            with open(os.path.join(data, xa.PG_MARKER), "w") as f:
                f.write(restored_db)
            shutil.copy(os.path.join(s.data, "secret.key"), os.path.join(data, "secret.key"))
        restored = xa.Server(binary, data=data, init=False).start()
        check_restored(restored, clerk, t0)
        p = restored.cli("audit", "verify", check=False)
        assert p.returncode == 0 and "chain intact" in p.stdout, p.stdout + p.stderr
        assert restored.stop() == 0
        assert s.stop() == 0
    finally:
        if restored:
            restored.cleanup()
        if restored_db:
            xa.pg_drop_database(restored_db)
        s.cleanup()
        shutil.rmtree(dump_dir, ignore_errors=True)


# ---- copy ----------------------------------------------------------------------

def test_copy_sqlite_postgres_sqlite_round_trip(binary):
    base = pg_base()
    if not base:
        raise xa.Skip("no PostgreSQL (the PostgreSQL pass, or XIAOAN_TEST_PG=postgres://...)")
    src = sqlite_server(binary)
    on_pg = back = None
    pg_name = create_db(base)
    pg = xa.pg_url(pg_name, base)
    back_dir = tempfile.mkdtemp(prefix="xiaoan-back-")
    try:
        src.cli("demo")
        src.start()
        admin = sign_in(src, "admin", src.admin_password)
        first = admin.post("/api/schools", school_body(region_code=TOWN_A, lat=30.123456789012345)).json
        src_db = os.path.join(src.data, "xiaoan.db")
        # the source is a serving server's database
        counts = copy(binary, "sqlite:" + src_db, pg)
        assert counts["schools"][0] >= 123 and counts["audit"][0] > 0, counts
        verify(binary, pg)
        n_audit = counts["audit"][0]

        # a province server on the copy: the county's key, sign-in, a new record
        on_pg_dir = tempfile.mkdtemp(prefix="xiaoan-onpg-")
        shutil.copy(os.path.join(src.data, "secret.key"), on_pg_dir)
        on_pg = xa.Server(binary, data=on_pg_dir, init=False, env={"XIAOAN_DATABASE": pg}).start()
        c = xa.Client(on_pg)
        c.login("admin", xa.STRONG)
        got = c.get("/api/schools/%d" % first["id"]).json
        assert got["name"] == first["name"] and got["lat"] == first["lat"], (got, first)
        r = c.post("/api/schools", school_body(region_code=TOWN_A))
        assert r.status == 201, "a new school on the copy (the id sequence past the copied ids): %r" % r
        second = r.json
        assert second["id"] > first["id"]
        assert on_pg.stop() == 0

        # and back onto a SQLite file
        back_db = os.path.join(back_dir, "xiaoan.db")
        counts_back = copy(binary, pg, "sqlite:" + back_db)
        assert counts_back["schools"][0] == counts["schools"][0] + 1, (counts, counts_back)
        assert counts_back["audit"][0] > n_audit
        shutil.copy(os.path.join(src.data, "secret.key"), back_dir)
        back = sqlite_server(binary, back_dir).start()
        c = xa.Client(back)
        c.login("admin", xa.STRONG)
        for s in (first, second):
            assert c.get("/api/schools/%d" % s["id"]).status == 200
        assert back.stop() == 0
        verify(binary, "sqlite:" + back_db)
        # the county's audit rows came back byte for byte, and the schools
        assert rows(src_db, "audit")[:n_audit] == rows(back_db, "audit")[:n_audit]
        assert [r for r in rows(back_db, "schools") if r[0][1] != second["id"]] == rows(src_db, "schools")
        assert src.stop() == 0
    finally:
        for s in (on_pg, back):
            if s:
                s.cleanup()
        src.cleanup()
        drop_db(base, pg_name)
        shutil.rmtree(back_dir, ignore_errors=True)


def test_copy_sqlite_to_sqlite_is_identical(binary):
    src = sqlite_server(binary)
    dst_dir = tempfile.mkdtemp(prefix="xiaoan-copy-")
    dst = None
    try:
        src.cli("demo")
        src_db, dst_db = os.path.join(src.data, "xiaoan.db"), os.path.join(dst_dir, "xiaoan.db")
        counts = copy(binary, "sqlite:" + src_db, "sqlite:" + dst_db)
        assert set(counts) == set(tables(src_db)), "every table is copied: %r" % sorted(counts)
        for t in tables(src_db):
            assert rows(src_db, t) == rows(dst_db, t), "table %s differs" % t
        verify(binary, "sqlite:" + dst_db)
        shutil.copy(os.path.join(src.data, "secret.key"), dst_dir)
        dst = sqlite_server(binary, dst_dir).start()
        sign_in(dst, "admin", src.admin_password)
        assert dst.stop() == 0
        # a missing source is not an empty one
        p = xiaoan(binary, "copy", "--from", "sqlite:" + os.path.join(dst_dir, "nope.db"), "--to",
                   "sqlite:" + os.path.join(dst_dir, "other.db"))
        assert p.returncode == 1 and "no database" in p.stderr, p
        assert not os.path.exists(os.path.join(dst_dir, "nope.db"))
    finally:
        if dst:
            dst.cleanup()
        src.cleanup()
        shutil.rmtree(dst_dir, ignore_errors=True)


def test_copy_refuses_a_target_that_is_not_empty(binary):
    # the target is this pass's database: SQLite, or PostgreSQL in the pg pass
    target = xa.Server(binary)
    src = sqlite_server(binary)
    try:
        src.cli("demo")
        url = target.env.get("XIAOAN_DATABASE") or "sqlite:" + os.path.join(target.data, "xiaoan.db")
        db = target.db()
        before = db.execute("SELECT count(*) FROM audit").fetchone()[0]
        db.close()
        p = xiaoan(binary, "copy", "--from", "sqlite:" + os.path.join(src.data, "xiaoan.db"), "--to", url)
        assert p.returncode == 1, p
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("xiaoan: copy: the target is not empty"), p.stderr
        db = target.db()
        assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == before
        assert db.execute("SELECT count(*) FROM regions").fetchone()[0] == 0
        db.close()
        # asking wrongly says how to ask
        for args in (["copy"], ["copy", "--from", url], ["copy", "--to", url, "--force"], ["backup"]):
            p = xiaoan(binary, *args)
            assert p.returncode != 0 and p.stderr.startswith("xiaoan:") and len(p.stderr.strip().splitlines()) == 1, (
                args, p.stderr)
        for cmd in ("copy", "backup"):
            p = xiaoan(binary, cmd, "--help")
            assert p.returncode == 0 and p.stdout.startswith("usage: xiaoan " + cmd), p
    finally:
        src.cleanup()
        target.cleanup()

"""The PostgreSQL backend where it differs from SQLite: the database ends
every session of the server (a restart, an administrator's
pg_terminate_backend) and the server carries on without an error and
without losing or repeating a write; two servers writing to one database at
once keep one unbroken audit chain (db_begin's writer lock and the chain's
head-row lock). Skipped on SQLite."""
import threading
import time

import xa
from fixtures import TOWN_A, school_body, sign_in, sql1

OWN_SERVER = True


def need_pg():
    if not xa.PG:
        raise xa.Skip("PostgreSQL only")


def drop_sessions(s):
    """Ends every session of s's database and waits until they are gone."""
    admin = xa.pg_url("postgres")
    q = "FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid()" % s.pg_db
    n = int(xa.psql(admin, "SELECT count(*) " + q).strip())
    xa.psql(admin, "SELECT pg_terminate_backend(pid) " + q)
    deadline = time.time() + 10
    while int(xa.psql(admin, "SELECT count(*) " + q).strip()):
        assert time.time() < deadline, "sessions did not end"
        time.sleep(0.05)
    return n


def in_parallel(n, fn):
    out, threads = [None] * n, []
    for k in range(n):
        th = threading.Thread(target=lambda k=k: out.__setitem__(k, fn(k)))
        threads.append(th)
        th.start()
    for th in threads:
        th.join(60)
    return out


def test_server_reconnects_when_the_database_ends_its_sessions(binary):
    need_pg()
    s = xa.Server(binary)
    try:
        s.cli("demo")
        s.start()
        admin = sign_in(s, "admin", s.admin_password)
        # several pooled connections in use, then idle
        assert all(r.status == 200 for r in in_parallel(6, lambda k: admin.get("/api/schools")))
        before = sql1(s, "SELECT count(*) FROM audit")
        for round_ in range(2):
            assert drop_sessions(s) >= 1
            # reads and writes, several at once, straight after: no error
            got = in_parallel(6, lambda k: admin.post("/api/schools", school_body(region_code=TOWN_A)))
            assert all(r.status == 201 for r in got), got
            assert admin.get("/readyz").status == 200
            assert all(r.status == 200 for r in in_parallel(6, lambda k: admin.get("/api/schools")))
        # each write exactly once, each with its one audit entry
        assert sql1(s, "SELECT count(*) FROM schools WHERE code LIKE '77%'") == 12
        assert sql1(s, "SELECT count(*) FROM audit") == before + 12
        p = s.cli("audit", "verify", check=False)
        assert p.returncode == 0 and "chain intact" in p.stdout, p.stdout + p.stderr
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_two_servers_on_one_database_keep_one_chain(binary):
    need_pg()
    a = xa.Server(binary)
    b = None
    try:
        a.cli("demo")
        a.start()
        b = xa.Server(binary, data=a.data, init=False).start()   # the same database
        ca = sign_in(a, "admin", a.admin_password)
        cb = xa.Client(b)
        cb.login("admin", xa.STRONG)
        ids = [ca.post("/api/schools", school_body(region_code=TOWN_A)).json["id"] for _ in range(3)]
        base = sql1(a, "SELECT count(*) FROM audit")
        statuses, lock = [], threading.Lock()
        stop = time.time() + 1.5

        def clerk(k):
            c = xa.Client(a if k % 2 else b)
            c.cookies, c.csrf = dict((ca if k % 2 else cb).cookies), (ca if k % 2 else cb).csrf
            n = 0
            while time.time() < stop:
                n += 1
                if n % 4 == 0:
                    r = c.post("/api/schools", school_body(region_code=TOWN_A))
                else:
                    r = c.patch("/api/schools/%d" % ids[(k + n) % 3], {"address": "并发写入-%d-%d" % (k, n)})
                with lock:
                    statuses.append(r.status)

        in_parallel(6, clerk)
        assert statuses and all(st in (200, 201) for st in statuses), sorted(set(statuses))
        assert sql1(a, "SELECT count(*) FROM audit") == base + len(statuses)
        p = a.cli("audit", "verify", check=False)
        assert p.returncode == 0 and "chain intact" in p.stdout, p.stdout + p.stderr
        assert b.stop() == 0
        assert a.stop() == 0
    finally:
        if b:
            b.stop()
        a.cleanup()

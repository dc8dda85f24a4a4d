"""Background jobs with two servers on one database (SQLite: one data
directory; PostgreSQL: one database), both looking at the jobs table every
second (XIAOAN_SCHED_TICK=1) and both reading the one clock file the test
moves. The test job test_tick (XIAOAN_TEST_JOBS) is due every minute and
appends "due server" to a file at the end of each run: each due time runs
exactly once across both servers, missed due times are skipped and
counted, and a server SIGKILLed in the middle of a run leaves its due time
to the other once the lease (4 s) has expired. Then the first real jobs:
session_cleanup removes expired sessions, audit_checkpoint records the
chain's head at 02:00 Asia/Shanghai, and `audit verify` then catches the
attack it could not see before (the chain's tail deleted and audit_head
rewritten to match)."""
import collections
import os
import re
import sqlite3
import tempfile
import time

import xa
from fixtures import sign_in, sql, sql1

OWN_SERVER = True

TICK_JOB = "test_tick"
PERIOD = 60      # test_tick's period
LEASE = 4        # test_tick's lease


class Pair:
    """Two servers on one database sharing one clock file; a is the one
    that ran init."""

    def __init__(self, binary, test_jobs=True, sleep=None):
        self.data = tempfile.mkdtemp(prefix="xiaoan-jobs-")
        self.ticks = os.path.join(self.data, "ticks")
        self.sleep = os.path.join(self.data, "sleep")
        if sleep:
            # before the servers start: test_tick's first due time may come
            # by itself (the clock runs in real time too)
            with open(self.sleep, "w") as f:
                f.write(str(sleep))
        env = {"XIAOAN_SCHED_TICK": "1"}
        if test_jobs:
            env.update({"XIAOAN_TEST_JOBS": self.ticks, "XIAOAN_TEST_JOB_SLEEP": self.sleep})
        self.a = self.b = None
        self.a = xa.Server(binary, data=self.data, env=env)
        self.a.start()
        self.b = xa.Server(binary, data=self.data, init=False, env=env).start()
        self.offset = 0

    def servers(self):
        return [s for s in (self.a, self.b) if s]

    def set_clock(self, t):
        """Moves the shared clock so that it reads at least t now (written
        whole, by rename, so a server never reads half a file)."""
        self.offset = max(self.offset, int(t - time.time()) + 1)
        tmp = self.a.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(self.offset))
        os.replace(tmp, self.a.clock)

    def now(self):
        return int(time.time()) + self.offset

    def job(self, name):
        rows = sql(self.a, "SELECT next_due, lease_owner, lease_until, runs FROM jobs WHERE name = ?", name)
        return rows[0] if rows else None

    def lines(self):
        """test_tick's runs so far: [(due, server id)]."""
        try:
            with open(self.ticks) as f:
                return [(int(d), s) for d, s in (line.split() for line in f if line.strip())]
        except FileNotFoundError:
            return []

    def close(self):
        for s in (self.b, self.a):
            if s:
                s.stop()
        if self.a:
            self.a.cleanup()


def wait_for(what, fn, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def server_pid(server_id):
    return int(server_id.split(":")[-2])


def test_each_due_time_runs_exactly_once_across_two_servers(binary):
    p = Pair(binary)
    try:
        due0 = wait_for("test_tick's row", lambda: p.job(TICK_JOB))[0]
        assert due0 % PERIOD == 0, due0
        dues = [due0 + k * PERIOD for k in range(5)]
        for due in dues:
            p.set_clock(due)
            wait_for("the run of due time %d" % due, lambda: any(d == due for d, _ in p.lines()))
        # a moment more for a second run to show, if there were one
        time.sleep(1.5)
        got = collections.Counter(d for d, _ in p.lines())
        assert sorted(got) == dues and set(got.values()) == {1}, got
        pids = {p.a.proc.pid, p.b.proc.pid}
        assert {server_pid(s) for _, s in p.lines()} <= pids
        # job_runs says the same: one successful run per due time
        runs = sql(p.a, "SELECT due, status, server, skipped FROM job_runs WHERE name = ? ORDER BY due", TICK_JOB)
        assert [(d, st, k) for d, st, _, k in runs] == [(d, "ok", 0) for d in dues], runs
        assert p.job(TICK_JOB)[0] == dues[-1] + PERIOD and p.job(TICK_JOB)[1] is None

        # four due times pass while nobody looks: the first of them runs,
        # the three that had passed when it began are skipped and counted
        p.set_clock(dues[-1] + 4 * PERIOD)
        late = dues[-1] + PERIOD
        wait_for("the late run", lambda: any(d == late for d, _ in p.lines()))
        time.sleep(1.5)
        assert [d for d, _ in p.lines()] == dues + [late], p.lines()
        assert sql(p.a, "SELECT status, skipped FROM job_runs WHERE name = ? AND due = ?", TICK_JOB, late) == \
            [("ok", 3)]
        assert p.job(TICK_JOB)[0] == dues[-1] + 5 * PERIOD
        for s in p.servers():
            assert s.stop() == 0, s.tail()
    finally:
        p.close()


def test_a_run_killed_mid_job_runs_again_on_the_other_server(binary):
    # a run holds on (up to 60 s) while the sleep file is there
    p = Pair(binary, sleep=60)
    try:
        due = wait_for("test_tick's row", lambda: p.job(TICK_JOB))[0]
        p.set_clock(due)
        _, owner, lease_until, _ = wait_for("a server to claim the due time",
                                            lambda: (lambda j: j if j[1] else None)(p.job(TICK_JOB)))
        victim = p.a if p.a.proc.pid == server_pid(owner) else p.b
        survivor = p.b if victim is p.a else p.a
        assert victim.proc.pid == server_pid(owner), owner
        victim.stop(sig=9)
        os.unlink(p.sleep)
        # the killed run never finished: no line, and the due time is still due
        assert p.lines() == []
        assert p.job(TICK_JOB)[0] == due
        wait_for("the other server to run the due time", lambda: p.lines(), timeout=LEASE + 10)
        time.sleep(1.5)
        assert len(p.lines()) == 1, p.lines()
        d, by = p.lines()[0]
        assert d == due and server_pid(by) == survivor.proc.pid, (p.lines(), survivor.proc.pid)
        runs = sql(p.a, "SELECT status, server, started_at FROM job_runs WHERE name = ? AND due = ? ORDER BY id",
                   TICK_JOB, due)
        assert [(st, srv) for st, srv, _ in runs] == [("abandoned", owner), ("ok", by)], runs
        # the survivor waited for the lease to run out
        assert runs[1][2] > lease_until, (runs, lease_until)
        j = p.job(TICK_JOB)
        assert j[0] == due + PERIOD and j[1] is None, j
        # the next due time runs once, too
        p.set_clock(due + PERIOD)
        wait_for("the next run", lambda: len(p.lines()) == 2)
        assert [d for d, _ in p.lines()] == [due, due + PERIOD]
        assert survivor.stop() == 0, survivor.tail()
    finally:
        p.close()


def head(s):
    return sql(s, "SELECT seq, hash FROM audit_head WHERE id = 1")[0]


def checkpoints(s):
    return sql(s, "SELECT seq, hash FROM audit_checkpoints ORDER BY seq")


def test_session_cleanup_and_the_audit_checkpoint(binary):
    p = Pair(binary, test_jobs=False)
    try:
        wait_for("the jobs' rows", lambda: p.job("session_cleanup") and p.job("audit_checkpoint"))
        admin = sign_in(p.a, "admin", p.a.admin_password)
        assert admin.get("/api/auth/me").status == 200
        assert sql1(p.a, "SELECT count(*) FROM sessions") >= 1
        # 13 hours later every session has ended (12 h absolute at most)
        p.set_clock(p.now() + 13 * 3600)
        wait_for("session_cleanup to delete the sessions", lambda: sql1(p.a, "SELECT count(*) FROM sessions") == 0)
        # the run is recorded in its own transaction once the job's has committed
        wait_for("the cleanup's run recorded",
                 lambda: sql1(p.a, "SELECT count(*) FROM job_runs WHERE name = 'session_cleanup' AND status = 'ok'") >= 1)
        # a session in use is kept
        c = xa.Client(p.b)
        c.login("admin", xa.STRONG)
        p.set_clock(p.job("session_cleanup")[0])
        runs = sql1(p.a, "SELECT runs FROM jobs WHERE name = 'session_cleanup'")
        wait_for("the next cleanup", lambda: sql1(p.a, "SELECT runs FROM jobs WHERE name = 'session_cleanup'") > runs)
        assert sql1(p.a, "SELECT count(*) FROM sessions") == 1
        assert c.get("/api/auth/me").status == 200

        # the checkpoint: at the next 02:00 in Shanghai (18:00 UTC)
        due = p.job("audit_checkpoint")[0]
        assert due % 86400 == 18 * 3600 and 0 < due - p.now() <= 86400, due
        # one more audit entry first: the clock jumps above may already have
        # passed an 02:00 (when the test starts between 04:50 and 05:00 UTC), and
        # a checkpoint of an unchanged head adds no row
        xa.Client(p.a).login("admin", xa.STRONG)
        before = checkpoints(p.a)
        p.set_clock(due)
        wait_for("the checkpoint", lambda: len(checkpoints(p.a)) > len(before))
        assert checkpoints(p.a)[-1] == head(p.a)
        wait_for("the checkpoint's run recorded",
                 lambda: sql(p.a, "SELECT status FROM job_runs WHERE name = 'audit_checkpoint' AND due = ?", due))
        assert sql(p.a, "SELECT status FROM job_runs WHERE name = 'audit_checkpoint' AND due = ?", due) == [("ok",)]
        wait_for("the next due time", lambda: p.job("audit_checkpoint")[0] == due + 86400)
        # xiaoan audit checkpoint takes one now; the same head twice is one checkpoint
        xa.Client(p.a).login("admin", xa.STRONG)    # one more entry
        out = p.a.cli("audit", "checkpoint")
        seq = head(p.a)[0]
        assert re.search(r"checkpoint at entry %d, hash \w{64} \(new\)" % seq, out), out
        assert "taken already" in p.a.cli("audit", "checkpoint")
        assert checkpoints(p.a)[-1] == head(p.a)
        out = p.a.cli("audit", "verify")
        assert re.search(r"chain intact; %d checkpoint\(s\) hold" % len(checkpoints(p.a)), out), out
        for s in p.servers():
            assert s.stop() == 0, s.tail()

        # the attack: delete the last three entries and rewrite the head to
        # match. The chain and the head hold together; the checkpoint does not.
        keep = seq - 3
        if xa.PG:
            p.a.db().execute("ALTER TABLE audit DISABLE TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > %d;"
                             " UPDATE audit_head SET seq = %d, hash = (SELECT hash FROM audit WHERE seq = %d)"
                             % (keep, keep, keep))
        else:
            db = sqlite3.connect(os.path.join(p.data, "xiaoan.db"))
            db.executescript("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > %d;"
                             " UPDATE audit_head SET seq = %d, hash = (SELECT hash FROM audit WHERE seq = %d);"
                             % (keep, keep, keep))
            db.close()
        r = p.a.cli("audit", "verify", check=False)
        assert r.returncode == 1, r.stdout + r.stderr
        problems = r.stdout.strip().splitlines()
        assert any(re.match(r"audit: checkpoint %d \(taken .*\) fails: entry %d is missing" % (seq, seq), line)
                   for line in problems), r.stdout
        # nothing but the checkpoints saw it
        assert all(line.startswith("audit: checkpoint ") for line in problems), r.stdout
    finally:
        p.close()

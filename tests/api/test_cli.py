"""The command line as an operator scripts it, and configuration from
xiaoan.conf, XIAOAN_* variables and flags (the last wins)."""
import http.client
import os
import subprocess
import tempfile
import time

import xa

OWN_SERVER = True


def run(binary, *args, cwd=None, env=None):
    e = dict(os.environ, XIAOAN_PW_COST="fast")
    if env:
        e.update(env)
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd, env=e, timeout=60)


def test_every_command_has_help(binary):
    for cmd in (["serve"], ["init"], ["migrate"], ["user"], ["audit", "verify"], ["demo"]):
        p = run(binary, *cmd, "--help", cwd=tempfile.mkdtemp())
        assert p.returncode == 0, (cmd, p.stderr)
        assert "usage: xiaoan" in p.stdout, (cmd, p.stdout)
    p = run(binary, "--help")
    assert p.returncode == 0 and "commands:" in p.stdout


def test_failures_say_why_in_one_line(binary):
    d = tempfile.mkdtemp()
    for args in (["frobnicate"], ["serve", "--listen"], ["serve", "extra"], ["init", "--bogus"],
                 ["serve", "--threads", "0"], ["serve", "--config", os.path.join(d, "missing.conf")]):
        p = run(binary, *args, "--data", d, cwd=d)
        assert p.returncode != 0, args
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert lines and lines[-1].startswith("xiaoan:"), (args, p.stderr)


def test_init_prints_password_last_and_refuses_twice(binary):
    d = tempfile.mkdtemp()
    p = run(binary, "init", "--data", d)
    assert p.returncode == 0
    pw = p.stdout.strip().splitlines()[-1]
    assert len(pw) == 16 and " " not in pw
    p = run(binary, "init", "--data", d)
    assert p.returncode != 0 and p.stderr.startswith("xiaoan:")
    p = run(binary, "migrate", "--data", d)
    assert p.returncode == 0 and "schema version" in p.stdout


def wait_port(port):
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.05)
    return False


def test_configuration_file_env_and_flags(binary):
    d = tempfile.mkdtemp()
    data = os.path.join(d, "data")
    p1, p2, p3 = xa.free_port(), xa.free_port(), xa.free_port()
    with open(os.path.join(d, "xiaoan.conf"), "w") as f:
        f.write("# the office's settings\nlisten = 127.0.0.1:%d\ndata_dir = %s\nsession_idle = 120\n" % (p1, data))
    assert run(binary, "init", cwd=d).returncode == 0
    assert os.path.exists(os.path.join(data, "xiaoan.db")), "data_dir from xiaoan.conf"
    procs = []
    try:
        # the file alone
        procs.append(subprocess.Popen([binary, "serve"], cwd=d, stderr=subprocess.DEVNULL,
                                      env=dict(os.environ, XIAOAN_PW_COST="fast")))
        assert wait_port(p1), "listen from xiaoan.conf"
        # the environment over the file
        procs.append(subprocess.Popen([binary, "serve"], cwd=d, stderr=subprocess.DEVNULL,
                                      env=dict(os.environ, XIAOAN_LISTEN="127.0.0.1:%d" % p2)))
        assert wait_port(p2), "XIAOAN_LISTEN over the file"
        # a flag over both
        procs.append(subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % p3], cwd=d,
                                      stderr=subprocess.DEVNULL,
                                      env=dict(os.environ, XIAOAN_LISTEN="127.0.0.1:%d" % p2)))
        assert wait_port(p3), "--listen over XIAOAN_LISTEN"
    finally:
        for p in procs:
            p.terminate()
            assert p.wait(20) == 0, "graceful stop exits 0"
    # a bad value in the file is a one-line error naming the line
    with open(os.path.join(d, "xiaoan.conf"), "a") as f:
        f.write("threads = many\n")
    p = run(binary, "migrate", cwd=d)
    assert p.returncode != 0 and "xiaoan.conf:5" in p.stderr and "threads" in p.stderr


def test_sigterm_lets_a_request_in_flight_finish(binary):
    s = xa.Server(binary).start()
    try:
        c = xa.Client(s)
        c.login("admin", s.admin_password)
        # a large upload in flight while the server is told to stop
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.putrequest("POST", "/api/auth/password")
        conn.putheader("Cookie", "xiaoan_session=" + c.cookies["xiaoan_session"])
        conn.putheader("X-CSRF-Token", c.csrf)
        conn.putheader("Content-Type", "application/json")
        body = ('{"old_password":"%s","new_password":"%s"}' % (s.admin_password, xa.STRONG)).encode()
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:10])
        time.sleep(0.2)
        s.proc.terminate()
        time.sleep(0.2)
        conn.send(body[10:])
        r = conn.getresponse()
        assert r.status == 204, r.status
        assert s.proc.wait(20) == 0
    finally:
        s.cleanup()

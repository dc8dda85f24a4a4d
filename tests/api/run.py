#!/usr/bin/env python3
"""run.py BINARY [pattern] - runs every tests/api/test_*.py against a real
server built as BINARY and prints TAP ("ok N - name" / "not ok N - name").

Each test module gets one server (a fresh data directory) shared by its
tests, unless the module sets OWN_SERVER = True and manages servers itself.
With XIAOAN_TEST_PG_BASE set the servers run on PostgreSQL (see xa.py) and
the lines say "pg". A test that does not apply raises xa.Skip.
"""
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import xa  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    label = os.path.basename(os.path.dirname(binary)) + (" pg" if xa.PG else "")
    n = failed = 0
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")) or pattern not in name:
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = [(k, v) for k, v in vars(mod).items() if k.startswith("test_") and callable(v)]
        tests.sort(key=lambda kv: kv[1].__code__.co_firstlineno)
        ctx = None
        try:
            if not getattr(mod, "OWN_SERVER", False):
                ctx = xa.Ctx(binary)
        except Exception:
            for k, _ in tests:
                n += 1
                failed += 1
                print("not ok %d - %s %s.%s (server setup)" % (n, label, name[:-3], k))
            traceback.print_exc()
            continue
        for k, fn in tests:
            n += 1
            t0 = time.time()
            try:
                fn(ctx) if ctx else fn(binary)
                print("ok %d - %s %s.%s (%.2fs)" % (n, label, name[:-3], k, time.time() - t0), flush=True)
            except xa.Skip as e:
                print("ok %d - %s %s.%s # SKIP %s" % (n, label, name[:-3], k, e), flush=True)
            except Exception:
                failed += 1
                print("not ok %d - %s %s.%s" % (n, label, name[:-3], k), flush=True)
                for line in traceback.format_exc().splitlines():
                    print("#   " + line)
                if ctx:
                    for line in ctx.server.tail(15).splitlines():
                        print("#   server: " + line)
        if ctx:
            rc = ctx.server.stop()
            if rc not in (0, None):
                n += 1
                failed += 1
                print("not ok %d - %s %s: server exited %s on SIGTERM (sanitizer report?)" % (n, label, name[:-3], rc))
                for line in ctx.server.tail(40).splitlines():
                    print("#   server: " + line)
            ctx.close()
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Small frame for a tests/regress/ program: start a server, check, stop.

    from regress import Srv, H, check, done
    srv = Srv(tag="what-broke").start()
    ...
    check(cond, "what should hold")
    done(srv)          # stops the server, fails on a sanitizer report, exits 0/1

A failed check is recorded and the test goes on (more evidence per run);
done() exits 1 if any check failed."""
import os, sys, signal
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hc import *          # noqa: F401,F403  (raw PDU builders, H, Srv, USERS)
from srv import Srv, USERS, free_port  # noqa: F401

_failures = []


def check(cond, what):
    print("%s  %s" % ("ok  " if cond else "FAIL", what), flush=True)
    if not cond:
        _failures.append(what)
    return cond


def done(*servers):
    """Stop the servers (SIGTERM must work: a hung worker fails the test),
    check for sanitizer reports, remove scratch directories (also after a
    failure, once the server log's tail is printed; REGRESS_KEEP=1 keeps
    them), exit."""
    import shutil
    for srv in servers:
        if srv.proc and srv.proc.poll() is None:
            srv.proc.send_signal(signal.SIGTERM)
            try:
                srv.proc.wait(timeout=20)
            except Exception:
                check(False, "SIGTERM stops the server within 20 s")
                srv.proc.kill()
                srv.proc.wait()
        rep = srv.sanitizer()
        check(not rep, "no sanitizer report")
        if rep:
            print(rep[-6000:])
        if _failures and os.environ.get("REGRESS_KEEP") == "1":
            print("server log and scratch kept in", srv.tmp)
            continue
        if _failures:  # the evidence goes to the output; the scratch never stays behind
            try:
                print("--- server log tail\n" + open(srv.log, errors="replace").read()[-3000:])
            except OSError:
                pass
        shutil.rmtree(srv.tmp, ignore_errors=True)
    sys.exit(1 if _failures else 0)

"""smb3ctl -c FILE with errors printed them, fell back to the default
control socket, said "reload requested" and exited 0; `status bogus` ignored
the extra word.  Now it exits 1 without contacting any server, and extra
arguments are usage errors (exit 2)."""
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, check, done

srv = Srv(tag="ctlbad", log_level=2).start()
ctl = os.path.join(srv.build, "smb3ctl")
bad = os.path.join(srv.tmp, "bad.conf")
open(bad, "w").write("[global]\n\tcontrol socket = %s\n\tread only = perhaps\n" % srv.ctl)
for cmd in ("reload", "status"):
    r = subprocess.run([ctl, "-c", bad, cmd], capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and r.stdout == "", "%s with a bad -c file fails without an answer: %r" % (cmd, r))
r = subprocess.run([ctl, "-c", srv.conf, "status", "bogus"], capture_output=True, text=True, timeout=30)
check(r.returncode == 2, "status with an extra argument is a usage error: %r" % (r,))
check("configuration reloaded" not in srv.logtext(), "the server was not asked to reload")
r = subprocess.run([ctl, "-c", srv.conf, "reload"], capture_output=True, text=True, timeout=30)
check(r.returncode == 0 and "in effect" in r.stdout, "a good reload is confirmed by the server: %r" % (r,))
done(srv)

"""A second smb3d on the same port started silently and took part of the
connections (SO_REUSEPORT across processes), and replaced the first one's
control socket (unlink before bind), deleting it at exit.  Now it refuses to
start, and the first server keeps its port and its control socket."""
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, check, done

first = Srv(tag="port1").start()
ino = os.stat(first.ctl).st_ino
for extra in ({},                                             # same port
              {"control socket": first.ctl, "pid directory": first.tmp + "/p2"}):  # same control socket
    second = Srv(port=first.port if not extra else None, extra=extra, tag="port2")
    r = subprocess.run([os.path.join(second.build, "smb3d"), "-c", second.conf],
                       capture_output=True, text=True, timeout=60, cwd=second.tmp)
    check(r.returncode == 1, "second server refused (%s): rc %d %s" % (extra or "same port", r.returncode, r.stderr))
    check(os.path.exists(first.ctl) and os.stat(first.ctl).st_ino == ino, "first server's control socket intact")
    subprocess.run(["rm", "-rf", second.tmp])
ctl = subprocess.run([os.path.join(first.build, "smb3ctl"), "-c", first.conf, "status"],
                     capture_output=True, text=True, timeout=30)
check(ctl.returncode == 0, "smb3ctl still reaches the first server")
check(all(first.healthy() for _ in range(4)), "every connection reaches the first server")
done(first)

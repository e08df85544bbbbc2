"""When accept failed for lack of descriptors (EMFILE), the listener re-armed
its multishot accept at once: the worker spun a core and wrote a warning per
attempt (two million log lines in six seconds).  Now it retries after 100 ms
and warns once per ten seconds; the waiting connections are accepted once
descriptors are free again."""
import os, sys, time, socket, resource
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, check, done

resource.setrlimit(resource.RLIMIT_NOFILE, (700, 700))  # the server inherits it
srv = Srv(tag="emfile", extra={"max unauthenticated connections": "0"}).start()

def cpu_ticks():
    f = open("/proc/%d/stat" % srv.pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

socks = []
for i in range(690):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", srv.port))
    socks.append(s)
time.sleep(1)
lines0 = len(srv.logtext().splitlines())
c0 = cpu_ticks()
time.sleep(5)
c1 = cpu_ticks()
lines1 = len(srv.logtext().splitlines())
print("fds %d, cpu ticks in 5 s %d, log lines %d -> %d" % (srv.fds(), c1 - c0, lines0, lines1))
check(srv.fds() >= 690, "the descriptors are exhausted (%d)" % srv.fds())
check(c1 - c0 < 100, "the worker does not spin while accept fails (%d ticks in 5 s)" % (c1 - c0))
check(lines1 - lines0 < 10, "the log is not flooded (%d new lines)" % (lines1 - lines0))
for s in socks:
    s.close()
time.sleep(2)
check(srv.healthy(), "a client is served once descriptors are free again")
done(srv)

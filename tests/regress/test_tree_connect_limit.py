"""D7 (the limit): a session could make any number of tree connects, each
holding the share root's descriptor (past 256 the teardown leaked them), and
a connection any number of sessions.  "max tree connects per session" and
"max sessions per connection" bound both with STATUS_INSUFFICIENT_RESOURCES."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, USERS, check, done, hdr, b_tcon, b_echo, st, U16, TCON, LOGOFF, R

srv = Srv(tag="trees", extra={"max tree connects per session": "40", "max sessions per connection": "4"}).start()
base_fds = srv.fds()
h = H(srv.port)   # holds one tree already
path = U16("\\\\127.0.0.1\\share")
res = [st(h.call(hdr(TCON, h.mid(), h.sid) + b_tcon(path))) for _ in range(45)]
ok = res.count("STATUS_SUCCESS")
print("tree connects:", ok + 1, "then", sorted(set(res) - {"STATUS_SUCCESS"}))
check(ok + 1 == 40, "40 tree connects in one session (%d)" % (ok + 1))
check(res[-1] == "STATUS_INSUFFICIENT_RESOURCES", "the 41st is refused with STATUS_INSUFFICIENT_RESOURCES (%s)" % res[-1])
check(srv.fds() >= base_fds + 35, "each tree holds a descriptor")
r = h.call(hdr(LOGOFF, h.mid(), h.sid) + b_echo())
check(st(r) == "STATUS_SUCCESS", "logoff")
time.sleep(1)
check(srv.fds() <= base_fds + 2, "descriptors back after LOGOFF (%d, baseline %d)" % (srv.fds(), base_fds))
# sessions per connection
errs = []
for i in range(6):
    stt, s = R.session_setup(h.c, *USERS[0])
    errs.append(R.status_name(stt) if stt else "STATUS_SUCCESS")
print("sessions:", errs)
check(errs.count("STATUS_SUCCESS") == 4, "4 sessions on one connection (%s)" % errs)
check(errs[-1] == "STATUS_INSUFFICIENT_RESOURCES", "the 5th is refused with STATUS_INSUFFICIENT_RESOURCES")
h.close()
check(srv.healthy(), "another connection still gets a session")
time.sleep(2)
check(srv.fds() <= base_fds + 2, "descriptors back to the baseline after the disconnect")
done(srv)

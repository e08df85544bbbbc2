"""Credit abuse: a request that waits (CHANGE_NOTIFY, a blocking LOCK) gives
its credits back in the interim response, so the credit window did not bound
how many a connection could park.  At most 511 wait per connection now (what
Windows allows with its default AsynchronousCredits of 512); the next fails
with STATUS_INSUFFICIENT_RESOURCES (MS-SMB2 3.3.4.2)."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_notify, b_echo, NOTIFY, ECHO, R

srv = Srv(tag="waiting").start()
h = H(srv.port)
os.makedirs(os.path.join(srv.share, "watched"), exist_ok=True)
fid = h.create("watched", access=0x00100081, disposition=1, options=1)
statuses = {}
for i in range(560):
    h.send(hdr(NOTIFY, h.mid(), h.sid, h.tid, credreq=4) + b_notify(fid))
    r = h.recv_interim(10)
    if isinstance(r, str):
        statuses[r] = statuses.get(r, 0) + 1
        break
    k = "STATUS_PENDING" if r.status == 0x103 else R.status_name(r.status)
    statuses[k] = statuses.get(k, 0) + 1
print(statuses)
check(statuses.get("STATUS_PENDING") == 511, "511 notifies wait (%s)" % statuses)
check(statuses.get("STATUS_INSUFFICIENT_RESOURCES") == 49, "the rest get STATUS_INSUFFICIENT_RESOURCES")
r = h.call(hdr(ECHO, h.mid(), h.sid) + b_echo())
check(not isinstance(r, str) and r.status == 0, "the connection still answers")
h.close()
time.sleep(1)
check(srv.healthy(), "healthy after the waiting requests were dropped with their connection")
done(srv)

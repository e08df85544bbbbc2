"""An oplock break whose channel never acknowledges it must go to another
channel of the session (issue 15; [MS-SMB2] 3.3.4.6).

smb3d sent a break once, on one channel, and only logged a channel that died
before the kernel took it: a break sitting in the socket of a dead (or cut)
connection was lost, and the conflicting CREATE waited the full break timeout.
Now a break counts as delivered once the peer's TCP acknowledged its bytes
(bytes handed to the kernel minus SIOCOUTQ); after 6 x RTO (clamped) without
progress the channel is torn down and the break is sent on the next one.

The channel is "cut" with Samba's test hook FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT
(enabled by "smbd:FSCTL_SMBTORTURE = yes", sent without a session), after which
nothing the server sends on that connection counts as acknowledged."""
import os, re, sys, struct, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403
from leasebrk import FORCE_UNACKED, NOFID, bound_pair

TIMEOUT = 10
srv = Srv(tag="brkretry", extra={"smb3d:oplock break timeout": str(TIMEOUT), "smbd:FSCTL_SMBTORTURE": "yes"}).start()
U1 = USERS[0]

a, b, s = bound_pair(srv.port, U1, "a second channel")

# The holder opens on channel A, so its break goes to A first.
r = a.call(a.header(CREATE, session_id=s.id, tree_id=s.tree_id) + b_create(U16("retry.txt"), disp=OPEN_IF,
                                                                         oplock=BATCH), s.keys[a])
check(r.status == 0 and r.body[2] == BATCH, "the holder gets batch on channel A")
fid = bytes(r.body[64:80])

r = a.call(a.header(IOCTL) + b_ioctl(FORCE_UNACKED, NOFID, inp=b"x", max_out=0))
check(r.status == 0xC000000D, "the hook refuses input (0x%x)" % r.status)
r = a.call(a.header(IOCTL) + b_ioctl(FORCE_UNACKED, NOFID, max_out=0))
check(r.status == 0, "the hook is accepted without a session (0x%x)" % r.status)

c = H(srv.port)
c.send(hdr(CREATE, c.mid(), c.sid, c.tid) + b_create(U16("retry.txt"), disp=OPEN, share=7, oplock=BATCH))
t0 = time.monotonic()
r = c.recv_interim(timeout=5)
check(not isinstance(r, str) and r.status == 0x103, "the conflicting CREATE goes async")
a.sock.settimeout(3)
try:
    brk = a._recv()
    check(brk.command == OPBRK and bytes(brk.body[8:24]) == fid, "the break is sent on channel A first")
except Exception as e:
    check(False, "the break is sent on channel A first (%s)" % e)
time.sleep(0.3)
status = srv.status()
check(re.search(r"^  break session 0x%016x .* channel \d+  channels tried 1" % s.id, status, re.M) is not None,
      "smb3ctl status lists the break in progress")
import json, subprocess
r = subprocess.run([os.path.join(srv.build, "smb3ctl"), "-c", srv.conf, "status", "--json"], capture_output=True,
                   text=True, timeout=20)
try:
    brks = json.loads(r.stdout).get("breaks", [])
except ValueError:
    brks = None
check(brks and brks[0]["kind"] == "oplock" and brks[0]["channels_tried"] == 1,
      "smb3ctl status --json lists it too (%s)" % (brks,))

b.sock.settimeout(8)
brk = b._recv()
waited = time.monotonic() - t0
check(brk.command == OPBRK and bytes(brk.body[8:24]) == fid and brk.body[2] == LEVEL_II,
      "the break is sent again on channel B")
check(1.0 <= waited <= 4.0, "after about 6 x RTO (%.2f s)" % waited)
r = b.call(b.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + struct.pack("<HBBI16s", 24, LEVEL_II, 0, 0, fid),
           s.keys[b])
check(r.status == 0, "the ack on channel B is accepted (0x%x)" % r.status)
r = c.recv(timeout=TIMEOUT + 5)
check(not isinstance(r, str) and r.status == 0, "the CREATE completes (%s)" % st(r))
check(time.monotonic() - t0 < TIMEOUT - 3, "long before the break timeout")
a.sock.settimeout(3)
try:
    gone = a._recv() is None
except Exception:
    gone = True
check(gone, "channel A was closed")
a.close(); b.close(); c.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

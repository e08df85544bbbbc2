"""A channel given up because it did not acknowledge a break must be reset,
not closed with a FIN (issue 15).

smb3d closed such a channel with shutdown(SHUT_RDWR): the FIN went into the
send queue behind the break, which the peer had not acknowledged.  When the
peer's ACKs are lost (smbtorture's iptables "block" drops what the client
sends), TCP retransmits the old bytes and sends nothing new, the FIN
neither: the client never learnt the channel was gone, and its lease break
ack on it stayed pending (smbtorture smb2.multichannel.leases.test2 counts
that failure).  Now the channel is aborted: no FIN, and the close sends a
RST, which goes out at once.

The channel is "cut" with Samba's test hook FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT
(the client's ACKs still arrive, so a FIN would be seen here: the test tells
the two apart by what the client's socket reports first, end of stream or
a reset)."""
import os, socket, struct, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403
from leasebrk import FORCE_UNACKED, NOFID, bound_pair

TIMEOUT = 10
srv = Srv(tag="brkreset", extra={"smb3d:oplock break timeout": str(TIMEOUT), "smbd:FSCTL_SMBTORTURE": "yes"}).start()
U1 = USERS[0]

a, b, s = bound_pair(srv.port, U1, "a second channel")

r = a.call(a.header(CREATE, session_id=s.id, tree_id=s.tree_id) + b_create(U16("reset.txt"), disp=OPEN_IF,
                                                                         oplock=BATCH), s.keys[a])
check(r.status == 0 and r.body[2] == BATCH, "the holder gets batch on channel A")
fid = bytes(r.body[64:80])
r = a.call(a.header(IOCTL) + b_ioctl(FORCE_UNACKED, NOFID, max_out=0))
check(r.status == 0, "the hook is accepted (0x%x)" % r.status)

c = H(srv.port)
c.send(hdr(CREATE, c.mid(), c.sid, c.tid) + b_create(U16("reset.txt"), disp=OPEN, share=7, oplock=BATCH))
r = c.recv_interim(timeout=5)
check(not isinstance(r, str) and r.status == 0x103, "the conflicting CREATE goes async")
a.sock.settimeout(3)
try:
    brk = a._recv()
    check(brk.command == OPBRK and bytes(brk.body[8:24]) == fid, "the break is sent on channel A first")
except Exception as e:
    check(False, "the break is sent on channel A first (%s)" % e)

b.sock.settimeout(8)
brk = b._recv()
check(brk is not None and brk.command == OPBRK, "the break moves on to channel B")
r = b.call(b.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + struct.pack("<HBBI16s", 24, LEVEL_II, 0, 0, fid),
           s.keys[b])
check(r.status == 0, "the ack on channel B is accepted (0x%x)" % r.status)
r = c.recv(timeout=TIMEOUT + 5)
check(not isinstance(r, str) and r.status == 0, "the CREATE completes (%s)" % st(r))

# Channel A: a reset, not an orderly end of stream.
a.sock.settimeout(5)
end = time.monotonic() + 5
how = "nothing"
while time.monotonic() < end:
    try:
        data = a.sock.recv(65536)
    except ConnectionResetError:
        how = "reset"
        break
    except socket.timeout:
        break
    if not data:
        how = "end of stream (a FIN)"
        break
check(how == "reset", "channel A was reset (%s)" % how)
a.sock.close(); b.close(); c.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

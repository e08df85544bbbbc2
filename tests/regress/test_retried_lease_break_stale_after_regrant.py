"""A lease break retried on another channel must not be stale (issue 15).

The kernel-client scenario `shared` stalled client B 14 s: a break of
client A's lease went out on A's channel that was cut; meanwhile A closed
the file (the lease ended) and opened it again with the same LeaseKey (a
new lease, its epoch starting again).  The break retry then resent the
*old* break on A's other channel: it was only tied to (ClientGUID,
LeaseKey), and the new lease had the same count of acknowledgments.  A
held RWH at an epoch as new as the break's and answered with the state it
held; smb3d refused that ack (STATUS_REQUEST_NOT_ACCEPTED, [MS-SMB2]
3.3.5.22.2), and the next conflicting open waited until A closed.

Now a break job names the lease instance and the break it was made for,
and a retry drops it once the lease was made again, acknowledged, or
broken anew.  Here channel A1 is "cut" with Samba's test hook
FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT (nothing sent on it counts as
acknowledged; the retry comes 6 x RTO after the send, about 1.2 s on
loopback).  Checked: no break of the old lease reaches A2, and the next
break of the new lease carries an epoch newer than the grant's, is
acknowledged, and the conflicting open completes at once."""
import os, struct, sys, time, uuid
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from leasebrk import *  # noqa: F403

U1 = USERS[0]
NAME = "stale.txt"


srv = Srv(tag="stalebrk", extra={"smbd:FSCTL_SMBTORTURE": "yes", "worker threads": "1"}).start()
a1, a2, s, b, sb = two_clients(srv.port, U1)
key_a = uuid.uuid4().bytes

# A holds RWH (A1 is A's oldest channel: its lease breaks go there first).
r = a2.call(R.create_request(a2, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a2])
ls = lease_of(r) if r.status == 0 else None
check(ls is not None and ls[0] == RWH, "A gets an RWH lease (%s)" % (ls,))
fid_a = bytes(r.body[64:80])
r = a1.call(a1.header(IOCTL) + b_ioctl(FORCE_UNACKED, NOFID, max_out=0))
check(r.status == 0, "A1 is cut (the test hook is accepted: 0x%x)" % r.status)

# B's conflicting open: the break RWH -> RH goes to A1, where nobody reads it.
t0 = time.monotonic()
send(b, sb, R.create_request(b, sb, NAME, disposition=3, oplock=0xFF, contexts=[rqls(uuid.uuid4().bytes, RWH)]))
time.sleep(0.2)
# Before the retry: A closes (its lease ends), B's open completes and B
# closes too, A opens again with the same key: a new lease, RWH.
R.close(a2, s, fid_a)
r = recv(b, 5)
check(r.status == 0, "B's first open completes once A closed (0x%x)" % r.status)
R.close(b, sb, bytes(r.body[64:80]))
r = a2.call(R.create_request(a2, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a2])
ls = lease_of(r) if r.status == 0 else None
check(ls is not None and ls[0] == RWH, "A gets the key's lease again, RWH (%s)" % (ls,))
grant_epoch = ls[1] if ls else 0
fid_a = bytes(r.body[64:80])
check(time.monotonic() - t0 < 1.0, "all that before the retry (%.2f s after the break)" % (time.monotonic() - t0))

# The retry comes ~1.2 s after the send: it must not bring the old break to A2.
stale = None
try:
    stale = recv(a2, 3.5)
except OSError:
    pass
check(stale is None, "no break of the old lease on A2 (%s)" % (str(parse_break(stale)) if stale else "none"))

# The next conflict breaks the new lease: a newer epoch than the grant's,
# acked, done at once (A1 is still "cut": the break waits one retry, 1.2 s).
t1 = time.monotonic()
send(b, sb, R.create_request(b, sb, NAME, disposition=3, oplock=0xFF, contexts=[rqls(uuid.uuid4().bytes, RWH)]))
try:
    brk = recv(a2, 5)
except OSError as e:
    brk = None
    check(False, "A gets the new break on A2 (%s)" % e)
if brk is not None:
    key, flags, epoch, cur, new = parse_break(brk)
    check(brk.command == OPBRK and key == key_a and cur == RWH and new == RH and flags & ACK_REQUIRED,
          "the new break is RWH -> RH, ack required (%x -> %x, flags %x)" % (cur, new, flags))
    check(epoch == (grant_epoch + 1) & 0xFFFF,
          "its epoch %d is the grant's %d plus one (3.3.4.7)" % (epoch, grant_epoch))
    ackm = a2.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + struct.pack("<HHI16sIQ", 36, 0, 0, key_a, RH, 0)
    r = a2.call(ackm, s.keys[a2])
    check(r.status == 0, "A's ack to RH is accepted (0x%x)" % r.status)
r = recv(b, 10)
dt = time.monotonic() - t1
check(r.status == 0 and dt < 3.0, "B's conflicting open completes promptly (0x%x, %.2f s)" % (r.status, dt))
for c in (a1, a2, b):
    c.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

"""A lease break resent on another channel must carry an epoch newer than
the one a CREATE response showed meanwhile (issue 15).

In the kernel-client scenario `shared`, a break of client A's RWH lease
went out on A's cut channel (epoch e+1).  Before the retry, A opened the
file again with the same LeaseKey on its other channel: the CREATE
response named the lease RWH with BREAK_IN_PROGRESS and the break's epoch
e+1, as Windows does (smbtorture smb2.lease.v2_breaking3), and the Linux
client took that epoch.  The retry then brought the break with epoch e+1
again; Linux applies a v2 break only when its epoch is newer than the one
it holds, so it acknowledged RWH, smb3d refused the ack
(STATUS_REQUEST_NOT_ACCEPTED, [MS-SMB2] 3.3.5.22.2), and client B's open
waited until A closed (15 s).  Now a break resent after a CREATE response
showed its epoch gets the next epoch.  Without such a CREATE the epoch of
a resent break stays (smbtorture smb2.multichannel.leases.test4; the
retry test with the hook, test_unacknowledged_break_not_retried.py).

Channel A1 is "cut" with Samba's test hook
FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT (the retry comes about 1.2 s after
the send on loopback)."""
import os, struct, sys, time, uuid
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from leasebrk import *  # noqa: F403

U1 = USERS[0]
NAME = "stale.txt"


srv = Srv(tag="brkepoch", extra={"smbd:FSCTL_SMBTORTURE": "yes", "worker threads": "1"}).start()
a1, a2, s, b, sb = two_clients(srv.port, U1)
key_a = uuid.uuid4().bytes

r = a2.call(R.create_request(a2, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a2])
ls = lease_of(r) if r.status == 0 else None
check(ls is not None and ls[0] == RWH, "A gets an RWH lease (%s)" % (ls,))
grant_epoch = ls[1] if ls else 0
r = a1.call(a1.header(IOCTL) + b_ioctl(FORCE_UNACKED, NOFID, max_out=0))
check(r.status == 0, "A1 is cut (the test hook is accepted: 0x%x)" % r.status)

# B's conflicting open: the break RWH -> RH goes to A1, where nobody reads it.
t0 = time.monotonic()
send(b, sb, R.create_request(b, sb, NAME, disposition=3, oplock=0xFF, contexts=[rqls(uuid.uuid4().bytes, RWH)]))
time.sleep(0.2)
# A opens again with its key on A2: the response shows the break's epoch.
r = a2.call(R.create_request(a2, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a2])
ls = lease_of(r) if r.status == 0 else None
flags = struct.unpack_from("<I", R.parse_create_contexts(r.body)[b"RqLs"], 20)[0] if ls else 0
check(ls is not None and ls[0] == RWH and flags & 2 and ls[1] == grant_epoch + 1,
      "A's second open: RWH, break in progress, the break's epoch %d (%s, flags %x)" % (grant_epoch + 1, ls, flags))
told = ls[1] if ls else grant_epoch + 1
check(time.monotonic() - t0 < 1.0, "before the retry (%.2f s after the break)" % (time.monotonic() - t0))

try:
    brk = recv(a2, 5)
except OSError as e:
    brk = None
    check(False, "the break is resent on A2 (%s)" % e)
if brk is not None:
    key, bflags, epoch, cur, new = parse_break(brk)
    check(brk.command == OPBRK and key == key_a and cur == RWH and new == RH,
          "the resent break is RWH -> RH (%x -> %x)" % (cur, new))
    check(((epoch - told) & 0xFFFF) in range(1, 0x8000),
          "its epoch %d is newer than the %d A's CREATE response showed" % (epoch, told))
    ackm = a2.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + struct.pack("<HHI16sIQ", 36, 0, 0, key_a, RH, 0)
    r = a2.call(ackm, s.keys[a2])
    check(r.status == 0, "A's ack to RH is accepted (0x%x)" % r.status)
r = recv(b, 10)
dt = time.monotonic() - t0
check(r.status == 0 and dt < 4.0, "B's open completes after the one retry (0x%x, %.2f s)" % (r.status, dt))
for c in (a1, a2, b):
    c.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

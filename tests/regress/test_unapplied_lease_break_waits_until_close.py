"""A v2 lease break the client did not apply must not leave a conflicting
open waiting until the client closes (issue 15).

The Linux client applies a v2 lease break only when its epoch is newer
than the one it holds, and acknowledges the state it holds otherwise.  It
can hold the break's epoch already: a CREATE response during the break
names it (BREAK_IN_PROGRESS, as Windows: smbtorture
smb2.lease.v2_breaking3), and its break handling runs in a work queue,
after such a response.  Then it acks the whole state it holds, smb3d
refuses that ([MS-SMB2] 3.3.5.22.2, kept: smbtorture smb2.lease.breaking2),
and nothing more happened: in scenario `shared` client B's open waited
12-15 s, until A closed.  Now such an ack (v2, naming the whole state the
lease holds) is refused and the break sent once more with the next epoch;
a second such ack is refused without a new break (the break timer then
ends it)."""
import os, struct, sys, time, uuid
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from leasebrk import *  # noqa: F403

U1 = USERS[0]
NAME = "stale.txt"


srv = Srv(tag="brkrenew").start()
a, s = R.connect_session("127.0.0.1", srv.port, *U1)
b, sb = R.connect_session("127.0.0.1", srv.port, *U1)
key_a = uuid.uuid4().bytes


notes = []  # break notifications that came while waiting for an ack's response


def ack(state):
    m = a.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + struct.pack("<HHI16sIQ", 36, 0, 0, key_a, state, 0)
    mid = struct.unpack_from("<Q", m, 24)[0]
    send(a, s, m)
    while True:
        r = recv(a, 5)
        if r.mid == mid:
            return r.status
        notes.append(r)


def next_note(timeout):
    if notes:
        return notes.pop(0)
    try:
        return recv(a, timeout)
    except OSError:
        return None


r = a.call(R.create_request(a, s, NAME, disposition=3, oplock=0xFF, contexts=[rqls(key_a, RWH)]), s.keys[a])
ls = lease_of(r) if r.status == 0 else None
check(ls is not None and ls[0] == RWH, "A gets an RWH lease (%s)" % (ls,))
t0 = time.monotonic()
send(b, sb, R.create_request(b, sb, NAME, disposition=3, oplock=0xFF, contexts=[rqls(uuid.uuid4().bytes, RWH)]))
brk = recv(a, 5)
key, flags, epoch1, cur, new = parse_break(brk)
check(brk.command == OPBRK and key == key_a and cur == RWH and new == RH, "A gets the break RWH -> RH (epoch %d)" % epoch1)
# As Linux does with a break whose epoch it holds already: ack what it holds.
st1 = ack(RWH)
check(st1 == 0xC00000D0, "an ack of RWH is refused: STATUS_REQUEST_NOT_ACCEPTED (0x%x)" % st1)
brk = next_note(3)
if brk is not None:
    key, flags, epoch2, cur, new = parse_break(brk)
    check(brk.command == OPBRK and cur == RWH and new == RH and flags & ACK_REQUIRED and
          ((epoch2 - epoch1) & 0xFFFF) in range(1, 0x8000),
          "the break comes again, RWH -> RH with a newer epoch (%d after %d)" % (epoch2, epoch1))
else:
    check(False, "the break comes again after the refused ack")
st2 = ack(RWH)
check(st2 == 0xC00000D0, "a second ack of RWH is refused too (0x%x)" % st2)
extra = next_note(1.5)
check(extra is None, "and brings no third break")
st3 = ack(RH)
check(st3 == 0, "the ack of RH is accepted (0x%x)" % st3)
r = recv(b, 10)
dt = time.monotonic() - t0
check(r.status == 0 and dt < 5.0, "B's open completes at once (0x%x, %.2f s)" % (r.status, dt))
for c in (a, b):
    c.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

"""The outcomes kept for replays of requests that outlived their channel
(state/outcome.h) had one bound for the whole server, 4,096 records: one
user filled it, and from then on every other client's WRITE, SET_INFO or
IOCTL replay ran again (no exactly-once for them).  Now a user holds at
most OUTCOME_PER_USER (512) records, so another user's outcome is still
kept.

A record is made without cutting a channel: an IOCTL that sleeps (Samba's
test FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP) is overtaken by a READ on its open
with a newer ChannelSequence, so the client moved on and the IOCTL's reply
may never reach it ([MS-SMB2] 3.3.5.2.10; proto/chain.c req_end).  User 1
makes 16 such records on each of 264 opens (4,224, more than the server's
4,096); user 2 then makes one and replays it: the replay must be answered
with the kept outcome (smb3d_replays_total{command="IOCTL",outcome="recorded"}).
User 1's replay on its last open runs again: past its share."""
import os, sys, struct, time, urllib.request
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, USERS, check, done, hdr, b_ioctl, b_read, free_port, IOCTL, READ, R

SLEEP = 0x83848043
PENDING = 0x103
REPLAY = 0x20000000
PER_OPEN, OPENS, BATCH = 16, 264, 31   # a batch: 31 x 16 = 496 waiting requests (511 per connection)


def metric(mport, name):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[-1])
    return 0


def recorded(mport, outcome):
    return metric(mport, 'smb3d_replays_total{command="IOCTL",outcome="%s"}' % outcome)


def finals(h, n, timeout=20):
    """Read responses until n final (non-interim) ones came; returns them."""
    out = []
    while len(out) < n:
        r = h.recv_interim(timeout)
        if isinstance(r, str):
            check(False, "%d of %d answers came (%s)" % (len(out), n, r))
            break
        if r.status != PENDING:
            out.append(r)
    return out


def overtake(h, fids, sleeps):
    """On each open: `sleeps` sleeps of 50 ms under sequence 1, then a READ
    under sequence 2 that makes them outlive their sequence."""
    for fid in fids:
        for _ in range(sleeps):
            h.send(hdr(IOCTL, h.mid(), h.sid, h.tid, status=1) + b_ioctl(SLEEP, fid, inp=b"\x32", max_out=0))
        h.send(hdr(READ, h.mid(), h.sid, h.tid, status=2) + b_read(fid, 0, 1))
    got = finals(h, len(fids) * (sleeps + 1))
    ok = sum(1 for r in got if r.command == IOCTL and r.status == 0)
    return ok == len(fids) * sleeps


def replay(h, fid):
    t0 = time.monotonic()
    r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid, status=2, flags=REPLAY) + b_ioctl(SLEEP, fid, inp=b"\x32", max_out=0),
               timeout=10)
    while not isinstance(r, str) and r.status == PENDING:
        r = h.recv(10)
    return r, time.monotonic() - t0


mport = free_port()
srv = Srv(tag="outcomeshare", extra={"smbd:FSCTL_SMBTORTURE": "yes", "metrics port": str(mport)}).start()
hog = H(srv.port, user=USERS[0], timeout=20)
fids = [hog.create("hog-%d" % i) for i in range(OPENS)]
all_ok = True
for i in range(0, OPENS, BATCH):
    all_ok &= overtake(hog, fids[i:i + BATCH], PER_OPEN)
check(all_ok, "user 1: %d IOCTLs overtaken by a newer sequence on %d opens succeed" % (OPENS * PER_OPEN, OPENS))

victim = H(srv.port, user=USERS[1], timeout=20)
vfid = victim.create("victim")
check(overtake(victim, [vfid], 1), "user 2: its IOCTL overtaken by a newer sequence succeeds")
before = recorded(mport, "recorded")
r, _ = replay(victim, vfid)
check(not isinstance(r, str) and r.status == 0, "user 2's replay succeeds (%s)" % R.status_name(getattr(r, "status", 0)))
check(recorded(mport, "recorded") == before + 1,
      "user 2's replay gets the kept outcome though user 1 tried to keep %d" % (OPENS * PER_OPEN))

before = recorded(mport, "recorded")
r, _ = replay(hog, fids[0])
check(not isinstance(r, str) and r.status == 0 and recorded(mport, "recorded") == before + 1,
      "user 1's replay on its first open gets its kept outcome (within its share)")
before = recorded(mport, "executed")
r, _ = replay(hog, fids[-1])
check(not isinstance(r, str) and r.status == 0 and recorded(mport, "executed") == before + 1,
      "user 1's replay on its last open runs again (past its share of 512)")

for c in (hog, victim):
    c.close()
done(srv)

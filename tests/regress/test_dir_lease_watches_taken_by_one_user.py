"""A directory lease caches only while an inotify watch tells the server of
changes other programs make (cmd/lease_watch.c); without one it is granted
with no caching.  The server watched at most 4,096 leased directory opens,
first come first served: one user who opened a directory 4,096 times with
directory leases left every other client's directory leases without
caching.  Now one user's opens hold at most 512 of the watches, so another
user's directory lease still caches.

User 1 opens directory d 4,100 times, each with an RH lease of its own
key; user 2 then opens d2 with an RH lease and must get RH."""
import os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, USERS, check, done, hdr, b_echo, ECHO, R

OPENS, BATCH = 4100, 400
RH = 0x3
DIR = 0x1          # FILE_DIRECTORY_FILE
READ_ATTRS = 0x80  # FILE_READ_ATTRIBUTES


def rqls(key):
    """A version 2 lease request context (MS-SMB2 2.2.13.2.10) for RH."""
    return (b"RqLs", struct.pack("<16sIIQ16sHH", key, RH, 0, 0, b"\0" * 16, 0, 0))


def lease_state(r):
    if isinstance(r, str) or r.status:
        return None
    ctx = R.parse_create_contexts(r.body).get(b"RqLs")
    return struct.unpack_from("<I", ctx, 16)[0] if ctx and len(ctx) >= 20 else 0


def open_leased(h, name, keys):
    """Pipelined CREATEs of directory name, one per lease key, within the
    credits the server granted (a MessageId past them ends the
    connection); the granted lease states in order (None: failed)."""
    avail = 1
    for _ in range(8):  # what we know we hold: 1, plus each ECHO's grant less its charge
        r = h.call(hdr(ECHO, h.mid(), h.sid) + b_echo())
        avail += r.credits - 1
    mids, got, pending = [], {}, 0

    def take():
        nonlocal avail, pending
        r = h.recv(20)
        if isinstance(r, str):
            raise R.SMBError(0, "no answer: " + r)
        got[r.mid] = lease_state(r)
        avail += r.credits
        pending -= 1
    for k in keys:
        while avail < 1:
            take()
        msg = R.create_request(h.c, h.s, name, access=READ_ATTRS, disposition=3, options=DIR,
                               oplock=0xFF, contexts=[rqls(k)])
        mids.append(struct.unpack_from("<Q", msg, 24)[0])
        h.send(msg)
        avail -= 1
        pending += 1
    while pending:
        take()
    return [got.get(m) for m in mids]


srv = Srv(tag="leasewatch").start()
hog = H(srv.port, user=USERS[0], timeout=20)
states = []
for i in range(0, OPENS, BATCH):
    states += open_leased(hog, "d", [os.urandom(16) for _ in range(min(BATCH, OPENS - i))])
check(all(s is not None for s in states), "user 1: %d opens of d succeed (%d did)"
      % (OPENS, sum(s is not None for s in states)))
cached = sum(1 for s in states if s == RH)
check(states[0] == RH, "user 1's first directory lease caches (RH)")
check(cached == 512, "user 1 holds 512 watched (caching) directory leases, the rest none (%d)" % cached)

victim = H(srv.port, user=USERS[1], timeout=20)
st = open_leased(victim, "d2", [os.urandom(16)])[0]
check(st == RH, "user 2's directory lease still caches though user 1 asked for %d (state %r)" % (OPENS, st))

for c in (hog, victim):
    c.close()
done(srv)

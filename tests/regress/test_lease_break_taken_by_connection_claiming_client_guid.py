"""A lease break goes to any channel of the lease's client (MS-SMB2 3.3.4.7;
mc/break_deliver.c), oldest first, and the client was known by the
ClientGUID its NEGOTIATE claims, nothing more.  Another user who knew a
victim's ClientGUID (it travels in clear in every NEGOTIATE) connected
with it first: the victim's lease breaks went to that user's connection,
whose TCP acknowledged them, so the victim never heard of them and kept
caching data another client had changed, and the stranger learned the
victim's lease keys.  Now a break goes only to a channel on which one of
the lease's users authenticated.

User 2 connects with ClientGUID G first; user 1 connects with G and holds
an RWH lease on f; a third client opens f for writing: the break must
reach user 1's connection, not user 2's."""
import os, struct, sys, threading, socket
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, USERS, check, done, R

OPLOCK_BREAK = 18
RWH = 0x7


def rqls(key, state):
    return (b"RqLs", struct.pack("<16sIIQ16sHH", key, state, 0, 0, b"\0" * 16, 0, 0))


def next_break(c, timeout):
    """The next lease break notification on c within timeout, else None."""
    c.sock.settimeout(timeout)
    try:
        while True:
            r = c._recv()
            if r.command == OPLOCK_BREAK and r.mid == 0xFFFFFFFFFFFFFFFF:
                return r
    except (socket.timeout, OSError, struct.error):
        return None


srv = Srv(tag="leaseguid").start()
guid = os.urandom(16)
stranger = R.Conn("127.0.0.1", srv.port, client_guid=guid).negotiate()
st, ss = R.session_setup(stranger, *USERS[1])
check(st == 0, "user 2 logs on with ClientGUID G")
R.tree_connect(stranger, ss, "share")

victim = R.Conn("127.0.0.1", srv.port, client_guid=guid).negotiate()
st, vs = R.session_setup(victim, *USERS[0])
check(st == 0, "user 1 logs on with the same ClientGUID G")
R.tree_connect(victim, vs, "share")
key = os.urandom(16)
r = R.create_full(victim, vs, "f.txt", oplock=0xFF, contexts=[rqls(key, RWH)])
ctx = R.parse_create_contexts(r.body).get(b"RqLs") if r.status == 0 else None
check(ctx is not None and struct.unpack_from("<I", ctx, 16)[0] == RWH, "user 1 holds an RWH lease on f")

other, os_ = R.connect_session("127.0.0.1", srv.port, *USERS[0])
res = {}
t = threading.Thread(target=lambda: res.setdefault("r", R.create_full(other, os_, "f.txt", disposition=1)))
t.start()
b = next_break(victim, 5)
check(b is not None and bytes(b.body[8:24]) == key, "the break of user 1's lease reaches user 1's connection")
if b is not None:
    hdr = victim.header(OPLOCK_BREAK, session_id=vs.id, tree_id=vs.tree_id)
    victim.call(hdr + struct.pack("<HHI16sIQ", 36, 0, 0, key, 0x1 | 0x2, 0), vs.keys.get(victim))
check(next_break(stranger, 0.5) is None, "and not user 2's connection, which only claimed its ClientGUID")
t.join(60)
check("r" in res and res["r"].status == 0, "the third client's open succeeds")

for c in (stranger, victim, other):
    c.close()
done(srv)

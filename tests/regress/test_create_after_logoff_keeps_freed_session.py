"""D2: CREATEs that finished after their session was logged off stayed registered
with a pointer to the freed session; another user's open of the same file
(oplock break) or `smb3ctl status` then read freed memory, and the opens leaked.

Channel B pipelines batch-oplock CREATEs while channel A logs the session off.
Afterwards no open of the dead session may remain, the server's fd count is back
to its baseline, a second user opens the same files, and status is clean."""
import os, re, sys, struct, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

ITER = 20
srv = Srv(tag="louaf").start()
fd0 = srv.fds()
U1 = USERS[0]
for i in range(ITER):
    a, s = R.connect_session("127.0.0.1", srv.port, *U1)
    b = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
    R.session_setup(b, U1[0], U1[1], session=s, bind=True)
    msgs = b""
    for k in range(24):
        m = b.header(CREATE, session_id=s.id, tree_id=s.tree_id) + \
            b_create(U16("victim%d.txt" % (k % 4)), access=0x0012019F, disp=3, share=7, oplock=0x09)
        R.Conn.sign(m, s.keys[b], b.sign_alg, b.dialect)
        msgs += struct.pack(">I", len(m)) + bytes(m)
    lo = a.header(LOGOFF, session_id=s.id) + struct.pack("<HH", 4, 0)
    R.Conn.sign(lo, s.keys[a], a.sign_alg, a.dialect)
    b.sock.sendall(msgs)
    time.sleep(0.0005 * (i % 10))
    a._send(bytes(lo))
    time.sleep(0.05)
    a.close()
    b.close()
time.sleep(1)
# a second user opens the same files: breaks reach whatever holds them
h = H(srv.port, user=USERS[1])
for k in range(4):
    h.send(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16("victim%d.txt" % k), access=0x00120089, disp=1, share=7))
got = [h.recv(timeout=40) for k in range(4)]
check(all(not isinstance(r, str) and r.status == 0 for r in got), "the second user's CREATEs succeed: %r" % [r if isinstance(r, str) else hex(r.status) for r in got])
st = srv.status()
opens = re.findall(r"^  file .*$", st, re.M)
check(len(opens) == 4, "status lists only the second user's 4 opens (%d listed)" % len(opens))
h.close()
time.sleep(1)
check(0 <= srv.fds() <= fd0 + 2, "server fds back to baseline (%d before, %d after)" % (fd0, srv.fds()))
check(srv.healthy(), "a well-behaved client still works")
done(srv)

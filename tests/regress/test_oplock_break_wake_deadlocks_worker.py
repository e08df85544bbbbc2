"""D1: a worker deadlocked when a disconnect woke CREATEs waiting for an oplock break.

Three pipelined CREATEs of one file ask for batch oplocks; the breaks are never
acknowledged and the connection drops.  Closing the opens woke the waiting
CREATEs synchronously while the waiter list's lock was held, the CREATE took
that lock again, and the worker stopped for good (and SIGTERM with it)."""
import os, sys, struct, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

ROUNDS, N = 6, 3
srv = Srv(tag="ophang").start()
ok = True
for i in range(ROUNDS):
    h = H(srv.port)
    # all pipelined: the first gets the batch oplock, the others wait for its break
    msgs = b""
    for k in range(N):
        m = hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16("f%d.txt" % i), access=0x0012019F, disp=3,
                                                          share=7, oplock=0x09)
        msgs += struct.pack(">I", len(m)) + h.sign_elems(m)
    h.send_raw(msgs)
    time.sleep(0.3)
    h.close()
    time.sleep(0.2)
    for j in range(4):  # new connections land on every worker
        try:
            c = R.Conn("127.0.0.1", srv.port, timeout=5).negotiate()
            c.close()
        except Exception as e:
            ok = False
            print("round %d: connection %d got no NEGOTIATE answer (%r)" % (i, j, e))
    if not ok:
        break
check(ok, "every worker answers NEGOTIATE after %d rounds of unacknowledged breaks and disconnects" % ROUNDS)
check(srv.healthy(), "a well-behaved client still works")
done(srv)

"""A byte-range lock must break every level II oplock to none, the locker's
own included ([MS-FSA] 2.1.5.7 via 2.1.4.12; smbtorture smb2.oplock.brl1,
brl3).  smb3d's LOCK broke nothing, so level II holders went on caching
reads of a range another open had just locked.  A lone batch holder's own
lock still breaks nothing (brl2)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403

EXCL_NOW = 0x2 | 0x10
srv = Srv(tag="brlbreak", extra={"smb3d:oplock break timeout": "3"}).start()

a, r, fa = open_file(srv.port, "brl2.txt", oplock=BATCH)
r = a.call(hdr(LOCK, a.mid(), a.sid, a.tid) + b_lock(fa, [(0, 4, EXCL_NOW)]))
check(st(r) == "STATUS_SUCCESS" and recv_break(a, timeout=1) is None, "a lone batch holder's lock breaks nothing")
a.close()

a, r, fa = open_file(srv.port, "brl1.txt", oplock=BATCH)
a.write(fa, 0, b"x" * 1000)
b = H(srv.port)
b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16("brl1.txt"), access=ALL_ACCESS, disp=OPEN))
brk = recv_break(a)
check(brk is not None and brk[0] == LEVEL_II, "a second open breaks the batch to level II")
if brk:
    ack(a, fa, LEVEL_II)
r = b.recv(timeout=8)
if not isinstance(r, str) and r.status == 0x103:
    r = b.recv(timeout=8)
check(st(r) == "STATUS_SUCCESS", "the second open succeeds (%s)" % st(r))
r = a.call(hdr(LOCK, a.mid(), a.sid, a.tid) + b_lock(fa, [(0, 4, EXCL_NOW)]))
check(st(r) == "STATUS_SUCCESS", "the holder locks a range (%s)" % st(r))
brk = recv_break(a)
check(brk is not None and brk[0] == NONE and brk[1] == fa,
      "its own lock breaks its level II oplock to none (%s)" % (brk and brk[0]))
r = a.call(hdr(LOCK, a.mid(), a.sid, a.tid) + b_lock(fa, [(2, 4, EXCL_NOW)]))
check(not isinstance(r, str) and r.status == 0xC0000055 and recv_break(a, timeout=1) is None,
      "a refused lock sends no second break (%s)" % st(r))
a.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

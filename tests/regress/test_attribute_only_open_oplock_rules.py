"""Attribute-only ("stat") opens and oplocks ([MS-FSA] 2.1.5.1.2, 2.1.5.17).

A CREATE asking only for READ_ATTRIBUTES | WRITE_ATTRIBUTES | SYNCHRONIZE
neither breaks nor limits another open's oplock -- unless its disposition
overwrites the file, which breaks the holder to none (smbtorture
smb2.oplock.exclusive5, batch13, batch14, batch16).  smb3d treated every such
open as harmless, so no break was sent and the holder kept stale cached data.
It also refused any oplock to a stat open, where Windows grants one to the
open that creates the file (smb2.oplock.batch9, batch9a)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403

srv = Srv(tag="statopen", extra={"smb3d:oplock break timeout": "3"}).start()

for disp, what in ((OVERWRITE, "OVERWRITE"), (OVERWRITE_IF, "OVERWRITE_IF")):
    name = "ow%d.txt" % disp
    a, r, fa = open_file(srv.port, name, oplock=BATCH)
    check(granted(r) == BATCH, "%s: the holder gets batch" % what)
    b = H(srv.port)
    b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16(name), access=STAT_ACCESS, disp=disp, oplock=BATCH))
    brk = recv_break(a)
    check(brk is not None and brk[0] == NONE and brk[1] == fa,
          "%s: an attribute-only overwrite breaks the holder to none (%s)" % (what, brk and brk[0]))
    if brk:
        ack(a, fa, NONE)
    r = b.recv(timeout=8)
    if not isinstance(r, str) and r.status == 0x103:  # the interim answer
        r = b.recv(timeout=8)
    check(granted(r) == LEVEL_II, "%s: the overwriting open gets level II (%s)" % (what, granted(r)))
    a.close(); b.close()

# A stat open that creates the file gets the oplock it asks for; a second
# stat open neither breaks it nor gets one; a data open breaks it to II.
a, r, fa = open_file(srv.port, "new.txt", oplock=BATCH, access=STAT_ACCESS, disp=CREATE_NEW)
check(granted(r) == BATCH, "an attribute-only CREATE of a new file gets batch (%s)" % granted(r))
b, r, fb = open_file(srv.port, "new.txt", oplock=BATCH, access=STAT_ACCESS, disp=OPEN)
check(granted(r) == NONE and recv_break(a, timeout=1) is None, "a second stat open gets none and breaks nothing")
c = H(srv.port)
c.send(hdr(CREATE, c.mid(), c.sid, c.tid) + b_create(U16("new.txt"), access=ALL_ACCESS, disp=OPEN, oplock=BATCH))
brk = recv_break(a)
check(brk is not None and brk[0] == LEVEL_II, "a data open breaks the stat open's batch to II (%s)" % (brk and brk[0],))
if brk:
    ack(a, fa, LEVEL_II)
r = c.recv(timeout=8)
if not isinstance(r, str) and r.status == 0x103:
    r = c.recv(timeout=8)
check(granted(r) == LEVEL_II, "and gets level II itself (%s)" % granted(r))
a.close(); b.close(); c.close()

check(srv.healthy(), "a well-behaved client still works")
done(srv)

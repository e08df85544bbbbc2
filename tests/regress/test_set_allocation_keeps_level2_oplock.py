"""Setting FileAllocationInformation must break level II oplocks to none
([MS-FSA] 2.1.5.14.1 via 2.1.4.12; smbtorture smb2.oplock.batch12), as
setting the end of file does.  smb3d broke them for EndOfFile only, so a
level II holder went on trusting cached data after a truncation."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403

srv = Srv(tag="allocbreak", extra={"smb3d:oplock break timeout": "3"}).start()
for size, what in ((512 * 1024, "grows"), (0, "shrinks")):
    name = "alloc%d.txt" % size
    a, r, fa = open_file(srv.port, name, oplock=BATCH)
    check(granted(r) == BATCH, "the holder gets batch")
    a.write(fa, 0, b"x" * 4096)
    b = H(srv.port)
    b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16(name), access=ALL_ACCESS, disp=OPEN))
    brk = recv_break(a)
    check(brk is not None and brk[0] == LEVEL_II, "a second open breaks it to level II")
    if brk:
        ack(a, fa, LEVEL_II)
    r = b.recv(timeout=8)
    if not isinstance(r, str) and r.status == 0x103:
        r = b.recv(timeout=8)
    fb = bytes(r.body[64:80]) if st(r) == "STATUS_SUCCESS" else b"\0" * 16
    r = b.call(hdr(SINFO, b.mid(), b.sid, b.tid) + b_sinfo(fb, 1, 19, struct.pack("<Q", size)))
    check(st(r) == "STATUS_SUCCESS", "%s: the allocation is set (%s)" % (what, st(r)))
    brk = recv_break(a)
    check(brk is not None and brk[0] == NONE and brk[1] == fa,
          "%s: the level II holder is broken to none (%s)" % (what, brk and brk[0]))
    a.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

"""An open of a file whose delete is pending must fail with
STATUS_DELETE_PENDING before any oplock is looked at ([MS-FSA] 2.1.5.1.2;
smbtorture smb2.oplock.doc).  smb3d broke the holder's batch oplock first,
so the holder got a break for an open that could never succeed."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from opl import *  # noqa: F403

srv = Srv(tag="docbreak", extra={"smb3d:oplock break timeout": "3"}).start()
a, r, fa = open_file(srv.port, "doc.txt", oplock=BATCH)
check(granted(r) == BATCH, "the holder gets batch")
r = a.call(hdr(SINFO, a.mid(), a.sid, a.tid) + b_sinfo(fa, 1, 13, b"\x01"))  # FileDispositionInformation
check(st(r) == "STATUS_SUCCESS", "the holder sets delete-on-close (%s)" % st(r))
b, r, _ = open_file(srv.port, "doc.txt", access=0x1, disp=OPEN)  # FILE_READ_DATA
check(not isinstance(r, str) and r.status == 0xC0000056, "a second open gets STATUS_DELETE_PENDING at once (%s)" % st(r))
check(recv_break(a, timeout=1) is None, "and the holder receives no break")
a.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

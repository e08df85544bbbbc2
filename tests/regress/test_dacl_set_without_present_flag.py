"""SET_INFO SECURITY with DACL_SECURITY_INFORMATION and a descriptor without SE_DACL_PRESENT
stored a descriptor without a DACL and without the flag; Windows stores a NULL DACL (flag set,
no ACL), and QUERY_INFO must show SE_DACL_PRESENT (smbtorture smb2.create.nulldacl)."""
import os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SET_INFO, QUERY_INFO = 0x11, 0x10
DACL_SI, DACL_PRESENT = 0x4, 0x0004


def set_sd(c, s, fid, sd):
    hdr = c.header(SET_INFO, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HBBIHHI16s", 33, 3, 0, len(sd), 64 + 32, 0, DACL_SI, fid) + sd
    return c.call(hdr + body, R._key(c, s)).status


def query_sd(c, s, fid):
    hdr = c.header(QUERY_INFO, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HBBIHHIII16s", 41, 3, 0, 4096, 0, 0, 0, DACL_SI, 0, fid) + b"\0"
    r = c.call(hdr + body, R._key(c, s))
    if r.status:
        return r.status, None
    off, ln = struct.unpack_from("<HI", r.body, 2)
    return 0, r.raw[off:off + ln]


srv = Srv(tag="nulldacl").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
fid = R.create(c, s, "f.txt", access=0x001F01FF, disposition=2)
empty = struct.pack("<BBHIIII", 1, 0, 0x8000, 0, 0, 0, 0)  # self-relative, nothing present
check(set_sd(c, s, fid, empty) == 0, "SET_INFO of a DACL without SE_DACL_PRESENT is accepted")
st, sd = query_sd(c, s, fid)
check(st == 0 and sd is not None, "QUERY_INFO of the DACL: 0x%x" % st)
if sd:
    control, off_dacl = struct.unpack_from("<H", sd, 2)[0], struct.unpack_from("<I", sd, 16)[0]
    check(control & DACL_PRESENT, "SE_DACL_PRESENT is set (control 0x%04x)" % control)
    check(off_dacl == 0, "and there is no ACL: a NULL DACL (offset %d)" % off_dacl)
R.close(c, s, fid)
fid = R.create(c, s, "f.txt", access=0x00120089 | 0x2, disposition=1)  # a NULL DACL limits nothing
R.close(c, s, fid)
c.close()
done(srv)

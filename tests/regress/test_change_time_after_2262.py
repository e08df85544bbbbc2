"""A file whose LastWriteTime a client set after 2262 while it had an explicit ChangeTime: every
QUERY_INFO compared the stored data identity with st_mtime in ns computed as a signed 64-bit
product, which overflows (UBSan: signed integer overflow in fileops_attrs_from_stat_ext; found
by the hostile-client campaign).  The answer must come and there must be no sanitizer report.
(set_info.c computes the same product when both times are set in one request: see
vfs_dos_mtime_ns in vfs/dosattr.h.)"""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_sinfo, b_qinfo, SINFO, QINFO, st  # noqa: E402


def nt(year):
    return int((year - 1601) * 365.2425 * 86400) * 10**7


srv = Srv(tag="ctime-2262").start()
h = H(srv.port)
fid = h.create("late.txt", disp=5, access=0x001F01FF)
change = nt(2020)
# first the ChangeTime alone (the file's mtime is now), then a LastWriteTime after 2262
r1 = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, 4, struct.pack("<QQQQII", 0, 0, 0, change, 0, 0)))
check(st(r1) == "STATUS_SUCCESS", "SET_INFO ChangeTime: %s" % st(r1))
r2 = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, 4, struct.pack("<QQQQII", 0, 0, nt(2400), 0, 0, 0)))
check(st(r2) == "STATUS_SUCCESS", "SET_INFO LastWriteTime in 2400: %s" % st(r2))
r3 = h.call(hdr(QINFO, h.mid(), h.sid, h.tid) + b_qinfo(fid, 1, 4))   # FileBasicInformation
check(st(r3) == "STATUS_SUCCESS", "QUERY_INFO basic: %s" % st(r3))
h.close_fid(fid)
h.close()
check(srv.healthy(), "the server still serves a healthy client")
done(srv)

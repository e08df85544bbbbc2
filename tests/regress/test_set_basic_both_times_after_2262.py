"""SET_INFO FileBasicInformation setting a LastWriteTime after 2262 and a
ChangeTime in the same request computed st_mtime in ns as a signed 64-bit
product in set_basic(), which overflows (UBSan; found by the hostile-client
campaign and the pipeline fuzzer).  The answer must come and there must be
no sanitizer report."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_sinfo, SINFO, st  # noqa: E402

srv = Srv(tag="setbasic-2262").start()
h = H(srv.port)
fid = h.create("t.txt", disp=5, access=0x001F01FF)
year2400 = int((2400 - 1601) * 365.2425 * 86400) * 10**7
r = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) +
           b_sinfo(fid, 1, 4, struct.pack("<QQQQII", 0, 0, year2400, 132000000000000000, 0, 0)))
check(not isinstance(r, str), "SET_INFO with both times is answered (%s)" % (r if isinstance(r, str) else st(r)))
h.close()
check(srv.healthy(), "the server still serves a healthy client")
done(srv)

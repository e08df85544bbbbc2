"""FSCTL_SRV_COPYCHUNK with an empty input buffer reached rd_init(NULL, 0): arithmetic on a null
pointer (undefined; clang's UBSan reports it, found by fuzz_pipeline).  The request must be
refused with STATUS_INVALID_PARAMETER and the server must go on."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_ioctl, IOCTL, st  # noqa: E402

FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE = 0x001440F2, 0x001480F2
srv = Srv(tag="copychunk-noinput").start()
h = H(srv.port)
fid = h.create("cc_target.txt", disp=5)
for ctl in (FSCTL_SRV_COPYCHUNK, FSCTL_SRV_COPYCHUNK_WRITE):
    r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(ctl, fid, b"", max_out=12, in_off=0, in_len=0))
    check(st(r) == "STATUS_INVALID_PARAMETER", "copychunk 0x%x without input: %s" % (ctl, st(r)))
h.close_fid(fid)
h.close()
check(srv.healthy(), "the server still serves a healthy client")
done(srv)

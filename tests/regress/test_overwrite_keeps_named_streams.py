"""Overwriting a file (OVERWRITE, OVERWRITE_IF, SUPERSEDE) left its named streams behind, so the
"new" file still carried the old file's stream data; Windows drops them (smbtorture
smb2.streams.create-disposition).  Stream names with wildcards or control characters were refused
as invalid, though only '\\', '/' and ':' are ([MS-FSCC] 2.1.5.3, smb2.streams.names2)."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *

OK, NOT_FOUND, INVALID = 0, 0xC0000034, 0xC0000033


def status(h, name, disp):
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), disp=disp))
    if r.status == 0:
        h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(r.body[64:80]))
    return r.status


def streams_on_disk(share):
    out = []
    for root, _, files in os.walk(os.path.join(share, ".smb3d-streams")):
        out += files
    return sorted(out)


srv = Srv(tag="overwrite-streams").start()
h = H(srv.port)
for disp, dname in ((4, "OVERWRITE"), (5, "OVERWRITE_IF"), (0, "SUPERSEDE")):
    f = h.create("f.txt:old", disposition=5)
    h.write(f, 0, b"the old file's stream")
    h.close_fid(f)
    check(status(h, "f.txt", disp) == OK, "%s of the file" % dname)
    check(status(h, "f.txt:old", 1) == NOT_FOUND, "after %s its stream is gone" % dname)
    check(streams_on_disk(srv.share) == [], "and nothing is left in the depot: %s" % streams_on_disk(srv.share))
for name in ("f.txt:a*b?", "f.txt:tab\there", "f.txt:<x>|\""):
    check(status(h, name, 2) == OK, "stream name %r is valid" % name)
for name in ("f.txt:a/b", "f.txt:a\\b"):
    check(status(h, name, 2) == INVALID, "stream name %r is not" % name)
h.close()
done(srv)

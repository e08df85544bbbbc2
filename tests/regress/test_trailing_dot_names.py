"""Trailing dots and spaces created names Windows would strip ("evil.txt " next to "evil.txt"):
files that Windows programs list but cannot open or delete.  Windows drops trailing dots and
spaces from every path component; a component made only of them names nothing (and ".. " never
becomes "..")."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *

OK, INVALID = 0, 0xC0000033


def create(h, name, disp=3, opts=0x40, access=0x0012019F):
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), access=access, disp=disp, opts=opts))
    if r.status == 0:
        h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(r.body[64:80]))
    return r.status


srv = Srv(tag="trailing").start()
h = H(srv.port)
for name in ("a.txt.", "a.txt ", "a.txt. . ", "a.txt..."):
    check(create(h, name) == OK, "CREATE %r (OPEN_IF) -> OK" % name)
check(create(h, "a.txt", disp=1) == OK, "... and \"a.txt\" is the file it made")
check(create(h, "dir. ", opts=0x1, access=0x00100081) == OK, "a directory \"dir. \"")
check(create(h, "dir.\\f.txt ") == OK, "\"dir.\\\\f.txt \" -> dir\\\\f.txt")
check(create(h, "dir\\f.txt", disp=1) == OK, "... which opens as \"dir\\\\f.txt\"")
check(create(h, "s.txt.:strm") == OK, "a stream of \"s.txt.\" is a stream of \"s.txt\"")
for name in ("...", ". .", " ", ".. ", "dir\\.. \\a.txt", "x\\ \\y"):
    st = create(h, name)
    check(st != OK, "CREATE %r is refused (%s)" % (name, R.status_name(st)))
on_disk = sorted(os.listdir(srv.share))
check(on_disk == [".smb3d-streams", "a.txt", "dir", "s.txt"], "on disk: %s" % on_disk)
in_dir = os.listdir(os.path.join(srv.share, "dir")) if os.path.isdir(os.path.join(srv.share, "dir")) else None
check(in_dir == ["f.txt"], "in dir: %s" % in_dir)

# a rename target gets the same treatment
r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16("a.txt"), access=0x00110080, disp=1))
if check(r.status == OK, "open a.txt for DELETE"):
    fid = r.body[64:80]
    r2 = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, 10, rename_info(U16("b.txt. "))))
    check(r2.status == OK, "rename to \"b.txt. \" -> %s" % R.status_name(r2.status))
    h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(fid))
check(os.path.exists(os.path.join(srv.share, "b.txt")), "... is a rename to \"b.txt\"")
check(create(h, ".smb3d-streams. ", disp=1) != OK, "the depot stays unreachable with a trailing dot")
h.close()
done(srv)

"""D9: the stream depot (.smb3d-streams, where every user's named streams live) was reachable:
CREATE refused the exact name, but a SET_INFO rename to it was accepted, so a user who renamed a
prepared directory there received another user's stream data (and a file renamed there disabled
streams on the share).  Names the server reserves must be unreachable by every path operation
(CREATE at any depth and in any case, rename and hard-link targets), invisible in listings, and
a depot the server did not make itself is never trusted with stream data."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *
from srv import ensure_unix_user

OK, NAME_NF, PATH_NF, DENIED = 0, 0xC0000034, 0xC000003A, 0xC0000022
DEPOT = ".smb3d-streams"


def create(h, name, access=0x0012019F, disp=1, opts=0x40):
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), access=access, disp=disp, opts=opts))
    return r.status, (r.body[64:80] if r.status == 0 else None)


def close(h, fid):
    h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(fid))


def listing(h, dirname, pattern):
    """Every name QUERY_DIRECTORY (FileNamesInformation) returns for pattern."""
    s, fid = create(h, dirname, access=0x00100081, disp=1, opts=0x1)
    names, flags = [], 0x1  # RESTART_SCANS
    while s == 0:
        r = h.call(hdr(QDIR, h.mid(), h.sid, h.tid) + b_qdir(fid, U16(pattern), cls=0x0C, flags=flags))
        flags = 0
        if r.status != 0:
            break
        off, ln = struct.unpack_from("<HI", r.body, 2)
        buf = r.raw[off:off + ln]
        pos = 0
        while True:
            nxt, _, nl = struct.unpack_from("<III", buf, pos)
            names.append(buf[pos + 12:pos + 12 + nl].decode("utf-16-le"))
            if not nxt:
                break
            pos += nxt
    if fid:
        close(h, fid)
    return names


def rename(h, fid, target, link=False):
    r = h.call(hdr(SINFO, h.mid(), h.sid, h.tid) + b_sinfo(fid, 1, 11 if link else 10, rename_info(U16(target))))
    return r.status


srv = Srv(tag="depot").start()
a = H(srv.port)                   # smb3test1: the attacker
v = H(srv.port, user=USERS[1])    # smb3test2: the victim

# CHANGE_NOTIFY on the root (whole tree) while the first stream of an existing file makes the
# depot: a file made afterwards is reported, nothing about the depot is.
s, f = create(v, "first.txt", disp=5)
close(v, f)
s, root = create(a, "", access=0x00100081, disp=1, opts=0x1)
a.send(hdr(NOTIFY, a.mid(), a.sid, a.tid) + b_notify(root, flags=0x1, out_len=65536, filt=0xFFF))
s, f = create(v, "first.txt:s", disp=5)
check(s == OK, "the first stream of the share (the depot appears)")
close(v, f)
s, f = create(v, "marker.txt", disp=5)
close(v, f)
r = a.recv(10)
names = []
if check(not isinstance(r, str) and r.status == 0, "CHANGE_NOTIFY completes (%s)" % (r if isinstance(r, str) else R.status_name(r.status))):
    off, ln = struct.unpack_from("<HI", r.body, 2)
    buf, pos = r.raw[off:off + ln], 0
    while pos + 12 <= len(buf):
        nxt, _, nl = struct.unpack_from("<III", buf, pos)
        names.append(buf[pos + 12:pos + 12 + nl].decode("utf-16-le"))
        if not nxt:
            break
        pos += nxt
check(names and not [n for n in names if "smb3d" in n.lower()], "no event names the depot: %s" % names)
close(a, root)

# A stream exists, so the depot does too.
s, f = create(v, "victim.txt:secret", disp=5)
check(s == OK, "the victim creates a named stream")
v.write(f, 0, b"VICTIM-STREAM")
close(v, f)
check(os.path.isdir(os.path.join(srv.share, DEPOT)), "the depot exists on disk")

# CREATE: every spelling, at any depth, as file or directory.
os.makedirs(os.path.join(srv.share, "d"), exist_ok=True)
os.chmod(os.path.join(srv.share, "d"), 0o777)
for name, want in ((DEPOT, NAME_NF), (DEPOT.upper(), NAME_NF), (".Smb3D-Streams", NAME_NF),
                   (DEPOT + "\\x", PATH_NF), ("d\\" + DEPOT, NAME_NF), ("d\\..\\" + DEPOT, NAME_NF),
                   (DEPOT + ":s", NAME_NF), (DEPOT + "\\..\\victim.txt", PATH_NF)):
    for disp, opts in ((1, 0x40), (2, 0x1), (3, 0x40), (5, 0x40)):
        st_, fid = create(a, name, disp=disp, opts=opts)
        if fid:
            close(a, fid)
        check(st_ == want, "CREATE %r disp %d -> %s (want %s)" % (name, disp, R.status_name(st_), R.status_name(want)))

# Rename and hard-link targets.
s, d = create(a, "evil", access=0x00110081, disp=2, opts=0x1)
check(s == OK, "the attacker creates a directory")
s, f = create(a, "evil.txt", access=0x00110083, disp=5)
for target in (DEPOT, DEPOT.upper(), "d\\" + DEPOT, DEPOT + "\\x"):
    check(rename(a, d, target) != OK, "rename of a directory to %r is refused" % target)
    check(rename(a, f, target) != OK, "rename of a file to %r is refused" % target)
    check(rename(a, f, target, link=True) != OK, "a hard link named %r is refused" % target)
close(a, d)
close(a, f)
check(os.stat(os.path.join(srv.share, DEPOT)).st_uid == os.geteuid(), "the depot is still the server's")

# Listings: no pattern shows it.
for pat in ("*", ".smb3d*", DEPOT, DEPOT.upper(), "<", ".smb3d-stream?"):
    names = listing(a, "", pat)
    check(not [n for n in names if n.lower() == DEPOT], "listing the root with %r hides the depot (%d names)" % (pat, len(names)))

# The victim's stream is still the victim's, and the attacker cannot read it by any name.
s, f = create(v, "victim.txt:secret", access=0x00120089, disp=1)
check(s == OK and v.read(f, 0, 13) == b"VICTIM-STREAM", "the victim reads its own stream back")
if f:
    close(v, f)

# On a share without a depot yet (the reproducer's case): a directory renamed there would
# become the depot.
srv2 = Srv(tag="depot2").start()
c = H(srv2.port)
s, d = create(c, "prepared", access=0x00110081, disp=2, opts=0x1)
check(s == OK and rename(c, d, DEPOT) != OK, "a directory cannot become the depot by a rename")
check(rename(c, d, ".SMB3D-Streams") != OK, "nor under another case of the name")
close(c, d)
c.close()
planted = os.path.join(srv2.share, DEPOT)
check(not os.path.exists(planted), "no depot appeared")

# A depot the server did not make (a local user's directory) is never used.
os.makedirs(planted)
uid = ensure_unix_user(USERS[0][0])
os.chown(planted, uid, -1)
os.chmod(planted, 0o777)
b = H(srv2.port, user=USERS[1])
s, f = create(b, "mine.txt:s", disp=5)
check(s != OK, "a stream CREATE refuses a depot the server did not make (%s)" % R.status_name(s))
if f:
    close(b, f)
check(os.listdir(planted) == [], "nothing was written into the planted depot")
b.close()
a.close()
v.close()
done(srv, srv2)

"""With read-only access and OPEN_IF a user could create an empty named stream on another user's
file: the stream's access was checked against what the open asked for, not against the base file.
Creating a stream writes its file ([MS-FSA] 2.1.5.1.2.1): it needs write access to the base, for
any disposition that creates; opening an existing stream for reading does not."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *

OK, DENIED = 0, 0xC0000022
READ = 0x00120089  # FILE_GENERIC_READ


def create(h, name, access, disp):
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), access=access, disp=disp))
    if r.status == 0:
        action = struct.unpack_from("<I", r.body, 4)[0]
        h.call(hdr(CLOSE, h.mid(), h.sid, h.tid) + b_close(r.body[64:80]))
        return r.status, action
    return r.status, None


def streams_on_disk(share):
    out = []
    for root, _, files in os.walk(os.path.join(share, ".smb3d-streams")):
        out += files
    return sorted(out)


srv = Srv(tag="streamacl").start()
owner = H(srv.port, user=USERS[1])
other = H(srv.port, user=USERS[0])
f = owner.create("owned.txt", disposition=5)
owner.write(f, 0, b"the owner's file")
owner.close_fid(f)
check(os.stat(os.path.join(srv.share, "owned.txt")).st_mode & 0o077 == 0o044,
      "the file is 0744 (create mask; others read only)")

for disp, dname in ((3, "OPEN_IF"), (2, "CREATE"), (5, "OVERWRITE_IF"), (0, "SUPERSEDE")):
    st, _ = create(other, "owned.txt:planted", READ, disp)
    check(st == DENIED, "another user's %s of a new stream with read access -> %s (want ACCESS_DENIED)"
          % (dname, R.status_name(st)))
check(streams_on_disk(srv.share) == [], "no stream was created on the other user's file")

st, action = create(owner, "owned.txt:notes", READ, 3)
check(st == OK and action == 2, "the owner creates a stream with read access and OPEN_IF (action %s)" % action)
st, action = create(other, "owned.txt:notes", READ, 3)
check(st == OK and action == 1, "another user opens the existing stream for reading with OPEN_IF (action %s)" % action)
st, _ = create(other, "owned.txt:notes", 0x0012019F, 1)
check(st == DENIED, "... but not for writing (%s)" % R.status_name(st))
check(streams_on_disk(srv.share) == ["notes"], "only the owner's stream exists: %s" % streams_on_disk(srv.share))
owner.close()
other.close()
done(srv)

"""A CREATE that made a new name freed the name before its answer, which
still read it: for the notes of smb3d's own changes a leased directory's
inotify watch must not take for another program's (cmd/lease_watch.c), and
for the breaks of the parent directory's leases.  Once a directory was
leased, every CREATE of a new file read freed memory (ASan: heap use after
free in lease_watch_own).

A directory lease on d, then new files in d and in the share root."""
import os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, USERS, check, done, R

RH = 0x3


def rqls(key, state):
    return (b"RqLs", struct.pack("<16sIIQ16sHH", key, state, 0, 0, b"\0" * 16, 0, 0))


srv = Srv(tag="createname").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
r = R.create_full(c, s, "d", access=0x80, disposition=3, options=0x1, oplock=0xFF, contexts=[rqls(os.urandom(16), RH)])
ctx = R.parse_create_contexts(r.body).get(b"RqLs") if r.status == 0 else None
check(ctx is not None and struct.unpack_from("<I", ctx, 16)[0] == RH, "a directory lease (RH) on d")
try:
    for name in ("d\\new1.txt", "d\\new2.txt", "top.txt"):
        r = R.create_full(c, s, name, disposition=2)
        check(r.status == 0, "a CREATE makes %s (%s)" % (name, R.status_name(r.status)))
except (R.SMBError, OSError) as e:  # the server died under the CREATE
    check(False, "the CREATEs are answered (%r)" % e)
c.close()
done(srv)

"""A directory lease's inotify check still pending when the server stopped
leaked its watch (ASan: 600 bytes from lease_watch_dir).

A change in a leased directory arms a check that runs 300 ms later
(cmd/lease_watch.c); it holds the watch.  A stopping worker drops its
pending timers without running them, so when the directory's open had
closed first, nothing referenced the watch any more.  Seen first when
a lease break job let go of its connection sooner (issue 15), so the
open closed inside that window; the regress test of the freed name
(test_create_answer_reads_freed_name.py) failed on it in CI.

A directory lease on d, a new file in d (the check is armed), the
directory closed, and SIGTERM at once."""
import os, signal, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, USERS, check, done, R

RH = 0x3


def rqls(key, state):
    return (b"RqLs", struct.pack("<16sIIQ16sHH", key, state, 0, 0, b"\0" * 16, 0, 0))


servers = []
for rnd in range(3):  # the window is 300 ms: three tries
    srv = Srv(tag="watchstop").start()
    c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    r = R.create_full(c, s, "d", access=0x80, disposition=3, options=0x1, oplock=0xFF,
                      contexts=[rqls(os.urandom(16), RH)])
    ctx = R.parse_create_contexts(r.body).get(b"RqLs") if r.status == 0 else None
    check(ctx is not None and struct.unpack_from("<I", ctx, 16)[0] == RH, "a directory lease (RH) on d")
    with open(os.path.join(srv.share, "d", "local.txt"), "w") as f:  # another program's change
        f.write("x")
    R.close(c, s, r.body[64:80])
    c.close()
    srv.proc.send_signal(signal.SIGTERM)  # while the check's 300 ms run
    servers.append(srv)
done(*servers)

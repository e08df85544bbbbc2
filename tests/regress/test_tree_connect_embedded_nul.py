"""A TREE_CONNECT to "\\\\host\\share\\0x" (a NUL inside the counted path) connected to "share":
the name was read as a C string.  A path with a NUL anywhere names no share (BAD_NETWORK_NAME)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *

BAD_NETWORK_NAME = 0xC00000CC
srv = Srv(tag="tconnul").start()
h = H(srv.port)
for path, want_ok in (("\\\\127.0.0.1\\share", True), ("\\\\127.0.0.1\\share\0x", False),
                      ("\\\\127.0.0.1\\share\0", False), ("\\\\127.0.0.1\\sh\0are", False),
                      ("\\\\127.0.0.1\0\\share", False), ("\\\\127.0.0.1\\IPC$\0share", False)):
    r = h.call(hdr(TCON, h.mid(), h.sid, 0) + b_tcon(U16(path)))
    if want_ok:
        check(r.status == 0, "TREE_CONNECT %r -> %s" % (path, R.status_name(r.status)))
    else:
        check(r.status == BAD_NETWORK_NAME, "TREE_CONNECT %r -> %s (want BAD_NETWORK_NAME)"
              % (path, R.status_name(r.status)))
h.close()
check(srv.healthy(), "the server serves a well-behaved client")
done(srv)

"""D11: a stream CREATE whose parent directory is missing (case-insensitive share) returned
after freeing the path but not the stream name: ~256 bytes lost per request, for any user.
Every failing stream CREATE must free what it allocated (LeakSanitizer at exit)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *

N = int(os.environ.get("N", "256"))
srv = Srv(tag="streamleak").start()
h = H(srv.port)
sts = {}
for i in range(N // 32):
    parts = [(hdr(CREATE, h.mid(), h.sid, h.tid), b_create(U16("nodir\\x:" + "s" * 200), disp=3))
             for _ in range(32)]
    h.send(compound(parts))
    for x in split_compound(h.recv(10)):
        sts[x.status] = sts.get(x.status, 0) + 1
# the same through the other failing stream paths: a directory-only open, a bad stream type
for name, opts in (("f:s" + "t" * 100, 0x1), ("f:s:$BAD", 0x40), ("nodir\\y\\z:s", 0x40)):
    r = h.call(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16(name), disp=3, opts=opts))
    check(st(r) != "STATUS_SUCCESS", "CREATE %r fails (%s)" % (name, st(r)))
h.close()
check(sts == {0xC000003A: N // 32 * 32}, "every CREATE nodir\\x:<stream> fails with "
      "OBJECT_PATH_NOT_FOUND: %s" % {hex(k): v for k, v in sts.items()})
check(srv.healthy(), "the server still serves a well-behaved client")
done(srv)   # LeakSanitizer runs at exit: a lost stream name fails here

"""OVERWRITE / OVERWRITE_IF / SUPERSEDE of a file opened by someone who did not share write access
succeeded when the new open asked only for read access: the overwrite truncated data under an
open that excluded writers.  An overwrite writes, so share modes see a writer ([MS-FSA] 2.1.5.1.2;
smbtorture smb2.acls.OVERWRITE_READ_ONLY_FILE)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SHARING_VIOLATION = 0xC0000043
READ, SHARE_READ, SHARE_ALL = 0x00120089, 1, 7

srv = Srv(tag="overwrite-share").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
fid = R.create(c, s, "f.txt", disposition=5)
R.write(c, s, fid, 0, b"keep me")
R.close(c, s, fid)
first = R.create(c, s, "f.txt", access=READ, disposition=1, share=SHARE_READ)
for disp, name in ((0, "SUPERSEDE"), (4, "OVERWRITE"), (5, "OVERWRITE_IF")):
    r = R.create_full(c, s, "f.txt", access=READ, disposition=disp, share=SHARE_ALL)
    check(r.status == SHARING_VIOLATION, "%s while an open denies writers: 0x%x" % (name, r.status))
    if r.status == 0:
        R.close(c, s, r.body[64:80])
R.close(c, s, first)
with open(os.path.join(srv.share, "f.txt"), "rb") as f:
    check(f.read() == b"keep me", "the data is intact")
c.close()
done(srv)

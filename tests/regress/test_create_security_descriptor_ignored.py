"""A CREATE's SecD context (the new object's security descriptor, [MS-SMB2]
3.3.5.9.3) was accepted and silently ignored: the file got the inherited or
unix-derived descriptor instead, which can grant more than the client asked
for.  Now the descriptor is stored; one with a SACL needs a privilege no
smb3d user holds, and one that does not decode is refused."""
import os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403


def sd(dacl_mask, sacl=False):
    """Self-relative descriptor: a DACL allowing Everyone `dacl_mask` (and an empty SACL)."""
    everyone = struct.pack("<BB6sI", 1, 1, b"\0\0\0\0\0\1", 0)
    ace = struct.pack("<BBHI", 0, 0, 8 + len(everyone), dacl_mask) + everyone
    dacl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    control = 0x8000 | 0x0004 | (0x0010 if sacl else 0)
    sacl_acl = struct.pack("<BBHHH", 2, 0, 8, 0, 0) if sacl else b""
    off_dacl = 20
    off_sacl = off_dacl + len(dacl) if sacl else 0
    return struct.pack("<BBHIIII", 1, 0, control, 0, 0, off_sacl, off_dacl) + dacl + sacl_acl


srv = Srv(tag="secd").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
READ = 0x00120089
r = R.create_full(c, s, "sd.txt", disposition=2, contexts=[(b"SecD", sd(READ))])
check(r.status == 0, "CREATE with a SecD context: 0x%x" % r.status)
if r.status == 0:
    R.close(c, s, r.body[64:80])
r = R.create_full(c, s, "sd.txt", access=0x00000002, disposition=1)
check(r.status == 0xC0000022, "writing is denied by the descriptor given at create (0x%x)" % r.status)
r = R.create_full(c, s, "sd.txt", access=READ, disposition=1)
check(r.status == 0, "reading is allowed by it (0x%x)" % r.status)
if r.status == 0:
    R.close(c, s, r.body[64:80])
r = R.create_full(c, s, "sacl.txt", disposition=2, contexts=[(b"SecD", sd(READ, sacl=True))])
check(r.status == 0xC0000061, "a descriptor with a SACL needs a privilege (0x%x)" % r.status)
check(not os.path.exists(os.path.join(srv.share, "sacl.txt")), "and leaves no file behind")
r = R.create_full(c, s, "bad.txt", disposition=2, contexts=[(b"SecD", b"\x01\x00garbage")])
check(r.status == 0xC0000079, "a descriptor that does not decode is refused (0x%x)" % r.status)
c.close()
done(srv)

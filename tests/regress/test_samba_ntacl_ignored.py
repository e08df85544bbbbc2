"""A share moved from Samba (vfs objects = acl_xattr) keeps its NT ACLs in
the security.NTACL xattr; smb3d ignored them and rebuilt the ACL from the
unix mode, so a file Samba protected became writable by anyone the mode
allowed.  Now Samba's descriptor (versions 1-4, made here by Samba's own
NDR code, python3-samba) limits access on top of the unix permissions, and
one smb3d cannot read refuses access instead of granting it."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

try:
    from samba.dcerpc import security, xattr
    from samba.ndr import ndr_pack
except ImportError:
    print("python3-samba is not installed")
    sys.exit(77)
if os.geteuid() != 0:
    print("needs root (security.* xattrs)")
    sys.exit(77)


def ntacl(version, sddl):
    sd = security.descriptor.from_sddl(sddl, security.dom_sid("S-1-5-21-1-2-3"))
    x = xattr.NTACL()
    x.version = version
    if version == 1:
        x.info = sd
    else:
        h = getattr(xattr, "security_descriptor_hash_v%d" % version)()
        h.sd = sd
        if version >= 3:
            h.hash_type = 1
        if version == 4:
            h.description = "posix_acl"
            h.time = 0
        x.info = h
    return ndr_pack(x)


READ, WRITE = 0x00120089, 0x00000002
srv = Srv(tag="sambantacl").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
for v in (1, 4):
    path = os.path.join(srv.share, "samba%d.txt" % v)
    open(path, "w").write("protected by Samba")
    os.chmod(path, 0o666)
    r = R.create_full(c, s, "samba%d.txt" % v, access=WRITE, disposition=1)
    check(r.status == 0, "v%d: before Samba's ACL, the mode lets the user write (0x%x)" % (v, r.status))
    if r.status == 0:
        R.close(c, s, r.body[64:80])
    os.setxattr(path, "security.NTACL", ntacl(v, "O:S-1-22-1-0G:S-1-22-2-0D:(A;;0x120089;;;WD)"))
    r = R.create_full(c, s, "samba%d.txt" % v, access=WRITE, disposition=1)
    check(r.status == 0xC0000022, "v%d: Samba's DACL (Everyone: read) refuses writing (0x%x)" % (v, r.status))
    r = R.create_full(c, s, "samba%d.txt" % v, access=READ, disposition=1)
    check(r.status == 0, "v%d: and allows reading (0x%x)" % (v, r.status))
    if r.status == 0:
        R.close(c, s, r.body[64:80])
bad = os.path.join(srv.share, "garbled.txt")
open(bad, "w").write("x")
os.chmod(bad, 0o666)
os.setxattr(bad, "security.NTACL", b"\x04\x00\x04\x00garbage-that-is-no-ndr")
r = R.create_full(c, s, "garbled.txt", access=READ, disposition=1)
check(r.status == 0xC0000022, "an NT ACL smb3d cannot read refuses access (0x%x)" % r.status)
check("security.NTACL) not understood" in srv.logtext(), "and says why in the log")
c.close()
done(srv)

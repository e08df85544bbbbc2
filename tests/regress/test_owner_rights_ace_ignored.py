"""An OWNER RIGHTS (S-1-3-4) ACE was ignored: the owner kept the implicit READ_CONTROL | WRITE_DAC
that such an ACE takes away ([MS-DTYP] 2.5.3.2), so a DACL meant to stop the owner from changing
it did not; and the rights it grants the owner were not granted (smbtorture
smb2.acls.OWNER-RIGHTS*)."""
import os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SET_INFO, QUERY_INFO = 0x11, 0x10
OWNER_SI, DACL_SI = 0x1, 0x4
DENIED = 0xC0000022


def sid(auth, *subs):
    return struct.pack("<BB6s", 1, len(subs), auth.to_bytes(6, "big")) + b"".join(struct.pack("<I", x) for x in subs)


def dacl(*aces):
    body = b"".join(struct.pack("<BBHI", 0, 0, 8 + len(s), m) + s for s, m in aces)
    return struct.pack("<BBHHH", 2, 0, 8 + len(body), len(aces), 0) + body


def set_dacl(c, s, fid, acl):
    sd = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + acl
    hdr = c.header(SET_INFO, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HBBIHHI16s", 33, 3, 0, len(sd), 64 + 32, 0, DACL_SI, fid) + sd
    return c.call(hdr + body, R._key(c, s)).status


def owner_sid(c, s, fid):
    hdr = c.header(QUERY_INFO, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HBBIHHIII16s", 41, 3, 0, 4096, 0, 0, 0, OWNER_SI, 0, fid) + b"\0"
    r = c.call(hdr + body, R._key(c, s))
    off, ln = struct.unpack_from("<HI", r.body, 2)
    sd = r.raw[off:off + ln]
    o = struct.unpack_from("<I", sd, 4)[0]
    return sd[o:o + 8 + 4 * sd[o + 1]]


def opens(c, s, access):
    r = R.create_full(c, s, "f.txt", access=access, disposition=1)
    if r.status == 0:
        R.close(c, s, r.body[64:80])
    return r.status


srv = Srv(tag="ownerrights").start()
c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
fid = R.create(c, s, "f.txt", access=0x001F01FF, disposition=2)
me = owner_sid(c, s, fid)
OWNER_RIGHTS = sid(3, 4)
check(set_dacl(c, s, fid, dacl((me, 0x00120089), (OWNER_RIGHTS, 0x00000002))) == 0, "DACL set")
R.close(c, s, fid)
check(opens(c, s, 0x00040000) == DENIED, "the owner has no WRITE_DAC once an OWNER RIGHTS ACE exists")
check(opens(c, s, 0x00000002) == 0, "the OWNER RIGHTS ACE grants the owner what it names (write data)")
check(opens(c, s, 0x00120089) == 0, "and the owner's own ACE still applies (read)")
c.close()
done(srv)

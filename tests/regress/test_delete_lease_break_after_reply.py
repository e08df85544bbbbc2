"""A delete-on-close set through one client (SET_INFO, or a CREATE with
FILE_DELETE_ON_CLOSE) takes handle caching from another client's lease; Windows sends that break before the SET_INFO
reply, and smbtorture smb2.lease.unlink checks for it as soon as the
SET_INFO returns.  smb3d sent it first only when both connections were on
the same worker: a break for a connection on another worker was handed
over and could leave after the reply (seen under TSan: 4 runs in 8).
Now the request waits until the kernel took the break.  Several pairs of
connections, so that some pair spans two workers; on each, the break must
be readable on the holder's socket once the deleter has its reply."""
import os, select, sys, struct, uuid
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

RH = 0x3


def rqls(key, state):
    return (b"RqLs", key + struct.pack("<IIQ16sHH", state, 0, 0, b"\0" * 16, 0, 0))


srv = Srv(tag="delbreak", extra={"worker threads": "2"}).start()
late = 0
for i in range(12):
    a, b = H(srv.port), H(srv.port)
    name = "del%d.txt" % i
    key = uuid.uuid4().bytes
    r = R.create_full(a.c, a.s, name, access=0x0012019F, disposition=5, oplock=0xFF, contexts=[rqls(key, RH)])
    check(r.status == 0 and R.parse_create_contexts(r.body).get(b"RqLs", b"")[16:20] == b"\x03\0\0\0",
          "pair %d: the first client holds RH" % i)
    if i % 2:  # a CREATE with FILE_DELETE_ON_CLOSE (what smb2_util_unlink sends)
        r = R.create_full(b.c, b.s, name, access=0x00110080, disposition=1, options=0x1040)
        check(r.status == 0, "pair %d: the second client opens to delete (%s)" % (i, R.status_name(r.status)))
        fid_b = bytes(r.body[64:80])
    else:  # FileDispositionInformation on an open with its own RH lease
        r = R.create_full(b.c, b.s, name, access=0x001F01FF, disposition=1, oplock=0xFF,
                          contexts=[rqls(uuid.uuid4().bytes, RH)])
        check(r.status == 0, "pair %d: the second client opens with RH too (%s)" % (i, R.status_name(r.status)))
        fid_b = bytes(r.body[64:80])
        r = b.call(hdr(SINFO, b.mid(), b.sid, b.tid) + b_sinfo(fid_b, 1, 13, b"\x01"))
        check(st(r) == "STATUS_SUCCESS", "pair %d: delete-on-close is set (%s)" % (i, st(r)))
    ready, _, _ = select.select([a.c.sock], [], [], 0)
    if not ready:
        late += 1
    brk = a.recv(timeout=2)
    check(not isinstance(brk, str) and brk.command == OPBRK and bytes(brk.body[8:24]) == key,
          "pair %d: the first client gets the lease break" % i)
    b.close_fid(fid_b)
    a.close()
    b.close()
check(late == 0, "every break was on the holder's socket before the deleter's reply (%d late of 12)" % late)
check(srv.healthy(), "a well-behaved client still works")
done(srv)

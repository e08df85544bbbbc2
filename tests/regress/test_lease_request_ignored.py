"""smb3d ignored the lease request context (RqLs) and refused the lease break
acknowledgment with INVALID_PARAMETER, so no client could cache under a
lease ([MS-SMB2] 3.3.5.9.8, 3.3.4.7, 3.3.5.22.2).  Two clients: A holds an
RWH v2 lease; B's open waits (STATUS_PENDING) while A gets the 44-byte
break to RH, acknowledges it, and B then gets RH.  A write by B breaks A to
none; A's lease key on another file is refused; a second ack is refused."""
import os, sys, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403
from hc import H, hdr, b_create, ctx_item, st, CREATE, OPBRK, WRITE, U16, b_write  # noqa: F401
import smb2raw as R

R_, H_, W_ = 1, 2, 4
LEASE = 0xFF
K1, K2 = b"\x11" * 16, b"\x22" * 16


def rqls_v2(key, state, epoch=0):
    return struct.pack("<16sIIQ16sHH", key, state, 0, 0, b"\0" * 16, epoch, 0)


def create(h, name, key, state, disp=3, send_only=False):
    body = b_create(U16(name), access=0x0012019F, disp=disp, share=7, oplock=LEASE,
                    ctx=ctx_item(b"RqLs", rqls_v2(key, state, epoch=5)))
    h.send(hdr(CREATE, h.mid(), h.sid, h.tid) + body)
    return None if send_only else h.recv()


def lease_of(r):
    """(state, flags, epoch) of the RqLs response context, or None."""
    ctx = R.parse_create_contexts(r.body).get(b"RqLs")
    if not ctx or len(ctx) != 52:
        return None
    _, state, flags, _, _, epoch = struct.unpack_from("<16sIIQ16sH", ctx)
    return state, flags, epoch


def recv_lease_break(h, timeout=4):
    """(current, new, flags, epoch, key) of the next lease break on h, or None."""
    r = h.recv(timeout=timeout)
    if isinstance(r, str) or r.command != OPBRK or r.mid != 0xFFFFFFFFFFFFFFFF or len(r.body) < 44:
        return None
    size, epoch, flags, key, cur, new = struct.unpack_from("<HHI16sII", r.body)
    return (cur, new, flags, epoch, key) if size == 44 else None


def ack(h, key, state):
    return h.call(hdr(OPBRK, h.mid(), h.sid, h.tid) + struct.pack("<HHI16sIQ", 36, 0, 0, key, state, 0))


srv = Srv(tag="lease", extra={"smb3d:oplock break timeout": "5"}).start()
a, b = H(srv.port), H(srv.port)   # two clients (two ClientGUIDs)

r = create(a, "l.txt", K1, R_ | H_ | W_)
check(st(r) == "STATUS_SUCCESS" and r.body[2] == LEASE, "A's open gets a lease (%s)" % st(r))
check(lease_of(r) == (7, 0, 6), "A holds RWH, epoch 5 + 1 (%r)" % (lease_of(r),))
fa = bytes(r.body[64:80])

create(b, "l.txt", K2, R_ | H_ | W_, send_only=True)
p = b.recv_interim(timeout=4)
check(not isinstance(p, str) and p.status == 0x103, "B's conflicting open goes async (%s)" % st(p))
brk = recv_lease_break(a)
check(brk is not None and brk[:4] == (7, 3, 1, 7) and brk[4] == K1,
      "A gets the break RWH -> RH, ack required, epoch 7 (%r)" % (brk,))
r = ack(a, K1, R_ | H_)
check(st(r) == "STATUS_SUCCESS" and len(r.body) >= 36 and struct.unpack_from("<I", r.body, 24)[0] == 3,
      "A's ack is accepted (%s)" % st(r))
r = b.recv(timeout=4)
check(st(r) == "STATUS_SUCCESS" and lease_of(r) and lease_of(r)[0] == 3,
      "then B's open completes with RH (%s %r)" % (st(r), lease_of(r) if not isinstance(r, str) else None))
fb = bytes(r.body[64:80]) if not isinstance(r, str) else b"\0" * 16
r = ack(a, K1, R_ | H_)
check(not isinstance(r, str) and r.status == 0xC0000001, "an ack without a break in progress is refused with UNSUCCESSFUL (%s)" % st(r))

r = b.call(hdr(WRITE, b.mid(), b.sid, b.tid) + b_write(fb, 0, b"x"))
check(st(r) == "STATUS_SUCCESS", "B writes (%s)" % st(r))
brk = recv_lease_break(a)
check(brk is not None and brk[:3] == (3, 0, 1), "A's lease breaks RH -> none on B's write (%r)" % (brk,))
check(st(ack(a, K1, 0)) == "STATUS_SUCCESS", "A acknowledges the break to none")

r = create(a, "other.txt", K1, R_)
check(st(r) == "STATUS_INVALID_PARAMETER", "A's key on another file is refused (%s)" % st(r))
r = a.call(hdr(CREATE, a.mid(), a.sid, a.tid) + b_create(U16("other.txt"), disp=1))
check(st(r) == "STATUS_OBJECT_NAME_NOT_FOUND", "and that file was not created (%s)" % st(r))

a.close_fid(fa); b.close_fid(fb)
a.close(); b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

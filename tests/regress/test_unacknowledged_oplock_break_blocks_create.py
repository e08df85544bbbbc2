"""A CREATE waiting for an oplock break must go on when the break is never acknowledged.

The oplock break timeout (MS-SMB2 3.3.2.1, 35 s; here "smb3d:oplock break
timeout = 2") ran off a one-second tick hook with an untyped timer list; it now
runs on the worker's timers.  Holder A gets a batch oplock and never
acknowledges the break; B's CREATE of the same file must answer STATUS_PENDING,
then succeed once the timeout passes (not before, not much after), and A's
late ack finds no break in progress.  The same wait ends at once when the
holder acknowledges, and when the holder's connection dies."""
import os, sys, struct, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

TIMEOUT = 2
BATCH, LEVEL_II = 0x09, 0x01
STATUS_PENDING, STATUS_INVALID_OPLOCK_PROTOCOL = 0x00000103, 0xC00000E3
srv = Srv(tag="optimeout", extra={"smb3d:oplock break timeout": str(TIMEOUT)}).start()


def holder(name):
    """A connection holding a batch oplock on `name`: (H, FileId)."""
    a = H(srv.port)
    r = a.call(hdr(CREATE, a.mid(), a.sid, a.tid) + b_create(U16(name), disp=3, oplock=BATCH))
    check(st(r) == "STATUS_SUCCESS" and r.body[2] == BATCH, "%s: the first open gets a batch oplock" % name)
    return a, bytes(r.body[64:80])


def conflicting_create(name):
    """Another connection opens `name`: returns (H, time sent) after its interim."""
    b = H(srv.port)
    b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16(name), disp=1, share=7))
    t0 = time.monotonic()
    r = b.recv_interim(timeout=5)
    check(not isinstance(r, str) and r.status == STATUS_PENDING, "%s: the second open goes async (%s)" % (name, st(r)))
    return b, t0


def got_break(a, name):
    r = a.recv(timeout=5)
    ok = not isinstance(r, str) and r.command == OPBRK and r.mid == 0xFFFFFFFFFFFFFFFF
    check(ok, "%s: the holder receives an oplock break (%s)" % (name, st(r)))
    return r if ok else None


def ack(a, fid, level):
    return a.call(hdr(OPBRK, a.mid(), a.sid, a.tid) + struct.pack("<HBBI16s", 24, level, 0, 0, fid))


# 1. Never acknowledged: the CREATE proceeds at the timeout.
a, fid = holder("never.txt")
b, t0 = conflicting_create("never.txt")
brk = got_break(a, "never.txt")
r = b.recv(timeout=TIMEOUT + 10)
waited = time.monotonic() - t0
check(st(r) == "STATUS_SUCCESS", "the waiting CREATE succeeds after the timeout (%s)" % st(r))
check(TIMEOUT - 0.3 <= waited <= TIMEOUT + 3, "it waited about %d s (%.2f s)" % (TIMEOUT, waited))
r = ack(a, fid, LEVEL_II)
check(not isinstance(r, str) and r.status == STATUS_INVALID_OPLOCK_PROTOCOL, "a late ack finds no break in progress (%s)" % st(r))
a.close(); b.close()

# 2. Acknowledged: the CREATE proceeds at once (the timer is cancelled, not run).
a, fid = holder("acked.txt")
b, t0 = conflicting_create("acked.txt")
if got_break(a, "acked.txt"):
    r = ack(a, fid, LEVEL_II)
    check(st(r) == "STATUS_SUCCESS", "the ack is accepted (%s)" % st(r))
r = b.recv(timeout=TIMEOUT + 10)
waited = time.monotonic() - t0
check(st(r) == "STATUS_SUCCESS" and waited < TIMEOUT - 0.5,
      "an acknowledged break lets the CREATE go at once (%s, %.2f s)" % (st(r), waited))
a.close(); b.close()

# 3. The holder's connection dies: its open closes and the CREATE proceeds at once.
a, fid = holder("dies.txt")
b, t0 = conflicting_create("dies.txt")
got_break(a, "dies.txt")
abort(a.c)
r = b.recv(timeout=TIMEOUT + 10)
waited = time.monotonic() - t0
check(st(r) == "STATUS_SUCCESS" and waited < TIMEOUT - 0.5,
      "a dead holder lets the CREATE go at once (%s, %.2f s)" % (st(r), waited))
b.close()

check(srv.healthy(), "a well-behaved client still works")
done(srv)

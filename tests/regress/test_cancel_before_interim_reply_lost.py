"""A request that goes async sends its STATUS_PENDING interim reply only
after a short delay now (proto/async.c, INTERIM_DELAY_MS; MS-SMB2 3.3.4.2,
as Samba's 500 us).  Until then the client knows no AsyncId, so a CANCEL
it sends meanwhile names the request by MessageId (3.3.5.16): it must still
find the request, which answers STATUS_CANCELLED once, synchronously (no
ASYNC flag, its credits granted), and never sends the interim reply.  A
request that ends within the delay is answered the same way; one that
waits longer gets the interim reply (with its credits, the compound
elements before it in the same message) and an async final reply that
grants none.  Connections that go while the interim timer is armed leave
nothing behind (ASan).  Driven with Samba's test FSCTL that sleeps on an
open for up to 255 ms (smbd:FSCTL_SMBTORTURE = yes)."""
import os, struct, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_ioctl, b_echo, b_create, compound, abort, split_compound, \
    IOCTL, CANCEL, CREATE, RELATED, U16, R  # noqa: E402

SLEEP = 0x83848043  # FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP
PENDING, CANCELLED = 0x103, 0xC0000120
ASYNC = 0x2
NOFID = b"\xff" * 16


def frame(h, msg):
    return struct.pack(">I", len(msg)) + h.sign_elems(msg)


def replies(h, mid, timeout=3):
    """Every reply for `mid` (interim ones too) until its final one: [(Response, time)]."""
    out = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = h.recv_interim(max(0.05, end - time.monotonic()))
        if isinstance(r, str):
            break
        for e in split_compound(r) if r.next else [r]:
            out.append((e, time.monotonic()))
        if any(e.mid == mid and e.status != PENDING for e, _ in out):
            break
    return out


def sleep_req(h, mid, fid, ms, credreq=8):
    return hdr(IOCTL, mid, h.sid, h.tid, credreq=credreq) + b_ioctl(SLEEP, fid, inp=bytes([ms]), max_out=0)


srv = Srv(tag="cancelinterim", extra={"smbd:FSCTL_SMBTORTURE": "yes"}).start()
h = H(srv.port)
fid = h.create("f")

# A CANCEL in the same TCP segment as the request: it arrives before the
# interim reply is due and finds the request by its MessageId.
for i in range(5):
    m = h.mid()
    t0 = time.monotonic()
    h.send_raw(frame(h, sleep_req(h, m, fid, 255)) + frame(h, hdr(CANCEL, m, h.sid, h.tid) + b_echo()))
    got = [e for e, _ in replies(h, m)]
    dt = time.monotonic() - t0
    mine = [e for e in got if e.mid == m]
    check(len(mine) == 1 and mine[0].status == CANCELLED,
          "%d: a CANCEL before the interim reply ends the request with STATUS_CANCELLED (%s)"
          % (i, [R.status_name(e.status) for e in mine]))
    check(mine and not mine[0].flags & ASYNC and mine[0].credits > 0 and dt < 0.2,
          "%d: answered synchronously, with credits, at once (flags 0x%x, %d credits, %.3f s)"
          % (i, mine[0].flags if mine else 0, mine[0].credits if mine else 0, dt))

# A request that ends within the delay: one synchronous reply, no interim.
for i in range(5):
    m = h.mid()
    h.send(sleep_req(h, m, fid, 0, credreq=8))
    mine = [e for e, _ in replies(h, m) if e.mid == m]
    check(len(mine) == 1 and mine[0].status == 0 and not mine[0].flags & ASYNC and mine[0].credits == 8,
          "%d: a request done within the delay gets one sync reply with its 8 credits (%s)"
          % (i, [(R.status_name(e.status), hex(e.flags), e.credits) for e in mine]))

# A request that waits: the interim reply (credits, ASYNC flag, AsyncId),
# then the final one (ASYNC, no credits).  Then CANCEL by MessageId and by
# AsyncId after the interim reply still work.
m = h.mid()
t0 = time.monotonic()
h.send(sleep_req(h, m, fid, 60, credreq=8))
got = replies(h, m)
mine = [(e, t) for e, t in got if e.mid == m]
check(len(mine) == 2 and mine[0][0].status == PENDING and mine[0][0].flags & ASYNC and mine[0][0].credits == 8,
      "a 60 ms request gets an interim reply with its credits (%s)"
      % [(R.status_name(e.status), hex(e.flags), e.credits) for e, _ in mine])
if len(mine) == 2:
    check(mine[0][1] - t0 < 0.05, "the interim reply comes early (%.3f s)" % (mine[0][1] - t0))
    check(mine[1][0].status == 0 and mine[1][0].flags & ASYNC and mine[1][0].credits == 0,
          "its final reply is async and grants no credits (%s, 0x%x, %d)"
          % (R.status_name(mine[1][0].status), mine[1][0].flags, mine[1][0].credits))
for by_async in (False, True):
    m = h.mid()
    h.send(sleep_req(h, m, fid, 255))
    r = h.recv_interim(3)
    ok = not isinstance(r, str) and r.status == PENDING
    check(ok, "the sleep goes async (%s)" % ("cancel by AsyncId" if by_async else "cancel by MessageId"))
    if not ok:
        continue
    aid = struct.unpack_from("<Q", r.raw, 32)[0]
    t0 = time.monotonic()
    if by_async:
        h.send(hdr(CANCEL, m, h.sid, async_id=aid) + b_echo())
    else:
        h.send(hdr(CANCEL, m, h.sid, h.tid) + b_echo())
    mine = [e for e, _ in replies(h, m) if e.mid == m]
    check(len(mine) == 1 and mine[0].status == CANCELLED and mine[0].flags & ASYNC and time.monotonic() - t0 < 0.2,
          "after the interim reply a CANCEL by %s ends it, async (%s)"
          % ("AsyncId" if by_async else "MessageId", [(R.status_name(e.status), hex(e.flags)) for e in mine]))

# Compounds: CREATE + a related sleep.  Done within the delay: one compound
# reply.  Longer: the CREATE's reply and the interim reply in one message.
for ms in (0, 60):
    mc, ms_mid = h.mid(), h.mid()
    msg = compound([(hdr(CREATE, mc, h.sid, h.tid), b_create(U16("f"), disp=1)),
                    (hdr(IOCTL, ms_mid, h.sid, h.tid, flags=RELATED), b_ioctl(SLEEP, NOFID, inp=bytes([ms]), max_out=0))])
    h.send(msg)
    first = h.recv_interim(3)
    els = split_compound(first) if not isinstance(first, str) else []
    desc = [(R.status_name(e.status), e.mid) for e in els]
    if ms == 0:
        check(len(els) == 2 and els[0].status == 0 and els[1].mid == ms_mid and els[1].status == 0
              and not els[1].flags & ASYNC, "compound done within the delay: one reply with both (%s)" % desc)
        if len(els) == 2:
            h.close_fid(els[0].body[64:80])
    else:
        check(len(els) == 2 and els[0].status == 0 and els[1].mid == ms_mid and els[1].status == PENDING,
              "compound that waits: the CREATE's reply and the interim reply in one message (%s)" % desc)
        last = [e for e, _ in replies(h, ms_mid) if e.mid == ms_mid]
        check(len(last) == 1 and last[0].status == 0 and last[0].flags & ASYNC,
              "then the sleep's async final reply (%s)" % [R.status_name(e.status) for e in last])
        if len(els) == 2:
            h.close_fid(els[0].body[64:80])

# Connections that go while interim timers are armed (and just after).
for i in range(30):
    x = H(srv.port)
    f = x.create("t%d" % i)
    burst = b"".join(frame(x, sleep_req(x, x.mid(), f, 255)) for _ in range(3))
    x.send_raw(burst)
    if i % 3 == 1:
        time.sleep(0.002 * (i % 5))
    if i % 2:
        abort(x.c)
    else:
        x.close()
time.sleep(0.5)
check(srv.healthy(), "a well-behaved client still works")
r = h.call(hdr(0x0D, h.mid(), h.sid) + b_echo())
check(not isinstance(r, str) and r.status == 0, "the first connection still answers")
h.close()
done(srv)

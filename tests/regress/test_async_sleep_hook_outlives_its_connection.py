"""Samba's test FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP (issue 15) parks an IOCTL on
an open for up to 255 ms, and a CLOSE of that open waits for it (smbtorture's
smb2.ioctl.bug14769).  A test hook that a client can send must still not
hold anything past its connection: a connection that goes while requests
sleep, or while a CLOSE waits behind one, must free them all (the ASan build
reports a leak or a use after free at exit), and the hook must not exist
without "smbd:FSCTL_SMBTORTURE = yes"."""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_ioctl, b_close, b_echo, abort, bind, IOCTL, CLOSE, CANCEL, TDIS, R

SLEEP = 0x83848043
PENDING, CANCELLED, INVALID_PARAMETER, FILE_CLOSED = 0x103, 0xC0000120, 0xC000000D, 0xC0000128
INVALID_DEVICE_REQUEST = 0xC0000010


def by_mid(h, n, timeout=5):
    """The next n final responses by MessageId, with when each came."""
    out = {}
    while len(out) < n:
        r = h.recv_interim(timeout)
        if isinstance(r, str):
            break
        if r.status != PENDING:
            out[r.mid] = (r, time.monotonic())
    return out


def name(r):
    return R.status_name(r[0].status) if r else "no answer"


# without the option the FSCTL is unknown
off = Srv(tag="sleepoff").start()
h = H(off.port)
fid = h.create("f")
r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\x10", max_out=0))
check(not isinstance(r, str) and r.status == INVALID_DEVICE_REQUEST,
      "without smbd:FSCTL_SMBTORTURE the sleep is an unknown FSCTL (%s)" % R.status_name(getattr(r, "status", 0)))
h.close()

srv = Srv(tag="sleephook", extra={"smbd:FSCTL_SMBTORTURE": "yes"}).start()
h = H(srv.port)
fid = h.create("f")
for inp, what in ((b"", "no input"), (b"\x01\x02", "two bytes")):
    r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=inp, max_out=0))
    check(not isinstance(r, str) and r.status == INVALID_PARAMETER, "%s: INVALID_PARAMETER" % what)

# the sleep, and a CLOSE right behind it that waits for it (bug14769)
t0 = time.monotonic()
m = h.mid()
h.send(hdr(IOCTL, m, h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\xc8", max_out=0))
c = h.mid()
h.send(hdr(CLOSE, c, h.sid, h.tid) + b_close(fid))
got = by_mid(h, 2)
check(got.get(m) and got[m][0].status == 0, "the 200 ms sleep succeeds (%s)" % name(got.get(m)))
check(got.get(c) and got[c][0].status == 0, "the CLOSE behind it succeeds (%s)" % name(got.get(c)))
if got.get(m) and got.get(c):
    check(got[m][1] - t0 >= 0.18 and got[c][1] >= got[m][1], "the CLOSE answered after the sleep (%.3f s, %.3f s)"
          % (got[m][1] - t0, got[c][1] - t0))

# a CLOSE on another channel (another worker, maybe) waits too
b, stt = bind(srv.port, h.s, h.c.client_guid)
check(stt == 0, "a second channel binds (0x%x)" % stt)
fid = h.create("f")
t0 = time.monotonic()
m = h.mid()
h.send(hdr(IOCTL, m, h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\xc8", max_out=0))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == PENDING, "the sleep goes async")
r = b.call(b.header(CLOSE, session_id=h.sid, tree_id=h.tid) + b_close(fid), h.s.keys[b])
tc = time.monotonic()
got = by_mid(h, 1)
check(r.status == 0 and tc - t0 >= 0.18, "the CLOSE on channel B succeeds after the sleep (%.3f s)" % (tc - t0))
check(got.get(m) and got[m][0].status == 0, "the sleep succeeds (%s)" % name(got.get(m)))
b.close()

# at most 255 ms: the one input byte is the bound
fid = h.create("f")
t0 = time.monotonic()
r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\xff", max_out=0))
dt = time.monotonic() - t0
check(not isinstance(r, str) and r.status == 0 and 0.2 < dt < 1.5, "a 255 ms sleep takes about that (%.3f s)" % dt)

# CANCEL ends it early
m = h.mid()
t0 = time.monotonic()
h.send(hdr(IOCTL, m, h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\xff", max_out=0))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == PENDING, "the sleep goes async")
h.send(hdr(CANCEL, m, h.sid, h.tid) + b_echo())
got = by_mid(h, 1)
check(got.get(m) and got[m][0].status == CANCELLED and got[m][1] - t0 < 0.2,
      "CANCEL ends it with STATUS_CANCELLED at once (%s)" % name(got.get(m)))

# a tree disconnect does not wait: the sleep finds its open closed
m = h.mid()
h.send(hdr(IOCTL, m, h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\x64", max_out=0))
d = h.mid()
h.send(hdr(TDIS, d, h.sid, h.tid) + b"\x04\x00\x00\x00")
got = by_mid(h, 2)
check(got.get(d) and got[d][0].status == 0, "the tree disconnect succeeds (%s)" % name(got.get(d)))
check(got.get(m) and got[m][0].status == FILE_CLOSED, "the sleep ends with FILE_CLOSED (%s)" % name(got.get(m)))
h.close()

# connections that go while sleeps run and CLOSEs wait behind them
for i in range(20):
    x = H(srv.port)
    f = x.create("t%d" % i)
    for _ in range(3):
        x.send(hdr(IOCTL, x.mid(), x.sid, x.tid) + b_ioctl(SLEEP, f, inp=b"\xff", max_out=0))
    if i % 2:
        x.send(hdr(CLOSE, x.mid(), x.sid, x.tid) + b_close(f))
    if i % 3:
        abort(x.c)
    else:
        x.close()

# the server is fine and answers at once
time.sleep(0.5)
h = H(srv.port)
fid = h.create("f")
r = h.call(hdr(IOCTL, h.mid(), h.sid, h.tid) + b_ioctl(SLEEP, fid, inp=b"\x01", max_out=0))
check(not isinstance(r, str) and r.status == 0, "a new connection sleeps and answers")
check(not isinstance(h.close_fid(fid), str), "and closes")
h.close()
done(off, srv)

"""Stress: channels of one session bind and drop for SECS seconds (default
60) while two other channels do signed I/O, one reading a known file, one
writing and reading back its own.  Every reply must verify with its own
channel's key, every byte read back must be what was written, the session
must survive, and the server must show no sanitizer report (CI runs this
under ASan/UBSan and under ThreadSanitizer).  Binds are 3.1.1 (each has its
own preauth hash, [MS-SMB2] 3.3.5.5.2 requires the session's dialect); half
of the new channels end with a TCP reset, half with a close."""
import os, struct, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SECS = int(os.environ.get("SECS", "60"))
srv = Srv(tag="churn").start()
U1 = USERS[0]
a, s = R.connect_session("127.0.0.1", srv.port, *U1)
blob = os.urandom(1 << 20)
fid = R.create(a, s, "churn-read.dat")
for off in range(0, len(blob), 65536):
    R.write(a, s, fid, off, blob[off:off + 65536])
R.close(a, s, fid)
stop = threading.Event()
out = {"replies": 0, "bad_sig": 0, "bad_data": 0, "binds": 0, "bind_fail": 0, "errors": []}
lock = threading.Lock()


def verify(conn, r):
    with lock:
        out["replies"] += 1
        if not (r.flags & 0x8) or not R.verify_response(conn, s.keys[conn], r):
            out["bad_sig"] += 1


def reader():
    c, st = bind(srv.port, s, a.client_guid)
    if st:
        out["errors"].append("reader bind 0x%x" % st)
        return
    f = R.create(c, s, "churn-read.dat", access=0x00120089, disposition=1)
    i = 0
    while not stop.is_set():
        off = (i * 65536) % len(blob)
        m = c.header(READ, session_id=s.id, tree_id=s.tree_id) + \
            struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, 65536, off, f, 0, 0, 0, 0, 0) + b"\0"
        R.Conn.sign(m, s.keys[c], c.sign_alg, c.dialect)
        r = c.call(m)
        verify(c, r)
        data = r.body[16:16 + 65536]
        if r.status or data != blob[off:off + 65536]:
            with lock:
                out["bad_data"] += 1
        i += 1
    c.close()


def writer():
    c, st = bind(srv.port, s, a.client_guid)
    if st:
        out["errors"].append("writer bind 0x%x" % st)
        return
    f = R.create(c, s, "churn-write.dat")
    i = 0
    while not stop.is_set():
        data = os.urandom(32768)
        off = (i % 16) * 32768
        for m in (c.header(WRITE, session_id=s.id, tree_id=s.tree_id) +
                  struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), off, f, 0, 0, 0, 0, 0) + data,
                  c.header(READ, session_id=s.id, tree_id=s.tree_id) +
                  struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, len(data), off, f, 0, 0, 0, 0, 0) + b"\0"):
            R.Conn.sign(m, s.keys[c], c.sign_alg, c.dialect)
            r = c.call(m)
            verify(c, r)
        if r.status or r.body[16:16 + len(data)] != data:
            with lock:
                out["bad_data"] += 1
        i += 1
    c.close()


threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
for t in threads:
    t.start()
t_end = time.time() + SECS
k = 0
while time.time() < t_end:
    try:
        c = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
        st, _ = R.session_setup(c, U1[0], U1[1], session=s, bind=True)
        out["binds"] += 1
        if st:
            out["bind_fail"] += 1
        elif k % 3 == 0:
            R.echo(c, s)
        if k % 2:
            abort(c)
        else:
            c.close()
    except Exception as e:
        out["errors"].append(repr(e)[:100])
    k += 1
stop.set()
for t in threads:
    t.join(30)
print(out)
check(out["binds"] > 20 and out["replies"] > 200, "the churn ran (%d binds, %d replies)" % (out["binds"], out["replies"]))
check(out["bind_fail"] == 0, "every bind succeeds (%d failed)" % out["bind_fail"])
check(out["bad_sig"] == 0, "every reply verifies with its channel's key (%d bad)" % out["bad_sig"])
check(out["bad_data"] == 0, "every byte read is what was written (%d bad)" % out["bad_data"])
check(not out["errors"], "no client error: %r" % out["errors"][:3])
check(R.echo(a, s) == 0, "the session still works on its first channel")
a.close()
done(srv)

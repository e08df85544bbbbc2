"""A bounded hostile-client campaign against the ASan/UBSan server (issue 10, item 6).

Six phases share a time budget (CAMPAIGN_SECS, default 150 s): malformed PDUs before and after
authentication, compound chains, credit abuse, cancel/close/logoff/disconnect races across two
channels of one session (session binding), and resource floods.  After every phase a
well-behaved client must still get its work done on four fresh connections (healthy(); they land
on different workers); at the end SIGTERM must stop the
server and there must be no sanitizer report.  Any of those failing fails the test.

Randomness is seeded: the seed is printed first, and SEED=N replays the same choices (thread
timing aside).  ONLY=phase,phase runs some phases."""
import os, sys, time, random, struct, socket, threading, traceback
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, check, done  # noqa: E402
from hc import *  # noqa: E402,F401,F403

SEED = int(os.environ.get("SEED") or random.SystemRandom().randrange(1 << 32))
BUDGET = float(os.environ.get("CAMPAIGN_SECS", "150"))
ONLY = [p for p in os.environ.get("ONLY", "").split(",") if p]
print("seed %d (SEED=%d CAMPAIGN_SECS=%g reproduces the choices)" % (SEED, SEED, BUDGET), flush=True)
U1, U2 = USERS[0], USERS[1]
INTERESTING16 = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
INTERESTING32 = INTERESTING16 + [0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
ALL_FF = b"\xff" * 16
trail = []   # the last actions, printed when something fails


def note(what):
    trail.append(what)
    del trail[:-40]


def rb(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def mutate(rng, data, keep=0):
    """A hostile variant of data; the first `keep` bytes are left alone."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if len(b) <= keep:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            continue
        k = rng.randrange(7)
        pos = rng.randrange(keep, len(b))
        if k == 0:
            b[pos] ^= 1 << rng.randrange(8)
        elif k == 1 and pos + 2 <= len(b):
            b[pos:pos + 2] = struct.pack("<H", rng.choice(INTERESTING16))
        elif k == 2 and pos + 4 <= len(b):
            b[pos:pos + 4] = struct.pack("<I", rng.choice(INTERESTING32 + [len(b), len(b) + 1, max(0, len(b) - 64)]))
        elif k == 3:
            del b[pos:]
        elif k == 4:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif k == 5 and pos + 8 <= len(b):
            b[pos:pos + 8] = struct.pack("<Q", rng.choice([0, 1 << 40, 1 << 63, (1 << 64) - 1]))
        else:
            b[pos] = rng.randrange(256)
    return bytes(b)


def bodies(rng, fid):
    """(command, body) of ordinary requests, on the FileId fid."""
    name = U16(rng.choice(["a.txt", "d", "d\\b.txt", "x:s", "", "..\\up", "a" * 300, "c.txt:str:$DATA"]))
    return [
        (CREATE, b_create(name, disp=rng.choice([1, 2, 3, 5]), opts=rng.choice([0, 1, 0x40, 0x1000]),
                          oplock=rng.choice([0, 1, 8, 9]))),
        (CLOSE, b_close(fid, rng.choice([0, 1]))),
        (READ, b_read(fid, rng.choice([0, 10, 1 << 40]), rng.choice([0, 10, 65536]))),
        (WRITE, b_write(fid, rng.choice([0, 5, 1 << 40]), rb(rng, rng.choice([0, 1, 100])))),
        (FLUSH, struct.pack("<HHI", 24, 0, 0) + fid),
        (QINFO, b_qinfo(fid, rng.choice([1, 2, 3, 4]), rng.randrange(80), out_len=rng.choice([0, 8, 65536]))),
        (SINFO, b_sinfo(fid, rng.choice([1, 2, 3]), rng.randrange(70), rb(rng, rng.choice([0, 8, 40, 100])))),
        (QDIR, b_qdir(fid, U16(rng.choice(["*", "a*", "?", ""])), cls=rng.choice([1, 2, 3, 0x25, 0x26, 0x3C]),
                      flags=rng.choice([0, 1, 2, 0x10]))),
        (IOCTL, b_ioctl(rng.choice([0x00140204, 0x001401FC, 0x000900C4, 0x000980C8, 0x000940CF, 0x00140078,
                                    0x001440F2, 0x0011C017, 0x000900A8, 0x000901AF]), fid,
                        rb(rng, rng.choice([0, 8, 16, 48])))),
        (LOCK, b_lock(fid, [(rng.choice([0, 5, 1 << 63]), rng.choice([0, 1, 10]), rng.choice([1, 2, 4, 0x11, 0x12]))
                            for _ in range(rng.randint(1, 3))])),
        (NOTIFY, b_notify(fid, flags=rng.choice([0, 1]), out_len=rng.choice([0, 4096]))),
        (ECHO, b_echo()),
        (OPBRK, struct.pack("<HBB4s", 24, rng.choice([0, 1, 8]), 0, b"\0" * 4) + fid),
        (CANCEL, struct.pack("<HH", 4, 0)),
        (TCON, b_tcon(U16(rng.choice(["\\\\127.0.0.1\\share", "\\\\x\\IPC$", "\\\\x\\nope", "\\\\x\\share\0x"])))),
    ]


class Chan(H):
    """A second channel bound to the session of an H (MS-SMB2 3.3.5.5.2)."""
    def __init__(self, port, h, user=U1):
        self.c = R.Conn("127.0.0.1", port, client_guid=h.c.client_guid, timeout=5).negotiate()
        st_, self.s = R.session_setup(self.c, user[0], user[1], session=h.s, bind=True)
        if st_:
            raise R.SMBError(st_, "bind")


def drain(h, first=0.3):
    """Read what the server answers: 'closed', 'timeout' (nothing, or a request left
    pending) or 'ok'."""
    r = h.recv(first)
    if isinstance(r, str):
        return r
    while True:
        r = h.recv(0.02)
        if r == "closed":
            return r
        if isinstance(r, str):
            return "ok"


def safe_close(h):
    try:
        h.close()
    except Exception:
        pass


def rst(h):
    """Drop the connection with a reset, not a FIN."""
    try:
        h.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    safe_close(h)


def new_h(srv, user=U1):
    for _ in range(3):
        try:
            return H(srv.port, user, timeout=5)
        except Exception as e:
            note("login failed: %r" % e)
            time.sleep(0.2)
    raise RuntimeError("cannot log on")


def some_fid(h, rng):
    try:
        return h.create("f%d.txt" % rng.randrange(4), disp=5)
    except Exception:
        return rb(rng, 16)


# ---- phases ----
def phase_preauth(srv, rng, until):
    """Garbage framing, mutated NEGOTIATE and SESSION_SETUP from unauthenticated peers."""
    n = 0
    neg = hdr(NEG, 0) + struct.pack("<HHHHI16sIHH", 36, 2, 1, 0, 0x7F, rb(rng, 16), 0, 0, 0) + \
        struct.pack("<HH", 0x0210, 0x0311)
    while time.time() < until:
        n += 1
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
        try:
            k = rng.randrange(4)
            if k == 0:
                s.sendall(bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))))
            elif k == 1:
                m = mutate(rng, neg)
                s.sendall(struct.pack(">I", len(m)) + m)
            elif k == 2:   # a length that promises more than ever comes
                s.sendall(struct.pack(">I", rng.choice([70, 65536, 1 << 23, 0xFFFFFF])) + rb(rng, rng.randint(0, 60)))
            else:
                h = H(srv.port, negotiate_only=True, timeout=2)
                blob = mutate(rng, b"NTLMSSP\0\x01\0\0\0" + rb(rng, rng.randint(0, 40)))
                body = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, 88, len(blob), 0) + blob
                h.send(hdr(SESS, h.mid()) + mutate(rng, body, keep=0) if rng.random() < 0.5 else hdr(SESS, h.mid()) + body)
                h.recv(1)
                h.close()
            s.settimeout(0.05)
            try:
                s.recv(4096)
            except OSError:
                pass
        except OSError:
            pass
        finally:
            s.close()
    return n


def phase_malformed(srv, rng, until):
    """Ordinary requests with mutated bodies (and sometimes headers), signed, authenticated."""
    h, fid, sent, drops = new_h(srv), None, 0, 0
    fid = some_fid(h, rng)
    while time.time() < until:
        cmd, body = rng.choice(bodies(rng, rng.choice([fid, fid, ALL_FF, rb(rng, 16)])))
        msg = hdr(cmd, h.mid(), h.sid, h.tid) + mutate(rng, body)
        if rng.random() < 0.15:
            msg = mutate(rng, msg)
        note("malformed %s %s" % (cmd, msg[:96].hex()))
        h.send(msg, sign=rng.random() < 0.95)
        sent += 1
        r = drain(h)
        if r == "closed":
            drops += 1
            safe_close(h)
            h = new_h(srv)
            fid = some_fid(h, rng)
    safe_close(h)
    return "%d messages, %d connections dropped" % (sent, drops)


def phase_compound(srv, rng, until):
    """Random compound chains: related and unrelated elements, the related FileId, odd NextCommands."""
    h, sent, drops = new_h(srv), 0, 0
    fid = some_fid(h, rng)
    while time.time() < until:
        parts = []
        for i in range(rng.randint(2, 7)):
            rel = i > 0 and rng.random() < 0.6
            cmd, body = rng.choice(bodies(rng, ALL_FF if rel else rng.choice([fid, rb(rng, 16)])))
            if rng.random() < 0.1:
                body = mutate(rng, body)
            parts.append((hdr(cmd, h.mid(), h.sid, h.tid, flags=RELATED if rel else 0), body))
        msg = bytearray(compound(parts))
        if rng.random() < 0.1:   # a NextCommand that does not fit
            msg[20:24] = struct.pack("<I", rng.choice([1, 8, 63, 64, len(msg), len(msg) + 8]))
        note("compound %s" % bytes(msg[:160]).hex())
        h.send(bytes(msg))
        sent += 1
        if drain(h) == "closed":
            drops += 1
            safe_close(h)
            h = new_h(srv)
            fid = some_fid(h, rng)
    safe_close(h)
    return "%d chains, %d connections dropped" % (sent, drops)


def phase_credits(srv, rng, until):
    """MessageIds outside the window, reused, huge charges, no credits asked, deep pipelines."""
    n = 0
    while time.time() < until:
        h = new_h(srv)
        k = rng.randrange(5)
        note("credits kind %d" % k)
        if k == 0:     # jump ahead / back
            h.c.mid = max(0, h.c.mid + rng.choice([-1, -5, 100, 10000, 1 << 40]))
            h.send(hdr(ECHO, h.mid(), h.sid) + b_echo())
        elif k == 1:   # reuse an id
            m = h.mid()
            for _ in range(2):
                h.send(hdr(ECHO, m, h.sid) + b_echo())
        elif k == 2:   # charge beyond the grant
            charge = rng.choice([0, 2, 64, 0xFFFF])
            h.send(hdr(READ, h.mid(charge), h.sid, h.tid, charge=charge) + b_read(ALL_FF, 0, 1 << 20))
        elif k == 3:   # ask for nothing, then for everything
            for cr in (0, 0xFFFF, 0):
                h.send(hdr(ECHO, h.mid(), h.sid, credreq=cr) + b_echo())
        else:          # pipeline without reading
            for _ in range(rng.randint(50, 400)):
                h.send(hdr(ECHO, h.mid(), h.sid, credreq=rng.choice([0, 1, 64])) + b_echo())
        h.recv_all(3, timeout=1)
        (rst if rng.random() < 0.5 else safe_close)(h)
        n += 1
    return "%d connections" % n


def race_once(srv, rng):
    """Two channels of one session: channel b works (creates, I/O, a blocking lock, a notify, an
    oplock that must break) while channel a logs off, closes b's handles, cancels, disconnects
    or resets at a random moment."""
    a = new_h(srv)
    try:
        b = Chan(srv.port, a)
    except Exception as e:
        note("bind failed: %r" % e)
        safe_close(a)
        return "bind-failed"
    shared = a.create("race%d.txt" % rng.randrange(3), disp=5)
    stop = threading.Event()
    wrng = random.Random(rng.randrange(1 << 32))

    def work():
        try:
            while not stop.is_set():
                k = wrng.randrange(6)
                if k == 0:
                    f = R.create(b.c, b.s, "r%d.txt" % wrng.randrange(3), disposition=5)
                    b.send(hdr(WRITE, b.mid(), b.sid, b.tid) + b_write(f, 0, b"w" * 3000), sign=True)
                    b.send(hdr(CLOSE, b.mid(), b.sid, b.tid) + b_close(f))
                    b.recv_all(2, timeout=2)
                elif k == 1:
                    b.send(hdr(LOCK, b.mid(), b.sid, b.tid) + b_lock(shared, [(0, 10, 2)]))
                    b.send(hdr(LOCK, b.mid(), b.sid, b.tid) + b_lock(shared, [(0, 10, 2)]))   # blocks
                    b.recv(0.2)
                elif k == 2:
                    d = R.create(b.c, b.s, "", access=0x00100081, disposition=1, options=1)
                    b.send(hdr(NOTIFY, b.mid(), b.sid, b.tid) + b_notify(d))
                    b.recv(0.1)
                elif k == 3:
                    b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16("op.txt"), disp=5, oplock=9))
                    b.send(hdr(CREATE, b.mid(), b.sid, b.tid) + b_create(U16("op.txt"), disp=1, oplock=9))
                    b.recv(0.2)
                elif k == 4:
                    b.send(hdr(READ, b.mid(), b.sid, b.tid) + b_read(shared, 0, 4096))
                    b.recv(0.5)
                else:
                    b.send(hdr(CANCEL, b.c.mid - 1, b.sid, b.tid) + b_echo())
        except Exception:
            pass

    t = threading.Thread(target=work)
    t.start()
    time.sleep(rng.uniform(0, 0.15))
    k = rng.randrange(6)
    try:
        if k == 0:
            a.send(hdr(LOGOFF, a.mid(), a.sid) + b_echo())
        elif k == 1:
            a.send(hdr(CLOSE, a.mid(), a.sid, a.tid) + b_close(shared))
        elif k == 2:
            a.send(hdr(TDIS, a.mid(), a.sid, a.tid) + b_echo())
        elif k == 3:
            rst(a)
        elif k == 4:
            for m in range(max(0, b.c.mid - 6), b.c.mid):
                a.send(hdr(CANCEL, m, a.sid, a.tid) + b_echo())
        else:
            rst(b)
        time.sleep(rng.uniform(0, 0.1))
        if rng.random() < 0.5:
            rst(b)
    except Exception:
        pass
    stop.set()
    t.join(10)
    rst(a)
    rst(b)
    return "race-%d" % k


def phase_races(srv, rng, until):
    seen = {}
    while time.time() < until:
        k = race_once(srv, rng)
        note("race %s" % k)
        seen[k] = seen.get(k, 0) + 1
    return " ".join("%s:%d" % kv for kv in sorted(seen.items()))


def phase_floods(srv, rng, until):
    """Many half-open PDUs, many handles, many trees, many parked requests, many sessions."""
    out = []
    socks = []
    for _ in range(120):   # pre-auth connections that promise a big PDU and stall
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            s.sendall(struct.pack(">I", 8 << 20) + b"\xfeSMB")
            socks.append(s)
        except OSError:
            break
    out.append("%d stalled" % len(socks))
    h = new_h(srv)
    opened = 0
    for i in range(1500):
        if time.time() >= until:
            break
        h.send(hdr(CREATE, h.mid(), h.sid, h.tid) + b_create(U16("fl%d" % (i % 50)), disp=3))
        opened += 1
        if i % 64 == 63:
            h.recv_all(64, timeout=2)
    out.append("%d opens" % opened)
    trees = 0
    for _ in range(300):
        if time.time() >= until:
            break
        h.send(hdr(TCON, h.mid(), h.sid) + b_tcon(U16("\\\\127.0.0.1\\share")))
        trees += 1
    out.append("%d tree connects" % trees)
    d = R.create(h.c, h.s, "", access=0x00100081, disposition=1, options=1)
    for _ in range(64):
        h.send(hdr(NOTIFY, h.mid(), h.sid, h.tid) + b_notify(d))
    h2 = new_h(srv)
    for _ in range(40):   # sessions on one connection
        try:
            R.session_setup(h2.c, U2[0], U2[1])
        except Exception:
            break
    rst(h)
    rst(h2)
    for s in socks:
        s.close()
    return ", ".join(out)


PHASES = [("preauth", phase_preauth, 0.12), ("malformed", phase_malformed, 0.25), ("compound", phase_compound, 0.2),
          ("credits", phase_credits, 0.1), ("races", phase_races, 0.23), ("floods", phase_floods, 0.1)]


def main():
    srv = Srv(tag="campaign").start()
    rng = random.Random(SEED)
    check(srv.healthy(), "healthy at start")
    for name, fn, share in PHASES:
        prng = random.Random(rng.randrange(1 << 32))   # each phase's choices depend on the seed only
        if ONLY and name not in ONLY:
            continue
        t0 = time.time()
        try:
            summary = fn(srv, prng, t0 + BUDGET * share)
        except Exception:
            # The server may have made the harness fail (a hang, a reset
            # where an answer was due): the checks below tell.
            summary = "stopped early: " + traceback.format_exc(limit=4)
        print("phase %-9s %5.1fs  %s" % (name, time.time() - t0, summary), flush=True)
        alive = srv.alive()
        # Several fresh connections: the kernel spreads them over the
        # workers, so one stuck worker (a deadlock) is seen too.
        ok = alive and all(srv.healthy() for _ in range(4))
        if not check(ok, "after %s: the server is alive (%s) and answers a healthy client" %
                     (name, "yes" if alive else "NO")):
            print("reproduce: SEED=%d CAMPAIGN_SECS=%g ONLY=%s; the last actions of the phase:" %
                  (SEED, BUDGET, name))
            print("\n".join(trail[-15:]))
            break
        trail.clear()
    done(srv)


main()

"""D4: replies signed with an all-zero key while channels bind and drop.

The signing key was read through a pointer into the session's channel array
after its lock was released; a pool thread signed with it later while another
worker compacted the array (and a new bind zeroed the slot).  Channel IO keeps
signed READs in flight while channel A drops and channel B binds; every reply
must verify with IO's key, and B must never be usable with a zero key."""
import os, struct, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

SECS = int(os.environ.get("SECS", "40"))
READ_SIZE, DEPTH = 1 << 20, 4
srv = Srv(tag="signrace").start()
U1 = USERS[0]
a, s = R.connect_session("127.0.0.1", srv.port, *U1)
fid = R.create(a, s, "signrace.dat")
blob = os.urandom(READ_SIZE)
for off in range(0, READ_SIZE, 65536):
    R.write(a, s, fid, off, blob[off:off + 65536])
R.close(a, s, fid)
out = {"cycles": 0, "replies": 0, "bad_sig": 0, "unsigned": 0, "zero_key_ok": 0, "errors": []}
lock = threading.Lock()
t_end = time.time() + SECS
while time.time() < t_end:
    try:
        A, st1 = bind(srv.port, s, a.client_guid)
        IO, st2 = bind(srv.port, s, a.client_guid)
        Bn = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
        if st1 or st2:
            out["errors"].append("bind 0x%x 0x%x" % (st1, st2))
            abort(A); abort(IO); abort(Bn)
            continue
        key = s.keys[IO]
        ffid = R.create(IO, s, "signrace.dat", access=0x00120089, disposition=1)
        stop = threading.Event()

        def io_loop():
            inflight = 0
            try:
                while True:
                    while inflight < DEPTH and not stop.is_set():
                        m = IO.header(READ, session_id=s.id, tree_id=s.tree_id, credit_charge=READ_SIZE // 65536) + \
                            struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, READ_SIZE, 0, ffid, 0, 0, 0, 0, 0) + b"\0"
                        R.Conn.sign(m, key, IO.sign_alg, IO.dialect)
                        IO._send(bytes(m))
                        inflight += 1
                    if inflight == 0:
                        break
                    r = IO._recv()
                    inflight -= 1
                    with lock:
                        out["replies"] += 1
                        if not (r.flags & 0x8):
                            out["unsigned"] += 1
                        elif not R.verify_response(IO, key, r):
                            out["bad_sig"] += 1
            except Exception as e:
                out["errors"].append("io: " + repr(e)[:100])
        t = threading.Thread(target=io_loop)
        t.start()
        time.sleep(0.03)
        abort(A)                       # A goes: the channels after it move
        time.sleep(0.002)
        R.session_setup(Bn, U1[0], U1[1], session=s, bind=True)  # B takes a slot
        mz = Bn.header(CREATE, session_id=s.id, tree_id=s.tree_id) + b_create(U16("zk.txt"), disp=3)
        R.Conn.sign(mz, b"\0" * 16, Bn.sign_alg, Bn.dialect)
        if Bn.call(mz).status == 0:
            out["zero_key_ok"] += 1
        time.sleep(0.05)
        stop.set()
        t.join(30)
        abort(Bn)
        IO.close()
        out["cycles"] += 1
    except Exception as e:
        out["errors"].append(repr(e)[:100])
print(out)
check(out["cycles"] > 5 and out["replies"] > 50, "the race ran (%d cycles, %d replies)" % (out["cycles"], out["replies"]))
check(out["bad_sig"] == 0, "every signed reply verifies with its channel's key (%d bad)" % out["bad_sig"])
check(out["unsigned"] == 0, "no reply of a signed session goes out unsigned (%d)" % out["unsigned"])
check(out["zero_key_ok"] == 0, "no request signed with a zero key is accepted (%d)" % out["zero_key_ok"])
check(R.echo(a, s) == 0, "the session still works on its first channel")
a.close()
done(srv)

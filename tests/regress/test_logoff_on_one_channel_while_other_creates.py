"""D3 (the ksmbd CVE-2025-37899 pattern): LOGOFF on channel A while channel B
creates, writes, reads and closes.  Opens survived with a dead session, fds
leaked, and `smb3ctl status` read freed memory."""
import os, re, sys, random, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

ITER = 25
seed = int(os.environ.get("SEED", time.time()))
random.seed(seed)
print("seed", seed)
srv = Srv(tag="lostale").start()
fd0 = srv.fds()
U1 = USERS[0]
statuses = {}
for i in range(ITER):
    a, s = R.connect_session("127.0.0.1", srv.port, *U1)
    b = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
    st_, _ = R.session_setup(b, U1[0], U1[1], session=s, bind=True)
    if st_:
        check(False, "bind: 0x%x" % st_)
        continue
    stop = threading.Event()

    def worker():
        try:
            for k in range(200):
                if stop.is_set():
                    return
                r = b.call(b.header(CREATE, session_id=s.id, tree_id=s.tree_id) + b_create(U16("lo%d_%d" % (i, k % 3)), disp=5), s.keys[b])
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status:
                    return
                fid = r.body[64:80]
                for cmd, body in ((WRITE, b_write(fid, 0, b"q" * 5000)), (READ, b_read(fid, 0, 5000)),
                                  (CLOSE, b_close(fid))):
                    b.call(b.header(cmd, session_id=s.id, tree_id=s.tree_id) + body, s.keys[b])
        except Exception:
            pass
    t = threading.Thread(target=worker)
    t.start()
    time.sleep(random.uniform(0.0, 0.05))
    R.logoff(a, s)
    t.join(30)
    stop.set()
    a.close()
    b.close()
print("CREATE statuses:", {hex(k): v for k, v in statuses.items()})
time.sleep(1.5)
st = srv.status()
check(st.startswith("smb3d"), "smb3ctl status answers")
check(not re.findall(r"^  file ", st, re.M), "no open survives its session")
check(0 <= srv.fds() <= fd0 + 2, "server fds back to baseline (%d before, %d after)" % (fd0, srv.fds()))
check(srv.healthy(), "a well-behaved client still works")
done(srv)

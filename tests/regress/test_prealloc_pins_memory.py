"""D6: the 4-byte length of an 8 MiB PDU made the receive path allocate and
register (pin) the whole buffer at once: 100 unauthenticated connections
pinned 820 MB.  Now an unauthenticated peer may announce no more than
NEGOTIATE/SESSION_SETUP need (the connection is closed at once), and an
authenticated one gets memory as its bytes arrive, never pinned before."""
import os, sys, time, socket, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_write, WRITE

def mem(srv):
    d = {}
    for l in open("/proc/%d/status" % srv.pid):
        k = l.split(":")[0]
        if k in ("VmRSS", "VmPin"):
            d[k] = int(l.split()[1])
    return d

def closed_by_server(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True

srv = Srv(tag="prealloc").start()
check(srv.healthy(), "healthy at start")
m0 = mem(srv)
# 100 unauthenticated connections, each announcing an 8 MiB PDU
socks = []
for i in range(100):
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(struct.pack(">I", 8 << 20))
    socks.append(s)
time.sleep(1)
m1 = mem(srv)
print("before", m0, "100 pre-auth 8 MiB announcements", m1)
check(m1["VmPin"] - m0["VmPin"] < 8 << 10, "no memory pinned for unauthenticated announcements")
check(m1["VmRSS"] - m0["VmRSS"] < 64 << 10, "RSS grows by less than 64 MiB (was 820 MB)")
check(all(closed_by_server(s, 5) for s in socks), "every over-sized pre-auth PDU closes its connection")
for s in socks:
    s.close()
# a pre-auth PDU within the cap is still fine (the health check negotiates)
check(srv.healthy(), "a new client still connects")
# 20 authenticated connections, each 64 KiB into an announced 8 MiB WRITE
hs = []
for i in range(20):
    h = H(srv.port)
    fid = h.create("pin%d" % i, disposition=5)
    m = hdr(WRITE, h.mid(128), h.sid, h.tid, charge=128) + b_write(fid, 0, b"", length=8 << 20)
    h.send_raw(struct.pack(">I", len(m) + (8 << 20)) + bytes(m) + b"\0" * 65536)
    hs.append(h)
time.sleep(1)
m2 = mem(srv)
print("20 authenticated connections 64 KiB into 8 MiB WRITEs", m2)
check(m2["VmPin"] - m1["VmPin"] < 8 << 10, "nothing pinned for unfinished authenticated PDUs")
check(m2["VmRSS"] - m1["VmRSS"] < 80 << 10, "RSS follows the bytes received (was 20 x 16 MiB)")
check(srv.healthy(), "healthy while they wait")
for h in hs:
    h.close()
done(srv)

"""D6: a connection that stopped in the middle of a PDU (authenticated or
not) was never timed out, and kept its receive buffer.  "pdu timeout" bounds
the time from a PDU's first byte to its last, however slowly it trickles."""
import os, sys, time, socket, struct
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_write, WRITE

def closed_within(s, secs, trickle=False):
    """Seconds until the server closed s, or None (sends a byte a second when trickling)."""
    t0 = time.time()
    s.settimeout(1)
    while time.time() - t0 < secs:
        try:
            if s.recv(1) == b"":
                return round(time.time() - t0, 1)
        except socket.timeout:
            pass
        except OSError:
            return round(time.time() - t0, 1)
        if trickle:
            try:
                s.send(b"\0")
            except OSError:
                return round(time.time() - t0, 1)
    return None

srv = Srv(tag="stalled", extra={"pdu timeout": "3", "negotiate timeout": "60"}).start()
# unauthenticated: half a NEGOTIATE, then silence
s = socket.create_connection(("127.0.0.1", srv.port))
s.sendall(struct.pack(">I", 200) + b"\xfeSMB" + b"\0" * 20)
t = closed_within(s, 15)
print("pre-auth stalled PDU closed after", t)
check(t is not None and t <= 8, "a stalled pre-auth PDU is closed by the pdu timeout, not the negotiate timeout")
s.close()
# unauthenticated trickle: a byte a second
s = socket.create_connection(("127.0.0.1", srv.port))
s.sendall(struct.pack(">I", 2000))
t = closed_within(s, 15, trickle=True)
check(t is not None and t <= 8, "a trickling pre-auth PDU is closed too (%s s)" % t)
s.close()
# authenticated: 64 KiB into an announced 1 MiB WRITE, then a byte a second
h = H(srv.port)
fid = h.create("stalled.bin", disposition=5)
m = hdr(WRITE, h.mid(16), h.sid, h.tid, charge=16) + b_write(fid, 0, b"", length=1 << 20)
h.send_raw(struct.pack(">I", len(m) + (1 << 20)) + bytes(m) + b"\0" * 65536)
t = closed_within(h.c.sock, 15, trickle=True)
print("authenticated stalled WRITE closed after", t)
check(t is not None and t <= 8, "an authenticated connection stalled inside a PDU is closed")
h.close()
# an idle authenticated connection (no PDU begun) is not closed by it
h = H(srv.port)
time.sleep(5)
fid = h.create("idle.txt", disposition=5)
check(fid is not None, "an idle connection between PDUs stays")
h.close()
check(srv.healthy(), "healthy")
done(srv)

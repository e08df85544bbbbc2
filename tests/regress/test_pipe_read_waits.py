"""A READ on an IPC$ pipe with no response waiting answered
STATUS_PIPE_EMPTY at once; a Windows pipe read blocks until the other end
writes (smbtorture 4.25's smb2.credits *ipc* tests park reads on \\lsarpc
and cancel them).  Now the READ goes async (STATUS_PENDING), a WRITE that
leaves a response completes it, CANCEL ends it with STATUS_CANCELLED and
so does closing the pipe; \\lsarpc opens and binds."""
import os, struct, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_read, b_write, b_close, b_echo, READ, WRITE, CLOSE, CANCEL, ECHO, R

LSARPC = bytes([0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab])
NDR20 = bytes([0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60])


def bind_pdu():
    body = struct.pack("<HHIB3x", 4280, 4280, 0, 1)
    body += struct.pack("<HBx", 0, 1) + LSARPC + struct.pack("<I", 0) + NDR20 + struct.pack("<I", 2)
    return struct.pack("<BBBB4sHHI", 5, 0, 11, 3, b"\x10\0\0\0", 16 + len(body), 0, 1) + body


def by_mid(h, n):
    """The next n final responses, by MessageId (interim ones are skipped)."""
    out = {}
    while len(out) < n:
        r = h.recv_interim(5)
        if isinstance(r, str):
            break
        if r.status != 0x103:
            out[r.mid] = r
    return out


srv = Srv(tag="pipewait").start()
h = H(srv.port, share="IPC$")
fid = h.create("lsarpc", access=0x0012019F, disposition=1, options=0)

# a READ with nothing to read waits; the WRITE of a bind completes it
m = h.mid()
h.send(hdr(READ, m, h.sid, h.tid, credreq=8) + b_read(fid, 0, 1024))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == 0x103 and r.mid == m, "the READ goes async (%s)" % (r if isinstance(r, str) else R.status_name(r.status)))
w = h.mid()
h.send(hdr(WRITE, w, h.sid, h.tid) + b_write(fid, 0, bind_pdu()))
got = by_mid(h, 2)
check(w in got and got[w].status == 0, "the WRITE succeeds")
rr = got.get(m)
check(rr is not None and rr.status == 0, "the waiting READ completes (%s)" % (R.status_name(rr.status) if rr else "no answer"))
data = rr.body[16:] if rr else b""
check(data[:3] == b"\x05\x00\x0c", "with the BIND_ACK of lsarpc")

# CANCEL ends a waiting READ
m = h.mid()
h.send(hdr(READ, m, h.sid, h.tid) + b_read(fid, 0, 0))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == 0x103, "a READ of 0 bytes waits too")
h.send(hdr(CANCEL, m, h.sid, h.tid) + b_echo())
got = by_mid(h, 1)
check(m in got and got[m].status == 0xC0000120, "CANCEL ends it with STATUS_CANCELLED")

# closing the pipe ends a waiting READ
m = h.mid()
h.send(hdr(READ, m, h.sid, h.tid) + b_read(fid, 0, 1024))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == 0x103, "another READ waits")
c = h.mid()
h.send(hdr(CLOSE, c, h.sid, h.tid) + b_close(fid))
got = by_mid(h, 2)
check(c in got and got[c].status == 0, "CLOSE succeeds")
check(m in got and got[m].status == 0xC0000120, "the READ ends with STATUS_CANCELLED")

# a READ left waiting when the connection goes does not pin it
fid = h.create("lsarpc", access=0x0012019F, disposition=1, options=0)
h.send(hdr(READ, h.mid(), h.sid, h.tid) + b_read(fid, 0, 1024))
r = h.recv_interim(5)
check(not isinstance(r, str) and r.status == 0x103, "a READ waits when the connection closes")
r = h.call(hdr(ECHO, h.mid(), h.sid) + b_echo())
check(not isinstance(r, str) and r.status == 0, "the connection still answers")
h.close()
time.sleep(1)
check(srv.healthy(), "healthy after the connection with a waiting READ went")
done(srv)

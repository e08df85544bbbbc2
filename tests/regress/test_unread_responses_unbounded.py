"""Credit abuse: a client that sends READs and never reads the answers made
the server queue every response in memory.  Past 64 MiB of queued responses
a connection is not read until the peer takes them down to 32 MiB."""
import os, sys, time, struct, socket
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import Srv, H, check, done, hdr, b_read, b_echo, READ, ECHO

srv = Srv(tag="unread").start()
open(os.path.join(srv.share, "big.bin"), "wb").write(os.urandom(1 << 20))
h = H(srv.port)
for _ in range(10):   # grow the credit window to 8192
    h.call(hdr(ECHO, h.mid(), h.sid, credreq=1000) + b_echo())
fid = h.create("big.bin", access=0x00120089, disposition=1)
h.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
rss0 = srv.rss_kb()
# 400 READs of 1 MiB (16 credits each: the whole window), never read
h.c.sock.setblocking(False)
sent, t0 = 0, time.time()
buf = b""
for i in range(400):
    m = h.sign_elems(hdr(READ, h.mid(16), h.sid, h.tid, charge=16, credreq=16) + b_read(fid, 0, 1 << 20))
    buf += struct.pack(">I", len(m)) + m
while buf and time.time() - t0 < 20:
    try:
        n = h.c.sock.send(buf)
        buf = buf[n:]
    except BlockingIOError:
        time.sleep(0.1)
time.sleep(3)
rss1 = srv.rss_kb()
print("RSS before %d kB, with 400 unread 1 MiB READs %d kB; %d bytes of requests not taken" % (rss0, rss1, len(buf)))
check(rss1 - rss0 < 200 << 10, "the server holds well under the 400 MiB asked for (%d MiB)" % ((rss1 - rss0) >> 10))
check(srv.healthy(), "another client is served meanwhile")
h.close()
time.sleep(2)
check(srv.healthy(), "healthy after the reader left")
done(srv)

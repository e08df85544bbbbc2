"""A rename takes handle caching from the file's other leases ([MS-FSA]
2.1.5.14.11); a detached durable open holding such a lease cannot hear the
break, so it is closed at once ([MS-SMB2] 3.3.4.7; smbtorture
durable-v2-open.purge-disconnected-rh-with-rename).  smb3d sent the break
to nobody and made the rename wait for its ack until the break timeout,
and the detached open stayed until its reconnect found the lease broken."""
import os, sys, struct, time, uuid
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from regress import *  # noqa: F403

RH = 0x3
LEASE = 0xFF


def rqls(key, state):
    return (b"RqLs", key + struct.pack("<IIQ16sHH", state, 0, 0, b"\0" * 16, 0, 0))


def dh2q(guid):
    return (b"DH2Q", struct.pack("<II8s16s", 60000, 0, b"\0" * 8, guid))


def detached(srv):
    return [l for l in srv.status().splitlines() if l.rstrip().endswith(" s left")]


srv = Srv(tag="renpurge", extra={"smb3d:oplock break timeout": "5"}).start()
client_a, key_a, guid_a = uuid.uuid4().bytes, uuid.uuid4().bytes, uuid.uuid4().bytes
ca, sa = R.connect_session("127.0.0.1", srv.port, USERS[0][0], USERS[0][1], client_guid=client_a)
r = R.create_full(ca, sa, "ren.txt", oplock=LEASE, contexts=[rqls(key_a, RH), dh2q(guid_a)])
check(r.status == 0 and b"DH2Q" in R.parse_create_contexts(r.body), "a durable open on an RH lease")
fid_a = bytes(r.body[64:80])
ca.close()
for _ in range(100):
    if detached(srv):
        break
    time.sleep(0.05)
check(len(detached(srv)) == 1, "it is detached when its connection is lost")

b = H(srv.port)
r = R.create_full(b.c, b.s, "ren.txt", access=0x001F01FF, disposition=1, oplock=LEASE,
                  contexts=[rqls(uuid.uuid4().bytes, RH)])
check(r.status == 0, "a second client opens it with an RH lease too (%s)" % R.status_name(r.status))
fid_b = bytes(r.body[64:80])
t0 = time.monotonic()
r = b.call(hdr(SINFO, b.mid(), b.sid, b.tid) + b_sinfo(fid_b, 1, 10, rename_info(U16("ren2.txt"))))
took = time.monotonic() - t0
check(st(r) == "STATUS_SUCCESS", "the rename succeeds (%s)" % st(r))
check(took < 2, "without waiting for an ack the detached open cannot send (%.2f s)" % took)
check(detached(srv) == [], "the detached open is closed by the rename")
ca, sa = R.connect_session("127.0.0.1", srv.port, USERS[0][0], USERS[0][1], client_guid=client_a)
r = R.create_full(ca, sa, "ren.txt", oplock=LEASE,
                  contexts=[rqls(key_a, RH), (b"DH2C", fid_a + guid_a + struct.pack("<I", 0))])
check(r.status == 0xC0000034, "its reconnect finds nothing (%s)" % R.status_name(r.status))
ca.close()
b.close_fid(fid_b)
b.close()
check(srv.healthy(), "a well-behaved client still works")
done(srv)

#!/usr/bin/python3
"""IO ordering across channel failures against a real smb3d, with the raw
client of tests/lib: channel sequence numbers ([MS-SMB2] 3.3.5.2.10), lock
sequence numbers (3.3.5.14) and create replay (3.3.5.9.10) -- what
smbtorture's smb2.replay and smb2.lock.replay_* do not reach:

1. a WRITE with an older ChannelSequence than the open has seen (here moved
   on by a READ) is refused with STATUS_FILE_NOT_AVAILABLE and changes
   nothing; a READ with the older sequence is still served;
2. a replayed WRITE (SMB2_FLAGS_REPLAY_OPERATION) with a newer sequence is
   refused while a request of the older sequence still runs on the open (a
   LOCK waiting for another open's lock), and accepted once it has ended;
   the same after the waiting LOCK is cancelled (the count drains on every
   path a request can end);
3. the 2.1 dialect has no channel sequence: the field is ignored;
4. a LOCK whose channel died after it was applied, replayed on the session's
   other channel with the same LockSequence, succeeds without locking twice
   (one unlock frees the range); with another sequence number it is a new
   request and conflicts with the lock it already holds;
5. a durable v2 CREATE replayed on a second channel while the first one still
   waits for an oplock break gets STATUS_FILE_NOT_AVAILABLE, and after the
   break the same FileId; once the client used the open, a replay is a new
   CREATE; without the replay flag the CreateGuid in use is
   STATUS_DUPLICATE_OBJECTID;
6. FSCTL_LMR_REQUEST_RESILIENCY (3.3.5.15.9): a resilient open survives its
   connection and is reclaimed with a DHnC by the same user; its lock
   sequence is checked; a timeout above the cap or a short input is
   INVALID_PARAMETER.
7. requests that outlive their channel (Samba bug 14449): a WRITE, an
   end-of-file and an FSCTL_SET_ZERO_DATA running when channel A dies (the FIN comes with their last
   byte) run to their end; replayed on channel B after another client
   changed the file, they get the kept outcome and are not applied again;
   a rename waiting for a lease break when A dies, or when the client moves
   to a newer sequence, is not cancelled, and its replay waits, then is
   answered without renaming back what another client renamed since;
   with a sequence 3 ahead, or past `smb3d:replay outcome timeout` (a
   second server, 1 s), the replay runs again (observable: the other
   client's bytes are overwritten).

  tests/mc/test_replay.py [--port N]
Last line: "N passed, N failed"; exit 1 on failure."""
import argparse
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import smb2raw as R  # noqa: E402
import regress  # noqa: E402
from regress import Srv, USERS, _failures, free_port  # noqa: E402

FNA = 0xC0000467           # STATUS_FILE_NOT_AVAILABLE
PENDING, CANCELLED = 0x00000103, 0xC0000120
LOCK_SHARED, LOCK_EXCLUSIVE, LOCK_UNLOCK, LOCK_FAIL_IMMEDIATELY = 1, 2, 4, 0x10


def key(c, s):
    return s.keys.get(c)


def write(c, s, fid, off, data, seq=0, replay=False):
    hdr = c.header(R.WRITE, session_id=s.id, tree_id=s.tree_id, channel_sequence=seq, replay=replay)
    body = struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), off, fid, 0, 0, 0, 0, 0) + data
    return c.call(hdr + body, key(c, s)).status


def read(c, s, fid, off, n, seq=0):
    hdr = c.header(R.READ, session_id=s.id, tree_id=s.tree_id, channel_sequence=seq)
    body = struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, n, off, fid, 0, 0, 0, 0, 0) + b"\0"
    r = c.call(hdr + body, key(c, s))
    if r.status:
        return r.status, b""
    o, ln = r.body[2], struct.unpack_from("<I", r.body, 4)[0]
    return 0, bytes(r.raw[o:o + ln])


def lock_msg(c, s, fid, flags, seq=0):
    hdr = c.header(R.LOCK, session_id=s.id, tree_id=s.tree_id, channel_sequence=seq)
    msg = hdr + struct.pack("<HHI16s", 48, 1, 0, fid) + struct.pack("<QQII", 0, 10, flags, 0)
    R.Conn.sign(msg, key(c, s), c.sign_alg, c.dialect)
    return msg


def recv(c):
    return c._recv()


def open_pair(c, s, name):
    a = R.create(c, s, name)
    b = R.create(c, s, name, disposition=1)
    return a, b


def sequence_order(srv):
    c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    fid = R.create(c, s, "order.bin")
    check(write(c, s, fid, 0, b"A" * 8, seq=3) == 0, "WRITE under sequence 3")
    st, _ = read(c, s, fid, 0, 8, seq=4)
    check(st == 0, "READ under the newer sequence 4 is served")
    check(write(c, s, fid, 0, b"B" * 8, seq=3) == FNA, "a WRITE under the older sequence 3 is refused")
    check(write(c, s, fid, 0, b"C" * 8, seq=3, replay=True) == FNA, "and so is its replay")
    st, data = read(c, s, fid, 0, 8, seq=3)
    check(st == 0 and data == b"A" * 8, "a READ under sequence 3 is served, the data untouched (%r)" % data)
    check(write(c, s, fid, 0, b"D" * 8, seq=4) == 0, "a WRITE under sequence 4 is applied")
    check(write(c, s, fid, 0, b"E" * 8, seq=0x8004) == FNA, "a sequence 0x8000 ahead counts as older")
    check(write(c, s, fid, 0, b"F" * 8, seq=0x7FFF + 4) == 0, "one 0x7FFF ahead is newer")
    R.close(c, s, fid)
    c.close()


def replay_waits(srv, end_with_cancel):
    how = "cancelled" if end_with_cancel else "granted"
    c, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    a, b = open_pair(c, s, "drain-%s.bin" % how)
    r = c.call(lock_msg(c, s, a, LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY, seq=7))
    check(r.status == 0, "open A locks bytes 0-9")
    # open B's LOCK under sequence 7 waits for A's lock
    msg = lock_msg(c, s, b, LOCK_EXCLUSIVE, seq=7)
    lock_mid = struct.unpack_from("<Q", msg, 24)[0]
    c._send(bytes(msg))
    n = struct.unpack(">I", c._recv_exact(4))[0] & 0xFFFFFF
    interim = R.Response(c._recv_exact(n))
    check(interim.status == PENDING, "[%s] B's LOCK under sequence 7 goes async" % how)
    async_id = struct.unpack_from("<Q", interim.raw, 32)[0]
    st = write(c, s, b, 100, b"x", seq=8, replay=True)
    check(st == FNA, "[%s] a replayed WRITE under sequence 8 waits for the LOCK of sequence 7 (%s)"
          % (how, R.status_name(st)))
    st = write(c, s, b, 100, b"x", seq=8, replay=True)
    check(st == FNA, "[%s] still refused while the LOCK runs (%s)" % (how, R.status_name(st)))
    if end_with_cancel:
        hdr = c.header(R.CANCEL, session_id=s.id, mid=lock_mid, flags=0x2)  # SMB2_FLAGS_ASYNC_COMMAND
        hdr[32:40] = struct.pack("<Q", async_id)
        msg = hdr + struct.pack("<HH", 4, 0)
        R.Conn.sign(msg, key(c, s), c.sign_alg, c.dialect)
        c._send(bytes(msg))
        r = recv(c)
        check(r.status == CANCELLED, "the LOCK is cancelled (%s)" % R.status_name(r.status))
    else:
        r = c.call(lock_msg(c, s, a, LOCK_UNLOCK, seq=7))
        check(r.status == 0, "A unlocks")
        r = recv(c)
        check(r.status == 0, "B's LOCK is granted (%s)" % R.status_name(r.status))
    st = write(c, s, b, 100, b"y", seq=8, replay=True)
    check(st == 0, "[%s] then the replayed WRITE is applied (%s)" % (how, R.status_name(st)))
    st, data = read(c, s, b, 100, 1, seq=8)
    check(data == b"y", "[%s] and its data is there" % how)
    for f in (a, b):
        R.close(c, s, f)
    c.close()


def lock_req(c, s, fid, flags, seq_index, seq_num):
    hdr = c.header(R.LOCK, session_id=s.id, tree_id=s.tree_id)
    lock_seq = (seq_index << 4) | seq_num
    msg = hdr + struct.pack("<HHI16s", 48, 1, lock_seq, fid) + struct.pack("<QQII", 0, 10, flags, 0)
    return c.call(msg, key(c, s)).status


def lock_replay_after_channel_loss(srv):
    a, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    b = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
    st, _ = R.session_setup(b, *USERS[0], session=s, bind=True)
    check(st == 0, "a second channel binds to the session (%s)" % R.status_name(st))
    fid = R.create(a, s, "lockseq.bin")
    ex = LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY
    check(lock_req(a, s, fid, ex, 3, 1) == 0, "LOCK (bucket 3, number 1) on channel A")
    a.close()  # the channel dies; the client cannot know the LOCK was applied
    time.sleep(0.3)
    st = lock_req(b, s, fid, ex, 3, 1)
    check(st == 0, "its replay on channel B succeeds (%s)" % R.status_name(st))
    st = lock_req(b, s, fid, ex, 3, 2)
    check(st == 0xC0000055, "a new LOCK of the range (number 2) conflicts with the one held (%s)"
          % R.status_name(st))
    check(lock_req(b, s, fid, LOCK_UNLOCK, 4, 1) == 0, "one unlock frees the range")
    st = lock_req(b, s, fid, LOCK_UNLOCK, 4, 2)
    check(st == 0xC000007E, "a second unlock finds nothing: the lock was taken once (%s)" % R.status_name(st))
    R.close(b, s, fid)
    b.close()


def dh2q(guid):
    return (b"DH2Q", struct.pack("<IIQ16s", 0, 0, 0, guid))


def create_replay_while_pending(srv):
    DUP = 0xC000022A
    BATCH, LEVEL_II = 0x09, 0x01
    holder, sh = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    r = R.create_full(holder, sh, "replay.bin", oplock=BATCH, contexts=[dh2q(os.urandom(16))])
    check(r.status == 0 and r.body[2] == BATCH, "the holder gets a batch oplock")
    hfid = bytes(r.body[64:80])
    a, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    b = R.Conn("127.0.0.1", srv.port, client_guid=a.client_guid).negotiate()
    check(R.session_setup(b, *USERS[0], session=s, bind=True)[0] == 0, "a second channel binds")
    guid = os.urandom(16)
    msg = R.create_request(a, s, "replay.bin", disposition=1, oplock=BATCH, contexts=[dh2q(guid)])
    R.Conn.sign(msg, key(a, s), a.sign_alg, a.dialect)
    a._send(bytes(msg))
    n = struct.unpack(">I", a._recv_exact(4))[0] & 0xFFFFFF
    check(R.Response(a._recv_exact(n)).status == PENDING, "the CREATE waits for the holder's break")
    n = struct.unpack(">I", holder._recv_exact(4))[0] & 0xFFFFFF
    brk = R.Response(holder._recv_exact(n))
    check(brk.command == 18, "the holder receives the oplock break")
    r = R.create_full(b, s, "replay.bin", disposition=1, oplock=BATCH, contexts=[dh2q(guid)], replay=True)
    check(r.status == FNA, "its replay on the second channel: FILE_NOT_AVAILABLE while it waits (%s)"
          % R.status_name(r.status))
    hdr = holder.header(18, session_id=sh.id, tree_id=sh.tree_id)
    ack = holder.call(hdr + struct.pack("<HBBI16s", 24, LEVEL_II, 0, 0, hfid), key(holder, sh))
    check(ack.status == 0, "the holder acknowledges to level II")
    first = a._recv()
    check(first.status == 0, "the first CREATE completes (%s)" % R.status_name(first.status))
    fid = bytes(first.body[64:80])
    r = R.create_full(b, s, "replay.bin", disposition=1, oplock=BATCH, contexts=[dh2q(guid)], replay=True)
    check(r.status == 0 and bytes(r.body[64:80]) == fid, "a replay now gets the same FileId (%s)"
          % R.status_name(r.status))
    check(r.body[2] == first.body[2], "and the same oplock level (%#x)" % r.body[2])
    r = R.create_full(b, s, "replay.bin", disposition=1, contexts=[dh2q(guid)])
    check(r.status == DUP, "the CreateGuid without the replay flag: DUPLICATE_OBJECTID (%s)"
          % R.status_name(r.status))
    read(a, s, fid, 0, 1)
    r = R.create_full(b, s, "replay.bin", disposition=1, contexts=[dh2q(guid)], replay=True)
    check(r.status == 0 and bytes(r.body[64:80]) != fid, "after the open was used a replay is a new open")
    if r.status == 0:
        R.close(b, s, bytes(r.body[64:80]))
    R.close(a, s, fid)
    R.close(holder, sh, hfid)
    for c in (a, b, holder):
        c.close()


def replay_metrics(mport):
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10).read().decode()

    def value(pat):
        for line in text.splitlines():
            if line.startswith(pat + " "):
                return int(line.split()[-1])
        return 0
    check(value("smb3d_chanseq_stale_total") >= 4, "stale sequences counted")
    for cmd, outcome in (("CREATE", "answered"), ("CREATE", "retry"), ("CREATE", "refused"),
                         ("LOCK", "answered"), ("WRITE", "retry"), ("WRITE", "executed"),
                         ("WRITE", "recorded"), ("SET_INFO", "recorded"), ("IOCTL", "recorded")):
        n = value('smb3d_replays_total{command="%s",outcome="%s"}' % (cmd, outcome))
        check(n >= 1, "replays counted: %s %s (%d)" % (cmd, outcome, n))


def ioctl(c, s, fid, code, data, max_out=0):
    hdr = c.header(R.IOCTL, session_id=s.id, tree_id=s.tree_id)
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, code, fid, 64 + 56 if data else 0, len(data),
                       0, 0, 0, max_out, 1, 0) + data
    return c.call(hdr + body, key(c, s)).status


def resilient_open_survives(srv):
    LMR_RESILIENCY, INVALID = 0x001401D4, 0xC000000D
    a, s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    fid = R.create(a, s, "resilient.bin")
    R.write(a, s, fid, 0, b"kept")
    check(ioctl(a, s, fid, LMR_RESILIENCY, struct.pack("<II", 5000, 0)[:4]) == INVALID,
          "resiliency: a short input is INVALID_PARAMETER")
    check(ioctl(a, s, fid, LMR_RESILIENCY, struct.pack("<II", 3600 * 1000, 0)) == INVALID,
          "resiliency: a timeout above the cap is INVALID_PARAMETER")
    st = ioctl(a, s, fid, LMR_RESILIENCY, struct.pack("<II", 20000, 0))
    check(st == 0, "resiliency granted (%s)" % R.status_name(st))
    check(lock_req(a, s, fid, LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY, 5, 1) == 0, "a LOCK on the resilient open")
    a.close()  # the connection is lost
    time.sleep(0.5)
    b, s2 = R.connect_session("127.0.0.1", srv.port, *USERS[0])
    r = R.create_full(b, s2, "resilient.bin", disposition=1, contexts=[(b"DHnC", fid)])
    check(r.status == 0 and bytes(r.body[64:72]) == fid[:8], "reclaimed with a DHnC (%s)" % R.status_name(r.status))
    if r.status == 0:
        nfid = bytes(r.body[64:80])
        check(R.read(b, s2, nfid, 0, 4) == b"kept", "its data is there")
        check(lock_req(b, s2, nfid, LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY, 5, 1) == 0,
              "the LOCK replayed after the reconnect is not applied twice")
        check(lock_req(b, s2, nfid, LOCK_UNLOCK, 6, 1) == 0, "one unlock frees it")
        R.close(b, s2, nfid)
    b.close()


# ---- requests that outlive their channel (state/outcome.h) ----------------
# A request runs on channel A when it dies: a WRITE or end-of-file whose
# last byte comes with the channel's FIN, or a rename of a file another
# client holds a handle-caching lease on, which waits for that client's
# break acknowledgment.
SET_INFO, OPLOCK_BREAK = 17, 18
LEASE_R, LEASE_H = 0x1, 0x2
WRITE_THROUGH = 0x1


def rqls(lease_key, state):
    return (b"RqLs", struct.pack("<16sIIQ", lease_key, state, 0, 0))


def set_info_body(fid, info_class, buf):
    return struct.pack("<HBBIHHI16s", 33, 1, info_class, len(buf), 64 + 32, 0, 0, fid) + buf


def rename_buf(name):
    n = R.utf16(name)
    return struct.pack("<B7sQI", 0, b"\0" * 7, 0, len(n)) + n


def eof_buf(size):
    return struct.pack("<Q", size)


def write_body(fid, off, data, flags=0):
    return struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), off, fid, 0, 0, 0, 0, flags) + data


def element(c, s, command, body, seq, replay=False):
    return c.header(command, session_id=s.id, tree_id=s.tree_id, channel_sequence=seq, replay=replay) + body


def call_on(c, s, command, body, seq, replay=False):
    return c.call(element(c, s, command, body, seq, replay), key(c, s))


def replay_on(c, s, command, body, seq):
    """A replay, retried while FILE_NOT_AVAILABLE says the first one still
    runs, as a client does."""
    for _ in range(50):
        r = call_on(c, s, command, body, seq, replay=True)
        if r.status != FNA:
            return r
        time.sleep(0.1)
    return r


def lease_break(holder):
    """The lease break notification the holder receives; returns its LeaseKey."""
    r = holder._recv()
    check(r.command == OPLOCK_BREAK and r.mid == 0xFFFFFFFFFFFFFFFF and len(r.body) >= 44,
          "the lease holder receives a break (command %d)" % r.command)
    return bytes(r.body[8:24])


def lease_ack(holder, hs, lease_key, state):
    hdr = holder.header(OPLOCK_BREAK, session_id=hs.id, tree_id=hs.tree_id)
    r = holder.call(hdr + struct.pack("<HHI16sIQ", 36, 0, 0, lease_key, state, 0), key(holder, hs))
    check(r.status == 0, "the holder acknowledges the break (%s)" % R.status_name(r.status))


class Bench:
    """A session on two channels (a, b), a lease holder (another client),
    the file it leases (G, opened on channel A too) and a target file F."""

    def __init__(self, srv, tag):
        self.tag = tag
        self.holder, self.hs = R.connect_session("127.0.0.1", srv.port, *USERS[0])
        self.g_name, self.f_name = "held-%s.bin" % tag, "target-%s.bin" % tag
        lk = os.urandom(16)
        r = R.create_full(self.holder, self.hs, self.g_name, oplock=0xFF, contexts=[rqls(lk, LEASE_R | LEASE_H)],
                          access=0x0012019F | 0x10000)
        check(r.status == 0, "[%s] the holder opens G with an RH lease" % tag)
        self.hg = bytes(r.body[64:80])
        self.hf = R.create(self.holder, self.hs, self.f_name)
        R.write(self.holder, self.hs, self.hf, 0, b"0" * 4096)
        self.a, self.s = R.connect_session("127.0.0.1", srv.port, *USERS[0])
        self.b = R.Conn("127.0.0.1", srv.port, client_guid=self.a.client_guid).negotiate()
        check(R.session_setup(self.b, *USERS[0], session=self.s, bind=True)[0] == 0, "[%s] a second channel binds" % tag)
        self.g = R.create(self.a, self.s, self.g_name, access=0x00010080, disposition=1)  # DELETE | READ_ATTRIBUTES
        self.f = R.create(self.a, self.s, self.f_name, disposition=1)

    def rename(self, src, dst):
        """Another client renames src to dst, through an open of its own."""
        r = R.create_full(self.holder, self.hs, src, disposition=1, access=0x10080)
        if r.status:
            return r.status
        fid = bytes(r.body[64:80])
        hdr = self.holder.header(SET_INFO, session_id=self.hs.id, tree_id=self.hs.tree_id)
        st = self.holder.call(hdr + set_info_body(fid, 10, rename_buf(dst)), key(self.holder, self.hs)).status
        R.close(self.holder, self.hs, fid)
        return st

    def exists(self, name):
        r = R.create_full(self.holder, self.hs, name, disposition=1, access=0x80)
        if r.status == 0:
            R.close(self.holder, self.hs, bytes(r.body[64:80]))
        return r.status == 0

    def wait_for(self, what, cond):
        for _ in range(100):
            if cond():
                return True
            time.sleep(0.05)
        check(False, "[%s] %s" % (self.tag, what))
        return False

    def size(self):
        return len(R.read(self.holder, self.hs, self.hf, 0, 65536))

    def end(self):
        for c, s, fid in ((self.b, self.s, self.f), (self.holder, self.hs, self.hf), (self.holder, self.hs, self.hg)):
            try:
                R.close(c, s, fid)
            except (R.SMBError, OSError):
                pass
        for c in (self.a, self.b, self.holder):
            c.close()


def send_then_die(c, s, msg):
    """Send a request and end the channel with its last byte: the FIN comes
    in the same segment, so the server sees the channel die while the
    request runs (it is dispatched once its last byte is in)."""
    import socket
    msg = bytes(sign_copy(c, s, msg))
    wire = struct.pack(">I", len(msg)) + msg
    c.sock.sendall(wire[:-1])
    time.sleep(0.2)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    c.sock.send(wire[-1:])
    c.sock.shutdown(socket.SHUT_WR)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    c.close()


def write_outlives_channel(srv, replay_seq=2, replay_after=0.0, recorded=True):
    """A WRITE running when its channel dies runs to its end there; its
    replay on channel B gets its outcome and is not applied again, though
    another client wrote over the range in between."""
    tag = "write-seq%d-after%g" % (replay_seq, replay_after)
    x = Bench(srv, tag)
    data = b"A" * 65536
    # write-through: the flush to disk outlasts the server's noticing the FIN
    send_then_die(x.a, x.s, element(x.a, x.s, R.WRITE, write_body(x.f, 0, data, WRITE_THROUGH), seq=1))
    x.wait_for("the WRITE lands after its channel died",
               lambda: R.read(x.holder, x.hs, x.hf, 0, 4) == b"AAAA")
    R.write(x.holder, x.hs, x.hf, 0, b"XXXX")  # another client writes over the range
    time.sleep(replay_after)
    r = replay_on(x.b, x.s, R.WRITE, write_body(x.f, 0, data, WRITE_THROUGH), seq=replay_seq)
    count = struct.unpack_from("<I", r.body, 4)[0] if r.status == 0 else -1
    check(r.status == 0 and count == len(data), "[%s] the replayed WRITE on channel B succeeds, count %d (%s)"
          % (tag, count, R.status_name(r.status)))
    head = R.read(x.holder, x.hs, x.hf, 0, 4)
    if recorded:
        check(head == b"XXXX", "[%s] and is not applied again: the other client's data stays (%r)" % (tag, head))
    else:
        check(head == b"AAAA", "[%s] past its bound the outcome is gone: the replay runs again (%r)" % (tag, head))
    x.end()


def eof_outlives_channel(srv):
    """The same for SET_INFO end of file: not set again by the replay after
    another client extended the file."""
    tag = "eof"
    x = Bench(srv, tag)
    for off in range(0, 16 * 1024 * 1024, 1024 * 1024):  # a truncation that takes a while
        R.write(x.holder, x.hs, x.hf, off, b"e" * 1024 * 1024)
    send_then_die(x.a, x.s, element(x.a, x.s, SET_INFO, set_info_body(x.f, 20, eof_buf(100)), seq=1))
    x.wait_for("the end of file is set after its channel died", lambda: x.size() == 100)
    R.write(x.holder, x.hs, x.hf, 299, b"Z")  # another client extends the file to 300
    r = replay_on(x.b, x.s, SET_INFO, set_info_body(x.f, 20, eof_buf(100)), seq=2)
    check(r.status == 0, "[eof] the replayed SET_INFO on channel B succeeds (%s)" % R.status_name(r.status))
    check(x.size() == 300, "[eof] and is not applied again: the file keeps 300 bytes (%d)" % x.size())
    x.end()


def ioctl_body(fid, code, data, max_out=0):
    return struct.pack("<HHI16sIIIIIIII", 57, 0, code, fid, 64 + 56 if data else 0, len(data),
                       0, 0, 0, max_out, 1, 0) + data


def zero_data_outlives_channel(srv):
    """The same for IOCTL (FSCTL_SET_ZERO_DATA): the replay does not zero
    again what another client wrote into the range since."""
    SET_ZERO_DATA, MIB = 0x000980C8, 1024 * 1024
    tag = "zero-data"
    x = Bench(srv, tag)
    for off in range(0, 16 * MIB, MIB):  # a hole punched through cached data takes a while
        R.write(x.holder, x.hs, x.hf, off, b"z" * MIB)
    body = ioctl_body(x.f, SET_ZERO_DATA, struct.pack("<QQ", 0, 16 * MIB))
    send_then_die(x.a, x.s, element(x.a, x.s, R.IOCTL, body, seq=1))
    x.wait_for("the range is zeroed after its channel died",
               lambda: R.read(x.holder, x.hs, x.hf, 0, 4) == b"\0" * 4)
    R.write(x.holder, x.hs, x.hf, 0, b"XXXX")
    r = replay_on(x.b, x.s, R.IOCTL, body, seq=2)
    check(r.status == 0 and struct.unpack_from("<I", r.body, 4)[0] == SET_ZERO_DATA,
          "[%s] the replayed IOCTL on channel B succeeds (%s)" % (tag, R.status_name(r.status)))
    head = R.read(x.holder, x.hs, x.hf, 0, 4)
    check(head == b"XXXX", "[%s] and is not applied again: the other client's data stays (%r)" % (tag, head))
    x.end()


def rename_outlives_channel(srv, close_channel):
    """A rename waiting for a lease break when channel A dies (or when the
    client moves to a newer sequence without the server seeing A die) is
    not cancelled: it runs to its end once the holder acknowledges.  Its
    replay on channel B waits meanwhile, then gets the rename's outcome,
    and is not run again after another client renamed the file elsewhere."""
    tag = "rename-closed" if close_channel else "rename-overtaken"
    x = Bench(srv, tag)
    moved, third = "moved-%s.bin" % tag, "third-%s.bin" % tag
    rename = set_info_body(x.g, 10, rename_buf(moved))
    x.a._send(bytes(sign_copy(x.a, x.s, element(x.a, x.s, SET_INFO, rename, seq=1))))
    lk = lease_break(x.holder)
    if close_channel:
        x.a.close()
        time.sleep(0.3)
    r = call_on(x.b, x.s, SET_INFO, rename, seq=2, replay=True)
    check(r.status == FNA, "[%s] the replay on channel B waits for the rename still running (%s)"
          % (tag, R.status_name(r.status)))
    lease_ack(x.holder, x.hs, lk, LEASE_R)
    if close_channel:
        x.wait_for("the rename runs to its end on the dead channel", lambda: x.exists(moved))
    else:
        r = x.a._recv()
        check(r.status == 0, "[%s] the rename completes on channel A (%s)" % (tag, R.status_name(r.status)))
    st = x.rename(moved, third)
    check(st == 0, "[%s] another client renames it again (%s)" % (tag, R.status_name(st)))
    r = replay_on(x.b, x.s, SET_INFO, rename, seq=2)
    check(r.status == 0, "[%s] the replay gets the rename's outcome (%s)" % (tag, R.status_name(r.status)))
    check(x.exists(third) and not x.exists(moved), "[%s] and is not run again: the file stays where the "
          "other client put it" % tag)
    x.end()


def sign_copy(c, s, msg):
    msg = bytearray(msg)
    R.Conn.sign(msg, key(c, s), c.sign_alg, c.dialect)
    return msg


def smb21_ignores_sequence(srv):
    c = R.Conn("127.0.0.1", srv.port, dialects=(R.D210,)).negotiate()
    st, s = R.session_setup(c, *USERS[0])
    R.tree_connect(c, s, "share")
    fid = R.create(c, s, "old.bin")
    check(write(c, s, fid, 0, b"1", seq=5) == 0, "2.1: WRITE with any ChannelSequence field")
    check(write(c, s, fid, 0, b"2", seq=0x9000) == 0, "2.1: the field is not a sequence")
    R.close(c, s, fid)
    c.close()


def bounded_in_time():
    """With `smb3d:replay outcome timeout = 1`, a replay 1.5 s later runs again."""
    srv = Srv(tag="outcome", build="build", extra={"smb3d:replay outcome timeout": "1"}).start()
    try:
        write_outlives_channel(srv, replay_after=1.5, recorded=False)
    finally:
        srv.proc.terminate()
        srv.proc.wait(timeout=20)
        check(not srv.sanitizer(), "no sanitizer report (second server)")
        import shutil
        shutil.rmtree(srv.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    mport = free_port()
    srv = Srv(port=a.port, tag="chanseq", build="build",  # SMB3D_BUILD overrides
              extra={"metrics port": str(mport)}).start()
    try:
        sequence_order(srv)
        replay_waits(srv, end_with_cancel=False)
        replay_waits(srv, end_with_cancel=True)
        smb21_ignores_sequence(srv)
        lock_replay_after_channel_loss(srv)
        create_replay_while_pending(srv)
        resilient_open_survives(srv)
        write_outlives_channel(srv)
        write_outlives_channel(srv, replay_seq=4, recorded=False)   # the client moved on 3 times
        eof_outlives_channel(srv)
        zero_data_outlives_channel(srv)
        rename_outlives_channel(srv, close_channel=True)
        rename_outlives_channel(srv, close_channel=False)
        replay_metrics(mport)
        bounded_in_time()
    except Exception as e:  # a broken exchange is a failure, not a crash of the runner
        check(False, "exchange failed: %r" % e)
    finally:
        srv.proc.terminate()
        srv.proc.wait(timeout=20)
        rep = srv.sanitizer()
        check(not rep, "no sanitizer report")
        if rep:
            print(rep[:20000])
        import shutil
        shutil.rmtree(srv.tmp, ignore_errors=True)
    n_fail = len(_failures)
    print("%d passed, %d failed" % (_checks[0] - n_fail, n_fail))
    sys.exit(1 if n_fail else 0)


_checks = [0]


def check(cond, what):
    """regress.check, counted for the closing line."""
    _checks[0] += 1
    return regress.check(cond, what)


if __name__ == "__main__":
    main()

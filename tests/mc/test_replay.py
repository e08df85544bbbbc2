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
                         ("LOCK", "answered"), ("WRITE", "retry"), ("WRITE", "executed")):
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


def smb21_ignores_sequence(srv):
    c = R.Conn("127.0.0.1", srv.port, dialects=(R.D210,)).negotiate()
    st, s = R.session_setup(c, *USERS[0])
    R.tree_connect(c, s, "share")
    fid = R.create(c, s, "old.bin")
    check(write(c, s, fid, 0, b"1", seq=5) == 0, "2.1: WRITE with any ChannelSequence field")
    check(write(c, s, fid, 0, b"2", seq=0x9000) == 0, "2.1: the field is not a sequence")
    R.close(c, s, fid)
    c.close()


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
        replay_metrics(mport)
    except Exception as e:  # a broken exchange is a failure, not a crash of the runner
        check(False, "exchange failed: %r" % e)
    finally:
        srv.proc.terminate()
        srv.proc.wait(timeout=20)
        check(not srv.sanitizer(), "no sanitizer report")
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

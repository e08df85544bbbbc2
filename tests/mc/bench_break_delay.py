#!/usr/bin/python3
"""How long a break takes to reach a client whose channel carrying it is cut
(issue 15): the distribution over N runs on the netns bench.

Each run, on two links of the bench (netns.py, 198.18.0.0/15):

  1. client A: channel A1 over link 1 and channel A2 over link 2, bound to
     one session (one ClientGUID); A opens brkK.txt on A1 with an RWH lease
     (--kind lease) or a batch oplock (--kind oplock).  A1 is the open's
     connection and the oldest channel of A's session and client, so its
     break goes there first (a lease break to the client's channels oldest
     first, an oplock break to the open's channel first);
  2. client B (the same user, its own ClientGUID and session, over link 2)
     is logged on;
  3. link 1 is cut: nftables drops its TCP packets both ways;
  4. B sends a conflicting CREATE (t0); the break is sent on A1, where the
     peer never acknowledges it; after 6 x RTO (clamped to 0.2-1 s) the
     server closes A1 and sends the break again on A2 (t1);
  5. A acknowledges on A2, B's CREATE completes; the link is restored and
     everything is closed.

Printed per run: the delay t1 - t0, B's CREATE time, and from the server's
log (level 4) how often it sent the break and how long after the first
send the retry went out.  At the end:
min / median / p90 / max of the delay, the median round trip of link 2
(an ECHO) and the median RTO of A1's socket on the server (ss -ti) before
the cut.  A break that does not arrive on A2, or arrives without the
server having tried A1 first, fails the run.

  tests/mc/bench_break_delay.py [--runs 20] [--kind lease|oplock] [--rate 100] [--port 4489]

Run as root with /usr/bin/python3; SMB3D_BUILD picks the build (mclib).
About 1.4 s a run; tests/run runs 5 of them (docs/BENCHMARKS.md has the results of 20)."""
import argparse
import ctypes
import os
import re
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import mclib  # noqa: E402
import netns  # noqa: E402
import smb2raw as R  # noqa: E402
from mclib import USER1, log  # noqa: E402

CLONE_NEWNET = 0x40000000
BATCH, LEVEL_II, LEASE = 0x09, 0x01, 0xFF
OPBRK = 18
RH, RWH = 0x3, 0x7


def enter_netns(name):
    """Move this thread into network namespace `name`: the sockets it makes
    from now on live there (the `ip netns exec` subprocesses are not
    affected)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/var/run/netns/%s" % name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns %s" % name)
    finally:
        os.close(fd)


def rqls_v2(key, state):
    return struct.pack("<16sIIQ16sHH", key, state, 0, 0, b"\0" * 16, 0, 0)


def create_msg(c, s, name, kind, key):
    """A signed CREATE request (OPEN_IF, share all) asking for the lease or oplock."""
    ctx = [(b"RqLs", rqls_v2(key, RWH))] if kind == "lease" else []
    body = R.create_body(name, disposition=3, share=7, oplock=LEASE if kind == "lease" else BATCH,
                         contexts=ctx)
    msg = c.header(R.CREATE, session_id=s.id, tree_id=s.tree_id) + body
    c.sign(msg, s.keys[c], c.sign_alg, c.dialect)
    return bytes(msg)


def recv_final(c, timeout):
    """The next response that is not an interim one (R.Conn._recv skips them)."""
    c.sock.settimeout(timeout)
    return c._recv()


def ack_msg(c, s, kind, brk):
    """The acknowledgment of break `brk`: to RH (lease) or level II (oplock)."""
    if kind == "lease":
        body = struct.pack("<HHI16sIQ", 36, 0, 0, bytes(brk.body[8:24]), RH, 0)
    else:
        body = struct.pack("<HBBI16s", 24, LEVEL_II, 0, 0, bytes(brk.body[8:24]))
    return c.header(OPBRK, session_id=s.id, tree_id=s.tree_id) + body


def echo_rtt(c, s):
    t = time.monotonic()
    c.call(c.header(R.ECHO, session_id=s.id) + struct.pack("<HH", 4, 0), s.keys[c])
    return time.monotonic() - t


def logon(host, port, user, guid=None):
    c = R.Conn(host, port, client_guid=guid, timeout=15).negotiate()
    st, s = R.session_setup(c, user[0], user[1])
    if st:
        raise R.SMBError(st, "session setup")
    R.tree_connect(c, s, "share")
    return c, s


SENT_LINE = re.compile(r"^(\d+-\d+-\d+ \d+:\d+:\d+\.\d+) smb3d\[debug\]: connection (\d+): (?:lease|oplock) break sent",
                       re.M)


def server_sends(text):
    """The server's sends of the break (log level 4): [(time s, connection id)]."""
    out = []
    for m in SENT_LINE.finditer(text):
        t = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + m.group(1)[19:])
        out.append((t, int(m.group(2))))
    return out


def one_run(bench, srv, port, kind, k):
    """One cut and break: (delay s, B's CREATE s, RTT s, A1's RTO ms, sends,
    the server's time from the first send to the second in ms).
    Raises RuntimeError with the reason when the run fails."""
    name = "brk%d.txt" % k
    conns, cut = [], False
    try:
        a1, s = logon(bench.addr_srv(1), port, USER1)
        conns.append(a1)
        a2 = R.Conn(bench.addr_srv(2), port, client_guid=a1.client_guid, timeout=15).negotiate()
        conns.append(a2)
        st, _ = R.session_setup(a2, USER1[0], USER1[1], session=s, bind=True)
        if st:
            raise RuntimeError("bind A2: 0x%x" % st)
        b, sb = logon(bench.addr_srv(2), port, USER1)  # its own ClientGUID and session
        conns.append(b)
        a1._send(create_msg(a1, s, name, kind, os.urandom(16)))
        r = recv_final(a1, 10)
        want = LEASE if kind == "lease" else BATCH
        if r.status or r.body[2] != want:
            raise RuntimeError("A's open: status 0x%x, level 0x%x" % (r.status, r.body[2] if not r.status else 0))
        fid_a = bytes(r.body[64:80])
        rtt = echo_rtt(a2, s)
        # the RTO the server's socket of A1 has now: its timeout is 6 x that
        ss = bench.run_srv(["ss", "-Htin", "dst", bench.addr_cli(1)], check=False).stdout
        m = re.search(r"\brto:(\d+(?:\.\d+)?)", ss)
        rto = float(m.group(1)) if m else 0.0
        off = srv.log_size()
        bench.cut(1, "drop")
        cut = True
        t0 = time.monotonic()
        b._send(create_msg(b, sb, name, kind, os.urandom(16)))
        try:
            brk = recv_final(a2, 20)
        except OSError as e:
            raise RuntimeError("no break on A2 within 20 s (%s)" % e)
        t1 = time.monotonic()
        if brk.command != OPBRK:
            raise RuntimeError("A2 got command %d, not a break" % brk.command)
        r = a2.call(ack_msg(a2, s, kind, brk), s.keys[a2])
        if r.status:
            raise RuntimeError("the ack on A2: 0x%x" % r.status)
        r = recv_final(b, 20)
        t2 = time.monotonic()
        if r.status:
            raise RuntimeError("B's CREATE: 0x%x" % r.status)
        R.close(b, sb, bytes(r.body[64:80]))
        R.close(a2, s, fid_a)
        sends = server_sends(srv.log_since(off))
        if len(sends) < 2 or sends[0][1] == sends[-1][1]:
            raise RuntimeError("the server's sends of the break: %r (the cut channel first, then another)" % sends)
        tries, server_ms = len(sends), (sends[1][0] - sends[0][0]) * 1000
        return t1 - t0, t2 - t0, rtt, rto, tries, server_ms
    finally:
        if cut:
            bench.restore(1)
        for c in conns:
            c.close()


def pct(v, p):
    """The p-th percentile of v (nearest rank)."""
    v = sorted(v)
    return v[max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def run(o, bench, res):
    opts = {"interfaces": " ".join(bench.ifname_srv(k) for k in (1, 2)), "bind interfaces only": "yes",
            "worker threads": "1"}
    srv = mclib.Server(o.port, global_opts=opts, netns=bench.srv, log_level=4)
    srv.start()
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    enter_netns(bench.cli)
    delays, creates, rtts, rtos = [], [], [], []
    try:
        for k in range(o.runs):
            try:
                d, c, rtt, rto, tries, sms = one_run(bench, srv, o.port, o.kind, k)
            except (RuntimeError, OSError, R.SMBError) as e:
                res.check(False, "run %d: the break arrives on channel A2" % (k + 1), str(e))
                continue
            delays.append(d)
            creates.append(c)
            rtts.append(rtt)
            rtos.append(rto)
            log("run %2d: break on A2 after %6.3f s (server: sent %d times, the retry %.0f ms after the first);"
                " B's CREATE %6.3f s; RTT %.2f ms, RTO %.0f ms" % (k + 1, d, tries, sms, c, rtt * 1000, rto))
    finally:
        ctypes.CDLL(None, use_errno=True).setns(home, CLONE_NEWNET)
        os.close(home)
        srv.stop()
    res.check(len(delays) == o.runs, "the break arrived on the other channel in every run (%d of %d)"
              % (len(delays), o.runs))
    if delays:
        log("%s break, link 1 cut, %d runs: delay min %.3f  median %.3f  p90 %.3f  max %.3f s; "
            "B's CREATE median %.3f s; RTT of link 2 median %.2f ms; RTO of A1 median %.0f ms"
            % (o.kind, len(delays), min(delays), statistics.median(delays), pct(delays, 90), max(delays),
               statistics.median(creates), statistics.median(rtts) * 1000, statistics.median(rtos)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kind", choices=("lease", "oplock"), default="lease")
    ap.add_argument("--rate", type=int, default=100, help="Mbit/s per link")
    ap.add_argument("--port", type=int, default=4489)
    o = ap.parse_args()
    res = mclib.Results()
    if not mclib.smb3d_bin():
        log("FAIL: no smb3d in %s (set SMB3D_BUILD)" % mclib.BUILD)
        log("0 passed, 1 failed")
        return 1
    try:
        bench = netns.Bench(links=2, rate_mbit=o.rate).create()
    except netns.BenchUnavailable as e:
        log("SKIP: cannot create the network namespaces: %s" % e)
        log("0 passed, 0 failed")
        return 77
    t = time.monotonic()
    try:
        log("bench: %s / %s, 2 links at %d Mbit/s, %s breaks" % (bench.cli, bench.srv, o.rate, o.kind))
        run(o, bench, res)
    finally:
        bench.destroy()
    log("(%.1f s)" % (time.monotonic() - t))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())

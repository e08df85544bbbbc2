#!/usr/bin/python3
"""Multichannel on the netns bench (tests/mc/netns.py).

  1. interface list: FSCTL_QUERY_NETWORK_INTERFACE_INFO (raw client, from the
     client namespace) returns exactly the bench's server links, with the
     ifindex of each veth and the speed configured in `interfaces`.
  2. smb3c with 1, 2 and 4 channels over 4 links: all channels bound, each on a
     distinct link (smb3ctl status during the transfer, per-link byte
     counters), put + get of a random file, checksums match.
  3. cut one link (nftables drop) in the middle of a put: the put completes
     on the remaining channel and the file is intact; a file written
     afterwards (new session, link still cut) is intact too.
  4. cut every link in the middle of a put: the client fails, and the server
     frees everything: smb3ctl status shows 0 connections/sessions/open files
     and /proc/PID/fd is back to its count before the test.

  tests/mc/test_channels.py [--port 4487] [--rate 50] [--size 32] [-k PATTERN]
Exit 77 (skip) when the namespaces can't be created.  Last line:
"N passed, N failed".
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import mclib  # noqa: E402
import netns  # noqa: E402
import smb2raw as R  # noqa: E402
from mclib import USER1, log  # noqa: E402

RSS = 0x1
# smb3c declares a silent channel dead after this many seconds
# (TCP_USER_TIMEOUT + keepalive), so a cut is noticed well inside the bounds
# below.  The server notices a dead channel by itself (keepalive 30 s +
# 3 x 10 s, TCP_USER_TIMEOUT 60 s): up to ~60 s.
CLIENT_DEAD_SECS = 8
SERVER_DEAD_SECS = 75


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()


def iface_opts(bench, speeds_bps, rss=False):
    items = []
    for k in range(1, bench.n + 1):
        o = "speed=%d" % speeds_bps[k - 1]
        if rss:
            o += ",capability=RSS"
        items.append('"%s;%s"' % (bench.ifname_srv(k), o))
    return {"interfaces": " ".join(items), "bind interfaces only": "yes"}


def start_server(bench, port, speeds_bps, rss=False):
    srv = mclib.Server(port, global_opts=iface_opts(bench, speeds_bps, rss), netns=bench.srv,
                       log_level=int(os.environ.get("SMB3D_LOG_LEVEL", "3")))
    srv.start()
    return srv


def wait_idle(srv, baseline_fds, timeout):
    """Wait until the server has no connection/session/open and its fd count
    is back to baseline_fds.  Returns (ok, last status text, fds)."""
    deadline = time.time() + timeout
    text, fds = "", -1
    while True:
        rc, text = srv.status()
        c = mclib.parse_status_counts(text)
        fds = srv.fd_count()
        if (rc == 0 and c.get("connections") == 0 and c.get("sessions") == 0
                and c.get("opens") == 0 and fds == baseline_fds):
            return True, text, fds
        if time.time() > deadline:
            return False, text, fds
        time.sleep(0.5)


class Smb3c:
    def __init__(self, bench, port):
        self.bench, self.port, self.bin = bench, port, mclib.smb3c_bin()

    def popen(self, args, channels):
        return subprocess.Popen(self.argv(args, channels), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")

    def argv(self, args, channels):
        unc_host = self.bench.addr_srv(1)
        a = [x.replace("//HOST/", "//%s/" % unc_host) for x in args]
        return (["ip", "netns", "exec", self.bench.cli, self.bin] + a +
                ["-p", str(self.port), "-U", "%s%%%s" % USER1, "--channels", str(channels),
                 "--timeout", str(CLIENT_DEAD_SECS), "-v"])


def watch_channels(srv, proc, bench, port):
    """While proc runs, poll smb3ctl status; return (max channels of one
    session, set of server addresses seen in channel lines)."""
    maxch, addrs = 0, set()
    while proc.poll() is None:
        rc, text = srv.status()
        for m in re.finditer(r"channels (\d+):", text):
            maxch = max(maxch, int(m.group(1)))
        for m in re.finditer(r"^\s+channel\s+\d+\s+(198\.18\.\d+\.2):%d\b" % port, text, re.M):
            addrs.add(m.group(1))
        time.sleep(0.15)
    return maxch, addrs


def test_interface_list(bench, port, res):
    speeds = [k * 100_000_000 for k in range(1, bench.n + 1)]  # distinct: 100M, 200M, ...
    srv = start_server(bench, port, speeds, rss=False)
    try:
        want = {}
        for k in range(1, bench.n + 1):
            want[bench.addr_srv(k)] = (bench.ifindex_srv(k), speeds[k - 1])
        code = (
            "import sys, json; sys.path.insert(0, %r)\n"
            "import smb2raw as R\n"
            "c, s = R.connect_session(%r, %d, %r, %r)\n"
            "print(json.dumps(R.query_interfaces(c, s)))\n"
        ) % (os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"), bench.addr_srv(1), port, USER1[0], USER1[1])
        r = bench.run_cli(["/usr/bin/python3", "-c", code], check=False, timeout=60)
        if r.returncode:
            res.check(False, "interface list: FSCTL_QUERY_NETWORK_INTERFACE_INFO", r.stdout + r.stderr)
            return
        import json
        got = json.loads(r.stdout.strip().splitlines()[-1])
        log("interface list: " + ", ".join("%s if%d %d" % (g["addr"], g["ifindex"], g["speed"]) for g in got))
        got4 = {g["addr"]: (g["ifindex"], g["speed"]) for g in got if g["family"] == 2}
        res.check(set(got4) == set(want), "interface list: exactly the bench's %d server addresses" % bench.n,
                  "got %s, want %s" % (sorted(got4), sorted(want)))
        bad = ["%s: got if%d %d b/s, want if%d %d b/s" % (a, got4[a][0], got4[a][1], want[a][0], want[a][1])
               for a in want if a in got4 and got4[a] != want[a]]
        res.check(not bad, "interface list: ifindex and configured speed of every link", "; ".join(bad))
        others = [g for g in got if g["family"] == 0x17 and not g["addr"].startswith("fe80")]
        res.check(not others, "interface list: no address from outside the bench", str(others))
    finally:
        srv.cleanup()


def test_smb3c(bench, port, size_mib, res, workdir, pattern):
    if not mclib.smb3c_bin():
        res.check(False, "smb3c built (%s/tools/smb3c/smb3c)" % mclib.BUILD,
                  "not found: channel tests need it")
        return
    speeds = [1_000_000_000] * bench.n  # equal class: smb3c uses every link
    srv = start_server(bench, port, speeds, rss=False)
    c = Smb3c(bench, port)
    try:
        baseline = srv.fd_count()
        src = os.path.join(workdir, "src.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(size_mib << 20))
        want = sha(src)

        for nch in (1, 2, 4):
            tag = "smb3c %d channels" % nch
            if pattern and not re.search(pattern, tag):
                continue
            name = "mc%d.bin" % nch
            rx0 = [bench.tx_bytes(k) for k in range(1, bench.n + 1)]
            p = c.popen(["put", src, "//HOST/share/" + name], nch)
            maxch, addrs = watch_channels(srv, p, bench, port)
            out = p.communicate()[0]
            rx = [bench.tx_bytes(k) - rx0[k - 1] for k in range(1, bench.n + 1)]
            res.check(p.returncode == 0, tag + ": put succeeds", out[-1500:])
            m = re.search(r"^put .*$", out, re.M)
            if m:
                log("      %s: %s" % (tag, m.group(0)))
            res.check(maxch == nch, tag + ": all %d channels bound (smb3ctl status)" % nch,
                      "max %d channels seen" % maxch)
            used = [k for k in range(1, bench.n + 1) if rx[k - 1] > (size_mib << 20) // (4 * nch)]
            res.check(len(used) == nch and len(addrs) == nch,
                      tag + ": channels on %d distinct links" % nch,
                      "links carrying data: %s (bytes per link %s); server addresses seen %s"
                      % (used, rx, sorted(addrs)))
            dst = os.path.join(srv.share, name)
            res.check(os.path.exists(dst) and sha(dst) == want, tag + ": file on server intact")
            back = os.path.join(workdir, "back%d.bin" % nch)
            r = subprocess.run(c.argv(["get", "//HOST/share/" + name, back], nch),
                               capture_output=True, text=True, timeout=120)
            m = re.search(r"^get .*$", r.stdout, re.M)
            if m:
                log("      %s: %s" % (tag, m.group(0)))
            res.check(r.returncode == 0 and os.path.exists(back) and sha(back) == want,
                      tag + ": get through all channels, checksum matches", (r.stdout + r.stderr)[-1500:])
        ok, text, fds = wait_idle(srv, baseline, 20)
        res.check(ok, "after the clean runs: no connection left, fds back to %d" % baseline,
                  "fds %d\n%s" % (fds, text))

        # ------------------------------------------------- cut one link
        if not pattern or re.search(pattern, "cut one"):
            name = "cut1.bin"
            l2 = bench.tx_bytes(2)
            p = c.popen(["put", src, "//HOST/share/" + name], 2)
            time.sleep(1.0)
            running = p.poll() is None
            bench.cut(2, "drop")
            l2 = bench.tx_bytes(2) - l2
            res.check(l2 > (1 << 20), "cut one link: link 2 carried data before the cut",
                      "only %d bytes: the second channel was not bound on link 2, so the cut tests nothing" % l2)
            try:
                out = p.communicate(timeout=90)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()[0] + "\n(timed out)"
            res.check(running, "cut one link: the cut happened during the transfer",
                      "put finished in under 1 s; use a larger --size or lower --rate")
            res.check(p.returncode == 0, "cut one link: put completes on the remaining channel", out[-1500:])
            dst = os.path.join(srv.share, name)
            res.check(os.path.exists(dst) and sha(dst) == want, "cut one link: file intact")
            # written afterwards: a new session while link 2 is still cut
            small = os.path.join(workdir, "after.bin")
            with open(small, "wb") as f:
                f.write(os.urandom(4 << 20))
            r = subprocess.run(c.argv(["put", small, "//HOST/share/after.bin"], 2),
                               capture_output=True, text=True, timeout=60)
            dst = os.path.join(srv.share, "after.bin")
            res.check(r.returncode == 0 and os.path.exists(dst) and sha(dst) == sha(small),
                      "cut one link: a file written afterwards is intact", (r.stdout + r.stderr)[-1500:])
            ok, text, fds = wait_idle(srv, baseline, SERVER_DEAD_SECS)
            res.check(ok, "cut one link: server drops the dead channel (status empty, fds %d)" % baseline,
                      "fds %d\n%s" % (fds, text))
            bench.restore(2)

        # ------------------------------------------------- cut every link
        if not pattern or re.search(pattern, "cut all"):
            p = c.popen(["put", src, "//HOST/share/cutall.bin"], 2)
            time.sleep(1.0)
            bench.cut(1, "drop")
            time.sleep(0.5)
            bench.cut(2, "drop")
            try:
                out = p.communicate(timeout=60)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()[0] + "\n(client did not notice within 60 s; killed)"
            res.check(p.returncode != 0, "cut all links: the client's transfer fails", out[-800:])
            ok, text, fds = wait_idle(srv, baseline, SERVER_DEAD_SECS)
            res.check(ok, "cut all links: session torn down, status empty, fds back to %d" % baseline,
                      "fds %d\n%s" % (fds, text))
            bench.restore(1)
            bench.restore(2)
        res.check(srv.alive(), "smb3d still running")
    finally:
        if res.failed:
            log("--- server log tail (%s)" % srv.log_path)
            log(srv.log_tail(3000))
        srv.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=4487)
    ap.add_argument("--rate", type=int, default=50, help="Mbit/s per link")
    ap.add_argument("--size", type=int, default=32, help="MiB per transfer")
    ap.add_argument("-k", dest="pattern", default="")
    o = ap.parse_args()
    res = mclib.Results()
    if not mclib.smb3d_bin():
        log("FAIL: no smb3d in %s (set SMB3D_BUILD)" % mclib.BUILD)
        log("0 passed, 1 failed")
        return 1
    workdir = tempfile.mkdtemp(prefix="smb3mc-")
    try:
        try:
            bench = netns.Bench(links=4, rate_mbit=o.rate).create()
        except netns.BenchUnavailable as e:
            log("SKIP: cannot create the network namespaces: %s" % e)
            log("0 passed, 0 failed")
            return 77
        try:
            log("bench: %s / %s, 4 links at %d Mbit/s" % (bench.cli, bench.srv, o.rate))
            if not o.pattern or re.search(o.pattern, "interface list"):
                test_interface_list(bench, o.port, res)
            test_smb3c(bench, o.port, o.size, res, workdir, o.pattern)
        finally:
            bench.destroy()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())

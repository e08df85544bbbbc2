#!/usr/bin/python3
"""The multichannel test bench: a client and a server network namespace
joined by N veth pairs ("links").  Link K (1..N):

    smb3mc-cli-SUFFIX  veth-cK  198.18.K.1/24  <==>  198.18.K.2/24  veth-sK  smb3mc-srv-SUFFIX

Each link is shaped with tc (htb class at RATE on both ends, plus a tbf
variant with `shaper="tbf"`).  A link is cut by an nftables drop rule in the
server namespace (`cut(k, "drop")`), by a TCP reset rule (`"reset"`), or by
taking both ends down (`"down"`); `restore(k)` undoes it.  TCP in both
namespaces gives up on an unacknowledged peer after a few seconds
(net.ipv4.tcp_retries2 = 5, tcp_syn_retries = 2) so a cut is noticed while
the test is still running.

    with Bench(links=4, rate_mbit=[100]*4) as b:
        b.run_srv([...]); b.run_cli([...]); b.cut(2); b.restore(2)

Also a command line, for poking at it by hand:
    tests/mc/netns.py up [-n 2] [--rate 100] [--suffix S]   (prints the names; stays up)
    tests/mc/netns.py down [--suffix S]
"""

import argparse
import atexit
import os
import re
import signal
import subprocess
import sys
import time

ADDR_CLI = "198.18.%d.1"
ADDR_SRV = "198.18.%d.2"


def sh(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


class BenchUnavailable(Exception):
    pass


_live = []


def _cleanup_all():
    for b in list(_live):
        b.destroy()


atexit.register(_cleanup_all)


class Bench:
    def __init__(self, links=2, rate_mbit=100, suffix=None, shaper="htb"):
        self.n = links
        self.rates = list(rate_mbit) if isinstance(rate_mbit, (list, tuple)) else [rate_mbit] * links
        assert len(self.rates) == links
        self.suffix = suffix or str(os.getpid())
        self.cli = "smb3mc-cli-%s" % self.suffix
        self.srv = "smb3mc-srv-%s" % self.suffix
        self.shaper = shaper
        self.cuts = {}
        self.created = False

    # --------------------------------------------------------------- setup
    def __enter__(self):
        self.create()
        return self

    def __exit__(self, *a):
        self.destroy()

    def create(self):
        if os.geteuid() != 0:
            raise BenchUnavailable("not root")
        for tool in ("ip", "tc", "nft"):
            if sh(["which", tool], check=False).returncode:
                raise BenchUnavailable("%s not installed" % tool)
        _live.append(self)
        r = sh(["ip", "netns", "add", self.cli], check=False)
        if r.returncode:
            _live.remove(self)
            raise BenchUnavailable("ip netns add failed: %s" % r.stderr.strip())
        self.created = True
        try:
            self._setup()
        except (RuntimeError, OSError) as e:
            self.destroy()
            raise BenchUnavailable(str(e).strip())
        return self

    def _setup(self):
        sh(["ip", "netns", "add", self.srv])
        for ns in (self.cli, self.srv):
            self.ns(ns, ["ip", "link", "set", "lo", "up"])
            for k, v in (("net.ipv4.tcp_retries2", "5"), ("net.ipv4.tcp_syn_retries", "2"),
                         ("net.ipv4.tcp_keepalive_time", "5"), ("net.ipv4.tcp_keepalive_intvl", "2"),
                         ("net.ipv4.tcp_keepalive_probes", "3")):
                self.ns(ns, ["sysctl", "-qw", "%s=%s" % (k, v)], check=False)
        for k in range(1, self.n + 1):
            c, s = self.ifname_cli(k), self.ifname_srv(k)
            sh(["ip", "link", "add", c, "netns", self.cli, "type", "veth", "peer", "name", s,
                "netns", self.srv])
            self.ns(self.cli, ["ip", "addr", "add", ADDR_CLI % k + "/24", "dev", c])
            self.ns(self.srv, ["ip", "addr", "add", ADDR_SRV % k + "/24", "dev", s])
            self.ns(self.cli, ["ip", "link", "set", c, "up"])
            self.ns(self.srv, ["ip", "link", "set", s, "up"])
            self.shape(self.cli, c, self.rates[k - 1])
            self.shape(self.srv, s, self.rates[k - 1])
        self.wait_links_up()
        # one nftables table per namespace for the cut rules
        self.ns(self.srv, ["nft", "add", "table", "inet", "smb3mc"])
        self.ns(self.srv, ["nft", "add", "chain", "inet", "smb3mc", "in",
                           "{ type filter hook input priority 0 ; policy accept ; }"])
        self.ns(self.srv, ["nft", "add", "chain", "inet", "smb3mc", "out",
                           "{ type filter hook output priority 0 ; policy accept ; }"])

    def wait_links_up(self, timeout=15.0):
        """veth carrier comes up asynchronously: wait until every link is
        operationally up on both ends (a server started earlier would see no
        interface to list)."""
        deadline = time.time() + timeout
        while True:
            down = []
            for k in range(1, self.n + 1):
                for ns, dev in ((self.cli, self.ifname_cli(k)), (self.srv, self.ifname_srv(k))):
                    r = self.ns(ns, ["cat", "/sys/class/net/%s/operstate" % dev], check=False)
                    if r.stdout.strip() != "up":
                        down.append("%s/%s=%s" % (ns, dev, r.stdout.strip() or "?"))
            if not down:
                return
            if time.time() > deadline:
                raise RuntimeError("links not up after %.0f s: %s" % (timeout, ", ".join(down)))
            time.sleep(0.1)

    def shape(self, ns, dev, mbit):
        if self.shaper == "tbf":
            self.ns(ns, ["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "%dmbit" % mbit,
                         "burst", "%dkb" % max(32, mbit // 4), "latency", "50ms"])
        else:
            self.ns(ns, ["tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb",
                         "default", "10"])
            self.ns(ns, ["tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb",
                         "rate", "%dmbit" % mbit, "ceil", "%dmbit" % mbit])

    def destroy(self):
        if not self.created:
            return
        for ns in (self.cli, self.srv):
            # processes still inside (a server that failed to stop) are ours
            r = sh(["ip", "netns", "pids", ns], check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", ns], check=False)
        self.created = False
        if self in _live:
            _live.remove(self)

    # ---------------------------------------------------------------- names
    def ifname_cli(self, k):
        return "veth-c%d" % k

    def ifname_srv(self, k):
        return "veth-s%d" % k

    def addr_cli(self, k):
        return ADDR_CLI % k

    def addr_srv(self, k):
        return ADDR_SRV % k

    def ns(self, ns, cmd, check=True, **kw):
        return sh(["ip", "netns", "exec", ns] + cmd, check=check, **kw)

    def run_cli(self, cmd, **kw):
        return self.ns(self.cli, cmd, **kw)

    def run_srv(self, cmd, **kw):
        return self.ns(self.srv, cmd, **kw)

    def ifindex_srv(self, k):
        r = self.run_srv(["cat", "/sys/class/net/%s/ifindex" % self.ifname_srv(k)])
        return int(r.stdout.strip())

    def tx_bytes(self, k, side="srv"):
        ns, dev = (self.srv, self.ifname_srv(k)) if side == "srv" else (self.cli, self.ifname_cli(k))
        r = self.ns(ns, ["cat", "/sys/class/net/%s/statistics/rx_bytes" % dev])
        return int(r.stdout.strip())

    # ---------------------------------------------------------------- faults
    def cut(self, k, how="drop"):
        """Cut link k: 'drop' (nftables drops its packets both ways), 'reset'
        (nftables answers with TCP RST), or 'down' (both veth ends down)."""
        s = self.ifname_srv(k)
        if how == "down":
            self.run_srv(["ip", "link", "set", s, "down"])
            self.run_cli(["ip", "link", "set", self.ifname_cli(k), "down"])
        else:
            verdict = "drop" if how == "drop" else "reject with tcp reset"
            handles = []
            for chain, d in (("in", "iifname"), ("out", "oifname")):
                r = self.run_srv(["nft", "--echo", "--handle", "add", "rule", "inet", "smb3mc", chain,
                                  d, s, "meta", "l4proto", "tcp", verdict])
                m = re.search(r"# handle (\d+)", r.stdout)
                handles.append((chain, m.group(1) if m else ""))
            self.cuts.setdefault(k, []).extend(handles)
            return
        self.cuts.setdefault(k, []).append(("down",))

    def restore(self, k):
        for item in self.cuts.pop(k, []):
            if item == ("down",):
                self.run_srv(["ip", "link", "set", self.ifname_srv(k), "up"])
                self.run_cli(["ip", "link", "set", self.ifname_cli(k), "up"])
                self.wait_links_up()
            elif len(item) == 2:
                self.run_srv(["nft", "delete", "rule", "inet", "smb3mc", item[0], "handle", item[1]],
                             check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=("up", "down"))
    ap.add_argument("-n", type=int, default=2)
    ap.add_argument("--rate", type=int, default=100, help="Mbit/s per link")
    ap.add_argument("--suffix", default="manual")
    o = ap.parse_args()
    b = Bench(o.n, o.rate, suffix=o.suffix)
    if o.action == "down":
        b.created = True
        b.destroy()
        return 0
    b.create()
    _live.remove(b)  # keep it after exit
    print("client ns %s, server ns %s" % (b.cli, b.srv))
    for k in range(1, o.n + 1):
        print("link %d: %s %s <-> %s %s  %d Mbit/s" % (k, b.ifname_cli(k), b.addr_cli(k),
                                                       b.addr_srv(k), b.ifname_srv(k), o.rate))
    print("remove with: %s down --suffix %s" % (sys.argv[0], o.suffix))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""What N detached durable opens cost smb3d (docs/BENCHMARKS.md).

One client opens N files, each with a batch oplock and a DH2Q (durable v2,
timeout 300 s), in compounds of 32 CREATEs; then its connection drops, so
the server detaches every open (cmd/durable.c) and keeps it for its
timeout.  Printed: the server's RSS and descriptors at start, with the N
opens attached, with them detached (smb3ctl status counting them), and
the time to detach and to reclaim them all (DH2C, compounds of 32).

    /usr/bin/python3 bench/durable_memory.py [N] [--build build]     (root)

The server is tests/lib/srv.py's: its own scratch directory and port,
stopped at the end."""
import argparse
import os
import shutil
import struct
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import smb2raw as R  # noqa: E402
from hc import H, hdr, b_create, ctx_item, compound, split_compound, U16, CREATE  # noqa: E402
from srv import Srv  # noqa: E402

BATCH = 0x09
BATCH_N = 32


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return -1


def run_compounds(h, bodies):
    """Send CREATE bodies in compounds of BATCH_N; the responses in order."""
    out = []
    for i in range(0, len(bodies), BATCH_N):
        parts = [(hdr(CREATE, h.mid(), h.sid, h.tid), b) for b in bodies[i:i + BATCH_N]]
        h.send(compound(parts))
        r = h.recv(60)
        if isinstance(r, str):
            raise RuntimeError("connection %s after %d creates" % (r, i))
        out += split_compound(r)
    return out


def open_all(h, n):
    bodies, guids = [], []
    for i in range(n):
        g = uuid.uuid4().bytes
        guids.append(g)
        ctx = ctx_item(b"DH2Q", struct.pack("<II8s16s", 300000, 0, b"\0" * 8, g))
        bodies.append(b_create(U16("dur%05d.txt" % i), disp=5, share=7, oplock=BATCH, ctx=ctx))
    fids = []
    for r in run_compounds(h, bodies):
        if r.status or r.body[2] != BATCH or b"DH2Q" not in R.parse_create_contexts(r.body):
            raise RuntimeError("create: %s, oplock %#x" % (R.status_name(r.status), r.body[2]))
        fids.append(bytes(r.body[64:80]))
    return fids, guids


def reclaim_all(h, fids, guids):
    bodies = [b_create(b"", ctx=ctx_item(b"DH2C", f + g + struct.pack("<I", 0))) for f, g in zip(fids, guids)]
    ok = sum(1 for r in run_compounds(h, bodies) if r.status == 0)
    return ok


def detached_count(srv):
    for line in srv.status().splitlines():
        if line.startswith("detached durable opens:"):
            return int(line.split(":")[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=10000)
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    os.environ.setdefault("SMB3D_BUILD", os.path.abspath(a.build))
    srv = Srv(tag="durable-mem", extra={"log level": "0"}).start()
    try:
        h = H(srv.port)
        r0, f0 = rss_kib(srv.pid), srv.fds()
        t = time.monotonic()
        fids, guids = open_all(h, a.n)
        t_open = time.monotonic() - t
        r1, f1 = rss_kib(srv.pid), srv.fds()
        t = time.monotonic()
        h.close()
        while detached_count(srv) != a.n and time.monotonic() - t < 120:
            time.sleep(0.05)
        t_detach = time.monotonic() - t
        n_det = detached_count(srv)
        r2, f2 = rss_kib(srv.pid), srv.fds()
        h2 = H(srv.port)
        t = time.monotonic()
        ok = reclaim_all(h2, fids, guids)
        t_reclaim = time.monotonic() - t
        r3 = rss_kib(srv.pid)
        h2.close()
        print("durable opens: %d (%d detached; %d reclaimed)" % (a.n, n_det, ok))
        print("| state | RSS KiB | descriptors |")
        print("| --- | --- | --- |")
        print("| server after one session | %d | %d |" % (r0, f0))
        print("| %d opens attached | %d | %d |" % (a.n, r1, f1))
        print("| %d opens detached | %d | %d |" % (a.n, r2, f2))
        print("| all reclaimed (DH2C) | %d | - |" % r3)
        print("per detached open: %.0f bytes of RSS over the start, %.2f descriptors"
              % ((r2 - r0) * 1024.0 / a.n, (f2 - f0) / float(a.n)))
        print("times: open %.2f s, detach (connection lost to all listed) %.2f s, reclaim %.2f s"
              % (t_open, t_detach, t_reclaim))
    finally:
        srv._stop_at_exit()
        shutil.rmtree(srv.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The guest's I/O for the kernel-client scenarios that break the link or the
server (run by guest.sh inside UML with the chroot's python3).  Every step's
outcome is written to stdout as it happens, so a hang shows where it hung.

  kcio.py outage FILE RESULTS MB TAG
      Open FILE once and keep it open: write MB MiB ("before", left dirty in
      the page cache), create RESULTS/TAG.start (the host then drops every
      link), write MB MiB more ("during") and fsync while the links are down,
      wait for RESULTS/TAG.done, write MB MiB ("after"), fsync, close.
      Then drop the caches, read FILE back and compare each part.
  kcio.py restart DIR RESULTS SECONDS
      For SECONDS (at most MAX_FILES files), write numbered 1 MiB files into
      DIR (write + close, every other one write + fsync + close);
      RESULTS/restart.start asks the host to kill and restart the server
      KILL_AT seconds in.  A file counts as
      written when every call succeeded; its sha256 goes to
      RESULTS/restart.manifest.  Afterwards read back every written file
      (caches dropped) and compare.
  kcio.py chaos DIR RESULTS SECONDS
      Run one fio round (it lays out the files), then create
      RESULTS/chaos.start (the host then drops one link at a time,
      10 s of every 20 s), then run fio write+verify rounds in DIR (4 jobs
      x 8 MiB, 64 KiB blocks at random offsets, O_DIRECT, crc32c) until
      RESULTS/chaos.done appears or SECONDS pass.  Fails (exit 1) on a
      verify error, 3 on another fio error, and 1 on a stall over
      STALL_LIMIT seconds: one I/O (fio's per-job maximum completion
      latency), or one round's time beyond the median round's (1-4 s,
      with the machine's load; this covers fio's opens and closes, which
      fio does not time).
  kcio.py shared FILE RESULTS INDEX SECONDS
      One of the two clients of scenario shared: region INDEX (REGION
      bytes at INDEX x REGION) of FILE is this client's.  Client 0 creates
      FILE (two regions of zeros) and then RESULTS/shared.start (the host
      boots the second client); client 1 creates RESULTS/shared.ready once
      it is mounted.  Both wait for RESULTS/shared.go, then for SECONDS run
      rounds: open, write SHARED_WRITES blocks of 64 KiB at random offsets
      of the region, close, open, read the region back, close, compare
      with what it wrote.  Every call is timed.  At the end the caches are
      dropped and the region read back once more; its sha256 goes to
      RESULTS/shared.sha256 (the host compares the server's copy).  Fails
      (exit 1) on wrong data or on a call longer than STALL_LIMIT seconds.

Exit status: 0 the data verified; 3 the client reported an error (a clear
error, no wrong data) -- its message is printed; 1 data the client reported
as written reads back different ("SILENTLY WRONG"), or a usage error.
A hard mount can block a call for good: SIGALRM (default action) ends the
process after the scenario's time limit, and the last line printed says
which step it was in.
"""

import hashlib
import os
import signal
import sys
import time

MIB = 1 << 20
KILL_AT = 4       # restart: seconds into the load when the host kills the server
MAX_FILES = 300   # restart: at most this many 1 MiB files
STALL_LIMIT = 10  # chaos: the longest stall allowed, seconds
T0 = time.time()


def say(msg):
    sys.stdout.write("[%5.1fs] %s\n" % (time.time() - T0, msg))
    sys.stdout.flush()


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:64 * 1024])
        view = view[n:]


def wait_for(path, limit):
    t = time.time()
    while not os.path.exists(path):
        if time.time() - t > limit:
            return False
        time.sleep(0.2)
    return True


def step(what, fn, *args):
    """Run one I/O call; an OSError is the client's clear error: exit 3."""
    t = time.time()
    try:
        r = fn(*args)
    except OSError as e:
        say("%s: ERROR %s (errno %d) after %.1f s" % (what, e.strerror, e.errno, time.time() - t))
        say("result: the client reported an error (no wrong data)")
        sys.exit(3)
    say("%s: ok in %.1f s" % (what, time.time() - t))
    return r


def outage(path, res, mb, tag):
    signal.alarm(150)
    parts = [("before", os.urandom(mb * MIB)), ("during", os.urandom(mb * MIB)),
             ("after", os.urandom(mb * MIB))]
    with open(os.path.join(res, tag + ".sha256"), "w") as f:
        f.write(hashlib.sha256(b"".join(p for _, p in parts)).hexdigest() + "\n")
    fd = step("open", os.open, path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    step("write before (%d MiB, left dirty)" % mb, write_all, fd, parts[0][1])
    open(os.path.join(res, tag + ".start"), "w").close()
    time.sleep(3)  # the host polls every 0.2 s: the links are down by now
    step("write during the outage (%d MiB)" % mb, write_all, fd, parts[1][1])
    step("fsync during the outage", os.fsync, fd)
    if not wait_for(os.path.join(res, tag + ".done"), 60):
        say("the host never restored the links")
        sys.exit(1)
    step("write after (%d MiB)" % mb, write_all, fd, parts[2][1])
    step("fsync after", os.fsync, fd)
    step("close", os.close, fd)
    drop_caches()
    fd = step("reopen", os.open, path, os.O_RDONLY)
    bad = []
    for name, want in parts:
        got = step("read %s" % name, os.read, fd, len(want))
        if len(got) < len(want):  # os.read may return less: read the rest
            got += step("read %s (rest)" % name, read_n, fd, len(want) - len(got))
        if got != want:
            bad.append(name)
    os.close(fd)
    if bad:
        say("result: SILENTLY WRONG data in part(s) %s" % ", ".join(bad))
        sys.exit(1)
    say("result: before/during/after all verify")


def read_n(fd, n):
    out = b""
    while len(out) < n:
        b = os.read(fd, n - len(out))
        if not b:
            break
        out += b
    return out


def restart(d, res, seconds):
    signal.alarm(seconds + 90)
    manifest = open(os.path.join(res, "restart.manifest"), "w")
    written, errors = {}, []
    t = time.time()
    i = 0
    asked = False
    slowest = (0.0, "-")
    while time.time() - t < seconds and i < MAX_FILES:
        if not asked and time.time() - t >= KILL_AT:
            open(os.path.join(res, "restart.start"), "w").close()
            say("asked the host to restart the server")
            asked = True
        name = "r%03d.bin" % i
        data = b"file %d\n" % i + os.urandom(MIB)
        t1 = time.time()
        try:
            fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                write_all(fd, data)
                if i % 2:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            errors.append("%s: %s (errno %d) at %.1f s" % (name, e.strerror, e.errno,
                                                            time.time() - T0))
            say("write %s: ERROR %s" % (name, errors[-1]))
        else:
            written[name] = hashlib.sha256(data).hexdigest()
            manifest.write("%s %s\n" % (written[name], name))
            manifest.flush()
        slowest = max(slowest, (time.time() - t1, name))
        i += 1
    manifest.close()
    say("%d files attempted: %d written, %d errors; slowest %s took %.1f s"
        % (i, len(written), len(errors), slowest[1], slowest[0]))
    drop_caches()
    bad, lost = [], []
    for name, want in sorted(written.items()):
        try:
            with open(os.path.join(d, name), "rb") as f:
                got = hashlib.sha256(f.read()).hexdigest()
        except OSError as e:
            say("read back %s: ERROR %s" % (name, e.strerror))
            lost.append(name)
            continue
        if got != want:
            bad.append(name)
    if lost:
        say("result: LOST: %d file(s) reported written cannot be read back: %s"
            % (len(lost), " ".join(lost[:10])))
    if bad:
        say("result: SILENTLY WRONG data: %d file(s) reported written differ: %s"
            % (len(bad), " ".join(bad[:10])))
    if bad or lost:
        sys.exit(1)
    say("result: all %d files reported written verify%s"
        % (len(written), "; %d clear errors, first: %s" % (len(errors), errors[0]) if errors else ""))


def fio_round(d):
    """One fio write+verify round; (exit code, verify errors, longest I/O in
    s, output tail)."""
    import json
    import subprocess
    try:
        r = subprocess.run(["fio", "--name=chaos", "--directory=" + d, "--ioengine=psync",
                            "--rw=randwrite", "--bs=64k", "--size=8M", "--numjobs=4",
                            "--randrepeat=0", "--verify=crc32c", "--verify_fatal=1",
                            "--do_verify=1", "--direct=1", "--output-format=json"],
                           capture_output=True, text=True, timeout=STALL_LIMIT * 6)
    except subprocess.TimeoutExpired:
        return 124, 0, STALL_LIMIT * 6.0, ["the round took over %d s" % (STALL_LIMIT * 6)]
    verrs = sum(1 for l in r.stderr.splitlines() if "verify" in l.lower())
    worst = 0.0
    try:
        out = json.loads(r.stdout[r.stdout.index("{"):])
        for j in out["jobs"]:
            verrs += 1 if j.get("error") == 84 else 0  # EILSEQ: fio's verify failure
            for rw in ("write", "read"):
                worst = max(worst, j[rw]["clat_ns"]["max"] / 1e9)
    except (ValueError, KeyError):
        pass
    return r.returncode, verrs, worst, (r.stderr.strip().splitlines() or ["-"])[-3:]


def chaos(d, res, seconds):
    signal.alarm(seconds + 60)
    # a first round lays out fio's files (extending writes through the page
    # cache): the drops are for the steady O_DIRECT load
    t = time.time()
    rc, v, w, tail = fio_round(d)
    say("layout round, no drops: fio exit %d, %d verify error(s), longest I/O %.2f s, "
        "round %.1f s" % (rc, v, w, time.time() - t))
    if rc or v:
        say("result: fio failed before the drops: %s" % " | ".join(tail))
        sys.exit(3)
    open(os.path.join(res, "chaos.start"), "w").close()
    say("asked the host for the drops")
    done = os.path.join(res, "chaos.done")
    rounds = verrs = errors = 0
    worst = (0.0, 0)
    times = []
    while time.time() - T0 < seconds and not os.path.exists(done):
        t = time.time()
        rc, v, w, tail = fio_round(d)
        rounds += 1
        verrs += v
        worst = max(worst, (w, rounds))
        times.append(time.time() - t)
        say("round %d: fio exit %d, %d verify error(s), longest I/O %.2f s, round %.1f s"
            % (rounds, rc, v, w, time.time() - t))
        if rc:
            errors += 1
            say("round %d: fio: %s" % (rounds, " | ".join(tail)))
    median = sorted(times)[len(times) // 2] if times else 0.0
    longest = max((x, i + 1) for i, x in enumerate(times)) if times else (0.0, 0)
    stall = longest[0] - median
    say("%d rounds of 32 MiB, %d verify error(s), %d failed round(s); longest I/O %.2f s "
        "(round %d), longest round %.1f s (round %d, median %.1f s); drops by the host: %s"
        % (rounds, verrs, errors, worst[0], worst[1], longest[0], longest[1], median,
           "done" if os.path.exists(done) else "NOT DONE"))
    if verrs:
        say("result: %d VERIFY ERROR(S)" % verrs)
        sys.exit(1)
    if errors:
        say("result: fio reported an error (no verify error)")
        sys.exit(3)
    if max(worst[0], stall) > STALL_LIMIT:
        say("result: STALL: one I/O took %.1f s, one round %.1f s over the median "
            "(limit %d s)" % (worst[0], stall, STALL_LIMIT))
        sys.exit(1)
    if not os.path.exists(done):
        say("result: the host did not finish its drops")
        sys.exit(1)
    say("result: %d rounds verify, no stall over %d s" % (rounds, STALL_LIMIT))


REGION = 4 * MIB   # shared: each client's part of the file
SHARED_WRITES = 8  # shared: 64 KiB writes per round


class Timed:
    """shared: runs the I/O calls, keeps the longest one."""

    def __init__(self):
        self.worst = (0.0, "-", 0.0)  # seconds, what, when (since T0)
        self.calls = 0

    def __call__(self, what, fn, *args):
        t = time.time()
        try:
            r = fn(*args)
        except OSError as e:
            say("%s: ERROR %s (errno %d) after %.1f s" % (what, e.strerror, e.errno,
                                                          time.time() - t))
            self.report()
            say("result: the client reported an error (no wrong data)")
            sys.exit(3)
        dt = time.time() - t
        self.calls += 1
        if dt > self.worst[0]:
            self.worst = (dt, what, t - T0)
        if dt > 2:
            say("%s took %.1f s" % (what, dt))
        return r

    def report(self):
        say("longest call: %s, %.2f s, at %.1f s (%d calls)" % (
            self.worst[1], self.worst[0], self.worst[2], self.calls))


def pread_all(fd, n, off):
    out = b""
    while len(out) < n:
        b = os.pread(fd, n - len(out), off + len(out))
        if not b:
            break
        out += b
    return out


def shared(path, res, index, seconds):
    import random
    signal.alarm(seconds + 80)
    base = index * REGION
    if index == 0:
        fd = step("create the file (2 regions)", os.open, path,
                  os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        step("size it", os.ftruncate, fd, 2 * REGION)
        step("close", os.close, fd)
        open(os.path.join(res, "shared.start"), "w").close()
    else:
        open(os.path.join(res, "shared.ready"), "w").close()
    if not wait_for(os.path.join(res, "shared.go"), 60):
        say("the host never started the load")
        sys.exit(1)
    say("go: region %d (offset %d MiB)" % (index, base // MIB))
    model = bytearray(REGION)
    timed = Timed()
    rounds = 0
    t = time.time()
    while time.time() - t < seconds:
        rounds += 1
        fd = timed("open (round %d)" % rounds, os.open, path, os.O_RDWR)
        for _ in range(SHARED_WRITES):
            off = random.randrange(REGION // (64 * 1024)) * 64 * 1024
            data = b"%d:%d:%d " % (index, rounds, off) + os.urandom(64 * 1024)
            data = data[:64 * 1024]
            timed("write at %d (round %d)" % (off, rounds), os.pwrite, fd, data, base + off)
            model[off:off + len(data)] = data
        timed("close (round %d)" % rounds, os.close, fd)
        fd = timed("reopen (round %d)" % rounds, os.open, path, os.O_RDONLY)
        got = timed("read back (round %d)" % rounds, pread_all, fd, REGION, base)
        timed("close after reading (round %d)" % rounds, os.close, fd)
        if got != model:
            bad = next(i for i in range(REGION) if i >= len(got) or got[i] != model[i])
            timed.report()
            say("result: SILENTLY WRONG: round %d reads back different data at offset %d "
                "of region %d" % (rounds, bad, index))
            sys.exit(1)
    drop_caches()
    fd = timed("open for the final check", os.open, path, os.O_RDONLY)
    got = timed("final read (caches dropped)", pread_all, fd, REGION, base)
    timed("close", os.close, fd)
    timed.report()
    with open(os.path.join(res, "shared.sha256"), "w") as f:
        f.write(hashlib.sha256(model).hexdigest() + "\n")
    say("%d rounds of %d x 64 KiB writes and a %d MiB read-back in %.1f s"
        % (rounds, SHARED_WRITES, REGION // MIB, time.time() - t))
    if got != model:
        say("result: SILENTLY WRONG: region %d differs after the caches were dropped" % index)
        sys.exit(1)
    if timed.worst[0] > STALL_LIMIT:
        say("result: STALL: %s took %.1f s (limit %d s)" % (timed.worst[1], timed.worst[0],
                                                            STALL_LIMIT))
        sys.exit(1)
    say("result: region %d verifies, %d rounds, no call over %d s" % (
        index, rounds, STALL_LIMIT))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "outage":
        outage(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "restart":
        restart(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "chaos":
        chaos(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "shared":
        shared(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(1)


if __name__ == "__main__":
    main()

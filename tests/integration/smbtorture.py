#!/usr/bin/python3
"""Run smbtorture suites against a Server and compare per subtest with
smbtorture_known_failures.txt.

    /usr/bin/python3 tests/integration/smbtorture.py [--target samba|smb3d]
        [--io-backend io_uring|threads] [--quick] [-k PATTERN] [--timeout 300]
        [--smbtorture smbtorture|PATH|chroot[:DIR]] [TEST ...]

--smbtorture (default $SMB3D_SMBTORTURE, else the host's smbtorture, Debian
12's 4.17) picks the binary.  "chroot" runs Samba 4.25's smbtorture from the
Debian sid chroot that scripts/sid-chroot.sh builds (see sid.py); it then
runs TESTS_SID instead of TESTS, compares with smbtorture_known_failures_4.25.txt,
and --target samba runs the chroot's smbd 4.25.  When the chroot is not built
the run is skipped ("skip  ..." line, 0 passed, 0 failed) with the reason.

Known-failures file: one `NAME reason...` per line; NAME is an fnmatch glob over
full subtest names (smb2.lock.cancel, smb2.notify.*), optionally prefixed with
`samba:` or `smb3d:` to apply to one target only.  '#' starts a comment.
A failing subtest not listed is a failure; a listed subtest that passes is an
"unexpected success" and also counts as a failure, so the list stays true.
A reason starting with FLAKY marks a timing-dependent subtest: it counts as
passed either way (its real result is still printed).
"""

import argparse
import fnmatch
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import sid  # noqa: E402

KNOWN_FAILURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "smbtorture_known_failures.txt")
KNOWN_FAILURES_SID = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "smbtorture_known_failures_4.25.txt")

# (test or suite, extra smbtorture args).  Each entry is one smbtorture run
# with its own time limit.  Pseudo-arguments, consumed here:
#   "split"          one smbtorture run per subtest (SPLIT_TIMEOUT each)
#   "only=G1,G2"     run only the subtests whose leaf name matches a glob
#   "skip=G1,G2"     drop the subtests whose leaf name matches a glob
#   "slow=G1,G2"     like skip=, unless run with --slow (SMB3D_TORTURE_SLOW=1)
#   "break_timeout=N" a server of its own with that oplock break timeout
#   "conf:NAME=VALUE" a server of its own with that option (smb3d only)
#   "iptables"       when smbtorture cuts channels with iptables (the private
#                    network namespace), a server of its own without Samba's
#                    test hook (smbd:FSCTL_SMBTORTURE = no): the test shows
#                    the break retry on a real cut, not on the hook
# With only=/skip= the selected subtests still run in one smbtorture process.
# An entry "NAME@label" runs the suite NAME once more, with its own
# arguments (the same names in the results and the known failures); it runs
# only when named (CI names the @hook and @threads entries for its threads
# parts, which would otherwise finish a minute before the io_uring ones;
# notify.mask and the iptables run of test3_windows do not depend on the
# io backend).
SESSION = ["reconnect1", "reconnect2", "reauth1", "reauth2", "reauth3", "reauth4",
           "reauth5", "reauth6", "two_logoff", "signing-hmac-sha-256",
           "signing-aes-128-cmac", "signing-aes-128-gmac", "encryption-aes-128-ccm",
           "encryption-aes-128-gcm", "encryption-aes-256-ccm", "encryption-aes-256-gcm",
           "ntlmssp_bug14932"]
TESTS = [
    ("smb2.connect", []),
    ("smb2.session", ["only=" + ",".join(SESSION)]),
    ("smb2.read", []),
    ("smb2.rw", []),
    ("smb2.dir", []),
    ("smb2.getinfo", []),
    ("smb2.setinfo", []),
    ("smb2.rename", []),
    ("smb2.sharemode", []),
    ("smb2.delete-on-close-perms", []),
    # mask runs with 4.25 (TESTS_SID): 4.17's renames the wrong handle in
    # its "rename file" case, so it never checked the rename's two changes
    ("smb2.notify", ["split", "skip=mask"]),
    ("smb2.compound", []),
    ("smb2.credits", []),
    ("smb2.maxfid", ["--option=torture:maxopenfiles=1000"]),
    # replay_*: lock-sequence replay needs durable/multichannel reconnects
    # and is covered by the multichannel tests, not this file-service list
    ("smb2.lock", ["skip=replay_*"]),
    ("smb2.create", ["only=open,brlocked,multi,delete,leading-slash,mkdir-dup,"
                     "dir-alloc-size,aclfile,acldir,nulldacl"]),
    # copy-chunk (with the resume keys it needs), sparse files and
    # FSCTL_SET_ZERO_DATA (sparse_punch*, sparse_hole_dealloc, sparse_perms)
    # oplocks: smb2.oplock runs with smbtorture 4.25 (TESTS_SID, the same
    # 42 subtests); `smbtorture.py smb2.oplock` runs the 4.17 copy by hand
    # plus the FSCTLs the FSCTL table (cmd/ioctl.c) answers without a
    # handler of substance: snapshots, compression, the interface list, and
    # Samba's test FSCTLs (the runner's servers have smbd:FSCTL_SMBTORTURE)
    ("smb2.ioctl", ["only=req_resume_key,req_two_resume_keys,copy_chunk_*,"
                    "copy-chunk?streams,sparse_*,shadow_copy,compress_notsup_*,"
                    "network_interface_info,bug14607,bug14769"]),
    ("smb2.streams", []),
    # NT ACLs (ACCESSBASED lists the second share, "hide unreadable")
    ("smb2.acls", []),
]

# Samba 4.25's smbtorture (sid chroot): the suites the lease, durable-handle,
# replay and multichannel work is judged by.  Bounded to a few minutes in CI;
# see docs/TESTING.md for the timings behind this choice.
TESTS_SID = [
    ("smb2.connect", []),
    ("smb2.credits", []),
    ("smb2.oplock", []),
    ("smb2.lease", []),
    ("smb2.dirlease", []),
    # reopen6: a reconnect by the second user must be ACCESS_DENIED
    ("smb2.durable-open", ["--option=torture:user2name=%s" % h.USER2[0],
                           "--option=torture:user2password=%s" % h.USER2[1]]),
    ("smb2.durable-v2-open", []),
    ("smb2.durable-open-disconnect", []),
    # durable_v2_reconnect_delay_msec waits 10 s for the scavenger
    ("smb2.durable-v2-delay", []),
    ("smb2.durable-v2-regressions", []),
    ("smb2.persistent-open", []),
    # the dhv2-pending*o* cases close the oplock holder about 4 s after the
    # break and expect the waiting CREATE to get its batch oplock then, not
    # at the break timeout: a server of its own with a 10 s timeout.  The
    # *-windows variants (Windows-only statuses, known failures) wait 4-6 s
    # each: --slow runs them
    ("smb2.replay", ["break_timeout=10", "slow=*-windows"]),
    # LOCK replay by lock sequence (MS-SMB2 3.3.5.14); the rest of smb2.lock
    # runs with the host's 4.17 (TESTS)
    ("smb2.lock.replay_smb3_specification_multi", []),
    ("smb2.lock.replay_smb3_specification_durable", []),
    ("smb2.lock.replay_broken_windows", []),
    # Issue 15: every subtest of smb2.multichannel twice, the client's
    # channels cut with iptables (smbtorture drops what the client sends:
    # the server's breaks still arrive, unacknowledged, and are retried on
    # the next channel, mc/break_deliver.c) and with Samba's hook instead
    # (NAME@hook below).  test3_* and leases.test4 block all 32 channels and
    # check that the open waited more than 35 s (hard-coded), so they run
    # with Windows' break timeout, about 40 s each; test3_windows expects
    # Windows' behaviour (no oplock break retry).
    ("smb2.multichannel", ["skip=oplocks.test3_*,leases.test4", "iptables"]),
    ("smb2.multichannel.leases.test4", ["break_timeout=35", "iptables"]),
    ("smb2.multichannel.oplocks.test3_specification", ["break_timeout=35", "iptables"]),
    ("smb2.multichannel.oplocks.test3_windows@threads", ["break_timeout=35",
                                                         "conf:smb2 disable oplock break retry=yes",
                                                 "iptables"]),
    ("smb2.multichannel@hook", ["skip=oplocks.test3_*,leases.test4", "--option=torture:use_iptables=no"]),
    ("smb2.multichannel.leases.test4@hook", ["break_timeout=35", "--option=torture:use_iptables=no"]),
    ("smb2.multichannel.oplocks.test3_specification@hook", ["break_timeout=35",
                                                            "--option=torture:use_iptables=no"]),
    ("smb2.multichannel.oplocks.test3_windows@hook", ["break_timeout=35",
                                                      "conf:smb2 disable oplock break retry=yes",
                                                      "--option=torture:use_iptables=no"]),
    # Samba's test FSCTLs (cmd/ioctl_torture.c, issue 15): bug14607 pads the
    # IOCTL response body by 8 bytes, bug14769 sends an IOCTL that sleeps
    # 200 ms on an open and a CLOSE of it right behind, and expects the CLOSE
    # to wait for it; the hook is named explicitly, so the
    # subtests fail instead of skipping if the runner's default changes
    ("smb2.ioctl", ["only=bug14607,bug14769", "conf:smbd:FSCTL_SMBTORTURE=yes"]),
    # and READ responses (after a hook FSCTL) by 8 bytes
    ("smb2.read.bug14607", ["conf:smbd:FSCTL_SMBTORTURE=yes"]),
    # named streams and NT ACLs (issue 16): seconds.  4.25 splits 4.17's
    # smb2.acls in two suites and adds acls_non_canonical; the ACL cases of
    # smb2.create run here too
    ("smb2.streams", []),
    ("smb2.create", ["only=aclfile,acldir,nulldacl"]),
    ("smb2.acls-with-sysacl", []),
    ("smb2.acls-ignore-sysacl", []),
    ("smb2.acls_non_canonical", []),
    # a rename's RENAMED_OLD_NAME and RENAMED_NEW_NAME in one response
    # (fixed in 4.25's "rename file" case); waits 200 ms for each of 32
    # filter bits in a dozen cases: about 80 s
    ("smb2.notify.mask@threads", []),
]
SLOW = os.environ.get("SMB3D_TORTURE_SLOW", "") == "1"

# --shard K/N: run only the K-th of N parts of the list, so CI can run the
# parts side by side (each part in its own network namespace, with its own
# server).  Entries are dealt out by their usual run time (seconds against
# smb3d in CI, 2026-12-02), longest first, each to the part with the least
# time so far; an entry not listed counts 5 s.
SHARD = None  # (k, n), 1 <= k <= n
EST_SECONDS = {"smb2.lease": 180, "smb2.replay": 140, "smb2.oplock": 80,
               "smb2.dirlease": 80, "smb2.durable-v2-open": 50,
               "smb2.multichannel.oplocks.test3_windows@threads": 40,
               "smb2.multichannel.leases.test4": 67,
               "smb2.multichannel.oplocks.test3_specification": 45,
               "smb2.multichannel@hook": 30, "smb2.multichannel.leases.test4@hook": 67,
               "smb2.multichannel.oplocks.test3_specification@hook": 45,
               "smb2.multichannel.oplocks.test3_windows@hook": 40,
               "smb2.multichannel": 30, "smb2.notify.mask@threads": 80,
               "smb2.durable-v2-delay": 10}


def shard_of(selected, k, n):
    """The entries of SELECTED (in their order) that part K of N runs."""
    load = [0] * n
    part = {}
    for t in sorted(selected, key=lambda t: -EST_SECONDS.get(t, 5)):
        i = load.index(min(load))
        part[t] = i
        load[i] += EST_SECONDS.get(t, 5)
    return [t for t in selected if part[t] == k - 1]

# Suites of TESTS whose code paths do not depend on the io backend (break
# and lease rules, change notify on inotify, ACL evaluation, credits,
# authentication): tests/run runs them with io_uring only, to keep CI under
# 30 minutes (README "Tests").
IO_INDEPENDENT = {"smb2.notify", "smb2.acls", "smb2.credits", "smb2.session"}

QUICK = {"smb2.connect", "smb2.read", "smb2.rw", "smb2.getinfo", "smb2.compound"}

SPLIT_TIMEOUT = 60  # per subtest of a suite marked "split"
# subtests that need longer: notify.mask waits 200 ms for each of 32 filter
# bits in a dozen cases (about 80 s)
SPLIT_TIMEOUTS = {"smb2.notify.mask": 180}

COMMON_EXTRA = ["--option=torture:sharedelay=100000",
                "--option=torture:writetimeupdatedelay=500000"]
# In the private network namespace smbtorture 4.25 may cut its own TCP
# connections with iptables (source4/torture/smb2/block.c): the replay,
# multichannel and oplock tests that simulate a lost channel need it.
NETNS_EXTRA = ["--option=torture:use_iptables=yes",
               "--option=torture:iptables_command=/usr/sbin/iptables"]


def load_known_failures(target, path=KNOWN_FAILURES):
    pats = []
    if not os.path.exists(path):
        return pats
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, reason = line.partition(" ")
            if ":" in name:
                tgt, name = name.split(":", 1)
                if tgt != target:
                    continue
            pats.append((name, reason.strip()))
    return pats


def is_known(name, pats):
    for p, reason in pats:
        if fnmatch.fnmatchcase(name, p):
            return reason or "known"
    return None


def list_subtests(suite):
    """Subtest names of a suite, as smbtorture --fullname reports them."""
    r = subprocess.run(h.smbtorture_cmd() + ["--list", suite], capture_output=True, text=True,
                       errors="replace", timeout=60)
    names = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if not line.startswith(suite + "."):
            continue
        parts = line.split(".")
        # --list prints NAME.LEAF.LEAF for single-test subsuites
        if len(parts) >= 2 and parts[-1] == parts[-2]:
            line = ".".join(parts[:-1])
        names.append(line)
    return names or [suite]


# The oplock break timeout of the smb3d under test ("smb3d:oplock break
# timeout"), told to smbtorture as torture:oplocktimeout.  Samba's is 35 s.
ORACLE_TIMEOUT = 3


def remaining_after_crash(test, failed, output):
    """The subtests of test (a suite or a list) that never started because
    smbtorture died (abort, segfault) in an earlier one -- not on a timeout."""
    crashed = [f for f in failed if f[2].startswith("no result (timeout=False")]
    if not crashed:
        return []
    started = set(h.parse_subunit(output)[3])
    subs = list_subtests(test) if isinstance(test, str) else test
    return [n for n in subs if n not in started and n != test]


def server_for_torture(target, io_backend=None, samba_root=None, port=None, break_timeout=None, conf=None):
    brk = break_timeout or ORACLE_TIMEOUT
    # smbd:FSCTL_SMBTORTURE: Samba's test hook, with which smbtorture "blocks"
    # a channel when it does not use iptables (the host's 4.17 outside the
    # network namespace): oplock.batch22b
    glob = {"smb3d:oplock break timeout": str(brk), "smbd:FSCTL_SMBTORTURE": "yes"} if target == "smb3d" else {}
    glob.update(conf if target == "smb3d" and conf else {})
    server = h.Server(kind=target, io_backend=io_backend, global_opts=glob,
                      samba_root=samba_root, port=port,
                      shares={"share": {"ea support": "yes", "store dos attributes": "yes"},
                              # smb2.acls.ACCESSBASED connects to this one
                              "hideunread": {"hide unreadable": "yes"}})
    server.break_timeout = brk
    server.conf_opts = dict(conf or {})
    return server


def run(target=None, io_backend=None, tests=None, quick=False, pattern=None,
        timeout=300, out=sys.stdout, known_path=None, smbtorture=None):
    """Returns (n_passed, n_failed, failures list).  One server for all tests
    (restarted if it dies).  smbtorture: see the module doc (default
    $SMB3D_SMBTORTURE)."""
    target = target or h.TARGET
    choice = smbtorture or h.SMBTORTURE
    root = sid.parse_choice(choice)
    if root:
        why = sid.missing_reason(root)
        if why:
            out.write("skip  smbtorture 4.25 from the sid chroot: %s\n" % why)
            return 0, 0, []
    saved, h.SMBTORTURE = h.SMBTORTURE, choice
    netns = root and os.environ.get("SMB3D_TORTURE_NETNS", "1") != "0"
    try:
        out.write("smbtorture: %s (%s%s)\n" % (h.smbtorture_version(), choice,
                                              ", private network namespace" if netns else ""))
        out.flush()
        args = (target, io_backend, tests, quick, pattern, timeout, out,
                known_path or (KNOWN_FAILURES_SID if root else KNOWN_FAILURES),
                TESTS_SID if root else TESTS, root)
        if not netns:
            return _run(*args)
        with sid.private_netns("smb3st-%d" % os.getpid()):
            return _run(*args, port=445, common=COMMON_EXTRA + NETNS_EXTRA)
    finally:
        h.SMBTORTURE = saved


def _run(target, io_backend, tests, quick, pattern, timeout, out, known_path, table, root,
         port=None, common=COMMON_EXTRA):
    selected = tests or [t for t, _ in table if "@" not in t]
    if quick and not tests:
        selected = [t for t in selected if t in QUICK]
    if pattern:
        selected = [t for t in selected if pattern in t or fnmatch.fnmatchcase(t, pattern)]
    if SHARD:
        selected = shard_of(selected, *SHARD)
    extra_of = dict(table)
    # expand pseudo-arguments (see TESTS) into smbtorture runs
    runs = []
    for name in selected:
        # NAME@label: the suite NAME once more, with other arguments
        t = name.split("@", 1)[0]
        extra, only, skip, split = [], None, [], False
        for a in extra_of.get(name, []):
            if a.startswith("break_timeout=") or a.startswith("conf:"):
                extra.append(a)  # taken out again by the server choice below
            elif a == "iptables":
                if "--option=torture:use_iptables=yes" in common:
                    extra.append("conf:smbd:FSCTL_SMBTORTURE=no")
            elif a == "split":
                split = True
            elif a.startswith("only="):
                only = a[5:].split(",")
            elif a.startswith("skip="):
                skip = skip + a[5:].split(",")
            elif a.startswith("slow="):
                skip = skip + ([] if SLOW else a[5:].split(","))
            else:
                extra.append(a)
        if not (split or only or skip):
            runs.append((t, extra, timeout))
            continue
        subs = list_subtests(t)

        def leaf(n):
            return n[len(t) + 1:] if n.startswith(t + ".") else n
        if only:
            subs = [n for n in subs if any(fnmatch.fnmatchcase(leaf(n), g) for g in only)]
        subs = [n for n in subs if not any(fnmatch.fnmatchcase(leaf(n), g) for g in skip)]
        if split:
            runs += [(sub, extra, SPLIT_TIMEOUTS.get(sub, SPLIT_TIMEOUT)) for sub in subs]
        elif subs:
            runs.append((subs, extra, timeout))
    pats = load_known_failures(target, known_path)
    npass = nfail = 0
    failures = []
    label = target + ("/" + (io_backend or h.IO_BACKEND) if target == "smb3d" else "")
    if root:
        label += ",4.25"
    server = None
    tally = {}  # suite -> [ok, known failure, failed, skipped], the summary at the end

    def count(name, i):
        tally.setdefault(".".join(name.split(".")[:2]), [0, 0, 0, 0])[i] += 1
    try:
        while runs:
            test, extra, limit = runs.pop(0)
            run_args = extra  # with the server pseudo-arguments, for a rerun after a crash
            brk = next((int(a[14:]) for a in extra if a.startswith("break_timeout=")), ORACLE_TIMEOUT)
            conf = dict(a[5:].rpartition("=")[::2] for a in extra if a.startswith("conf:"))
            extra = [a for a in extra if not a.startswith("break_timeout=") and not a.startswith("conf:")]
            if server is not None and server.alive() and (getattr(server, "break_timeout", ORACLE_TIMEOUT) != brk
                                                          or getattr(server, "conf_opts", {}) != conf):
                server.stop()  # this run needs another break timeout or options
                server = None
            if server is None or not server.alive():
                if server is not None:
                    out.write("  server died; log tail:\n%s\n" % server.log_tail())
                    server.stop()
                try:
                    server = server_for_torture(target, io_backend,
                                                root if target == "samba" else None, port, brk, conf)
                except Exception as e:  # cannot start: every selected test fails
                    server = None
                    nfail += 1
                    tname = test if isinstance(test, str) else ",".join(test)
                    failures.append((tname, "server did not start: %s" % e))
                    out.write("FAIL  [%s] %s: server did not start: %s\n" % (label, tname, e))
                    continue
            t0 = time.time()
            target_extra = ["--option=torture:oplocktimeout=%d" % brk] if target == "smb3d" else []
            passed, failed, output = h.smbtorture(server, test, extra=common + target_extra + extra,
                                                  timeout=limit)
            dt = time.time() - t0
            rest = remaining_after_crash(test, failed, output)
            if rest:
                out.write("      smbtorture aborted in %s; the %d subtests after it run in a new process\n"
                          % (failed[-1][0], len(rest)))
                runs.insert(0, (rest, run_args, limit))
            for name in h.parse_subunit(output)[2]:
                count(name, 3)
                out.write("skip  [%s] %s\n" % (label, name))
            for name in passed:
                reason = is_known(name, pats)
                if reason and reason.startswith("FLAKY"):
                    npass += 1
                    count(name, 0)
                    out.write("ok    [%s] %s (listed %s)\n" % (label, name, reason))
                elif reason:
                    nfail += 1
                    count(name, 0)
                    failures.append((name, "unexpected success (listed: %s)" % reason))
                    out.write("FAIL  [%s] %s: unexpected success (listed as known failure: %s)\n"
                              % (label, name, reason))
                else:
                    npass += 1
                    count(name, 0)
                    out.write("ok    [%s] %s\n" % (label, name))
            for name, kind, why in failed:
                reason = is_known(name, pats)
                if reason and reason.startswith("FLAKY"):
                    npass += 1
                    count(name, 1)
                    out.write("flaky [%s] %s: %s (%s)\n" % (label, name, kind, reason))
                elif reason:
                    npass += 1
                    count(name, 1)
                    out.write("xfail [%s] %s (%s)\n" % (label, name, reason))
                else:
                    nfail += 1
                    count(name, 2)
                    short = why.strip().splitlines()[:6]
                    failures.append((name, "%s: %s" % (kind, " | ".join(short))))
                    out.write("FAIL  [%s] %s: %s\n      %s\n" % (label, name, kind, "\n      ".join(short)))
            out.write("      (%s: %.1fs)\n" % (test if isinstance(test, str) else
                                             "%s (%d subtests)" % (test[0].rsplit(".", 1)[0], len(test)), dt))
            out.flush()
    finally:
        if server is not None:
            server.stop()
    for suite in sorted(tally):
        ok, known, bad, skipped = tally[suite]
        out.write("      [%s] %-28s %3d passed, %3d known failures, %3d failed, %3d skipped\n"
                  % (label, suite, ok, known, bad, skipped))
    return npass, nfail, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default=h.TARGET, choices=["smb3d", "samba"])
    ap.add_argument("--io-backend", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--smbtorture", default=None,
                    help="smbtorture | PATH | chroot[:DIR] (default $SMB3D_SMBTORTURE)")
    ap.add_argument("--slow", action="store_true",
                    help="also the subtests a slow= entry of the list leaves out of CI")
    ap.add_argument("--shard", default=None, metavar="K/N",
                    help="run only part K of N of the list (parts balanced by run time)")
    ap.add_argument("--suggest", action="store_true",
                    help="print known-failure lines for the failures (to triage, then paste)")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()
    global SLOW
    SLOW = SLOW or a.slow
    if a.shard:
        k, _, n = a.shard.partition("/")
        if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
            ap.error("--shard wants K/N with 1 <= K <= N")
        global SHARD
        SHARD = (int(k), int(n))
    p, f, failures = run(a.target, a.io_backend, a.tests or None, a.quick, a.pattern, a.timeout,
                         smbtorture=a.smbtorture)
    if a.suggest:
        print("# suggested known-failure lines (%s):" % a.target)
        for name, why in failures:
            if not why.startswith("unexpected success"):
                why = why.split(" | ")[0].split(": ", 1)[-1]
                print("%s%s %s" % ("samba:" if a.target == "samba" else "", name.replace(" ", "?"),
                                   why.replace("#", "")))
    print("%d passed, %d failed" % (p, f))
    sys.exit(1 if f else 0)


if __name__ == "__main__":
    main()

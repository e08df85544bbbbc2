#!/bin/bash
# Install the test dependencies, build (release + ASan/UBSan), run every test.
# This is what CI runs (.ci/run).
# Must finish in < 30 min on a 2-core machine.  Last line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/deps.sh --test

setup() {  # setup DIR [meson options...]: fresh configure
    local dir=$1; shift
    if [ -d "$dir" ]; then
        meson setup --wipe "$dir" "$@"
    else
        meson setup "$dir" "$@"
    fi
}

setup build
ninja -C build

setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
ninja -C build-asan

passed=0
failed=0
add_counts() {  # add_counts LOGFILE: add the "N passed, N failed" closing line
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 || true)
    if [ -z "$line" ]; then
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
}

stage() {  # stage TITLE: its header, with the time CI has taken so far
    echo "=== $1 (CI at $(( $(date +%s) - start ))s)"
}

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
stage "ASan/UBSan: unit tests and fuzz corpus replay"
/usr/bin/python3 tests/run --build build-asan --unit --no-integration --suite unit --suite fuzz \
    2>&1 | tee "$logdir/asan.log" || true
add_counts "$logdir/asan.log"

stage "ASan/UBSan smb3d: core integration tests (a sanitizer report fails them)"
/usr/bin/python3 tests/run --build build-asan --no-unit --no-torture --quick -k test_core \
    2>&1 | tee "$logdir/asan-int.log" || true
add_counts "$logdir/asan-int.log"

stage "ASan/UBSan smb3d: durable handles (opens that outlive their session)"
/usr/bin/python3 tests/run --build build-asan --no-unit --no-torture --no-regress --no-mc --quick -k test_durable \
    2>&1 | tee "$logdir/asan-durable.log" || true
add_counts "$logdir/asan-durable.log"

stage "ASan/UBSan smb3d: regression tests of fixed bugs (tests/regress)"
/usr/bin/python3 tests/regress/run --build build-asan 2>&1 | tee "$logdir/regress.log" || true
add_counts "$logdir/regress.log"

stage "ThreadSanitizer smb3d: the concurrency regression tests and the channel-churn stress"
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
ninja -C build-tsan
/usr/bin/python3 tests/regress/run --build build-tsan -k churn -k logoff -k zero_key -k oplock -k lease -k session_setup \
    -k renames_free \
    2>&1 | tee "$logdir/tsan.log" || true
add_counts "$logdir/tsan.log"
/usr/bin/python3 tests/run --build build-tsan --no-unit --no-torture --no-regress --no-mc --quick -k test_durable \
    2>&1 | tee "$logdir/tsan-durable.log" || true
add_counts "$logdir/tsan-durable.log"

stage "tests/run (unit + integration against smb3d, io_uring and threads)"
/usr/bin/python3 tests/run --build build --no-regress 2>&1 | tee "$logdir/run.log" || true
add_counts "$logdir/run.log"

# The Debian sid chroot (scripts/sid-chroot.sh, made by deps.sh above): both
# stages print "skip ... reason" and count nothing when it is missing.
stage "smbtorture 4.25 (sid chroot) against smb3d: TESTS_SID of tests/integration/smbtorture.py (io_uring), its lease and durable suites (threads)"
t=$(date +%s)
# The whole list with io_uring in two halves, and the lease, oplock and
# durable-handle suites (issue 13 asks for both io backends) with threads
# in two more, all four side by side: each its own namespace and server,
# and the suites mostly wait for break timeouts.  The threads parts also
# run smb2.multichannel with Samba's hook instead of iptables (the
# NAME@hook entries; issue 15 asks for both), and two io-independent
# entries (NAME@threads) that balance the four parts.  About 6 minutes; one after
# the other they took 17.
SID_THREADS="smb2.oplock smb2.lease smb2.dirlease smb2.durable-open smb2.durable-open-disconnect
             smb2.durable-v2-open smb2.durable-v2-delay smb2.durable-v2-regressions
             smb2.multichannel@hook smb2.multichannel.leases.test4@hook
             smb2.multichannel.oplocks.test3_specification@hook smb2.multichannel.oplocks.test3_windows@hook
             smb2.multichannel.oplocks.test3_windows@threads smb2.notify.mask@threads"
for k in 1 2; do
    /usr/bin/python3 tests/integration/smbtorture.py --smbtorture chroot --io-backend io_uring \
        --shard $k/2 > "$logdir/torture425-$k.log" 2>&1 &
    # shellcheck disable=SC2086  # the suite names are separate arguments
    /usr/bin/python3 tests/integration/smbtorture.py --smbtorture chroot --io-backend threads \
        --shard $k/2 $SID_THREADS > "$logdir/torture425-threads-$k.log" 2>&1 &
done
wait
for log in torture425-1 torture425-2 torture425-threads-1 torture425-threads-2; do
    cat "$logdir/$log.log"
    add_counts "$logdir/$log.log"
done
echo "(smbtorture 4.25: $(( $(date +%s) - t ))s)"

stage "kernel client: Linux 7.2 (user-mode Linux) against smb3d, 4 links, 4 channels"
# One guest boot per server: smoke and fio with small sizes (the checks are
# the same: checksums in the guest and on the server, 4 channels, fio's
# crc32c verify), drop, outage and outage_conflict (issue 13: the durable
# open reclaimed after 20 s without links; a second client's conflicting
# open during the outage purges it), chaos (issue 14: 2 minutes of channel
# drops under fio write+verify), and shared (issue 15: two guests writing
# one file with leases while a channel of the first is cut; after chaos, whose
# metrics are read before it).  idle runs by hand: drop, 25 s with no
# reconnect allowed, guards the same regression (docs/TESTING.md).  Log
# level 3: when shared fails, its report quotes the server's channel and
# break lines (a break given up on a channel, and where it ended).
t=$(date +%s)
timeout 600 tests/kclient/run --build build --links 4 --channels 4 --size 16 --fio-size 64 \
    --log-level 3 --io-backend io_uring smoke fio drop outage outage_conflict chaos shared 2>&1 | tee "$logdir/kclient.log" || true
add_counts "$logdir/kclient.log"
timeout 300 tests/kclient/run --build build --links 4 --channels 4 --size 16 --fio-size 64 \
    --io-backend threads smoke fio 2>&1 | tee "$logdir/kclient-threads.log" || true
add_counts "$logdir/kclient-threads.log"
echo "(kernel client: $(( $(date +%s) - t ))s)"

stage "bench/run --quick (smoke: every benchmark script still runs against smbd and smb3d)"
if SMB3D=build/smb3d SMB3CTL=build/smb3ctl SMB3C=build/tools/smb3c/smb3c timeout 600 bench/run --quick \
    > "$logdir/bench.log" 2>&1; then
    echo "ok    bench/run --quick"
    passed=$((passed + 1))
else
    echo "FAIL  bench/run --quick"
    tail -n 40 "$logdir/bench.log"
    failed=$((failed + 1))
fi

echo "CI took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

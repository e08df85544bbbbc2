#!/bin/bash
# bench/physical.sh -- the machine's limits, for reference:
#   loopback TCP with iperf3, 1 and 2 parallel streams (MiB/s, sender CPU not counted)
#   memcpy bandwidth of one thread (bench/memcpy.c, built with cc -O2)
#   tmpfs read with dd (one kernel->user copy per byte, what a read() path costs)
#   bench/sendpath.c: a page-cached file into a loopback socket by each way a
#   server can send file data (copy, sendfile, splice, mmap, MSG_ZEROCOPY,
#   io_uring READ_FIXED + SEND / SEND_ZC), sender and receiver pinned to CPUs
#   SEND_CPUS (default "0 1"), SEND_MIB MiB per run: MiB/s and sender CPU s/GiB
# Env: PHYS_RUNS (3), IPERF_TIME (seconds, 5), SEND_MIB (4096), SEND_CPUS ("0 1").
set -u
BENCH_NO_SERVERS=1
. "$(dirname "$0")/lib.sh"
PHYS_RUNS=${PHYS_RUNS:-3}
IPERF_TIME=${IPERF_TIME:-5}
PHYS_TMP=$(mktemp -d "$BENCH_TMPROOT/smb3d-bench-phys.XXXXXX")
BENCH_TMP=$PHYS_TMP
BENCH_RESULTS=${BENCH_RESULTS:-$PHYS_TMP/results.tsv}
srv_pid=
cleanup_iperf() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=; }
trap 'cleanup_iperf; rm -rf "$PHYS_TMP"' EXIT
trap 'exit 130' INT TERM HUP

if command -v iperf3 >/dev/null; then
	iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >/dev/null 2>&1 &
	srv_pid=$!
	sleep 0.5
	for run in $(seq 1 "$PHYS_RUNS"); do
		for p in 1 2; do
			v=$(timeout $((IPERF_TIME + 20)) iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t "$IPERF_TIME" -P "$p" -J 2>/dev/null |
				/usr/bin/python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8/1048576))' 2>/dev/null)
			result physical "tcp-lo-${p}stream" iperf3 "$run" "${v:-FAIL}" MiB/s
		done
	done
	cleanup_iperf
else
	log "iperf3 not installed (apt-get install iperf3): skipping loopback TCP"
fi

if command -v cc >/dev/null && cc -O2 -o "$BENCH_TMP/memcpy" "$BENCH_DIR/memcpy.c" 2>/dev/null; then
	for run in $(seq 1 "$PHYS_RUNS"); do
		result physical memcpy-1thread cc "$run" "$("$BENCH_TMP/memcpy" 256 2)" MiB/s
	done
fi
f="$BENCH_TMP/phys-dd.bin"
head -c $((512 << 20)) /dev/zero >"$f"
for run in $(seq 1 "$PHYS_RUNS"); do
	v=$(LC_ALL=C dd if="$f" of=/dev/null bs=1M 2>&1 | awk '/copied/{for(i=1;i<=NF;i++) if($i=="copied,") {b=$1; s=$(i+1)} } END{printf "%.1f", b/1048576/s}')
	result physical tmpfs-read-dd dd "$run" "$v" MiB/s
done
rm -f "$f"

SEND_MIB=${SEND_MIB:-4096}
read -r -a send_cpus <<<"${SEND_CPUS:-0 1}"
if command -v cc >/dev/null && cc -O2 -o "$BENCH_TMP/sendpath" "$BENCH_DIR/sendpath.c" -luring 2>/dev/null; then
	f="$BENCH_TMP/phys-send.bin"
	fmib=$((SEND_MIB < 1024 ? SEND_MIB : 1024))
	head -c $((fmib << 20)) /dev/urandom >"$f"
	modes=(copy sendfile splice mmap zerocopy uring uring-zc)
	for run in $(seq 1 "$PHYS_RUNS"); do
		# rotate the order each run, as for the servers
		for i in "${!modes[@]}"; do
			m=${modes[$(((i + run - 1) % ${#modes[@]}))]}
			read -r v cpu bytes < <(timeout 120 "$BENCH_TMP/sendpath" "$m" "$f" "$SEND_MIB" "${send_cpus[@]}" 2>/dev/null)
			result physical "send-$m" sendpath "$run" "${v:-FAIL}" MiB/s "${cpu:-}" "${bytes:-}"
		done
	done
	rm -f "$f"
else
	log "cannot build bench/sendpath.c (cc, liburing-dev): skipping the send paths"
fi

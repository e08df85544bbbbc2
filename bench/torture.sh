#!/bin/bash
# bench/torture.sh -- smbtorture's own benchmarks: smb2.bench.echo and
# smb2.bench.path-contention-shared.  Records the final "num/s" smbtorture
# prints (its overall average: operations finished / time limit; for
# path-contention-shared the opens/s, each open is followed by a close).
# Env: RUNS (5), TORTURE_TIME (seconds per test, 5), TORTURE_NPROCS (4),
#      TORTURE_QDEPTH (1), TORTURE_TESTS.
set -u
. "$(dirname "$0")/lib.sh"
bench_setup

TORTURE_TIME=${TORTURE_TIME:-5}
TORTURE_NPROCS=${TORTURE_NPROCS:-4}
TORTURE_QDEPTH=${TORTURE_QDEPTH:-1}
TORTURE_TESTS=${TORTURE_TESTS:-smb2.bench.echo smb2.bench.path-contention-shared}
TT_RUNS=${TT_RUNS:-$RUNS}

one() { # server test run
	local srv=$1 t=$2 run=$3 pid c0 c1 out v name
	pid=$(server_pid "$srv")
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid")
	out=$(timeout $((TORTURE_TIME + 60)) smbtorture "//127.0.0.1/bench" -p "$(server_port "$srv")" \
		-U "$BENCH_USER%$BENCH_PASS" --option=torture:timelimit="$TORTURE_TIME" \
		--option=torture:nprocs="$TORTURE_NPROCS" --option=torture:qdepth="$TORTURE_QDEPTH" \
		--option=torture:progress=no "$t" 2>&1)
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	name=${t#smb2.bench.}
	# the last "[num/s=N" of the output (first operation of the line)
	v=$(echo "$out" | tr '\r' '\n' | grep -o '\[num/s=[0-9]*' | tail -1 | cut -d= -f2)
	if ! echo "$out" | grep -q "^success:" || [ -z "$v" ]; then
		log "$srv $t failed: $(echo "$out" | tr '\r' '\n' | grep -v '^$' | tail -3 | tr '\n' ' ')"
		result torture "$name" "$srv" "$run" FAIL ops/s
		return
	fi
	result torture "$name" "$srv" "$run" "$v" ops/s \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')"
}

for t in $TORTURE_TESTS; do
	log "torture: $t, ${TORTURE_TIME}s x $TT_RUNS runs, nprocs=$TORTURE_NPROCS, servers: $BENCH_SERVERS"
	for run in $(seq 1 "$TT_RUNS"); do
		for srv in $(servers_for_run "$run"); do one "$srv" "$t" "$run"; done
	done
done

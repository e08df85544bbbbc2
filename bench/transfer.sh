#!/bin/bash
# bench/transfer.sh -- large-file throughput with smbclient.
#   get: a SIZE file already in page cache (the share is on tmpfs) -> /dev/null
#   put: a SIZE file on tmpfs -> the share
# in each protection MODE (plain, signed, AES-128-GCM, AES-128-CCM), RUNS runs,
# servers rotated each run.  Records MiB/s (smbclient's own transfer rate) and
# the server's CPU ticks for the whole smbclient invocation.
# Env: SIZE (default 1G), RUNS (5), MODES ("plain signed gcm ccm"), DIRS ("get put"),
#      RUNS_PROT (runs for signed/gcm/ccm, default 3).
set -u
. "$(dirname "$0")/lib.sh"
bench_setup

MODES=${MODES:-plain signed gcm ccm}
DIRS=${DIRS:-get put}
bytes=$(to_bytes "$SIZE")
src="$BENCH_TMP/client-src.bin"
big="$BENCH_SHARE/big.bin"

if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" != "$bytes" ]; then
	log "creating $SIZE test file"
	head -c "$bytes" /dev/urandom >"$big" || die "cannot create $big"
fi
chmod 666 "$big"
[ -f "$src" ] && [ "$(stat -c %s "$src")" = "$bytes" ] || cp "$big" "$src"
cat "$big" >/dev/null # page cache (tmpfs anyway)

# smbclient prints "... (123456.7 KiloBytes/sec) (average ...)"
rate_of() { sed -n 's/.*(\([0-9.]*\) [Kk]ilo[Bb]ytes\/sec).*/\1/p' | head -1; }

# timeout per transfer: generous, scales with size (>= 10 MiB/s)
tmo=$((60 + bytes / 10485760))

one() { # server mode dir run
	local srv=$1 mode=$2 dir=$3 run=$4 pid t0 t1 c0 c1 out kbs mibs cmd
	pid=$(server_pid "$srv")
	smbclient_args "$srv" "$mode"
	case $dir in
	get) cmd="get big.bin /dev/null" ;;
	put) cmd="put $src put-$srv.bin" ;;
	esac
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid"); t0=$(now)
	out=$(timeout "$tmo" "${CLIENT_PFX[@]}" "${SMBC[@]}" -c "$cmd" 2>&1)
	rc=$?
	t1=$(now)
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	rm -f "$BENCH_SHARE/put-$srv.bin"
	if [ $rc != 0 ] || echo "$out" | grep -q NT_STATUS; then
		log "$srv $mode $dir failed (rc=$rc): $(echo "$out" | tail -2 | tr '\n' ' ')"
		result "$dir" "$mode" "$srv" "$run" FAIL MiB/s
		return
	fi
	kbs=$(echo "$out" | rate_of)
	if [ -n "$kbs" ]; then
		mibs=$(awk -v k="$kbs" 'BEGIN{printf "%.1f", k/1024}')
	else
		mibs=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.1f", b/1048576/(z-a)}')
	fi
	result "$dir" "$mode" "$srv" "$run" "$mibs" MiB/s \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')" "$bytes"
}

for mode in $MODES; do
	runs=$RUNS
	[ "$mode" = plain ] || runs=${RUNS_PROT:-3}
	log "transfer: mode $mode, $SIZE, $runs runs, servers: $BENCH_SERVERS"
	for run in $(seq 1 "$runs"); do
		for srv in $(servers_for_run "$run"); do
			for dir in $DIRS; do
				one "$srv" "$mode" "$dir" "$run"
			done
		done
	done
done
rm -f "$src"

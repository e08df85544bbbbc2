#!/bin/bash
# bench/smallfiles.sh -- many small files with smbclient (commands on stdin,
# one connection per phase):
#   create: NFILES x (create + write 4 KiB + close)      ("put" of a 4 KiB file)
#   list:   one directory listing of the NFILES entries  ("ls", repeated LIST_REPS times)
#   stat:   NFILES x (open + query info + close)         ("allinfo")
# Records files/s per phase and the server's CPU ticks; the directory is
# removed on the server side (locally) between servers.
# Env: NFILES (10000), SF_RUNS (3), LIST_REPS (10).
set -u
. "$(dirname "$0")/lib.sh"
bench_setup

NFILES=${NFILES:-10000}
LIST_REPS=${LIST_REPS:-10}
SF_RUNS=${SF_RUNS:-3}
src="$BENCH_TMP/small-4k.bin"
head -c 4096 /dev/urandom >"$src"
cmds="$BENCH_TMP/sf-cmds"
mkdir -p "$cmds"
# command files are the same for every server
{
	echo "mkdir sf"
	for i in $(seq 1 "$NFILES"); do echo "put $src sf\\f$i"; done
} >"$cmds/create"
for i in $(seq 1 "$LIST_REPS"); do echo 'ls sf\*'; done >"$cmds/list"
for i in $(seq 1 "$NFILES"); do echo "allinfo sf\\f$i"; done >"$cmds/stat"

phase() { # server phase run ops
	local srv=$1 ph=$2 run=$3 ops=$4 pid t0 t1 c0 c1 out rc n
	pid=$(server_pid "$srv")
	smbclient_args "$srv" plain
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid"); t0=$(now)
	out=$(timeout $((60 + NFILES / 20)) "${SMBC[@]}" <"$cmds/$ph" 2>&1)
	rc=$?
	t1=$(now)
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	n=$(echo "$out" | grep -c NT_STATUS)
	if [ $rc != 0 ] || [ "$n" -gt 0 ]; then
		log "$srv smallfiles $ph: rc=$rc, $n errors: $(echo "$out" | grep -m2 NT_STATUS | tr '\n' ' ')"
		[ $rc != 0 ] && { result smallfiles "$ph" "$srv" "$run" FAIL files/s; return 1; }
	fi
	result smallfiles "$ph" "$srv" "$run" \
		"$(awk -v n="$ops" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.0f", n/(z-a)}')" files/s \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')"
}

log "smallfiles: $NFILES files, $SF_RUNS runs, servers: $BENCH_SERVERS"
for run in $(seq 1 "$SF_RUNS"); do
	for srv in $(servers_for_run "$run"); do
		rm -rf "$BENCH_SHARE/sf"
		phase "$srv" create "$run" "$NFILES" || continue
		have=$(find "$BENCH_SHARE/sf" -maxdepth 1 -type f -size 4k 2>/dev/null | wc -l)
		[ "$have" = "$NFILES" ] || log "$srv: only $have of $NFILES files of 4 KiB on disk"
		phase "$srv" list "$run" $((NFILES * LIST_REPS))
		phase "$srv" stat "$run" "$NFILES"
	done
done
rm -rf "$BENCH_SHARE/sf" "$cmds" "$src"

#!/bin/bash
# bench/sessions.sh -- memory per idle authenticated session.
# For each COUNT in SESSION_COUNTS and each server: open COUNT connections with
# one authenticated session each (bench/sessions.py, impacket), wait until they
# are all idle, and read the server's RSS and PSS summed over its process tree
# (smb3d: one process; Samba: the parent + one smbd per client) from
# /proc/PID/smaps_rollup.  Records (after - before) / COUNT in KiB per session.
# Each server is restarted fresh before each count (memory that an earlier
# benchmark left in malloc arenas would otherwise blur the difference), and
# the fresh servers are stopped when the script ends -- bench/run therefore
# runs this script after the others that need the servers.
# Samba at 10,000 sessions means 10,000 processes: it is skipped when the
# per-session PSS measured at the smaller count projects to more than half of
# MemAvailable.
# Env: SESSION_COUNTS ("1000 10000"), SESS_RUNS (1), SAMBA_MAX_SESSIONS (1000),
#      SESS_PROCS (client processes, 4), SESS_SERVERS (subset of the servers),
#      SESS_SETTLE (seconds to wait before reading memory, 2).
set -u
. "$(dirname "$0")/lib.sh"
bench_setup

SESSION_COUNTS=${SESSION_COUNTS:-1000 10000}
SESS_RUNS=${SESS_RUNS:-1}
# Samba's idle sessions are processes; 10,000 of them take long to fork on a
# small machine: Samba stops at SAMBA_MAX_SESSIONS (set 10000 for the full set)
SAMBA_MAX_SESSIONS=${SAMBA_MAX_SESSIONS:-1000}
SESS_PROCS=${SESS_PROCS:-4}
SESS_SETTLE=${SESS_SETTLE:-2}
# servers to measure (default: all started); e.g. "samba-default smb3d-uring"
SESS_SERVERS=${SESS_SERVERS:-$BENCH_SERVERS}
ulimit -n 65536 2>/dev/null || ulimit -n 32768 2>/dev/null || true
declare -A PSS_PER
RESTARTED=
sess_cleanup() {
	local s
	for s in $RESTARTED; do stop_server "$s"; done
	[ -n "${BENCH_OWN_TMP:-}" ] && bench_cleanup
}
trap sess_cleanup EXIT

one() { # server count run
	local srv=$1 n=$2 run=$3 pid r0 p0 n0 r1 p1 n1 fifo hp line ok bad t0 t1 avail need
	pid=$(server_pid "$srv")
	if is_samba "$srv" && [ "$n" -gt "$SAMBA_MAX_SESSIONS" ]; then
		log "skip $srv with $n sessions (SAMBA_MAX_SESSIONS=$SAMBA_MAX_SESSIONS)"
		return
	fi
	if is_samba "$srv" && [ -n "${PSS_PER[$srv]:-}" ]; then
		avail=$(awk '/MemAvailable/{print $2}' /proc/meminfo)
		need=$((PSS_PER[$srv] * n))
		if [ "$need" -gt $((avail / 2)) ]; then
			log "skip $srv with $n sessions: needs ~$((need / 1024)) MiB, $((avail / 1024)) MiB available"
			result sessions "$n" "$srv" "$run" SKIP KiB/sess
			return
		fi
	fi
	stop_server "$srv"
	start_server "$srv" || { result sessions "$n" "$srv" "$run" FAIL PSS-KiB/sess; return; }
	RESTARTED="$RESTARTED $srv"
	pid=$(server_pid "$srv")
	sleep 1
	read -r r0 p0 n0 < <(mem_tree "$pid")
	fifo="$BENCH_TMP/sess.fifo"; rm -f "$fifo"; mkfifo "$fifo"
	t0=$(now)
	# stdin of the holder is the fifo; closing our end releases it
	timeout $((2 * (90 + n / 5) + 30)) /usr/bin/python3 "$BENCH_DIR/sessions.py" "$(server_port "$srv")" "$n" \
		"$BENCH_USER" "$BENCH_PASS" $((90 + n / 5)) "$SESS_PROCS" <"$fifo" >"$BENCH_TMP/sess.out" 2>"$BENCH_TMP/sess.err" &
	hp=$!
	exec 7>"$fifo"
	line=
	while kill -0 "$hp" 2>/dev/null; do
		line=$(grep READY "$BENCH_TMP/sess.out" 2>/dev/null) && break
		sleep 0.2
	done
	t1=$(now)
	set -- $line; ok=${2:-0}; bad=${3:-$n}
	sleep "$SESS_SETTLE" # let the server settle (Samba children finish their setup)
	read -r r1 p1 n1 < <(mem_tree "$pid")
	# Samba: one process per session; if some of them are gone (seen at 1,000
	# sessions on a loaded 2-core machine), divide by the processes measured
	if is_samba "$srv" && [ $((n1 - n0)) -lt "$ok" ]; then
		log "$srv: only $((n1 - n0)) new processes for $ok sessions: per-session figures use $((n1 - n0))"
		ok=$((n1 - n0))
	fi
	exec 7>&-
	wait "$hp" 2>/dev/null
	rm -f "$fifo"
	if [ "$ok" -lt "$n" ]; then
		log "$srv: only $ok of $n sessions ($bad failed): $(head -c 300 "$BENCH_TMP/sess.err")"
	fi
	if [ "$ok" -gt 0 ]; then
		result sessions "$n" "$srv" "$run" $(((p1 - p0) / ok)) PSS-KiB/sess "" ""
		result sessions-rss "$n" "$srv" "$run" $(((r1 - r0) / ok)) RSS-KiB/sess "" ""
		result sessions-setup "$n" "$srv" "$run" "$(awk -v n="$ok" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.0f", n/(z-a)}')" sess/s
		log "$srv: $ok sessions, processes $n0 -> $n1, RSS $r0 -> $r1 KiB, PSS $p0 -> $p1 KiB"
		PSS_PER[$srv]=$(((p1 - p0) / ok + 1))
	else
		result sessions "$n" "$srv" "$run" FAIL PSS-KiB/sess
	fi
	# wait for the server to drop the connections (Samba: children exit)
	for i in $(seq 1 100); do
		[ "$(proc_tree "$pid" | wc -l)" -le "$n0" ] && break
		sleep 0.2
	done
}

for n in $SESSION_COUNTS; do
	log "sessions: $n idle sessions, servers: $BENCH_SERVERS"
	for run in $(seq 1 "$SESS_RUNS"); do
		for srv in $(servers_for_run "$run"); do
			case " $SESS_SERVERS " in *" $srv "*) one "$srv" "$n" "$run" ;; esac
		done
	done
done

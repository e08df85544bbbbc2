#!/bin/bash
# bench/profile_meta.sh -- where a server spends its time on small-file
# metadata: `allinfo` (open + query info + close) of NFILES files and `ls` of a
# directory of NFILES entries (QUERY_DIRECTORY), the two smallfiles.sh phases,
# with the same smbclient command files, against ONE server on PROF_PORT.
#
#   bench/profile_meta.sh perf|strace|callgrind [SERVER]
#
#   perf       perf record -e cpu-clock -g -p SERVERPID during each phase;
#              perf report (self time by symbol, and by syscall entry) per phase
#   strace     strace -c -f -p SERVERPID during each phase (syscall counts; the
#              script divides by the number of operations), and strace -c -f of
#              the smbclient side (send syscalls ~ SMB requests/compounds)
#   callgrind  smb3d only: the server runs under valgrind --tool=callgrind
#              (threads engine advised: valgrind knows little of io_uring);
#              use a small NFILES (e.g. 1000); callgrind_annotate per phase
# SERVER: smb3d-uring (default), smb3d-threads, samba-default, samba-uring, ...
# Env: NFILES (10000), LS_REPS (5), PROF_PORT (4478), PROF_OUT (dir, default
#      $BENCH_TMPROOT/smb3d-prof.<tool>.<server>, kept), PERF_FREQ (2000).
# Output: PROF_OUT/<phase>.{perf.txt,strace.txt,client-strace.txt,callgrind.txt}
# and a summary on stdout.  The server is stopped by PID on exit.
set -u
TOOL=${1:?usage: profile_meta.sh perf|strace|callgrind [SERVER]}
SRV=${2:-smb3d-uring}
. "$(dirname "$0")/lib.sh"
NFILES=${NFILES:-10000}
LS_REPS=${LS_REPS:-5}
PROF_PORT=${PROF_PORT:-4478}
PERF_FREQ=${PERF_FREQ:-2000}
PROF_OUT=${PROF_OUT:-$BENCH_TMPROOT/smb3d-prof.$TOOL.$SRV}
mkdir -p "$PROF_OUT"
PORT_OF[$SRV]=$PROF_PORT
export SERVERS=$SRV

prof_pids=()
if [ "$TOOL" = callgrind ]; then
	is_samba "$SRV" && die "callgrind: smb3d only"
	real=$SMB3D
	wrap=$(mktemp "$BENCH_TMPROOT/smb3d-cg-wrap.XXXXXX")
	cat >"$wrap" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$PROF_OUT/callgrind.out.%p --dump-instr=no --collect-atstart=no "$real" "\$@"
EOF
	chmod 755 "$wrap"
	SMB3D=$wrap
fi
prof_cleanup() {
	local p
	for p in "${prof_pids[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	bench_cleanup
	[ -n "${wrap:-}" ] && rm -f "$wrap"
}
bench_setup
trap prof_cleanup EXIT
pid=$(server_pid "$SRV")
log "profiling $SRV (pid $pid, port $PROF_PORT) with $TOOL, $NFILES files; output in $PROF_OUT"

src="$BENCH_TMP/small-4k.bin"
head -c 4096 /dev/urandom >"$src"
{
	echo "mkdir sf"
	for i in $(seq 1 "$NFILES"); do echo "put $src sf\\f$i"; done
} >"$BENCH_TMP/create"
for i in $(seq 1 "$LS_REPS"); do echo 'ls sf\*'; done >"$BENCH_TMP/list"
for i in $(seq 1 "$NFILES"); do echo "allinfo sf\\f$i"; done >"$BENCH_TMP/stat"
smbclient_args "$SRV" plain
log "creating $NFILES files through the server"
timeout $((120 + NFILES / 10)) "${SMBC[@]}" <"$BENCH_TMP/create" >/dev/null 2>&1 || die "create failed"

# callgrind: the tree's main process is valgrind running smb3d
cg() { callgrind_control "$@" "$pid" >/dev/null 2>&1; }

phase() { # name ops
	local ph=$1 ops=$2 t0 t1 c0 c1 pp out rc
	case $TOOL in
	perf)
		perf record -q -e cpu-clock -F "$PERF_FREQ" -g -p "$pid" -o "$PROF_OUT/$ph.perf.data" 2>"$PROF_OUT/$ph.perf.err" &
		pp=$!; prof_pids+=("$pp"); sleep 1 ;;
	strace)
		strace -c -f -p "$pid" -o "$PROF_OUT/$ph.strace.txt" 2>/dev/null &
		pp=$!; prof_pids+=("$pp"); sleep 1 ;;
	callgrind) cg -z; cg --instr=on ;;
	esac
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid"); t0=$(now)
	if [ "$TOOL" = strace ]; then
		out=$(timeout $((120 + NFILES / 5)) strace -c -f -o "$PROF_OUT/$ph.client-strace.txt" "${SMBC[@]}" <"$BENCH_TMP/$ph" 2>&1)
	else
		out=$(timeout $((120 + NFILES / 5)) "${SMBC[@]}" <"$BENCH_TMP/$ph" 2>&1)
	fi
	rc=$?
	t1=$(now)
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	case $TOOL in
	perf | strace)
		kill -INT "$pp"; wait "$pp" 2>/dev/null; prof_pids=() ;;
	callgrind) cg --instr=off; cg --dump="$ph" ;;
	esac
	printf '%s: rc=%s, %d ops in %.2f s (%.0f ops/s), server CPU %.2f s (%.0f us/op), NT_STATUS errors %s\n' \
		"$ph" "$rc" "$ops" "$(awk -v a="$t0" -v z="$t1" 'BEGIN{print z-a}')" \
		"$(awk -v n="$ops" -v a="$t0" -v z="$t1" 'BEGIN{print n/(z-a)}')" \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{print c/h}')" \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" -v n="$ops" 'BEGIN{print c/h/n*1e6}')" \
		"$(echo "$out" | grep -c NT_STATUS)" | tee -a "$PROF_OUT/summary.txt"
	case $TOOL in
	perf)
		perf report -i "$PROF_OUT/$ph.perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.7 -g none \
			2>/dev/null >"$PROF_OUT/$ph.perf.txt"
		perf report -i "$PROF_OUT/$ph.perf.data" --stdio --no-children --sort comm --percent-limit 1 -g none \
			2>/dev/null >"$PROF_OUT/$ph.perf-threads.txt"
		# share of samples under each syscall (entry symbol in the kernel stack)
		perf script -i "$PROF_OUT/$ph.perf.data" -F ip,sym 2>/dev/null |
			awk '/^$/ { if (sc != "") n[sc]++; else n["(user / no syscall)"]++; tot++; sc = ""; next }
			     $2 ~ /^__(x64|se)_sys_/ || $2 ~ /^__do_sys_/ { s = $2; sub(/^__(x64|se)_sys_|^__do_sys_/, "", s); sc = s }
			     $2 ~ /^io_(issue_sqe|wq_submit_work)$/ && sc == "" { sc = "io_uring:" $2 }
			     END { for (k in n) printf "%6.1f%%  %s\n", 100 * n[k] / tot, k }' |
			sort -rn | head -25 >"$PROF_OUT/$ph.perf-syscalls.txt"
		echo "--- $ph: top symbols (self)"; sed -n '/^#/d; /^$/d; 1,30p' "$PROF_OUT/$ph.perf.txt"
		echo "--- $ph: samples by syscall"; cat "$PROF_OUT/$ph.perf-syscalls.txt"
		echo "--- $ph: by thread"; sed -n '/^#/d; /^$/d; 1,10p' "$PROF_OUT/$ph.perf-threads.txt" ;;
	strace)
		echo "--- $ph: server syscalls per op ($ops ops)"
		awk -v n="$ops" '$1 ~ /^[0-9.]+$/ && NF >= 5 { c = $4; name = $NF; if ($5 ~ /^[0-9]+$/ && NF == 6) c = $4;
			printf "%10.2f /op  %8d  %s\n", c / n, c, name }' "$PROF_OUT/$ph.strace.txt" | sort -rn | head -25
		echo "--- $ph: client (smbclient) send/recv syscalls per op"
		awk -v n="$ops" '$NF ~ /^(sendmsg|writev|write|sendto|recvmsg|recvfrom|read|readv|poll|ppoll|epoll_wait)$/ && $1 ~ /^[0-9.]+$/ {
			printf "%10.2f /op  %8d  %s\n", $4 / n, $4, $NF }' "$PROF_OUT/$ph.client-strace.txt" | sort -rn ;;
	callgrind)
		f=$(ls -t "$PROF_OUT"/callgrind.out.* 2>/dev/null | grep -v '\.txt$' | head -1)
		[ -n "$f" ] && callgrind_annotate --inclusive=no "$f" 2>/dev/null | head -45 >"$PROF_OUT/$ph.callgrind.txt" &&
			callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -60 >"$PROF_OUT/$ph.callgrind-incl.txt"
		echo "--- $ph: callgrind self ($f)"; sed -n '1,45p' "$PROF_OUT/$ph.callgrind.txt"
		mv "$f" "$f.$ph.done" 2>/dev/null ;;
	esac
}

phase stat "$NFILES"
phase list $((NFILES * LS_REPS))
log "done; files in $PROF_OUT"

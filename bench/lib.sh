# bench/lib.sh -- shared helpers for the smb3d vs Samba benchmarks.
# Sourced by bench/run and by every bench/*.sh script; plain POSIX-ish bash.
#
# State shared between scripts lives in environment variables that bench/run
# exports once the servers are up:
#   BENCH_TMP       temp root (servers' dirs, share, client files)
#   BENCH_SHARE     the one directory every server shares as [bench]
#   BENCH_RESULTS   TSV file the scripts append to (see result() below)
#   BENCH_SERVERS   space-separated list of started server names
#   BENCH_PID_<n>   main PID of server <n> (name with - replaced by _)
#   BENCH_PORT_<n>  its TCP port on 127.0.0.1
# A script run on its own (e.g. `bench/echo.sh`) starts and stops the servers
# itself through bench_setup / the EXIT trap.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
REPO=${REPO:-$(cd "$BENCH_DIR/.." && pwd)}

# smb3d binaries: explicit env wins, else build/smb3d, else build/src/smb3d.
_pick_bin() { # name
	local n=$1 c
	for c in "$REPO/build/$n" "$REPO/build/src/$n" "$REPO/build/tools/$n"; do
		[ -f "$c" ] && [ -x "$c" ] && { echo "$c"; return; }
	done
	echo "$REPO/build/$n"
}
SMB3D=${SMB3D:-$(_pick_bin smb3d)}
SMB3CTL=${SMB3CTL:-$(_pick_bin smb3ctl)}

BENCH_USER=${BENCH_USER:-smb3test1}
BENCH_PASS=${BENCH_PASS:-Passw0rd-One}
RUNS=${RUNS:-5}
SIZE=${SIZE:-1G}
QUICK=${QUICK:-0}
# tmpfs root: the share and the put source live in page cache
BENCH_TMPROOT=${BENCH_TMPROOT:-/dev/shm}

# name -> port (ports 4470-4479 are reserved for bench/; BENCH_PORT_BASE moves
# the block, so that two benches on one machine do not meet)
ALL_SERVERS="samba-default samba-uring samba-sendfile smb3d-uring smb3d-threads"
BENCH_PORT_BASE=${BENCH_PORT_BASE:-4470}
declare -A PORT_OF=([samba-default]=$BENCH_PORT_BASE [samba-uring]=$((BENCH_PORT_BASE + 1))
	[samba-sendfile]=$((BENCH_PORT_BASE + 2)) [smb3d-uring]=$((BENCH_PORT_BASE + 3))
	[smb3d-threads]=$((BENCH_PORT_BASE + 4)))
IPERF_PORT=$((BENCH_PORT_BASE + 5))

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# var name for a server name
_v() { echo "${1//-/_}"; }
server_port() { local v="BENCH_PORT_$(_v "$1")"; echo "${!v}"; }
server_pid() { local v="BENCH_PID_$(_v "$1")"; echo "${!v}"; }
is_samba() { case $1 in samba*) return 0 ;; esac; return 1; }

# size string (1G, 64M, 4096) -> bytes
to_bytes() {
	local s=$1 n u
	n=${s%[KkMmGg]}; u=${s#"$n"}
	case $u in
	K | k) echo $((n * 1024)) ;;
	M | m) echo $((n * 1024 * 1024)) ;;
	G | g) echo $((n * 1024 * 1024 * 1024)) ;;
	*) echo "$n" ;;
	esac
}

now() { date +%s.%N; }

# ---------------------------------------------------------------- CPU / memory
# All PIDs of the process tree rooted at $1 (itself first).
proc_tree() {
	local root=$1 p
	local -a queue=("$root")
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}; queue=("${queue[@]:1}")
		[ -d /proc/$p ] || continue
		echo "$p"
		for c in $(cat /proc/$p/task/*/children 2>/dev/null); do queue+=("$c"); done
	done
}

# CPU clock ticks (utime+stime) used by the server: every live process of the
# tree plus cutime+cstime (children already exited and reaped -- Samba's
# per-client smbd processes end up there when the client disconnects).
cpu_ticks() {
	local t=0 p f
	for p in $(proc_tree "$1"); do
		f=$(cat /proc/$p/stat 2>/dev/null) || continue
		f=${f##*) } # fields from 3 on; utime is field 14 -> index 11
		set -- $f
		t=$((t + ${12} + ${13} + ${14} + ${15}))
	done
	echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# Samba's parent reaps an exiting child asynchronously; wait until no process
# in the tree is a zombie so that its ticks have moved into cutime.
settle_tree() {
	local i p z
	for i in $(seq 1 50); do
		z=0
		for p in $(proc_tree "$1"); do
			[ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" = Z ] && z=1
		done
		[ $z = 0 ] && return 0
		sleep 0.05
	done
}

# "rss_kib pss_kib nprocs" summed over the server's process tree (one awk
# pass over every /proc/PID/smaps_rollup: 10,000 processes are read in
# seconds; nprocs counts the files actually read)
mem_tree() {
	local -a files=()
	local p
	for p in $(proc_tree "$1"); do files+=("/proc/$p/smaps_rollup"); done
	# cat skips a process that ended meanwhile (mawk would stop at it)
	cat "${files[@]}" 2>/dev/null | awk '/^Rss:/ {r += $2; n++} /^Pss:/ {s += $2} END {print r + 0, s + 0, n + 0}'
}

# ---------------------------------------------------------------- results
# result BENCH CASE SERVER RUN VALUE UNIT [CPU_S] [BYTES]
#   BENCH  e.g. get, put, smallfiles, echo; CASE e.g. plain, signed, gcm
#   VALUE  higher-is-better unless UNIT ends in "s" (seconds) or "KiB/sess"
result() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" "${8:-}" >>"$BENCH_RESULTS"
	printf '  %-10s %-14s %-15s run %-2s %12s %-8s cpu=%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:--}" >&2
}

# order of servers for run $1: rotated each run so no server is always first
# (A B C, B C A, ...) -- alternating runs, same files, same client.
servers_for_run() {
	local r=$1 n i
	local -a s=($BENCH_SERVERS)
	n=${#s[@]}
	for ((i = 0; i < n; i++)); do echo "${s[$(((i + r) % n))]}"; done
}

# ---------------------------------------------------------------- clients
CLIENT_CONF_OPTS=(--option='client min protocol=SMB2_02' --option='client max protocol=SMB3_11')

# smbclient_cmd SERVER MODE  -> prints the argv (one per line) for smbclient
# MODE: plain | signed | gcm | ccm
smbclient_args() {
	local srv=$1 mode=$2
	SMBC=(smbclient "//127.0.0.1/bench" -p "$(server_port "$srv")" -U "$BENCH_USER%$BENCH_PASS"
		-s "$BENCH_TMP/client.conf" -m SMB3_11)
	case $mode in
	plain) SMBC+=(--client-protection=off) ;;
	signed) SMBC+=(--client-protection=sign) ;;
	gcm) SMBC+=(--client-protection=encrypt --option='client smb3 encryption algorithms=AES-128-GCM') ;;
	ccm) SMBC+=(--client-protection=encrypt --option='client smb3 encryption algorithms=AES-128-CCM') ;;
	*) die "unknown mode $mode" ;;
	esac
}

# ---------------------------------------------------------------- servers
ensure_user() {
	id "$BENCH_USER" >/dev/null 2>&1 || useradd -M -N -s /usr/sbin/nologin "$BENCH_USER" 2>/dev/null || true
	id -u "$BENCH_USER"
}

_write_samba_conf() { # name dir port extra...
	local name=$1 d=$2 port=$3; shift 3
	cat >"$d/smb.conf" <<EOF
[global]
	smb ports = $port
	interfaces = lo
	bind interfaces only = yes
	server role = standalone server
	workgroup = BENCH
	netbios name = BENCH${port}
	passdb backend = smbpasswd:$d/private/smbpasswd
	private dir = $d/private
	lock directory = $d/lock
	state directory = $d/state
	cache directory = $d/cache
	pid directory = $d/pid
	ncalrpc dir = $d/ncalrpc
	log file = $d/log.%m
	log level = 0
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
	disable netbios = yes
	usershare path =
	registry shares = no
	include system krb5 conf = no
	server min protocol = SMB2_02
	server multi channel support = yes
$(for o in "$@"; do printf '\t%s\n' "$o"; done)
[bench]
	path = $BENCH_SHARE
	read only = no
EOF
}

_write_smb3d_conf() { # name dir port backend [extra [global] line]
	local name=$1 d=$2 port=$3 be=$4 extra=${5:-}
	cat >"$d/smb.conf" <<EOF
[global]
	smb ports = $port
	interfaces = lo
	bind interfaces only = yes
	passdb backend = smbpasswd:$d/private/smbpasswd
	control socket = $d/ctl.sock
	io backend = $be
	log level = 0
	server min protocol = SMB2_02
	max connections = 0
	$extra
[bench]
	path = $BENCH_SHARE
	read only = no
EOF
}

wait_port() { # port pid [host]
	local i
	for i in $(seq 1 200); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>/dev/tcp/"${3:-127.0.0.1}"/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

start_server() { # name
	local name=$1 port=${PORT_OF[$1]} d="$BENCH_TMP/srv-$1" uid pid
	mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc}
	chmod 700 "$d/private"
	uid=$(ensure_user)
	: >"$d/private/smbpasswd"; chmod 600 "$d/private/smbpasswd"
	case $name in
	samba-default) _write_samba_conf "$name" "$d" "$port" ;;
	samba-uring) _write_samba_conf "$name" "$d" "$port" "vfs objects = io_uring" ;;
	samba-sendfile) _write_samba_conf "$name" "$d" "$port" "use sendfile = yes" ;;
	smb3d-uring) _write_smb3d_conf "$name" "$d" "$port" io_uring ;;
	smb3d-threads) _write_smb3d_conf "$name" "$d" "$port" threads ;;
	# bench/knobs.sh: smb3d io_uring with one option changed (KNOB_OPT[name])
	smb3d-knob-*) _write_smb3d_conf "$name" "$d" "$port" io_uring "${KNOB_OPT[$name]}" ;;
	*) die "unknown server $name" ;;
	esac
	if is_samba "$name"; then
		printf '%s\n%s\n' "$BENCH_PASS" "$BENCH_PASS" | smbpasswd -c "$d/smb.conf" -a -s "$BENCH_USER" >"$d/useradd.log" 2>&1 ||
			{ cat "$d/useradd.log" >&2; return 1; }
		# own session: on SIGTERM smbd signals its whole process group, which
		# must not be ours (setsid execs in place: $! stays smbd's PID)
		setsid smbd --foreground --no-process-group --debug-stdout -s "$d/smb.conf" </dev/null >"$d/server.log" 2>&1 &
	else
		[ -x "$SMB3D" ] || { log "smb3d binary $SMB3D missing: skipping $name"; return 1; }
		printf '%s\n%s\n' "$BENCH_PASS" "$BENCH_PASS" | "$SMB3CTL" -c "$d/smb.conf" user add "$BENCH_USER" --uid "$uid" -s >"$d/useradd.log" 2>&1 ||
			{ cat "$d/useradd.log" >&2; return 1; }
		"$SMB3D" -c "$d/smb.conf" </dev/null >"$d/server.log" 2>&1 &
	fi
	pid=$!
	if ! wait_port "$port" "$pid"; then
		log "$name did not start on port $port:"; tail -20 "$d/server.log" >&2
		kill "$pid" 2>/dev/null
		return 1
	fi
	if [ -n "${BENCH_SERVER_CPUS:-}" ]; then
		taskset -a -p -c "$BENCH_SERVER_CPUS" "$pid" >/dev/null || log "taskset $name failed"
	fi
	export "BENCH_PID_$(_v "$name")=$pid" "BENCH_PORT_$(_v "$name")=$port"
	echo "$pid" >"$d/main.pid"
	log "started $name pid $pid port $port"
}

stop_server() { # name  (only the tree of the PID we started)
	local pid tree p i
	pid=$(server_pid "$1"); [ -n "$pid" ] || return 0
	tree=$(proc_tree "$pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	for p in $tree; do kill -KILL "$p" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	export "BENCH_PID_$(_v "$1")="
}

# is the server able to serve a file? (smb3d's file service may be unfinished)
server_serves_files() { # name
	local f="$BENCH_TMP/probe.$1" out
	head -c 65536 /dev/urandom >"$f"
	smbclient_args "$1" plain
	out=$(timeout 20 "${SMBC[@]}" -c "put $f probe.$1; get probe.$1 $f.back; del probe.$1" 2>&1)
	cmp -s "$f" "$f.back" || { log "$1 cannot serve files: $(echo "$out" | tail -3 | tr '\n' ' ')"; rm -f "$f" "$f.back"; return 1; }
	rm -f "$f" "$f.back"
}

# BENCH_CLIENT_CPUS / BENCH_SERVER_CPUS (e.g. 1 / 0): pin clients and servers to
# separate CPUs, so that the scheduler cannot stack both on one core (runs on a
# 2-core machine are bimodal without it); unset = no pinning
CLIENT_PFX=()
[ -n "${BENCH_CLIENT_CPUS:-}" ] && CLIENT_PFX=(taskset -c "$BENCH_CLIENT_CPUS")

# run a measurement script as a background child so that a signal reaches our
# trap at once; the cleanup then ends the child's process tree (ours only)
BENCH_CHILD=
run_child() {
	"$@" &
	BENCH_CHILD=$!
	wait "$BENCH_CHILD"
	local rc=$?
	BENCH_CHILD=
	return $rc
}

bench_cleanup() {
	local s p
	if [ -n "${BENCH_CHILD:-}" ]; then
		for p in $(proc_tree "$BENCH_CHILD"); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.5
		for p in $(proc_tree "$BENCH_CHILD"); do kill -KILL "$p" 2>/dev/null; done
	fi
	for s in $BENCH_SERVERS; do stop_server "$s"; done
	[ -n "${BENCH_OWN_TMP:-}" ] && [ -d "$BENCH_OWN_TMP" ] && [ "${BENCH_KEEP:-0}" != 1 ] && rm -rf "$BENCH_OWN_TMP"
}

# bench_setup: if bench/run has not started servers already, start them now
# (those in $SERVERS, default all) and register cleanup on exit.
bench_setup() {
	if [ -n "${BENCH_TMP:-}" ] && [ -n "${BENCH_SERVERS:-}" ]; then return 0; fi
	BENCH_TMP=$(mktemp -d "$BENCH_TMPROOT/smb3d-bench.XXXXXX")
	chmod 755 "$BENCH_TMP"
	BENCH_OWN_TMP=$BENCH_TMP
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	BENCH_SHARE="$BENCH_TMP/share"
	mkdir -p "$BENCH_SHARE"; chmod 777 "$BENCH_SHARE"
	BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_TMP/results.tsv}
	printf '[global]\n\tclient min protocol = SMB2_02\n' >"$BENCH_TMP/client.conf"
	export BENCH_TMP BENCH_SHARE BENCH_RESULTS # not BENCH_OWN_TMP: only its owner removes it
	ulimit -n 65536 2>/dev/null || true
	BENCH_SERVERS=
	local s
	for s in ${SERVERS:-$ALL_SERVERS}; do
		if start_server "$s"; then
			if server_serves_files "$s"; then
				BENCH_SERVERS="$BENCH_SERVERS $s"
			else
				stop_server "$s"
			fi
		fi
	done
	BENCH_SERVERS=${BENCH_SERVERS# }
	export BENCH_SERVERS
	[ -n "$BENCH_SERVERS" ] || die "no server could be started"
	log "servers: $BENCH_SERVERS"
}

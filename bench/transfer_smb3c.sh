#!/bin/bash
# bench/transfer_smb3c.sh -- large-file throughput with smb3c (many requests in
# flight, so the client is not the bottleneck the way smbclient is).
#   read:  smb3c bench //127.0.0.1/bench/big.bin --read   (SIZE file in page cache)
#   write: smb3c bench //127.0.0.1/bench/c3-SRV.dat --write --size SIZE
#          (smb3c sends generated data: no local file is read)
# single channel (--channels 1), modes plain / --sign / --encrypt, against every
# started server, servers rotated each run.  Records MiB/s as smb3c prints it
# ("read 1024 MiB 3.21 s 319.0 MiB/s channels=1": the data phase only, without
# connect / session setup / create) and the server's CPU ticks for the whole
# smb3c invocation (bench/lib.sh's cpu_ticks, same as transfer.sh).
# smb3c negotiates SMB 3.1.1 and offers AES-128-GCM first (then 128-CCM, 256-GCM,
# 256-CCM) and AES-GMAC signing first (then CMAC, HMAC-SHA256); what each server
# picked is logged once per server and mode from `smb3c -v`
# ($BENCH_TMP/smb3c-negotiated.txt, and on stderr).
# Env: SIZE (1G), RUNS (5, plain), RUNS_PROT (3, sign/encrypt),
#      C3_MODES ("plain sign encrypt"), C3_DIRS ("read write"),
#      C3_CHANNELS (1), C3_DEPTH (smb3c's default 8), C3_CHUNK (smb3c's default 1M),
#      SMB3C (build/tools/smb3c/smb3c).
set -u
. "$(dirname "$0")/lib.sh"

SMB3C=${SMB3C:-$REPO/build/tools/smb3c/smb3c}
if [ ! -f "$SMB3C" ] || [ ! -x "$SMB3C" ]; then
	log "transfer_smb3c: smb3c not built ($SMB3C): skipping"
	exit 0
fi
bench_setup

C3_MODES=${C3_MODES:-plain sign encrypt}
C3_DIRS=${C3_DIRS:-read write}
C3_CHANNELS=${C3_CHANNELS:-1}
bytes=$(to_bytes "$SIZE")
big="$BENCH_SHARE/big.bin"
neg="$BENCH_TMP/smb3c-negotiated.txt"

if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" != "$bytes" ]; then
	log "creating $SIZE test file"
	head -c "$bytes" /dev/urandom >"$big" || die "cannot create $big"
fi
chmod 666 "$big"
cat "$big" >/dev/null # page cache (tmpfs anyway)

tmo=$((60 + bytes / 10485760))
declare -A logged=()

one() { # server mode dir run
	local srv=$1 mode=$2 dir=$3 run=$4 pid c0 c1 out rc mibs cmd what
	local -a args
	pid=$(server_pid "$srv")
	args=(-v -p "$(server_port "$srv")" -U "$BENCH_USER%$BENCH_PASS" --channels "$C3_CHANNELS")
	[ -n "${C3_DEPTH:-}" ] && args+=(--depth "$C3_DEPTH")
	[ -n "${C3_CHUNK:-}" ] && args+=(--chunk "$C3_CHUNK")
	case $mode in
	plain) ;;
	sign) args+=(--sign) ;;
	encrypt) args+=(--encrypt) ;;
	*) die "unknown mode $mode" ;;
	esac
	case $dir in
	read) cmd=(bench //127.0.0.1/bench/big.bin --read); what=read ;;
	write) cmd=(bench "//127.0.0.1/bench/c3-$srv.dat" --write --size "$SIZE"); what=write ;;
	esac
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid")
	out=$(timeout "$tmo" "${CLIENT_PFX[@]}" "$SMB3C" "${args[@]}" "${cmd[@]}" 2>&1)
	rc=$?
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	rm -f "$BENCH_SHARE/c3-$srv.dat"
	if [ -z "${logged[$srv.$mode]:-}" ]; then
		logged[$srv.$mode]=1
		printf '%s %s: %s\n' "$srv" "$mode" "$(echo "$out" | grep -m1 'dialect' | sed 's/^ *//')" | tee -a "$neg" >&2
	fi
	mibs=$(echo "$out" | awk -v w="$what" '$1 == w && $3 == "MiB" && $7 == "MiB/s" {print $6; exit}')
	if [ $rc != 0 ] || [ -z "$mibs" ]; then
		log "$srv $mode $dir failed (rc=$rc): $(echo "$out" | tail -2 | tr '\n' ' ')"
		result "smb3c-$dir" "$mode" "$srv" "$run" FAIL MiB/s
		return
	fi
	result "smb3c-$dir" "$mode" "$srv" "$run" "$mibs" MiB/s \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')" "$bytes"
}

for mode in $C3_MODES; do
	runs=$RUNS
	[ "$mode" = plain ] || runs=${RUNS_PROT:-3}
	log "transfer_smb3c: mode $mode, $SIZE, $runs runs, channels=$C3_CHANNELS, servers: $BENCH_SERVERS"
	for run in $(seq 1 "$runs"); do
		for srv in $(servers_for_run "$run"); do
			for dir in $C3_DIRS; do
				one "$srv" "$mode" "$dir" "$run"
			done
		done
	done
done

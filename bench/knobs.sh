#!/bin/bash
# bench/knobs.sh -- do smb3d's tuning defaults measure best?  Starts smb3d
# (io_uring engine) once with its defaults and once per variant with one
# [global] option changed, all over the same share, and measures each with
# smb3c plain read and write (KNOB_SIZE, 8 x 1 MiB in flight, one channel) and
# with smb3c reads of KNOB_SMALL requests (per-request cost), servers
# alternating run by run.  smb3d only: these are smb3d's own options.
# Ports BENCH_PORT_BASE+20 ... (default 4490-).
# Env: KNOBS (';'-separated options, default below), KNOB_SIZE (1G),
#      KNOB_SMALL (64K), RUNS (5), BENCH_SERVER_CPUS / BENCH_CLIENT_CPUS.
set -u
. "$(dirname "$0")/lib.sh"

SMB3C=${SMB3C:-$REPO/build/tools/smb3c/smb3c}
[ -x "$SMB3C" ] || { log "knobs: smb3c not built ($SMB3C): skipping"; exit 0; }
KNOBS=${KNOBS:-io_uring registered buffers = no;io_uring sqpoll = yes;io_uring ring size = 256;io_uring ring size = 4096;buffer pool size = 0;use sendfile = yes}
KNOB_SIZE=${KNOB_SIZE:-$SIZE}
KNOB_SMALL=${KNOB_SMALL:-64K}

declare -A KNOB_OPT=() KNOB_LABEL=()
IFS=';' read -r -a variants <<<"$KNOBS"
names=()
for i in $(seq 0 "${#variants[@]}"); do
	n=smb3d-knob-$i
	if [ "$i" = 0 ]; then opt="" label=defaults; else opt=${variants[$((i - 1))]}; label=$(echo "$opt" | sed 's/ *= */=/'); fi
	KNOB_OPT[$n]=$opt KNOB_LABEL[$n]=$label PORT_OF[$n]=$((BENCH_PORT_BASE + 20 + i))
	names+=("$n")
done

# our own servers, not bench/run's
BENCH_TMP= BENCH_SERVERS= SERVERS="${names[*]}"
bench_setup
bytes=$(to_bytes "$KNOB_SIZE")
big="$BENCH_SHARE/knob-big.bin"
head -c "$bytes" /dev/urandom >"$big" && chmod 666 "$big"
tmo=$((60 + bytes / 10485760))

one() { # server what run
	local srv=$1 what=$2 run=$3 pid c0 c1 out mibs
	local -a args cmd
	pid=$(server_pid "$srv")
	args=(-p "$(server_port "$srv")" -U "$BENCH_USER%$BENCH_PASS" --channels 1)
	case $what in
	read) cmd=(bench "//127.0.0.1/bench/knob-big.bin" --read) ;;
	write) cmd=(bench "//127.0.0.1/bench/knob-w-$srv.dat" --write --size "$KNOB_SIZE") ;;
	read-small) cmd=(bench "//127.0.0.1/bench/knob-big.bin" --read --chunk "$KNOB_SMALL" --depth 32) ;;
	esac
	settle_tree "$pid"
	c0=$(cpu_ticks "$pid")
	out=$(timeout "$tmo" "${CLIENT_PFX[@]}" "$SMB3C" "${args[@]}" "${cmd[@]}" 2>&1)
	settle_tree "$pid"
	c1=$(cpu_ticks "$pid")
	rm -f "$BENCH_SHARE/knob-w-$srv.dat"
	mibs=$(echo "$out" | awk '$3 == "MiB" && $7 == "MiB/s" {print $6; exit}')
	[ -n "$mibs" ] || log "knobs $what ${KNOB_LABEL[$srv]}: $(echo "$out" | tail -2 | tr '\n' ' ')"
	result "knobs-$what" "$what" "${KNOB_LABEL[$srv]}" "$run" "${mibs:-FAIL}" MiB/s \
		"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')" "$bytes"
}

for what in read write read-small; do
	for run in $(seq 1 "$RUNS"); do
		for srv in $(servers_for_run "$run"); do one "$srv" "$what" "$run"; done
	done
done

#!/bin/bash
# bench/kclient.sh -- the Linux 7.2 kernel SMB client (cifs.ko in user-mode
# Linux, tests/kclient/run) against smb3d (io_uring) and Samba 4.25's smbd
# from the sid chroot, side by side: the fio scenario (crc32c write+verify,
# 4 jobs, 64 KiB random I/O, O_DIRECT then through the page cache) with 1
# and 4 channels over 2 tap links.  Needs root and the sid chroot
# (scripts/sid-chroot.sh); without them it says why and exits 0.
#
# Every run boots a fresh guest and server (one tests/kclient/run per
# target and channel count); the targets alternate, and the first one
# changes each run.  The fio figures are MiB/s as fio reports them: the
# write phase, and the verify phase as the read.  UML is slow and the 2
# cores are shared with the servers: read the ratios, not the absolutes.
# Env: KC_RUNS (3), KC_FIO_MB (256: MiB fio writes in all, per phase),
# KC_CHANNELS ("1 4"), KC_LINKS (2), KC_TARGETS ("smb3d samba").  Results
# are named smb3d-uring and samba-4.25; report.py's "vs Samba best" column
# is the ratio to Samba 4.25.  Run on its own, it prints the summary.
set -u
. "$(dirname "$0")/lib.sh"

KC_RUNS=${KC_RUNS:-3}
KC_FIO_MB=${KC_FIO_MB:-256}
KC_CHANNELS=${KC_CHANNELS:-1 4}
KC_LINKS=${KC_LINKS:-2}
KC_TARGETS=${KC_TARGETS:-smb3d samba}
RUNNER="$REPO/tests/kclient/run"
BUILD=$(dirname "$SMB3D")
T=$(mktemp -d "$BENCH_TMPROOT/smb3d-bench-kc.XXXXXX")
BENCH_RESULTS=${BENCH_RESULTS:-$T/results.tsv}
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP

# MiB/s from fio's "bw=123MiB/s" / "bw=900KiB/s" / "bw=1.2GiB/s"
mib() {
	awk '{ v = $0; sub(/^bw=/, "", v); u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z\/]+$/, "", v)
	       f = (u ~ /^KiB/) ? 1 / 1024 : (u ~ /^GiB/) ? 1024 : (u ~ /^B/) ? 1 / 1048576 : 1
	       printf "%.1f", v * f }' <<<"$1"
}

# one tests/kclient/run: fio with $2 channels against $1; results for run $3
one() {
	local target=$1 ch=$2 run=$3 out="$T/$1-$2-$3.out" line w r d mode label
	label=$([ "$target" = samba ] && echo samba-4.25 || echo smb3d-uring)
	if ! timeout 400 "$RUNNER" --build "$BUILD" --target "$target" --links "$KC_LINKS" \
		--channels "$ch" --fio-size "$KC_FIO_MB" fio >"$out" 2>&1; then
		log "kclient fio against $target, $ch channel(s) failed: $(grep -E 'FAIL|skip' "$out" | head -3 | tr '\n' ' ')"
		grep -q '^skip' "$out" && return 77
		for mode in direct cached; do
			result kc-fio-write "${ch}ch-$mode" "$label" "$run" FAIL MiB/s
			result kc-fio-read "${ch}ch-$mode" "$label" "$run" FAIL MiB/s
		done
		return 0
	fi
	for d in 1 0; do
		mode=$([ $d = 1 ] && echo direct || echo cached)
		line=$(grep "kclient-guest: fio direct=$d:" "$out" | head -1)
		w=$(grep -o 'WRITE: bw=[0-9.]*[KMG]*i*B/s' <<<"$line" | sed 's/WRITE: //')
		r=$(grep -o 'READ: bw=[0-9.]*[KMG]*i*B/s' <<<"$line" | sed 's/READ: //')
		result kc-fio-write "${ch}ch-$mode" "$label" "$run" "$( [ -n "$w" ] && mib "$w" || echo FAIL)" MiB/s
		result kc-fio-read "${ch}ch-$mode" "$label" "$run" "$( [ -n "$r" ] && mib "$r" || echo FAIL)" MiB/s
	done
}

log "kclient: fio ${KC_FIO_MB} MiB, channels '$KC_CHANNELS', $KC_LINKS links, $KC_RUNS runs, targets '$KC_TARGETS'"
targets=($KC_TARGETS)
for run in $(seq 1 "$KC_RUNS"); do
	n=${#targets[@]}
	for ((i = 0; i < n; i++)); do
		t=${targets[$(((i + run) % n))]}
		for ch in $KC_CHANNELS; do
			one "$t" "$ch" "$run"
			[ $? = 77 ] && { log "kclient: skipped ($(grep '^skip' "$T/$t-$ch-$run.out"))"; exit 0; }
		done
	done
done

if [ -z "${BENCH_TMP:-}" ]; then  # on its own, not under bench/run: print the table
	/usr/bin/python3 "$BENCH_DIR/report.py" "$BENCH_RESULTS"
fi

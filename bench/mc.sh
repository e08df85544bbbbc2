#!/bin/bash
# bench/mc.sh -- multichannel throughput: smb3c get/put with 1, 2 and 4
# channels against smb3d (io_uring and threads) across 4 veth links between two
# network namespaces, every link shaped with tc tbf to the same MC_RATE.
# Needs tools/smb3c (being written); without it the script says so and exits 0.
#
# The namespaces (bench-mc-cli, bench-mc-srv) and links are this script's own,
# the same layout as tests/mc/netns.py (link K: 198.18.K.1 client, 198.18.K.2
# server, K = 1..4) under other names, so both can exist at once.
# The smb3c command lines can be overridden (N = channels, PORT, SRC expanded):
#   SMB3C_GET  default: smb3c -p PORT -U USER%PASS --channels N get //198.18.1.2/bench/big.bin /dev/null
#   SMB3C_PUT  default: smb3c -p PORT -U USER%PASS --channels N put SRC //198.18.1.2/bench/put.bin
# Env: MC_RATE (tc rate per link, 1gbit), MC_SIZE (512M), RUNS (5), MC_CHANNELS ("1 2 4").
set -u
. "$(dirname "$0")/lib.sh"

SMB3C=${SMB3C:-$(_pick_bin smb3c)}
[ -f "$SMB3C" ] && [ -x "$SMB3C" ] || SMB3C="$REPO/build/tools/smb3c/smb3c"
if [ ! -f "$SMB3C" ] || [ ! -x "$SMB3C" ]; then
	log "mc: smb3c not built yet ($SMB3C): skipping the multichannel benchmark"
	exit 0
fi
[ -x "$SMB3D" ] || { log "mc: smb3d missing: skipping"; exit 0; }
MC_RATE=${MC_RATE:-1gbit}
MC_SIZE=${MC_SIZE:-512M}
MC_CHANNELS=${MC_CHANNELS:-1 2 4}
CLI=bench-mc-cli SRV=bench-mc-srv
T=$(mktemp -d "$BENCH_TMPROOT/smb3d-bench-mc.XXXXXX"); chmod 755 "$T"
BENCH_RESULTS=${BENCH_RESULTS:-$T/results.tsv}
pids=()
net_up() {
	ip netns add $CLI && ip netns add $SRV || return 1
	for k in 1 2 3 4; do
		ip link add bmc-c$k netns $CLI type veth peer name bmc-s$k netns $SRV || return 1
		ip -n $CLI addr add 198.18.$k.1/24 dev bmc-c$k; ip -n $SRV addr add 198.18.$k.2/24 dev bmc-s$k
		ip -n $CLI link set bmc-c$k up; ip -n $SRV link set bmc-s$k up
		for ns in $CLI:bmc-c$k $SRV:bmc-s$k; do
			ip netns exec ${ns%%:*} tc qdisc add dev ${ns#*:} root tbf rate "$MC_RATE" burst 256kb latency 50ms
		done
	done
	ip -n $CLI link set lo up; ip -n $SRV link set lo up
}
net_down() {
	ip netns del $CLI 2>/dev/null; ip netns del $SRV 2>/dev/null
}
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	net_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
net_up || die "cannot create the network namespaces"

share="$T/share"; mkdir -p "$share"; chmod 777 "$share"
head -c "$(to_bytes "$MC_SIZE")" /dev/urandom >"$share/big.bin"; chmod 666 "$share/big.bin"
cp "$share/big.bin" "$T/src.bin"
uid=$(ensure_user)
port=4476
for be in io_uring threads; do
	d="$T/srv-$be"; mkdir -p "$d/private"; : >"$d/private/smbpasswd"; chmod 600 "$d/private/smbpasswd"
	cat >"$d/smb.conf" <<EOC
[global]
	smb ports = $port
	interfaces = "198.18.1.2;speed=1000000000,capability=RSS" "198.18.2.2;speed=1000000000,capability=RSS" "198.18.3.2;speed=1000000000,capability=RSS" "198.18.4.2;speed=1000000000,capability=RSS"
	bind interfaces only = yes
	server multi channel support = yes
	passdb backend = smbpasswd:$d/private/smbpasswd
	control socket = $d/ctl.sock
	io backend = $be
	log level = 0
[bench]
	path = $share
	read only = no
EOC
	printf '%s\n%s\n' "$BENCH_PASS" "$BENCH_PASS" | "$SMB3CTL" -c "$d/smb.conf" user add "$BENCH_USER" --uid "$uid" -s >/dev/null
	ip netns exec $SRV "$SMB3D" -c "$d/smb.conf" </dev/null >"$d/server.log" 2>&1 &
	pids+=($!); eval "MCPID_$be=$!"; eval "MCPORT_$be=$port"
	ip netns exec $SRV bash -c "$(declare -f wait_port); wait_port $port $! 198.18.1.2" ||
		{ log "mc: smb3d ($be) did not start:"; tail -5 "$d/server.log" >&2; exit 1; }
	port=$((port + 1))
done
sleep 1
bytes=$(to_bytes "$MC_SIZE")
for run in $(seq 1 "$RUNS"); do
	for be in io_uring threads; do
		eval "pid=\$MCPID_$be port=\$MCPORT_$be"
		for n in $MC_CHANNELS; do
			for dir in get put; do
				if [ $dir = get ]; then
					cmd=${SMB3C_GET:-"$SMB3C -p $port -U $BENCH_USER%$BENCH_PASS --channels $n get //198.18.1.2/bench/big.bin /dev/null"}
				else
					cmd=${SMB3C_PUT:-"$SMB3C -p $port -U $BENCH_USER%$BENCH_PASS --channels $n put $T/src.bin //198.18.1.2/bench/put.bin"}
				fi
				c0=$(cpu_ticks "$pid"); t0=$(now)
				if timeout $((60 + bytes / 1048576)) ip netns exec $CLI $cmd >"$T/out" 2>&1; then
					t1=$(now); c1=$(cpu_ticks "$pid")
					result "mc-$dir" "${n}ch-$MC_RATE" "smb3d-${be/io_/}" "$run" \
						"$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.1f", b/1048576/(z-a)}')" MiB/s \
						"$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", c/h}')" "$bytes"
				else
					log "smb3c $dir with $n channels failed: $(tail -2 "$T/out" | tr '\n' ' ')"
					result "mc-$dir" "${n}ch-$MC_RATE" "smb3d-${be/io_/}" "$run" FAIL MiB/s
				fi
				rm -f "$share/put.bin"
			done
		done
	done
done

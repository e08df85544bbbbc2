#!/bin/sh
# The init (PID 1) of the UML guest of tests/kclient/run: the Linux 7.2 kernel
# SMB client.  The root file system is the sid chroot through hostfs; the
# runner's results directory is visible at the same path as on the host.
# Settings arrive as environment variables from the kernel command line:
#   KC_RESULTS  results directory (host path, shared through hostfs)
#   KC_SERVER   server address;  KC_LINKS  number of vecN links (1-4)
#   KC_LINK_BASE  the tap index of vec0 (default 0): vecK has the address
#               198.19.10.(4(BASE+K)+2)/30; with a base above 0 (the second
#               guest of scenario shared) the server is reached through a
#               default route via vec0's host address
#   KC_HOST     the guest's host name (default kc-a)
#   KC_USER / KC_PASS, KC_SHARE, KC_CHANNELS (max_channels), KC_SIZE_MB
#   (smoke), KC_FIO_MB (fio)
#   KC_SCENARIOS  comma-separated scenario names (scen_NAME below)
# For each scenario it writes NAME.log and NAME.rc (0 = pass) into
# KC_RESULTS, then the client's /proc/fs/cifs files, then powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
R=$KC_RESULTS
M=$R/mnt
L=/run/kc  # guest tmpfs: test data that must not come from the share

log() { echo "kclient-guest: $*"; }

setup() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t tmpfs -o size=300m tmpfs /run
	mkdir -p "$L" "$M"
	ip link set lo up
	hostname "${KC_HOST:-kc-a}"
	base=${KC_LINK_BASE:-0}
	k=0
	while [ "$k" -lt "${KC_LINKS:-1}" ]; do
		ip link set "vec$k" up
		ip addr add "198.19.10.$((4 * (base + k) + 2))/30" dev "vec$k"
		k=$((k + 1))
	done
	[ "$base" -eq 0 ] || ip route add default via "198.19.10.$((4 * base + 1))" dev vec0
	modprobe cifs || log "modprobe cifs failed"
}

do_mount() {  # do_mount EXTRA_OPTIONS
	opts="username=$KC_USER,password=$KC_PASS,vers=3.1.1,port=445,$1"
	log "mount -t cifs //$KC_SERVER/$KC_SHARE $M -o ${opts#*password=*,}"
	mount -t cifs "//$KC_SERVER/$KC_SHARE" "$M" -o "$opts"
}

mc_opts() {  # the channel options: Linux refuses multichannel with max_channels=1
	if [ "${KC_CHANNELS:-2}" -le 1 ]; then
		echo nomultichannel
	else
		echo "multichannel,max_channels=${KC_CHANNELS:-2}"
	fi
}

do_umount() {
	umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true
}

channels_up() {  # channels of the (only) session: 1 + DebugData's "Extra Channels"
	extra=$(sed -n 's/.*Extra Channels: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | head -n 1)
	echo $((1 + ${extra:-0}))
}

check_sum() {  # check_sum WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		log "$1: checksum ok"
		return 0
	fi
	log "$1: CHECKSUM MISMATCH (expected $2, got $3)"
	return 1
}

# smoke: multichannel mount; write and read back KC_SIZE_MB through the
# page cache and with O_DIRECT; compare checksums.
scen_smoke() {
	size=${KC_SIZE_MB:-64}
	fail=0
	do_mount "$(mc_opts)" || { log "mount failed"; return 1; }
	# the extra channels are set up right after the mount; give them a moment
	i=0
	while [ "$(channels_up)" -lt "${KC_CHANNELS:-2}" ] && [ $i -lt 20 ]; do
		sleep 0.5; i=$((i + 1))
	done
	log "channels up (client DebugData): $(channels_up)"
	cat /proc/fs/cifs/DebugData > "$R/smoke.DebugData.txt"
	head -c "$((size * 1048576))" /dev/urandom > "$L/src"
	want=$(sha256sum < "$L/src" | cut -d' ' -f1)
	echo "$want" > "$R/smoke.sha256"
	t0=$(date +%s.%N)
	cp "$L/src" "$M/cached.bin" && sync || { log "cached write failed"; fail=1; }
	t1=$(date +%s.%N)
	echo 3 > /proc/sys/vm/drop_caches
	got=$(sha256sum < "$M/cached.bin" | cut -d' ' -f1)
	t2=$(date +%s.%N)
	check_sum "page-cache write/read ${size} MiB" "$want" "$got" || fail=1
	log "page cache: write $(echo "$t0 $t1" | awk -v s="$size" '{printf "%.1f MB/s", s*1.048576/($2-$1)}')," \
		"read $(echo "$t1 $t2" | awk -v s="$size" '{printf "%.1f MB/s", s*1.048576/($2-$1)}')"
	t0=$(date +%s.%N)
	dd if="$L/src" of="$M/direct.bin" bs=1M oflag=direct status=none || { log "O_DIRECT write failed"; fail=1; }
	t1=$(date +%s.%N)
	got=$(dd if="$M/direct.bin" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
	t2=$(date +%s.%N)
	check_sum "O_DIRECT write/read ${size} MiB" "$want" "$got" || fail=1
	log "O_DIRECT: write $(echo "$t0 $t1" | awk -v s="$size" '{printf "%.1f MB/s", s*1.048576/($2-$1)}')," \
		"read $(echo "$t1 $t2" | awk -v s="$size" '{printf "%.1f MB/s", s*1.048576/($2-$1)}')"
	log "channels up at the end: $(channels_up)"
	cat /proc/fs/cifs/DebugData > "$R/smoke.DebugData-end.txt"
	rm -f "$L/src"
	do_umount
	return $fail
}

# fio: write+verify (crc32c) with 4 jobs at random offsets over the
# multichannel mount (KC_FIO_MB in all), O_DIRECT, then the same through
# the page cache.
scen_fio() {
	do_mount "$(mc_opts)" || { log "mount failed"; return 1; }
	sleep 1
	log "channels up: $(channels_up)"
	jobs=4 rc=0
	for direct in 1 0; do
		fio --name=kc$direct --directory="$M" --ioengine=psync --rw=randwrite --bs=64k \
			--size="$(( ${KC_FIO_MB:-256} / jobs ))M" --numjobs=$jobs --verify=crc32c \
			--verify_fatal=1 --do_verify=1 --direct=$direct --group_reporting \
			> "$R/fio$direct.out" 2>&1 || rc=1
		log "fio direct=$direct: exit $rc, $(grep -E '^ +(WRITE|READ):' "$R/fio$direct.out" | sed 's/(.*//' | tr -s ' ' | tr '\n' ';')"
	done
	log "channels up at the end: $(channels_up)"
	do_umount
	return $rc
}

# tree: 5,000 small files (50 directories of 100 x 2000 bytes): tar
# extract onto the share, find, checksum every file after dropping the
# caches, then rename every directory, unlink half the files, mkdir in each,
# and check what is left; rm -rf at the end.
scen_tree() {
	do_mount "$(mc_opts)" || { log "mount failed"; return 1; }
	fail=0
	mkdir -p "$L/tree"
	d=0
	while [ $d -lt 50 ]; do
		mkdir "$L/tree/d$d"
		head -c 200000 /dev/urandom | split -d -a 3 -b 2000 - "$L/tree/d$d/f"
		d=$((d + 1))
	done
	tar -C "$L" -cf "$L/tree.tar" tree
	(cd "$L/tree" && find . -type f | sort | xargs sha256sum) > "$L/want.sums"
	t0=$(date +%s.%N)
	tar -C "$M" -xf "$L/tree.tar" || { log "tar extract failed"; fail=1; }
	t1=$(date +%s.%N)
	n=$(find "$M/tree" -type f | wc -l)
	[ "$n" -eq 5000 ] || { log "find: $n files, expected 5000"; fail=1; }
	echo 3 > /proc/sys/vm/drop_caches
	(cd "$M/tree" && find . -type f | sort | xargs sha256sum) > "$L/got.sums"
	t2=$(date +%s.%N)
	cmp -s "$L/want.sums" "$L/got.sums" && log "5000 files: checksums ok" ||
		{ log "CHECKSUM MISMATCH in the tree"; diff "$L/want.sums" "$L/got.sums" | head -n 5; fail=1; }
	d=0
	while [ $d -lt 50 ]; do
		mv "$M/tree/d$d" "$M/tree/r$d" || fail=1
		rm -f "$M/tree/r$d"/f0[0-4]? || fail=1
		mkdir "$M/tree/r$d/sub" || fail=1
		d=$((d + 1))
	done
	t3=$(date +%s.%N)
	n=$(find "$M/tree" -type f | wc -l)
	nd=$(find "$M/tree" -mindepth 1 -type d | wc -l)
	[ "$n" -eq 2500 ] && [ "$nd" -eq 100 ] || { log "after churn: $n files, $nd dirs (expected 2500, 100)"; fail=1; }
	[ -e "$M/tree/d0" ] && { log "d0 still there after rename"; fail=1; }
	rm -rf "$M/tree" || fail=1
	[ -e "$M/tree" ] && { log "rm -rf left the tree"; fail=1; }
	t4=$(date +%s.%N)
	log "tree: extract $(echo "$t0 $t1" | awk '{printf "%.1f", $2-$1}') s," \
		"find+checksum $(echo "$t1 $t2" | awk '{printf "%.1f", $2-$1}') s," \
		"churn $(echo "$t2 $t3" | awk '{printf "%.1f", $2-$1}') s, rm -rf $(echo "$t3 $t4" | awk '{printf "%.1f", $2-$1}') s"
	rm -rf "$L/tree" "$L/tree.tar"
	cat /proc/fs/cifs/DebugData > "$R/tree.DebugData-end.txt"
	do_umount
	return $fail
}

# seal: an encrypted (seal) single-channel mount and a signed one, each
# writing and reading back 16 MiB.
scen_seal() {
	fail=0
	head -c 16777216 /dev/urandom > "$L/src"
	want=$(sha256sum < "$L/src" | cut -d' ' -f1)
	for o in seal sign; do
		do_mount "$o" || { log "mount with $o failed"; fail=1; continue; }
		cp "$L/src" "$M/$o.bin" && sync
		echo 3 > /proc/sys/vm/drop_caches
		check_sum "$o: 16 MiB" "$want" "$(sha256sum < "$M/$o.bin" | cut -d' ' -f1)" || fail=1
		grep -E 'Encryption|Security type|Signing' /proc/fs/cifs/DebugData | head -n 3
		rm -f "$M/$o.bin"
		do_umount
	done
	rm -f "$L/src"
	return $fail
}

# idle: a multichannel mount left idle for 30 s (longer than the server's
# 20 s negotiate timeout and shorter than the client's 60 s echo interval)
# keeps every channel: no reconnect (DebugData's Instance stays 1, Stats
# counts no session reconnect), and I/O still works afterwards.
scen_idle() {
	do_mount "$(mc_opts)" || { log "mount failed"; return 1; }
	sleep 1
	log "channels up: $(channels_up)"
	before=$(sed -n 's/^\([0-9]*\) session .*/\1/p' /proc/fs/cifs/Stats)
	sleep 30
	echo idle > "$M/idle.txt" && [ "$(cat "$M/idle.txt")" = idle ] || { log "I/O after idling failed"; return 1; }
	after=$(sed -n 's/^\([0-9]*\) session .*/\1/p' /proc/fs/cifs/Stats)
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	cat /proc/fs/cifs/DebugData > "$R/idle.DebugData.txt"
	log "after 30 s idle: channels up $(channels_up), connection instances: $inst, session reconnects $before -> $after"
	rm -f "$M/idle.txt"
	do_umount
	[ "$before" = "$after" ] && ! echo "$inst" | grep -q -E '(^| )([2-9]|[0-9][0-9]+)'
}

# drop: while files are written for 25 s over a multichannel mount, the
# host drops every packet of the last link (nftables) for 10 s; every file
# written must read back intact.  The guest asks for the drop by creating
# drop.start in the results directory; the host writes drop.done.
scen_drop() {
	do_mount "$(mc_opts)" || { log "mount failed"; return 1; }
	sleep 1
	log "channels up: $(channels_up)"
	head -c 8388608 /dev/urandom > "$L/src"
	fail=0 i=0
	before=$(sed -n 's/^\([0-9]*\) session .*/\1/p' /proc/fs/cifs/Stats)
	: > "$R/drop.start"
	t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt 25 ]; do
		# each file differs: its number, then the random block
		{ echo "file $i"; cat "$L/src"; } > "$L/f" || break
		cp "$L/f" "$M/drop$i.bin" || { log "write of drop$i.bin failed"; fail=1; break; }
		sha256sum < "$L/f" | cut -d' ' -f1 > "$L/want$i"
		i=$((i + 1))
	done
	sync || { log "sync failed"; fail=1; }
	log "wrote $i files of 8 MiB in $(($(date +%s) - t0)) s; drop done by the host: $([ -e "$R/drop.done" ] && cat "$R/drop.done" || echo no)"
	echo 3 > /proc/sys/vm/drop_caches
	k=0
	while [ $k -lt $i ]; do
		got=$(sha256sum < "$M/drop$k.bin" | cut -d' ' -f1)
		[ "$got" = "$(cat "$L/want$k")" ] || { log "drop$k.bin: CHECKSUM MISMATCH"; fail=1; }
		rm -f "$M/drop$k.bin" "$L/want$k"
		k=$((k + 1))
	done
	after=$(sed -n 's/^\([0-9]*\) session .*/\1/p' /proc/fs/cifs/Stats)
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	log "after the drop: channels up $(channels_up), connection instances: $inst, session reconnects $before -> $after"
	[ $fail = 0 ] && log "$i files read back intact"
	# a 10 s drop is far below the client's 3 x 60 s echo limit: no channel
	# may reconnect (before 5ac9a54 smb3d closed each bound channel after
	# 20 s and the client counted one session reconnect per extra channel)
	[ "$before" = "$after" ] || { log "the client reconnected ($before -> $after)"; fail=1; }
	[ -e "$R/drop.done" ] || { log "the host never dropped the link"; fail=1; }
	rm -f "$L/src" "$L/f"
	do_umount
	return $fail
}

reconnects() {  # the client's session reconnect counter (Stats)
	sed -n 's/^\([0-9]*\) session .*/\1/p' /proc/fs/cifs/Stats
}

# outage [TAG] (and outage_conflict): a hard multichannel mount with
# echo_interval=5, so the client declares the server dead after 15 s of
# silence and reconnects (with the default 60 s a 20 s drop is only a TCP
# stall).  kcio.py keeps one file open: 4 MiB written before (dirty), the
# host drops every link for 20 s (TAG.start / TAG.done), 4 MiB written
# and fsync'ed during, 4 MiB after; then everything is read back.  rc 0: it
# all verified; 3: the client reported an error; 1: wrong data.  For
# outage_conflict the host also opens the file from a second client (its
# own TCP connection and SMB session, over the host's loopback, so the drop
# does not cut it) with no sharing while the links are down.
scen_outage() {
	tag=${1:-outage}
	do_mount "hard,echo_interval=5,$(mc_opts)" ||
		{ log "mount failed"; return 1; }
	sleep 1
	log "channels up: $(channels_up), session reconnects $(reconnects)"
	python3 "$R/kcio.py" outage "$M/$tag.bin" "$R" 4 "$tag"
	rc=$?
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	log "after the outage: channels up $(channels_up), connection instances: $inst, session reconnects $(reconnects)"
	grep -i -E 'durable|persistent|resilient' /proc/fs/cifs/DebugData | head -n 3
	dmesg | grep -i -E 'cifs|smb' | tail -n 12
	do_umount
	return $rc
}

scen_outage_conflict() {
	scen_outage outage_conflict
}

# restart: numbered 1 MiB files (300 at most) are written for 20 s over a
# hard multichannel mount; 4 s in, the host SIGKILLs the server and starts
# it again 2 s later (restart.start / restart.done).  Every file the
# client reported as written must read back intact (kcio.py checks in the
# guest, the host checks the server's copies against restart.manifest);
# errors are allowed, wrong data is not.
scen_restart() {
	do_mount "hard,$(mc_opts)" || { log "mount failed"; return 1; }
	sleep 1
	log "channels up: $(channels_up)"
	mkdir -p "$M/restart"
	python3 "$R/kcio.py" restart "$M/restart" "$R" 20
	rc=$?
	log "server restarted by the host: $([ -e "$R/restart.done" ] && cat "$R/restart.done" || echo no)"
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	log "after the restart: channels up $(channels_up), connection instances: $inst, session reconnects $(reconnects)"
	dmesg | grep -i -E 'cifs|smb' | tail -n 8
	[ -e "$R/restart.done" ] || { log "the host never restarted the server"; rc=1; }
	do_umount
	return $rc
}

# chaos: 4 jobs of fio write+verify (O_DIRECT, random offsets, crc32c) in
# 32 MiB rounds for 2 minutes over a multichannel mount with echo_interval=2
# (a channel silent for 6 s is reconnected and its requests go to another
# channel); the host drops one link at a time, 10 s of every 20 s
# (chaos.start / chaos.done).  kcio.py chaos: no verify error and no I/O
# longer than 10 s.  The client's counters before and after are printed.
scen_chaos() {
	do_mount "hard,echo_interval=2,$(mc_opts)" || { log "mount failed"; return 1; }
	i=0
	while [ "$(channels_up)" -lt "${KC_CHANNELS:-2}" ] && [ $i -lt 20 ]; do
		sleep 0.5; i=$((i + 1))
	done
	log "channels up: $(channels_up), session reconnects $(reconnects)"
	cat /proc/fs/cifs/Stats > "$R/chaos.Stats-before.txt"
	cat /proc/fs/cifs/DebugData > "$R/chaos.DebugData-before.txt"
	mkdir -p "$M/chaos"
	python3 "$R/kcio.py" chaos "$M/chaos" "$R" 140
	rc=$?
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	log "after the drops: channels up $(channels_up), connection instances: $inst, session reconnects $(reconnects)"
	cat /proc/fs/cifs/DebugData > "$R/chaos.DebugData-end.txt"
	dmesg | grep -i -E 'cifs|smb' | tail -n 12
	rm -rf "$M/chaos"
	do_umount
	return $rc
}

# shared (issue 15): two clients write and verify their own region of one
# file, with leases, while the host cuts the first of this client's two
# channels.  This guest (client A: max_channels=2, echo_interval=2 as in
# chaos) creates the file and asks for the second client (shared.start);
# the host boots the second guest (scen_shared_b) and starts both loads
# at once (shared.go), cuts kctap0 for 10 s, and checks both regions on
# the server.  kcio.py shared: every round opens, writes, closes, reopens
# and reads back its region; every call is timed.
scen_shared() {
	do_mount "hard,echo_interval=2,multichannel,max_channels=2" || { log "mount failed"; return 1; }
	i=0
	while [ "$(channels_up)" -lt 2 ] && [ $i -lt 20 ]; do
		sleep 0.5; i=$((i + 1))
	done
	log "channels up: $(channels_up), session reconnects $(reconnects)"
	cat /proc/fs/cifs/Stats > "$R/shared.Stats-before.txt"
	python3 "$R/kcio.py" shared "$M/shared.bin" "$R" 0 "${KC_SHARED_SECONDS:-30}"
	rc=$?
	inst=$(sed -n 's/.*Instance: *\([0-9]*\).*/\1/p' /proc/fs/cifs/DebugData | tr '\n' ' ')
	log "shared, client A after the cut: channels up $(channels_up), connection instances: $inst, session reconnects $(reconnects)"
	cat /proc/fs/cifs/DebugData > "$R/shared.DebugData-end.txt"
	dmesg | grep -i -E 'cifs|smb' | tail -n 12
	do_umount
	return $rc
}

# shared_b: the second client of scenario shared (the second guest, its own
# tap link, one channel): its region of the same file.
scen_shared_b() {
	do_mount "hard" || { log "mount failed"; return 1; }
	cat /proc/fs/cifs/Stats > "$R/shared_b.Stats-before.txt"
	python3 "$R/kcio.py" shared "$M/shared.bin" "$R" 1 "${KC_SHARED_SECONDS:-30}"
	rc=$?
	log "shared, client B: session reconnects $(reconnects)"
	do_umount
	return $rc
}

limit_of() {  # seconds a scenario may take before the watchdog ends the run
	case $1 in
	outage | outage_conflict | restart) echo 90 ;;
	chaos) echo 190 ;;
	shared | shared_b) echo 120 ;;
	*) echo 400 ;;
	esac
}

collect() {  # the client's state, into the results directory
	cat /proc/fs/cifs/Stats > "$R/cifs-Stats.txt" 2>/dev/null
	cat /proc/fs/cifs/DebugData > "$R/cifs-DebugData.txt" 2>/dev/null
	dmesg > "$R/dmesg.txt" 2>/dev/null
}

# A hard mount can block a scenario for good, in a wait no signal ends:
# the watchdog then records rc 124 and the client's state, and powers off.
watchdog() {  # watchdog SCENARIO SECONDS
	sleep "$2"
	[ -e "$R/$1.rc" ] && return
	echo "kclient-guest: $1: no end after $2 s (hung; rc 124), powering off" >> "$R/$1.log"
	echo 124 > "$R/$1.rc"
	cat "$R/$1.log"
	collect
	echo done > "$R/guest.done"
	sync
	echo o > /proc/sysrq-trigger
}

setup
for s in $(echo "${KC_SCENARIOS:-smoke}" | tr ',' ' '); do
	log "=== scenario $s"
	if command -v "scen_$s" >/dev/null 2>&1; then
		watchdog "$s" "$(limit_of "$s")" &
		wd=$!
		"scen_$s" > "$R/$s.log" 2>&1
		echo $? > "$R/$s.rc"
		kill "$wd" 2>/dev/null
		cat /proc/fs/cifs/Stats > "$R/$s.Stats.txt" 2>/dev/null
	else
		echo "unknown scenario $s" > "$R/$s.log"
		echo 2 > "$R/$s.rc"
	fi
	cat "$R/$s.log"
done
collect
echo done > "$R/guest.done"
sync
echo o > /proc/sysrq-trigger
sleep 10

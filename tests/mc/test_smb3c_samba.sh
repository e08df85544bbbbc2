#!/bin/bash
# smb3c against Samba's smbd: put and get with 1, 2 and 4 channels, signed
# and encrypted, and every copy must have the checksum of the source.  Samba
# is the referee: a client that only agrees with our own server proves
# nothing.  Exit 77 (skip) when smbd or the test user is missing.
# Last line: "N passed, N failed" (one check per channel count and mode).
#
#   tests/mc/test_smb3c_samba.sh [BUILD_DIR]      (default: $SMB3D_BUILD, else build)
#   SMB3C_TEST_SIZE=64M  size of the test file (a few odd bytes are added)
#   SMB3C_TEST_PORT=N    port for smbd (default: the first free one in 4462..4469)
set -u
BUILD=${1:-${SMB3D_BUILD:-build}}
SMB3C=${SMB3C:-$BUILD/tools/smb3c/smb3c}
SIZE=${SMB3C_TEST_SIZE:-64M}
USER_NAME=smb3test1
USER_PASS=Test1pass

command -v smbd >/dev/null || { echo "SKIP: smbd not installed"; echo "0 passed, 0 failed"; exit 77; }
id "$USER_NAME" >/dev/null 2>&1 || { echo "SKIP: unix user $USER_NAME missing"; echo "0 passed, 0 failed"; exit 77; }
[ -x "$SMB3C" ] || { echo "FAIL: $SMB3C not built"; echo "0 passed, 1 failed"; exit 1; }
SMB3C=$(readlink -f "$SMB3C")

PORT=${SMB3C_TEST_PORT:-}
if [ -z "$PORT" ]; then
	for p in $(seq 4462 4469); do
		if ! ss -Hltn "sport = :$p" | grep -q .; then PORT=$p; break; fi
	done
fi
[ -n "$PORT" ] || { echo "FAIL: no free port in 4462..4469 (set SMB3C_TEST_PORT)"; echo "0 passed, 1 failed"; exit 1; }

T=$(mktemp -d /tmp/smb3c-samba.XXXXXX)
if [ -d /dev/shm ] && [ -w /dev/shm ]; then SHARE=$(mktemp -d /dev/shm/smb3c-share.XXXXXX); else SHARE=$T/share; mkdir -p "$SHARE"; fi
chmod 777 "$SHARE"
SMBD_PID=
cleanup() {
	if [ -n "$SMBD_PID" ]; then
		kill "$SMBD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SMBD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SMBD_PID" 2>/dev/null
	fi
	rm -rf "$T" "$SHARE"
}
trap cleanup EXIT

mkdir -p "$T"/{private,lock,state,cache,pid,ncalrpc,logs}
chmod 700 "$T/private"
# Samba only offers interfaces it finds; on loopback it has to be told the
# speed and RSS capability so that FSCTL_QUERY_NETWORK_INTERFACE_INFO lists it.
cat > "$T/smb.conf" <<EOF
[global]
	server role = standalone server
	workgroup = SMB3CTEST
	smb ports = $PORT
	interfaces = "127.0.0.1;speed=1000000000,capability=RSS"
	bind interfaces only = yes
	server multi channel support = yes
	server min protocol = SMB2_10
	passdb backend = tdbsam:$T/private/passdb.tdb
	private dir = $T/private
	lock directory = $T/lock
	state directory = $T/state
	cache directory = $T/cache
	pid directory = $T/pid
	ncalrpc dir = $T/ncalrpc
	log file = $T/logs/log.%m
	disable netbios = yes
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
	registry shares = no
	include system krb5 conf = no
	log level = 1
[share]
	path = $SHARE
	read only = no
	valid users = $USER_NAME
EOF
printf '%s\n%s\n' "$USER_PASS" "$USER_PASS" | smbpasswd -c "$T/smb.conf" -a -s "$USER_NAME" >/dev/null || { echo "FAIL: smbpasswd"; echo "0 passed, 1 failed"; exit 1; }
# its own session: smbd signals its process group when it stops
setsid smbd --foreground --no-process-group --debug-stdout -s "$T/smb.conf" >"$T/logs/smbd.out" 2>&1 &
SMBD_PID=$!
for _ in $(seq 100); do
	ss -Hltn "sport = :$PORT" | grep -q . && break
	kill -0 "$SMBD_PID" 2>/dev/null || { echo "FAIL: smbd exited"; cat "$T/logs/smbd.out"; echo "0 passed, 1 failed"; exit 1; }
	sleep 0.1
done

SRC=$T/source.bin
head -c "$(numfmt --from=iec "$SIZE")" /dev/urandom > "$SRC"
head -c 12345 /dev/urandom >> "$SRC"     # not a multiple of the chunk size
WANT=$(md5sum < "$SRC" | cut -d' ' -f1)
A=(-p "$PORT" -U "$USER_NAME%$USER_PASS")
FAIL=0
NPASS=0
NFAIL=0
for n in 1 2 4; do
	for mode in --sign --encrypt; do
		name="c${n}${mode#--}"
		out=$("$SMB3C" put "$SRC" "//127.0.0.1/share/$name.bin" "${A[@]}" --channels "$n" $mode -v 2>&1)
		rc=$?
		put_line=$(grep '^put ' <<<"$out")
		bound=$(grep -c 'bound (key' <<<"$out")
		got_srv=$(md5sum < "$SHARE/$name.bin" 2>/dev/null | cut -d' ' -f1)
		out2=$("$SMB3C" get "//127.0.0.1/share/$name.bin" "$T/$name.dst" "${A[@]}" --channels "$n" $mode 2>&1)
		rc2=$?
		get_line=$(grep '^get ' <<<"$out2")
		got=$(md5sum < "$T/$name.dst" 2>/dev/null | cut -d' ' -f1)
		if [ $rc -ne 0 ] || [ $rc2 -ne 0 ] || [ "$got_srv" != "$WANT" ] || [ "$got" != "$WANT" ] ||
		   [ "$bound" -ne $((n - 1)) ]; then
			echo "FAIL channels=$n $mode (put rc=$rc get rc=$rc2 bound=$bound server=$got_srv local=$got want=$WANT)"
			echo "$out" | tail -5; echo "$out2" | tail -5
			FAIL=1
			NFAIL=$((NFAIL + 1))
		else
			echo "PASS channels=$n $mode md5=$got | $put_line | $get_line"
			NPASS=$((NPASS + 1))
		fi
		rm -f "$T/$name.dst" "$SHARE/$name.bin"
	done
done
if [ $FAIL -ne 0 ]; then
	echo "smbd log:"; tail -20 "$T/logs/smbd.out"
fi
echo "$NPASS passed, $NFAIL failed"
[ $FAIL -eq 0 ]

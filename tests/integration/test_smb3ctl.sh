#!/bin/sh
# Shell test of smb3ctl: config check on good and bad files, user
# add/del/list/duplicate through -s (password on stdin), usage and version.
# Usage: test_smb3ctl.sh [path/to/smb3ctl]   (default build/smb3ctl)
# Exit 0 when every check passed.

CTL=${1:-build/smb3ctl}
case $CTL in /*) ;; *) CTL=$(pwd)/$CTL ;; esac
if [ ! -x "$CTL" ]; then
	echo "smb3ctl not found at $CTL" >&2
	exit 1
fi

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
# check NAME COMMAND...: the command must succeed
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# run EXPECTED_RC ARGS...: runs smb3ctl, output in $T/out and $T/err
run() {
	want=$1; shift
	"$CTL" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" -eq "$want" ] || { echo "  rc $rc, expected $want: smb3ctl $*" >&2; cat "$T/err" >&2; return 1; }
}
# user_run EXPECTED_RC STDIN ARGS...
user_run() {
	want=$1; input=$2; shift 2
	printf '%s' "$input" | "$CTL" -c "$T/smb.conf" user "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ] || { echo "  rc $rc, expected $want: smb3ctl user $*" >&2; cat "$T/err" >&2; return 1; }
}
has() { grep -q -- "$1" "$2"; }
hasnt() { ! grep -q -- "$1" "$2"; }

mkdir -p "$T/share"
cat >"$T/smb.conf" <<EOF
[global]
	workgroup = testgroup
	server string = Test Server
	smb ports = 4450 1390
	interfaces = "lo;if_index=1,speed=1000000000,capability=RSS"
	passdb backend = smbpasswd:$T/smbpasswd
	control socket = $T/ctl.sock
	security = user

[data]
	path = $T/share
	read only = no
	valid users = alice bob
EOF

# --- help and version ---
check "--help exits 0" run 0 --help
check "--help lists config check" has "config check" "$T/out"
for cmd in "user add" "user del" "user passwd" "user list" status reload; do
	check "--help lists $cmd" has "$cmd" "$T/out"
done
check "--version" run 0 --version
check "--version prints smb3ctl VERSION" grep -Eq '^smb3ctl [0-9]+\.[0-9]+' "$T/out"
check "no command is a usage error" run 2
check "unknown command is a usage error" run 2 frobnicate
check "status without a server fails (exit 1)" run 1 -c "$T/smb.conf" status
check "status names the socket it tried" has "cannot reach the server at $T/ctl.sock" "$T/err"
check "reload without a server fails (exit 1)" run 1 -c "$T/smb.conf" reload

# --- config check: a good file ---
check "config check good file" run 0 config check "$T/smb.conf"
check "dump has [global]" has "^\[global\]" "$T/out"
check "dump has workgroup" has "workgroup = TESTGROUP" "$T/out"
check "dump has ports" has "smb ports = 4450 1390" "$T/out"
check "dump has interfaces" has 'interfaces = "lo;if_index=1,speed=1000000000,capability=RSS"' "$T/out"
check "dump has share" has "^\[data\]" "$T/out"
check "dump has share path" has "path = $T/share" "$T/out"
check "dump has read only = No" has "read only = No" "$T/out"
check "unsupported option warned on stderr" has "smb.conf:8: warning: option 'security' is not supported, ignored" "$T/err"
check "warning not on stdout" hasnt "warning" "$T/out"
check "config check with -c" run 0 -c "$T/smb.conf" config check
check "-c dump has share" has "^\[data\]" "$T/out"
cp "$T/out" "$T/dump.conf"
check "dump re-checks cleanly" run 0 config check "$T/dump.conf"
check "dump of dump is identical" cmp -s "$T/out" "$T/dump.conf"

# --- config check: bad files ---
cat >"$T/bad.conf" <<EOF
[global]
	server signing = sometimes
	smb ports = 70000

[nopath]
	comment = x
[rel]
	path = relative/dir
	read only = maybe
EOF
check "config check bad file exits 1" run 1 config check "$T/bad.conf"
check "bad enum with line" has "bad.conf:2: unknown value 'sometimes' for 'server signing'" "$T/err"
check "bad port with line" has "bad.conf:3: port '70000' out of range" "$T/err"
check "share without path with line" has "bad.conf:5: share \[nopath\] has no path" "$T/err"
check "relative path with line" has "bad.conf:8: path 'relative/dir'" "$T/err"
check "bad boolean with line" has "bad.conf:9: bad boolean 'maybe'" "$T/err"
check "nothing dumped on error" hasnt "\[global\]" "$T/out"
printf 'server min protocol = SMB3_11\nserver max protocol = SMB2_10\n' >"$T/proto.conf"
check "min > max protocol exits 1" run 1 config check "$T/proto.conf"
check "min > max protocol message" has "proto.conf:2: server min protocol" "$T/err"
check "missing file exits 1" run 1 config check "$T/nonexistent.conf"
check "missing file: one line" test "$(wc -l <"$T/err")" -eq 1
check "missing file named" has "nonexistent.conf" "$T/err"
check "missing -c file exits 1" run 1 -c "$T/nonexistent.conf" config check

# --- users (passdb path comes from the config) ---
# no passdb file yet: either an empty list or a clean error, never a crash
printf '' | "$CTL" -c "$T/smb.conf" user list >"$T/out" 2>"$T/err"
rc=$?
check "user list before the passdb exists: exit 0 or 1" test "$rc" -le 1
check "user add alice" user_run 0 "Secret1
Secret1
" add -s --uid 1001 alice
check "passdb file created where the config says" test -f "$T/smbpasswd"
check "user add bob" user_run 0 "pw2
pw2
" add -s --uid 1002 bob
check "user list" user_run 0 "" list
check "list shows alice" has "alice" "$T/out"
check "list shows bob" has "bob" "$T/out"
check "duplicate add fails" user_run 1 "x
x
" add -s --uid 1001 alice
check "duplicate add still one alice" test "$(grep -c '^alice:' "$T/smbpasswd")" -eq 1
check "user passwd alice" user_run 0 "New2
New2
" passwd -s alice
check "user del bob" user_run 0 "" del bob
check "user list after del" user_run 0 "" list
check "bob gone" hasnt "bob" "$T/out"
check "alice kept" has "alice" "$T/out"
check "del of absent user fails" user_run 1 "" del bob
check "passdb mode 0600" test "$(stat -c %a "$T/smbpasswd")" = 600

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Quick start: install, build, and run a demo smb3d on port 4445 sharing
# ./demo/share (read-write for user "demo", password "demo") and
# ./demo/public (guest access).  Runs in the foreground; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
top=$PWD/demo
mkdir -p "$top/share" "$top/public"
cat > "$top/smb.conf" <<CONF
[global]
	smb ports = 4445
	passdb backend = smbpasswd:$top/smbpasswd
	map to guest = Bad User
	control socket = $top/control.sock
	log level = 1
[share]
	path = $top/share
	comment = demo share for user demo
	read only = no
	valid users = demo
[public]
	path = $top/public
	comment = guest share
	read only = no
	guest ok = yes
CONF
id demo >/dev/null 2>&1 || useradd -M -N -s /usr/sbin/nologin demo
chown demo "$top/share"
chmod 0777 "$top/public"
build/smb3ctl -c "$top/smb.conf" user list 2>/dev/null | grep -q '^demo:' ||
	printf 'demo\ndemo\n' | build/smb3ctl -c "$top/smb.conf" user add demo -s
echo
echo "smb3d is starting on port 4445. Connect with:"
echo "  smbclient //127.0.0.1/share -p 4445 -U demo%demo"
echo "  smbclient //127.0.0.1/public -p 4445 -N"
echo "  smbclient -L //127.0.0.1 -p 4445 -U demo%demo"
echo
exec build/smb3d -c "$top/smb.conf"

#!/usr/bin/env bash
# Build (or reuse, or refresh) the Debian sid chroot of the test bench:
# Samba 4.25's smbd and smbtorture, and the Linux 7.2 kernel SMB client as
# user-mode Linux (cifs-utils, fio, nftables).  Nothing outside DIR changes.
#
#   scripts/sid-chroot.sh [--refresh] [--print-dir] [DIR]
#
# DIR defaults to $SMB3D_SID_CHROOT or /var/cache/smb3d-sid.  A complete
# chroot (DIR/.smb3d-sid-ok lists its packages) is reused as is; one that
# lacks a package of PACKAGES below gets it installed; --refresh also runs
# apt-get upgrade in it.  A fresh build goes to DIR.new and is renamed to DIR
# only when it is complete, so DIR is always either absent or usable.
# On failure the last line names the step that failed, and DIR.failed holds
# that line (the tests print it when they skip).
#
# Mirror: $SMB3D_SID_MIRROR, else the Debian mirror of this machine's apt
# sources, else http://deb.debian.org/debian.
set -Eeuo pipefail

PACKAGES=(samba samba-testsuite smbclient
          user-mode-linux cifs-utils kmod iproute2 fio nftables procps iptables)

refresh=0 print_dir=0
while [ $# -gt 0 ]; do
	case "$1" in
	--refresh) refresh=1 ;;
	--print-dir) print_dir=1 ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	-*) echo "sid-chroot: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
DIR=${1:-${SMB3D_SID_CHROOT:-/var/cache/smb3d-sid}}
DIR=${DIR%/}
if [ "$print_dir" = 1 ]; then echo "$DIR"; exit 0; fi
MARK=.smb3d-sid-ok
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

step=start
fail() {
	local msg="sid-chroot: step '$step' failed${1:+: $1}"
	echo "$msg" >&2
	echo "$msg ($(date -u +%FT%TZ))" > "$DIR.failed" 2>/dev/null || true
	exit 1
}
trap 'fail "command exited $?"' ERR

[ "$(id -u)" = 0 ] || { step=root; fail "must run as root"; }

mirror() {
	if [ -n "${SMB3D_SID_MIRROR:-}" ]; then echo "$SMB3D_SID_MIRROR"; return; fi
	local m
	m=$(grep -rhsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# mounts made by this script, undone by the EXIT trap whatever happens
mounted=()
umount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
	done
	mounted=()
}
cleanup() {
	umount_all
	[ -n "${lockfd:-}" ] && exec {lockfd}>&- || true
}
trap cleanup EXIT
mount_in() {  # mount_in ROOT: /proc for package scripts
	mount -t proc proc "$1/proc" && mounted+=("$1/proc")
}

in_chroot() {  # in_chroot ROOT CMD...
	local root=$1; shift
	LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

apt_install() {  # apt_install ROOT PKG...
	local root=$1; shift
	step="apt-get update in $root"
	in_chroot "$root" apt-get "${APT_OPTS[@]}" update -qq
	step="apt-get install ${*}"
	if ! in_chroot "$root" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "$@" \
		> "$root/var/log/smb3d-apt.log" 2>&1; then
		tail -n 20 "$root/var/log/smb3d-apt.log" >&2
		# debootstrap/dpkg may leave a package unconfigured (python3-cryptography
		# wants the virtual python3-cffi-backend-api-max): let apt finish it
		step="apt-get -f install"
		in_chroot "$root" apt-get "${APT_OPTS[@]}" -f install -y -q >> "$root/var/log/smb3d-apt.log" 2>&1
		step="apt-get install ${*} (after -f install)"
		in_chroot "$root" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "$@" \
			>> "$root/var/log/smb3d-apt.log" 2>&1
	fi
	step="apt-get -f install"
	in_chroot "$root" apt-get "${APT_OPTS[@]}" -f install -y -q >> "$root/var/log/smb3d-apt.log" 2>&1
}

finish() {  # finish ROOT: what the bench needs beyond packages
	local root=$1
	step="uml modules"
	# the UML kernel loads its modules (cifs.ko) from /lib/modules/<release>
	local m
	for m in "$root"/usr/lib/uml/modules/*; do
		[ -d "$m" ] || continue
		[ -f "$root/lib/modules/$(basename "$m")/modules.dep" ] && continue
		mkdir -p "$root/lib/modules"
		rm -rf "$root/lib/modules/$(basename "$m")"
		cp -a "$m" "$root/lib/modules/"
	done
	ls "$root"/lib/modules/*/kernel/fs/smb/client/cifs.ko* >/dev/null 2>&1 ||
		ls "$root"/lib/modules/*/kernel/fs/cifs/cifs.ko* >/dev/null 2>&1 ||
		fail "no cifs.ko under $root/lib/modules"
	step="/dev/net/tun node"
	mkdir -p "$root/dev/net"
	[ -c "$root/dev/net/tun" ] || mknod -m 666 "$root/dev/net/tun" c 10 200
	step="check binaries"
	local b
	for b in smbd smbtorture smbclient linux mount.cifs fio nft iptables; do
		in_chroot "$root" sh -c "command -v $b" >/dev/null || fail "$b missing in $root"
	done
	step="write $MARK"
	{
		echo "built $(date -u +%FT%TZ) from $(mirror)"
		echo "packages ${PACKAGES[*]}"
		in_chroot "$root" smbtorture --version 2>/dev/null | head -n 1
		in_chroot "$root" dpkg-query -W -f='uml ${Version}\n' user-mode-linux
	} > "$root/$MARK"
}

missing_pkgs() {  # missing_pkgs ROOT: packages of PACKAGES not installed
	local p
	for p in "${PACKAGES[@]}"; do
		in_chroot "$1" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || echo "$p"
	done
}

step=lock
mkdir -p "$(dirname "$DIR")"
exec {lockfd}> "$DIR.lock"
flock -w 1800 "$lockfd" || fail "another build holds $DIR.lock"

if [ -f "$DIR/$MARK" ]; then
	mapfile -t miss < <(missing_pkgs "$DIR")
	if [ "${#miss[@]}" -eq 0 ] && [ "$refresh" = 0 ]; then
		finish "$DIR"
		echo "sid-chroot: $DIR is complete ($(sed -n 's/^smbtorture //p' "$DIR/$MARK"))"
		rm -f "$DIR.failed"
		exit 0
	fi
	mount_in "$DIR"
	if [ "$refresh" = 1 ]; then
		apt_install "$DIR" "${PACKAGES[@]}"
		step="apt-get upgrade"
		in_chroot "$DIR" apt-get "${APT_OPTS[@]}" upgrade -y -q >> "$DIR/var/log/smb3d-apt.log" 2>&1
	else
		echo "sid-chroot: installing ${miss[*]} into $DIR"
		apt_install "$DIR" "${miss[@]}"
	fi
	umount_all
	finish "$DIR"
	rm -f "$DIR.failed"
	echo "sid-chroot: $DIR updated"
	exit 0
fi

NEW=$DIR.new
step="debootstrap"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (scripts/deps.sh --test)"
if [ -d "$NEW" ]; then
	# a half-made earlier attempt: nothing of it may still be mounted
	if grep -q " $NEW/" /proc/mounts; then fail "$NEW has mounts left; umount them first"; fi
	rm -rf --one-file-system "$NEW"
fi
if [ -d "$DIR" ]; then
	if grep -q " $DIR/" /proc/mounts; then fail "$DIR (incomplete) has mounts left"; fi
	rm -rf --one-file-system "$DIR"
fi
MIRROR=$(mirror)
step="reach $MIRROR"
curl -fsS --max-time 30 -o /dev/null "$MIRROR/dists/sid/Release" || fail "no network or no sid there"
step="debootstrap"
echo "sid-chroot: debootstrap sid from $MIRROR into $NEW (a few minutes)"
t0=$(date +%s)
if ! debootstrap --variant=minbase sid "$NEW" "$MIRROR" > "$DIR.debootstrap.log" 2>&1; then
	tail -n 20 "$DIR.debootstrap.log" >&2
	fail "see $DIR.debootstrap.log"
fi
step="apt sources"
echo "deb $MIRROR sid main" > "$NEW/etc/apt/sources.list"
# no daemons start inside the chroot while packages are installed
printf '#!/bin/sh\nexit 101\n' > "$NEW/usr/sbin/policy-rc.d"
chmod 755 "$NEW/usr/sbin/policy-rc.d"
mount_in "$NEW"
apt_install "$NEW" "${PACKAGES[@]}"
step="apt-get clean"
in_chroot "$NEW" apt-get clean
umount_all
finish "$NEW"
step="rename $NEW to $DIR"
mv "$NEW" "$DIR"
rm -f "$DIR.failed" "$DIR.debootstrap.log"
echo "sid-chroot: built $DIR in $(( $(date +%s) - t0 ))s ($(sed -n 's/^smbtorture //p' "$DIR/$MARK"))"

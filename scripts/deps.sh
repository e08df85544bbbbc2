#!/usr/bin/env bash
# Install what smb3d needs on Debian 12: build dependencies, and with
# --test also the real clients the tests drive (smbclient, smbtorture,
# impacket) and Samba's smbd for side-by-side runs, plus the Debian sid
# chroot of the test bench (scripts/sid-chroot.sh: Samba 4.25's smbtorture
# and smbd, the Linux 7.2 kernel client as user-mode Linux) in
# /var/cache/smb3d-sid, reused when complete.  A chroot that cannot be built
# (no network) is not an error here: its tests are skipped with the reason.
# With --fuzz, clang and its libFuzzer runtime for a fuzz build
# (docs/SECURITY.md "Fuzzing").
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc liburing-dev libinih-dev libssl-dev libcmocka-dev libpam0g-dev)
for opt in "$@"; do
	case "$opt" in
	--test) pkgs+=(smbclient samba samba-testsuite python3-impacket attr iproute2 nftables curl ethtool e2fsprogs mount debootstrap) ;;
	--fuzz) pkgs+=(clang libclang-rt-dev) ;;
	*) echo "usage: $0 [--test] [--fuzz]" >&2; exit 2 ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for opt in "$@"; do
	if [ "$opt" = "--test" ]; then
		"$(dirname "$0")/sid-chroot.sh" ||
			echo "deps: no sid chroot; smbtorture 4.25 and kernel-client tests will be skipped" >&2
	fi
done

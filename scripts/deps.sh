#!/usr/bin/env bash
# Install what smb3d needs on Debian 12: build dependencies, and with
# --test also the real clients the tests drive (smbclient, smbtorture,
# impacket) and Samba's smbd for side-by-side runs; with --fuzz, clang and
# its libFuzzer runtime for a fuzz build (docs/SECURITY.md "Fuzzing").
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc liburing-dev libinih-dev libssl-dev libcmocka-dev)
for opt in "$@"; do
	case "$opt" in
	--test) pkgs+=(smbclient samba samba-testsuite python3-impacket attr iproute2 nftables curl ethtool e2fsprogs mount) ;;
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

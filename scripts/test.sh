#!/usr/bin/env bash
# Install the test dependencies, build (release and ASan/UBSan), run every
# test.  The last line of output is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
setup() { # dir, options...
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		rm -rf "$dir"
		meson setup "$dir" "$@" >/dev/null
	fi
}
setup build
ninja -C build
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
exec tests/run "$@"

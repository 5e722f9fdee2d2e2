#!/bin/bash
# Runs Phyllome's whole test suite from a fresh clone: installs what Debian 12
# lacks, configures and builds (in ./build unless BUILDDIR says otherwise),
# runs `meson test`, and ends with one line "N passed, N failed, N skipped".
#
#   sudo tests/run.sh [--werror] [--sanitize] [--no-arm64] [MESON TEST ARGS...]
#
# Beside BUILDDIR it cross-builds the whole tree for aarch64 in BUILDDIR-arm64,
# whose monitor the arm64 suite runs (--no-arm64: neither, nor that suite).
#
# Tests that boot a Linux guest need hardware-style KVM; where this host has
# none (or only a software kvm-pvm), they run inside a test-host VM under
# QEMU's emulator, started by the suite itself (tests/kvmhost/kvmhost.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${BUILDDIR:-build}
# Test hooks: hidden VMM options the sandbox tests use to prove it holds. The
# GNOME Shell extension is configured too, so that its install rules are checked.
setup_args=(-Dtest_hooks=true -Dshell_extension=true)
# The aarch64 build beside it (cross/aarch64-linux-gnu.ini): the whole tree, with the monitor the
# arm64 suite runs. Its own sanitizer pass has no arm64 runtime here, so it is built plain.
arm64_args=(-Dtest_hooks=true -Dtests=false -Dviewer=disabled) arm64=true
while [ $# -gt 0 ]; do
	case $1 in
	--werror) setup_args+=(-Dwerror=true); arm64_args+=(-Dwerror=true); shift ;;
	--sanitize) setup_args+=(-Db_sanitize=address,undefined -Db_lundef=false); shift ;;
	--no-arm64) arm64=false; shift ;;
	*) break ;;
	esac
done

bash tests/install-deps.sh || exit 1
# Where Linux guests run in the test-host VM, the UEFI suite needs the test
# host's patched emulator: built once into the cache (about 5 minutes), here
# in the background, beside the build and the first suites.
. tests/kvmhost/hw-kvm.sh
if [ "$(id -u)" = 0 ] && ! hw_kvm; then
	mkdir -p "$builddir"
	tests/kvmhost/outer-qemu/build.sh "${PHYLLOME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phyllome}/kvmhost" \
		> "$builddir/outer-qemu.log" 2>&1 < /dev/null &
fi
arm64_builddir=$builddir-arm64
if $arm64; then
	if [ -f "$arm64_builddir/build.ninja" ]; then
		meson setup --reconfigure "${arm64_args[@]}" "$arm64_builddir" > /dev/null || exit 1
	else
		meson setup --cross-file cross/aarch64-linux-gnu.ini "${arm64_args[@]}" "$arm64_builddir" > /dev/null || exit 1
	fi
	echo "run.sh: cross-building for aarch64 in $arm64_builddir" >&2
	ninja -C "$arm64_builddir" > "$arm64_builddir.log" 2>&1 || { cat "$arm64_builddir.log"; exit 1; }
	setup_args+=(-Darm64_vmm="$top/$arm64_builddir/vmm/phyllome-vmm")
else
	setup_args+=(-Darm64_vmm=)
fi
if [ -f "$builddir/build.ninja" ]; then
	meson setup --reconfigure "${setup_args[@]}" "$builddir" > /dev/null || exit 1
else
	meson setup "${setup_args[@]}" "$builddir" || exit 1
fi
ninja -C "$builddir" || exit 1
# Sanitizer findings abort the process, so a test cannot pass over them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
meson test -C "$builddir" --print-errorlogs "$@"
python3 tests/summarize.py "$builddir/meson-logs/testlog.json" ${PHYLLOME_REQUIRE_KVM:+--fail-on-skip kvm}

#!/bin/bash
# The UEFI suite (uefi.sh): builds its disks here first (the distribution guest,
# tests/guest/build-distro.sh, then tests/guest/build-uefi-disks.sh; both
# cached), then runs the suite where KVM runs Linux (kvm-suite.sh). In the
# test-host VM that is the patched emulator (tests/kvmhost/outer-qemu): the one
# Debian ships aborts as soon as a firmware guest runs there. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${PHYLLOME_BUILD_DIR:?}"
export PHYLLOME_DISTRO_DIR=$PHYLLOME_BUILD_DIR/tests/guest/distro
export PHYLLOME_UEFI_DIR=$PHYLLOME_BUILD_DIR/tests/guest/uefi

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP building the UEFI suite's disks needs root (debootstrap)"
	exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { bash "$here/../guest/build-distro.sh" "$PHYLLOME_DISTRO_DIR" &&
	bash "$here/../guest/build-uefi-disks.sh" "$PHYLLOME_DISTRO_DIR" "$PHYLLOME_UEFI_DIR"; } > "$log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - build the UEFI suite's disks (tests/guest/build-uefi-disks.sh; needs the network once)"
	sed 's/^/# /' "$log"
	exit 1
fi
sed 's/^/# /' "$log"
export KVMHOST_ARGS="${KVMHOST_ARGS:-} --patched-emulator"
exec "$here/kvm-suite.sh" linux "$here/uefi.sh"

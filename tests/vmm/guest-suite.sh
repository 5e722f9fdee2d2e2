#!/bin/bash
# The suites that boot a Debian 12 built here first, from Debian's packages
# (debootstrap and the boot loaders, cached; about 90 s on a fresh machine,
# while the other suites run), then run where KVM runs Linux (kvm-suite.sh:
# directly, or in the test-host VM). Prints TAP.
#
#   guest-suite.sh distro   distro.py: the distribution guest (tests/guest/build-distro.sh)
#   guest-suite.sh uefi     uefi.sh: its root on GPT disks with boot loaders
#                           (tests/guest/build-uefi-disks.sh), booted by Debian's OVMF;
#                           in the test-host VM under the patched emulator
#                           (tests/kvmhost/outer-qemu): the one Debian ships aborts as
#                           soon as a firmware guest runs there
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${PHYLLOME_BUILD_DIR:?}"
export PHYLLOME_DISTRO_DIR=$PHYLLOME_BUILD_DIR/tests/guest/distro
export PHYLLOME_UEFI_DIR=$PHYLLOME_BUILD_DIR/tests/guest/uefi

build_distro() { bash "$here/../guest/build-distro.sh" "$PHYLLOME_DISTRO_DIR"; }
build_uefi() { build_distro && bash "$here/../guest/build-uefi-disks.sh" "$PHYLLOME_DISTRO_DIR" "$PHYLLOME_UEFI_DIR"; }
case ${1:-} in
distro) what="the distribution guest" builder=tests/guest/build-distro.sh suite=$here/distro.py ;;
uefi)
	what="the UEFI suite's disks" builder=tests/guest/build-uefi-disks.sh suite=$here/uefi.sh
	export KVMHOST_ARGS="${KVMHOST_ARGS:-} --patched-emulator"
	;;
*) echo "usage: guest-suite.sh distro|uefi" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP building $what needs root (debootstrap)"
	exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "build_$1" > "$log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - build $what ($builder; needs the network once)"
	sed 's/^/# /' "$log"
	exit 1
fi
sed 's/^/# /' "$log"
exec "$here/kvm-suite.sh" linux "$suite"

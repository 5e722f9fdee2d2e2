#!/bin/bash
# The distribution-guest suite (distro.py): builds the Debian 12 guest here
# first (tests/guest/build-distro.sh: debootstrap, cached; about 90 s on a fresh
# machine, while the other suites run), then runs the suite where KVM runs Linux
# (kvm-suite.sh: directly, or in the test-host VM). Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${PHYLLOME_BUILD_DIR:?}"
export PHYLLOME_DISTRO_DIR=$PHYLLOME_BUILD_DIR/tests/guest/distro

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP building the distribution guest needs root (debootstrap)"
	exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! bash "$here/../guest/build-distro.sh" "$PHYLLOME_DISTRO_DIR" > "$log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - build the distribution guest (tests/guest/build-distro.sh; needs the network once)"
	sed 's/^/# /' "$log"
	exit 1
fi
sed 's/^/# /' "$log"
exec "$here/kvm-suite.sh" linux "$here/distro.py"

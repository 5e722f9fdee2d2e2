#!/bin/bash
# The Debian packages: built from this tree with dpkg-buildpackage and checked
# with lintian here, then installed, used and purged in a private systemd
# (tests/package/install.sh, where KVM can run the tiny guest: on this host or
# in the test-host VM). Prints TAP.
#   package.sh BUILDDIR SOURCEDIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
debs=$build/package
skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
command -v dpkg-buildpackage > /dev/null && command -v dh > /dev/null || skip "dpkg-buildpackage or debhelper is not installed"
[ "$(id -u)" = 0 ] || skip "installing the package into the systemd box needs root"

# A copy of the tree's files (not its build directories), built out of the way.
rm -rf "$debs" && mkdir -p "$debs/src"
if git -C "$src" rev-parse > /dev/null 2>&1; then
	git -C "$src" ls-files -co --exclude-standard | tar -C "$src" -cf - -T - | tar -C "$debs/src" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$debs/src" -xf -
fi
(cd "$debs/src" && dpkg-buildpackage -b -us -uc) > "$debs/build.log" 2>&1
echo $? > "$debs/build.status"
if [ "$(cat "$debs/build.status")" = 0 ]; then
	lintian --info "$debs"/phyllome_*.changes > "$debs/lintian.out" 2>&1
	echo $? > "$debs/lintian.status"
fi
rm -rf "$debs/src"
PHYLLOME_DEBS=$debs exec "$here/../vmm/kvm-suite.sh" tiny "$here/install.sh"

#!/bin/bash
# Installs the build into a scratch DESTDIR: a plain build installs phyllomed
# and phyllome-vmm; a sanitizer build (looser allow-lists) must refuse. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/vmm/tap.sh"
builddir=$1 sanitize=$2
meson install -C "$builddir" --no-rebuild --destdir "$scratch/root" > "$scratch/install.out" 2>&1
status=$?
if [ "$sanitize" = none ]; then
	check "a plain build installs phyllomed and phyllome-vmm" \
		eval '[ $status = 0 ] && find "$scratch/root" -name phyllomed -type f | grep -q . &&
			find "$scratch/root" -name phyllome-vmm -type f | grep -q .'
else
	check "a sanitizer build ($sanitize) refuses to be installed, and says why" \
		eval '[ $status != 0 ] && grep -q "uses sanitizers" "$scratch/install.out"'
fi
[ "$tap_failed" = 0 ] || tail -n 20 "$scratch/install.out" | tap_diag
tap_done

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
	if command -v scdoc > /dev/null; then
		installed_pages() {
			for page in man1/phyllomectl.1 man8/phyllomed.8 man1/phyllome-vmm.1 man5/phyllome.conf.5; do
				find "$scratch/root" -path "*/share/man/$page" | grep -q . || return 1
			done
		}
		check "and the manual pages, in their sections" installed_pages
	else
		tap_skip "the manual pages are installed" "scdoc is not installed"
	fi
else
	check "a sanitizer build ($sanitize) refuses to be installed, and says why" \
		eval '[ $status != 0 ] && grep -q "uses sanitizers" "$scratch/install.out"'
fi
[ "$tap_failed" = 0 ] || tail -n 20 "$scratch/install.out" | tap_diag
tap_done

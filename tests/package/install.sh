#!/bin/bash
# Installs the packages that package.sh built ($PHYLLOME_DEBS) into a private
# systemd (tests/sdbox: its /etc, /usr and /var are overlays on this host's,
# so nothing reaches the host), checks what Debian's ways made of them, drives
# a machine with phyllomectl through the installed, D-Bus-activated phyllomed,
# and purges them again. Prints TAP. Needs root and /dev/kvm.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vmm/tap.sh"
: "${PHYLLOME_DEBS:?}" "${PHYLLOME_TINYGUEST:?}"
sdbox="$here/../sdbox/sdbox.sh"
export SDBOX_NAME=phyllome-package-$$ SDBOX_DEVICES=kvm SDBOX_TIMEOUT=${SDBOX_TIMEOUT:-300}
export SDBOX_ROOT=${SDBOX_ROOT:-$HOME/.cache/phyllome-sdbox}
# The box's systemd reads a curated set of units; the package's land in the
# distribution's unit directory, which it reads after those (nothing there is
# enabled in the box, so nothing else starts).
export SDBOX_UNIT_DIRS=/lib/systemd/system
X() { "$sdbox" exec "$@"; }
ctl() { X phyllomectl --no-ask-password "$@"; }
prop() {
	X busctl --system get-property org.phyllome.VM1 "/org/phyllome/VM1/machine/$1" org.phyllome.VM1.Machine "$2" |
		cut -d' ' -f2- | tr -d '"'
}

check "the packages build (dpkg-buildpackage -b: phyllome, phyllome-viewer, gnome-shell-extension-phyllome, phyllome-dbgsym)" \
	eval '[ "$(cat "$PHYLLOME_DEBS/build.status")" = 0 ] && ls "$PHYLLOME_DEBS"/phyllome_*_amd64.deb \
		"$PHYLLOME_DEBS"/phyllome-viewer_*_amd64.deb "$PHYLLOME_DEBS"/gnome-shell-extension-phyllome_*_all.deb \
		"$PHYLLOME_DEBS"/phyllome-dbgsym_*.deb > /dev/null'
[ "$tap_failed" = 0 ] || { tail -n 30 "$PHYLLOME_DEBS/build.log" | tap_diag; tap_done; exit 1; }
check "lintian: no errors and no warnings (each overridden one says why)" \
	eval '! grep -qE "^(E|W):" "$PHYLLOME_DEBS/lintian.out"'
grep -E "^(E|W):" "$PHYLLOME_DEBS/lintian.out" | tap_diag

if [ ! -c /dev/kvm ]; then
	tap_skip "the package installed in a systemd box" "no /dev/kvm for its machine"
	tap_done
	exit
fi
stage=$SDBOX_ROOT/package-$$
mkdir -p "$stage" && chmod 755 "$stage" && cp "$PHYLLOME_DEBS"/phyllome_*_amd64.deb "$PHYLLOME_TINYGUEST" "$stage/" &&
	chmod a+r "$stage"/*
if ! "$sdbox" start > "$scratch/sdbox.log" 2>&1; then
	tap_not_ok "the systemd box boots"
	tap_diag < "$scratch/sdbox.log"
	tap_done
	exit 1
fi
trap '"$sdbox" stop > /dev/null 2>&1; rm -rf "$stage"; cleanup_scratch' EXIT

# (man-db's index rebuild at each dpkg run takes minutes in the emulated test host.
# A container image's policy-rc.d, which forbids maintainer scripts to start or
# stop services, is no part of a real system: it goes, in the box's /usr.)
X sh -c 'echo "man-db man-db/auto-update boolean false" | debconf-set-selections; rm -f /usr/sbin/policy-rc.d'
X sh -c 'dpkg -i "$0"/phyllome_*_amd64.deb' "$stage" > "$scratch/dpkg-i.out" 2>&1
check "dpkg -i installs phyllome" eval '[ "$(X dpkg-query -W -f "\${Status}" phyllome)" = "install ok installed" ]'
show() { [ "$tap_failed" = 0 ] || cat "$@" | tap_diag; }
show "$scratch/dpkg-i.out"
check "after install: /etc/phyllome/machines and /var/lib/phyllome/images exist (tmpfiles.d)" \
	X test -d /etc/phyllome/machines -a -d /var/lib/phyllome/images
check "after install: phyllomed is not running (D-Bus activated) nor enabled" \
	expect_eq "$(X systemctl is-active phyllomed.service) $(X systemctl is-enabled phyllomed.service 2>&1)" "inactive disabled"
check "after install: the manual pages are there" eval 'X man -w phyllomectl phyllome.conf > /dev/null 2>&1'
X install -m 644 "$stage/tinyguest.bzImage" /var/lib/phyllome/images/tiny.bzImage
ctl create pkg --kernel /var/lib/phyllome/images/tiny.bzImage --cmdline test=powerbutton --memory 64M \
	> "$scratch/create.out" 2>&1
check "phyllomectl create: D-Bus activates the installed phyllomed" \
	eval '[ "$(X systemctl is-active phyllomed.service)" = active ] && X test -f /etc/phyllome/machines/pkg.conf'
show "$scratch/create.out"
ctl start pkg > "$scratch/start.out" 2>&1
check "phyllomectl start: the machine runs in its scope" \
	expect_eq "$(prop pkg State) $(X systemctl is-active phyllome-pkg.scope)" "running active"
show "$scratch/start.out"
ctl status pkg > "$scratch/status.out" 2>&1
check "phyllomectl status: running, with its unit" eval 'grep -q "State: running" "$scratch/status.out" && grep -q "Unit: phyllome-pkg.scope" "$scratch/status.out"'
show "$scratch/status.out"
ctl stop pkg > "$scratch/stop.out" 2>&1
check "phyllomectl stop: the guest powers off through its power button" \
	expect_eq "$(prop pkg State)/$(prop pkg Result)" "stopped/success"
show "$scratch/stop.out"

X dpkg -L phyllome > "$scratch/files" 2> /dev/null
X dpkg --purge phyllome > "$scratch/purge.out" 2>&1
left_behind() {
	local left
	left=$(X sh -c 'while read -r f; do [ -f "$f" ] && echo "$f"; done' < "$scratch/files")
	[ -z "$left" ] && return 0
	echo "left behind: $left" | tap_diag
	return 1
}
check "dpkg --purge removes the package's files" left_behind
check "and what it made: /etc/phyllome (definitions), phyllomed stopped" \
	eval 'X test ! -e /etc/phyllome && [ "$(X systemctl is-active phyllomed.service)" != active ]'
check "but keeps the disk images below /var/lib/phyllome (the users' data)" \
	X test -f /var/lib/phyllome/images/tiny.bzImage
show "$scratch/purge.out"
tap_done

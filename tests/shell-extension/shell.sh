#!/bin/bash
# The GNOME Shell extension in a real headless GNOME Shell, against phyllomed in
# the systemd box (screenshot.sh does the work), as TAP. Needs root and
# gnome-shell; no KVM. PHYLLOME_SHOT_DIR=DIR keeps the screenshots there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vmm/tap.sh"
: "${PHYLLOME_BUILD_DIR:?}"

if ! command -v gnome-shell > /dev/null; then
	echo "1..0 # SKIP gnome-shell is not installed (tests/install-deps.sh installs it)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP the systemd box needs root"
	exit 0
fi
"$here/screenshot.sh" "$PHYLLOME_BUILD_DIR" "$scratch/menu.png" > "$scratch/out" 2> "$scratch/log"
status=$?
log_has() { grep -Fq -- "$1" "$scratch/log"; }
check "a headless GNOME Shell runs the extension (and the test helper to its end)" [ $status = 0 ]
check "its menu lists phyllomed's machines, from the ObjectManager" log_has "PHYLLOME_SHOT menu: build-server desktop work"
check "each machine's submenu has Start, Stop, Show (its screen in phyllome-viewer) and Console" \
	log_has "PHYLLOME_SHOT actions: Start Stop Show Console"
check "a start phyllomed refuses becomes a notification with phyllomed's message" \
	log_has 'notifications: ["Cannot start “work” | Cannot open /dev/kvm'
check "a start the user may not make alone asks through the Shell's own polkit agent" \
	log_has "PHYLLOME_SHOT dialog: Authentication Required | Authentication is required to operate a virtual machine you do not own"
png_size() { python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24); assert d[:8] == b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1" 2>&1; }
check "the screenshots are 1280x800 PNGs" \
	eval '[ "$(png_size "$scratch/menu.png") $(png_size "$scratch/menu-polkit.png")" = "1280x800 1280x800" ]'
[ "$tap_failed" = 0 ] || tap_diag < "$scratch/log"
if [ -n "${PHYLLOME_SHOT_DIR:-}" ]; then
	mkdir -p "$PHYLLOME_SHOT_DIR" && cp "$scratch"/menu*.png "$PHYLLOME_SHOT_DIR/"
fi
tap_done

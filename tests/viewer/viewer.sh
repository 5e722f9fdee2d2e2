#!/bin/bash
# phyllome-viewer against a Linux guest under real KVM, in a real X server
# (Xvfb) with GTK's software renderer: the window shows the guest's picture
# (read back from the X server, not from the viewer), keys typed into the
# window reach the guest's /dev/input/event*, and a stopped VM leaves the
# window up with a message. The window's picture is kept as an artifact:
# $PHYLLOME_ARTIFACTS/viewer.png. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vmm/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-400}
artifacts=${PHYLLOME_ARTIFACTS:-$scratch}
sock=$scratch/control.sock

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ -x "${PHYLLOME_VIEWER:-}" ] || skip_all "phyllome-viewer was not built (GTK 4 missing)"
for tool in Xvfb xdotool; do
	command -v "$tool" > /dev/null || skip_all "$tool is missing (apt-get install xvfb xdotool)"
done
/usr/bin/python3 -c 'import gi; gi.require_version("Gdk", "3.0")' 2> /dev/null ||
	skip_all "python3-gi with Gdk 3 is missing (it reads the X server's picture back)"

# The X server's picture, as a PNG, and how many pixels of each colour it has (RRGGBB ...).
capture() { # FILE RRGGBB...
	/usr/bin/python3 - "$@" << 'PY'
import sys
import gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk
root = Gdk.get_default_root_window()
pb = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
pb.savev(sys.argv[1], "png", [], [])
data, n, stride = pb.get_pixels(), pb.get_n_channels(), pb.get_rowstride()
rows = [data[y * stride:y * stride + pb.get_width() * n] for y in range(pb.get_height())]
for want in sys.argv[2:]:
    # (bytes.count: a pure Python loop over every pixel takes minutes in an emulated test host)
    pixel = bytes.fromhex(want) + (b"\xff" if n == 4 else b"")
    print(want, sum(r.count(pixel) for r in rows))
PY
}

# The guest paints its screen dark blue with an orange block in the middle,
# then reports the keys it gets.
cat > "$scratch/guest.script" << 'SCRIPT'
guest-tool input "Phyllome Keyboard" 4 &
fb=$(bochs-mode 640 480)
guest-tool fill $((fb)) 2560 0 0 640 480 204080
guest-tool fill $((fb)) 2560 220 165 200 150 ff8000
echo "PHYLLOME display on"
wait
SCRIPT
truncate -s 64K "$scratch/guest.script"
start_vmm linux --kernel "$PHYLLOME_GUEST_DIR/vmlinuz" --initrd "$PHYLLOME_GUEST_DIR/initrd.img" \
	--memory 256M --cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" \
	--disk "$scratch/guest.script,readonly,serial=phyllome-script" \
	--display bochs --control "$sock"
vmm=$VMM_PID
wait_output linux "PHYLLOME display on" 240

display=:$((70 + RANDOM % 200))
Xvfb "$display" -screen 0 1280x1024x24 -nolisten tcp > "$scratch/xvfb.log" 2>&1 &
xvfb=$!
export DISPLAY=$display
for i in $(seq 50); do
	xdotool getmouselocation > /dev/null 2>&1 && break
	sleep 0.2
done
GSK_RENDERER=cairo NO_AT_BRIDGE=1 "$PHYLLOME_VIEWER" --socket "$sock" > "$scratch/viewer.log" 2>&1 &
viewer=$!
window=$(timeout 90 xdotool search --sync --name "control.sock" 2> /dev/null | head -n 1)
check "the viewer opens its window" [ -n "$window" ]

# Until the picture shows (the software renderer under an emulated test host is slow).
for i in $(seq 60); do
	capture "$artifacts/viewer.png" ff8000 204080 > "$scratch/colours" 2>> "$scratch/capture.err"
	[ "$(awk '$1 == "ff8000" { print $2 }' "$scratch/colours")" -gt 10000 ] 2> /dev/null && break
	sleep 1
done
check "the window shows the guest's picture: its orange block and dark blue around it, as the X server has them" \
	eval '[ "$(awk '\''$1 == "ff8000" { print $2 }'\'' "$scratch/colours")" -gt 10000 ] && [ "$(awk '\''$1 == "204080" { print $2 }'\'' "$scratch/colours")" -gt 50000 ] || { tap_diag < "$scratch/colours"; tap_diag < "$scratch/viewer.log"; false; }'

xdotool windowfocus --sync "$window" > /dev/null 2>&1
xdotool key --window "$window" --clearmodifiers a b > /dev/null 2>&1
wait_output linux "Keyboard event type=1 code=48 value=0" 60
check "keys typed into the window reach the guest: a, b pressed and released" eval \
	'[ "$(grep -a "input Phyllome Keyboard event" "$scratch/linux.out" | tr -d "\r" | sed "s/.*event //" | tr "\n" " ")" = "type=1 code=30 value=1 type=1 code=30 value=0 type=1 code=48 value=1 type=1 code=48 value=0 " ] || { grep -a "input Phyllome" "$scratch/linux.out" | tap_diag; false; }'

kill -TERM "$vmm"
wait_vmm
sleep 2
capture "$scratch/stopped.png" > /dev/null 2>&1
check "the viewer outlives the VM's stop (it says so and waits for it to come back)" kill -0 "$viewer"
kill "$viewer" "$xvfb" 2> /dev/null
wait "$viewer" "$xvfb" 2> /dev/null
echo "# the window's picture: $artifacts/viewer.png"
tap_done

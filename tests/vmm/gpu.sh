#!/bin/bash
# The display devices under a Linux guest's own DRM drivers (Debian's generic
# kernel: the cloud one has none), under real KVM: virtio_gpu and bochs bind,
# the guest draws a known picture into its framebuffer device (/dev/fb0, the
# DRM drivers' fbdev emulation, with fbcon unbound) and the display channel's
# listener and Screenshot show it; with virtio-gpu the connector offers the
# EDID's 1280x800 first and follows a size hint from the channel. (The device's
# answers to malformed and hostile commands are tests/unit/test-virtio-gpu.c.)
# Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_DISPLAY_CLIENT:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-400}
client=$PHYLLOME_DISPLAY_CLIENT
sock=$scratch/control.sock

dcall() { "$client" "$sock" call "$@" 2>&1; }

# The guest draws dark blue with an orange block, says what its connector offers,
# then waits (up to a minute) for the connector's first mode to become 1024x768.
cat > "$scratch/guest.script" << 'SCRIPT'
for i in $(seq 150); do [ -e /dev/fb0 ] && break; sleep 0.2; done
echo "PHYLLOME fb0 $(cat /sys/class/graphics/fb0/name) size=$(cat /sys/class/graphics/fb0/virtual_size)"
for vt in /sys/class/vtconsole/vtcon*; do
	grep -q "frame buffer" "$vt/name" && echo 0 > "$vt/bind"
done
stride=$(cat /sys/class/graphics/fb0/stride)
size=$(cat /sys/class/graphics/fb0/virtual_size)
guest-tool fill /dev/fb0 "$stride" 0 0 "${size%,*}" "${size#*,}" 204080
guest-tool fill /dev/fb0 "$stride" 100 100 200 150 ff8000
conn=$(ls -d /sys/class/drm/card0-*/ | head -n 1)
echo "PHYLLOME drew; connector $(basename "$conn") $(cat "$conn/status") first mode $(head -n 1 "$conn/modes")"
for i in $(seq 300); do
	[ "$(head -n 1 "$conn/modes")" = 1024x768 ] && break
	sleep 0.2
done
echo "PHYLLOME first mode now $(head -n 1 "$conn/modes")"
# Then until the host presses a key: its checks are done.
guest-tool input "Phyllome Keyboard" 1
SCRIPT
truncate -s 64K "$scratch/guest.script"

# png_at PNG X,Y...: "WxH" of the picture, then the RRGGBB of each point, as a PNG reader decodes them.
png_at() {
	/usr/bin/python3 - "$@" << 'PY' 2>&1
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
at, idat = 8, b""
while at < len(d):
    n, kind = struct.unpack(">I4s", d[at:at + 8])
    if kind == b"IHDR":
        w, h = struct.unpack(">II", d[at + 8:at + 16])
    if kind == b"IDAT":
        idat += d[at + 8:at + 8 + n]
    at += 12 + n
raw = zlib.decompress(idat)
out = [f"{w}x{h}"]
for point in sys.argv[2:]:
    x, y = map(int, point.split(","))
    row = raw[y * (1 + 3 * w) + 1:(y + 1) * (1 + 3 * w)]
    out.append(row[3 * x:3 * x + 3].hex())
print(" ".join(out))
PY
}

done_with_guest() { # a key until the guest's reader took it and the guest powers off
	wait_output "$VMM_NAME" "input Phyllome Keyboard ready" 60
	for i in $(seq 30); do
		kill -0 "$VMM_PID" 2> /dev/null || return 0
		dcall KeyPress u 57 > /dev/null
		dcall KeyRelease u 57 > /dev/null
		sleep 1
	done
}

boot() { # NAME DISPLAY
	start_vmm "$1" --kernel "$PHYLLOME_GUEST_DIR/drm-vmlinuz" --initrd "$PHYLLOME_GUEST_DIR/drm-initrd.img" \
		--memory 512M --cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" \
		--disk "$scratch/guest.script,readonly,serial=phyllome-script" --display "$2" --control "$sock"
}

# ---- virtio-gpu ----
boot gpu virtio-gpu
wait_output gpu "PHYLLOME drew" 300
check "virtio-gpu: Linux's virtio_gpu binds it and offers /dev/fb0 at the EDID's 1280x800" \
	file_has "$scratch/gpu.out" "PHYLLOME fb0 virtio_gpudrmfb size=1280,800"
check "virtio-gpu: the connector is connected and its first mode is the EDID's preferred 1280x800" \
	file_has "$scratch/gpu.out" "connector card0-Virtual-1 connected first mode 1280x800"
"$client" "$sock" watch 150 150 ff8000 60 > "$scratch/gpu-watch.out" 2>&1
check "virtio-gpu: what the guest drew reaches a listener (orange at 150,150 of a 1280x800 scanout)" \
	eval 'grep -q "^pixel 150,150 is ff8000$" "$scratch/gpu-watch.out" && grep -q "scanout 1280x800" "$scratch/gpu-watch.out" || { tap_diag < "$scratch/gpu-watch.out"; false; }'
"$client" "$sock" watch 1000 700 204080 20 > "$scratch/gpu-watch2.out" 2>&1
check "virtio-gpu: ... and the dark blue around it" file_has "$scratch/gpu-watch2.out" "^pixel 1000,700 is 204080$"
dcall Screenshot ha "$scratch/gpu.png" > /dev/null
check "virtio-gpu: Screenshot is the 1280x800 scanout, the guest's orange block on dark blue" \
	expect_eq "$(png_at "$scratch/gpu.png" 150,150 1000,700)" "1280x800 ff8000 204080"
dcall SetSizeHint uu 1024 768 > "$scratch/hint.out"
wait_output gpu "PHYLLOME first mode now" 90
check "virtio-gpu: a size hint of 1024x768 becomes the connector's first mode (display event, new EDID)" \
	file_has "$scratch/gpu.out" "PHYLLOME first mode now 1024x768"
done_with_guest
wait_vmm
check "virtio-gpu: the guest powers off cleanly" expect_exit gpu 0 "PHYLLOME script done"

# ---- bochs ----
boot bochs bochs
wait_output bochs "PHYLLOME drew" 300
check "bochs: Linux's bochs DRM driver binds it and offers /dev/fb0" \
	file_has "$scratch/bochs.out" "PHYLLOME fb0 bochs-drmdrmfb size=1024,768"
"$client" "$sock" watch 150 150 ff8000 60 > "$scratch/bochs-watch.out" 2>&1
check "bochs: what the guest drew reaches a listener (orange at 150,150 of a 1024x768 scanout)" \
	eval 'grep -q "^pixel 150,150 is ff8000$" "$scratch/bochs-watch.out" && grep -q "scanout 1024x768" "$scratch/bochs-watch.out" || { tap_diag < "$scratch/bochs-watch.out"; false; }'
"$client" "$sock" watch 1000 700 204080 20 > "$scratch/bochs-watch2.out" 2>&1
check "bochs: ... and the dark blue around it" file_has "$scratch/bochs-watch2.out" "^pixel 1000,700 is 204080$"
dcall Screenshot ha "$scratch/bochs.png" > /dev/null
check "bochs: Screenshot is the 1024x768 scanout, the same picture" \
	expect_eq "$(png_at "$scratch/bochs.png" 150,150 1000,700)" "1024x768 ff8000 204080"
done_with_guest
wait_vmm
check "bochs: the guest powers off cleanly" expect_exit bochs 0 "PHYLLOME script done"
tap_done

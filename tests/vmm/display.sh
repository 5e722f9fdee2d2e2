#!/bin/bash
# The display channel (org.phyllome.VMM1.Display) against real guests under
# real KVM, spoken to by tests/display/display-client.c:
#   - the tiny firmware draws on the bochs display: a listener gets the scanout
#     as a sealed memfd it cannot map writable, and the picture in it; a
#     display-only connection (ServeDisplay, as phyllomed hands to viewers) sees
#     it too and cannot stop the VM; bad calls and hostile listeners (garbage,
#     silence, errors, too many) get errors while the monitor goes on;
#   - the Linux test guest: its virtio_input driver binds the keyboard and the
#     tablet; keys, pointer positions, buttons and the wheel sent through the
#     channel arrive in its /dev/input/event* with the right codes and values;
#     pixels it writes into the framebuffer after a listener registered reach
#     the listener through an Update (KVM's dirty log of the framebuffer).
# Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_TINYFIRMWARE:?}" "${PHYLLOME_DISPLAY_CLIENT:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-300}
client=$PHYLLOME_DISPLAY_CLIENT
sock=$scratch/control.sock

dcall() { "$client" "$sock" call "$@" 2>&1; }

# ---- the tiny firmware's picture ----
# A variable store whose byte 0x10 is 'W' keeps the tiny firmware drawing and running.
/usr/bin/python3 -c 'import sys; d = bytearray(65536); d[0x10] = ord("W"); open(sys.argv[1], "wb").write(d)' "$scratch/vars.fd"
start_vmm tiny --firmware "$PHYLLOME_TINYFIRMWARE" --nvram "$scratch/vars.fd" --memory 64M \
	--display bochs --control "$sock"
wait_output tiny "TINYFW waiting for the power button" 60

"$client" "$sock" watch 10 10 ff8000 20 > "$scratch/watch.out" 2>&1
check "a listener gets the firmware's orange picture" file_has "$scratch/watch.out" "^pixel 10,10 is ff8000$"
check "Scanout: 64x48, stride 256, XRGB8888" file_has "$scratch/watch.out" "scanout 64x48 stride 256 format 34325258"
check "the memfd is sealed against shrinking and writable mappings; a writable map is refused" \
	file_has "$scratch/watch.out" "sealed=shrink,future-write writable-map=refused"

"$client" "$sock" --serve-display watch 63 47 ff8000 20 > "$scratch/only.out" 2>&1
check "a display-only connection (ServeDisplay) shows the picture too" file_has "$scratch/only.out" "^pixel 63,47 is ff8000$"
"$client" "$sock" --serve-display call VMM1.Quit > "$scratch/only-quit.out" 2>&1
check "a display-only connection cannot stop the VM" \
	eval 'grep -qE "Unknown(Object|Interface|Method)" "$scratch/only-quit.out" && kill -0 "$VMM_PID" || { tap_diag < "$scratch/only-quit.out"; false; }'
"$client" "$sock" --serve-display call VMM1.Pause > "$scratch/only-pause.out" 2>&1
check "... nor pause it: org.phyllome.VMM1 is not there" file_has "$scratch/only-pause.out" "Unknown(Object|Interface|Method)"

check "KeyPress/KeyRelease of KEY_A: ok" expect_eq "$(dcall KeyPress u 30; dcall KeyRelease u 30)" "ok
ok"
check "KeyPress 0 and 600: not keys" eval \
	'[ "$(dcall KeyPress u 0 | grep -c InvalidArgs)$(dcall KeyPress u 600 | grep -c InvalidArgs)" = 11 ]'
check "PointerMove inside and past the edge, a left click, the wheel: ok" expect_eq \
	"$(dcall PointerMove uu 10 10; dcall PointerMove uu 100000 100000; dcall PointerPress u 272; dcall PointerRelease u 272; dcall PointerScroll ii 0 1)" \
	"ok
ok
ok
ok
ok"
dcall PointerPress u 30 > "$scratch/button.out"
check "PointerPress of a key code: not a button" file_has "$scratch/button.out" "InvalidArgs"
check "SetSizeHint 0x0 is refused, 1280x800 taken" expect_eq \
	"$(dcall SetSizeHint uu 0 0 | cut -d: -f1); $(dcall SetSizeHint uu 1280 800)" \
	"org.freedesktop.DBus.Error.InvalidArgs; ok"
dcall Screenshot ha "$scratch/shot.png" > "$scratch/shot.out"
check "Display.Screenshot writes a PNG" eval '[ "$(head -c 4 "$scratch/shot.png" | od -An -c | tr -d " ")" = "211PNG" ]'
dcall RegisterListener h "$scratch/not-a-socket" > "$scratch/not-a-socket.out"
check "RegisterListener with a file, not a socket: InvalidArgs" \
	file_has "$scratch/not-a-socket.out" "InvalidArgs: A listener is a connected socket"

"$client" "$sock" hostile garbage 1 > "$scratch/garbage.out" 2>&1
"$client" "$sock" hostile error 3 > "$scratch/error.out" 2>&1
"$client" "$sock" hostile silent 30 > "$scratch/silent.out" 2>&1 &
silent=$!
sleep 1
"$client" "$sock" listeners 5 > "$scratch/five.out" 2>&1
check "garbage and refusing listeners are dropped: 3 more fit beside a silent one, the 5th is refused" eval \
	'[ "$(grep -c " 1 scanouts" "$scratch/five.out")" = 3 ] && grep -q "listener 3: org.freedesktop.DBus.Error.LimitsExceeded" "$scratch/five.out" || { tap_diag < "$scratch/five.out"; false; }'
"$client" "$sock" watch 1 1 ff8000 20 > "$scratch/beside-silent.out" 2>&1
check "a listener that never reads does not hold the monitor" \
	file_has "$scratch/beside-silent.out" "^pixel 1,1 is ff8000$"
kill "$silent" 2> /dev/null
wait "$silent" 2> /dev/null
kill -TERM "$VMM_PID"
wait_vmm
check "the monitor outlived its hostile listeners and stops cleanly" \
	eval '[ "$STATUS" = 0 ] || { echo "status $STATUS" | tap_diag; tap_diag < "$scratch/tiny.out"; false; }'

# ---- the Linux guest: input, and damage from a guest that draws ----
# The guest turns the display on itself (its cloud kernel has no DRM driver),
# draws once its keyboard got the host's keys, and powers off when the tablet
# got its events too.
cat > "$scratch/guest.script" << 'SCRIPT'
guest-tool input "Phyllome Keyboard" 4 &
keyboard=$!
guest-tool input "Phyllome Tablet" 4 &
fb=$(bochs-mode 640 480)
echo "PHYLLOME display on"
wait $keyboard
devmem $((fb + (300 * 640 + 200) * 4)) 32 0x0000ff00
echo "PHYLLOME drew"
wait
SCRIPT
truncate -s 64K "$scratch/guest.script"
start_vmm linux --kernel "$PHYLLOME_GUEST_DIR/vmlinuz" --initrd "$PHYLLOME_GUEST_DIR/initrd.img" \
	--memory 256M --cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" \
	--disk "$scratch/guest.script,readonly,serial=phyllome-script" \
	--display bochs --control "$sock"
wait_output linux "PHYLLOME display on" 240
"$client" "$sock" watch 200 300 00ff00 90 > "$scratch/damage.out" 2>&1 &
watcher=$!
wait_output linux "PHYLLOME input Phyllome Tablet ready" 60
wait_output linux "PHYLLOME input Phyllome Keyboard ready" 60
for i in $(seq 100); do
	grep -q "scanout" "$scratch/damage.out" && break
	sleep 0.2
done
check "the guest's virtio_input binds the keyboard and the tablet" \
	eval 'grep -q "input Phyllome Keyboard ready" "$scratch/linux.out" && grep -q "input Phyllome Tablet ready" "$scratch/linux.out"'
check "the tablet's axes run 0..32767" output_has linux "^PHYLLOME input Phyllome Tablet abs-x=0..32767"
dcall KeyPress u 30 > /dev/null
dcall KeyRelease u 30 > /dev/null
dcall KeyPress u 28 > /dev/null
dcall KeyRelease u 28 > /dev/null
dcall PointerMove uu 320 240 > "$scratch/move.out"
dcall PointerPress u 272 > /dev/null
dcall PointerScroll ii 0 2 > /dev/null
wait_output linux "Phyllome Tablet event type=2 code=8" 60
check "KEY_A pressed and released, then KEY_ENTER, arrive in order" eval \
	'[ "$(grep -a "input Phyllome Keyboard event" "$scratch/linux.out" | tr -d "\r" | sed "s/.*event //" | tr "\n" " ")" = "type=1 code=30 value=1 type=1 code=30 value=0 type=1 code=28 value=1 type=1 code=28 value=0 " ] || { grep -a "input Phyllome" "$scratch/linux.out" | tap_diag; false; }'
# 320 of 640 columns: 320 * 32767 / 639 = 16409; 240 of 480 rows: 240 * 32767 / 479 = 16417.
check "PointerMove (320, 240) of 640x480: ABS_X 16409, ABS_Y 16417" eval \
	'grep -aq "Tablet event type=3 code=0 value=16409" "$scratch/linux.out" && grep -aq "Tablet event type=3 code=1 value=16417" "$scratch/linux.out" || { grep -a "input Phyllome Tablet" "$scratch/linux.out" | tap_diag; cat "$scratch/move.out" | tap_diag; false; }'
check "PointerPress BTN_LEFT arrives as key 272" output_has linux "Tablet event type=1 code=272 value=1"
check "PointerScroll down 2: REL_WHEEL -2" output_has linux "Tablet event type=2 code=8 value=-2"
wait "$watcher"
wait_vmm
check "pixels the guest draws after the listener registered arrive through an Update" eval \
	'grep -q "^pixel 200,300 is 00ff00$" "$scratch/damage.out" && grep -q "update 0," "$scratch/damage.out" || { tap_diag < "$scratch/damage.out"; false; }'
check "the guest's mode is the scanout: 640x480, stride 2560" file_has "$scratch/damage.out" "scanout 640x480 stride 2560 format 34325258"
check "the guest powered off once its devices got everything" expect_exit linux 0 "PHYLLOME script done"
tap_done

#!/bin/bash
# The VMM's control channel (org.phyllome.VMM1, peer-to-peer D-Bus on a unix
# socket), spoken to with dbus-python (vmmctl.py): properties, Pause/Resume (the guest stops
# running, then goes on), PowerButton, Reset, Quit, an inherited listening
# socket, GuestPanicked, Screenshot without a display. Tiny guests on any /dev/kvm. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_TINYGUEST:?}"
tiny=(--kernel "$PHYLLOME_TINYGUEST" --memory 64M)
sock=$scratch/control.sock

vmm_call() { /usr/bin/python3 "$here/vmmctl.py" "$sock" call "$1"; }
vmm_prop() { /usr/bin/python3 "$here/vmmctl.py" "$sock" get "$1"; }
ticks() { grep -c "^TINY tick" "$scratch/$1.out"; }

start_vmm tick "${tiny[@]}" --cmdline test=tick --control "$sock"
wait_output tick "^TINY tick 2$" 60
check "the control socket is created, only for its owner (0600)" expect_eq "$(stat -c %a "$sock" 2> /dev/null)" 600
check "State is running" expect_eq "$(vmm_prop State)" running
check "VCPUs and MemoryBytes describe the VM" expect_eq "$(vmm_prop VCPUs) $(vmm_prop MemoryBytes)" "1 67108864"
check "Devices lists the platform devices" expect_eq "$(vmm_prop Devices | tr "\n" ,)" "COM1,i8042,RTC,ACPI PM,pvpanic,PCIe host bridge,virtio-rng,"
/usr/bin/python3 "$here/vmmctl.py" "$sock" screenshot "$scratch/none.png" > "$scratch/shot.out" 2>&1
check "Screenshot of a VM without a display: NoDisplay" \
	grep -q "org.phyllome.VMM1.Error.NoDisplay: The VM has no display" "$scratch/shot.out"
# (Into a pipe whose reader could stop reading and hold the monitor's main loop.)
/usr/bin/python3 "$here/vmmctl.py" "$sock" screenshot /proc/self/fd/1 2> "$scratch/shot-pipe.out" | cat > /dev/null
check "Screenshot into a pipe is refused" \
	eval 'grep -q "InvalidArgs: Screenshot writes to a regular file" "$scratch/shot-pipe.out" ||
		{ tap_diag < "$scratch/shot-pipe.out"; false; }'
vmm_call Pause > "$scratch/pause.out" 2>&1
check "Pause replies" [ $? = 0 ]
check "State is paused" expect_eq "$(vmm_prop State)" paused
before=$(ticks tick)
sleep 2
after=$(ticks tick)
check "a paused guest runs no code (no output in 2 s)" expect_eq "$after" "$before"
vmm_call Resume > /dev/null 2>&1
check "Resume: State is running again" expect_eq "$(vmm_prop State)" running
check "Resume: the guest goes on" wait_output tick "^TINY tick $((after + 2))$" 60
vmm_call Quit > /dev/null 2>&1
wait_vmm
check "Quit stops the VM at once (status 5)" expect_exit tick 5 "Stopping the VM at once \(control channel\)"
check "the control socket is removed at exit" [ ! -e "$sock" ]

start_vmm button "${tiny[@]}" --cmdline test=powerbutton --control "$sock"
wait_output button "TINY power button armed" 60
vmm_call PowerButton > /dev/null 2>&1
wait_vmm
check "PowerButton: the guest powers off cleanly (status 0)" expect_exit button 0 "TINY power button pressed"

start_vmm reset "${tiny[@]}" --cmdline test=ignore --control "$sock"
wait_output reset "TINY ignoring" 60
vmm_call Reset > /dev/null 2>&1
wait_vmm
check "Reset: the VM resets (status 3)" expect_exit reset 3 "guest reset the machine"

start_vmm paused_button "${tiny[@]}" --cmdline test=powerbutton --control "$sock"
wait_output paused_button "TINY power button armed" 60
vmm_call Pause > /dev/null 2>&1
vmm_call PowerButton > "$scratch/paused_button.call" 2>&1
check "PowerButton on a paused VM is refused with a named error" \
	grep -q "org.phyllome.VMM1.Error.Paused" "$scratch/paused_button.call"
kill -TERM "$VMM_PID"
wait_output paused_button "Pressing the power button" 10
kill -TERM "$VMM_PID"
wait_vmm
check "a paused VM still stops on the host's signals" [ "$STATUS" = 5 ]

# GuestPanicked: the guest waits for a key, so the watcher listens before the report.
panic_case() {
	local name=$1 test=$2
	start_vmm "$name" "${tiny[@]}" --cmdline "test=$test" --control "$sock" --serial "socket:$scratch/$name.console"
	wait_socket "$sock"
	/usr/bin/python3 "$here/vmmctl.py" "$sock" watch GuestPanicked 60 > "$scratch/$name.signal" 2>&1 &
	watcher=$!
	for i in $(seq 300); do
		grep -q "^watching" "$scratch/$name.signal" && break
		sleep 0.2
	done
	python3 "$here/console-client.py" "$scratch/$name.console" "TINY panic on a key" "x" "" > /dev/null 2>&1
	wait "$watcher"
}

panic_case crash keycrashloaded
check "GuestPanicked(true) when a crash kernel takes over" grep -qx "GuestPanicked true" "$scratch/crash.signal"
grep -qx "GuestPanicked true" "$scratch/crash.signal" || tap_diag < "$scratch/crash.signal"
check "Panicked is true for clients that come later" expect_eq "$(vmm_prop Panicked)" true
check "with a crash kernel the VM keeps running" expect_eq "$(vmm_prop State)" running
vmm_call Quit > /dev/null 2>&1
wait_vmm

panic_case dead keypanic
wait_vmm
check "GuestPanicked(false) when the guest is dead" grep -qx "GuestPanicked false" "$scratch/dead.signal"
grep -qx "GuestPanicked false" "$scratch/dead.signal" || tap_diag < "$scratch/dead.signal"
check "then the VMM stops the VM with status 6" expect_exit dead 6 "The guest kernel panicked$"

# As phyllomed passes it: a listening socket inherited as a file descriptor.
python3 - "$sock" "$PHYLLOME_VMM" "$PHYLLOME_TINYGUEST" > "$scratch/fd.out" 2>&1 << 'PY' &
import socket, subprocess, sys
path, vmm, tiny = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
p = subprocess.Popen([vmm, "--kernel", tiny, "--memory", "64M", "--cmdline", "test=powerbutton",
                      "--control-fd", str(s.fileno())], pass_fds=[s.fileno()], stdin=subprocess.DEVNULL)
print("vmm-pid", p.pid, flush=True)
print("status", p.wait(), flush=True)
PY
fd_pid=$!
wait_socket "$sock"
# A power button pressed before the guest armed its handler is lost, as on
# real hardware: press it once the guest says it listens.
for i in $(seq 300); do
	grep -q "TINY power button armed" "$scratch/fd.out" && break
	sleep 0.2
done
vmm_call PowerButton > /dev/null 2>&1
for i in $(seq 300); do
	kill -0 "$fd_pid" 2> /dev/null || break
	sleep 0.2
done
if kill -0 "$fd_pid" 2> /dev/null; then
	echo "the VM did not power off within 60 s of PowerButton" | tap_diag
	kill -KILL "$(awk '$1 == "vmm-pid" { print $2 }' "$scratch/fd.out")"
fi
wait "$fd_pid"
check "--control-fd: an inherited listening socket serves the API" grep -q "^status 0$" "$scratch/fd.out"
grep -q "^status 0$" "$scratch/fd.out" || tap_diag < "$scratch/fd.out"

tap_done

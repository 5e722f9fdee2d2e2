#!/bin/bash
# phyllome-vmm's platform, exercised by tiny guest programs (tests/tinyguest):
# boot path and command line, serial output and input (stdin and socket),
# SMP start-up of every vCPU, ACPI power-off and reset registers, the i8042
# reset, the pvpanic device, the power button on SIGTERM, hard stops, and a
# triple fault.
# Needs /dev/kvm (any KVM: these guests run a few thousand instructions). Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_TINYGUEST:?}"
tiny() { echo "--kernel $PHYLLOME_TINYGUEST --memory 64M"; }

# shellcheck disable=SC2046
run_vmm poweroff $(tiny) --cmdline "test=poweroff words=arrive"
check "guest ACPI power-off ends the VMM with status 0" expect_exit poweroff 0 "TINY powering off"
check "the command line reaches the guest" output_has poweroff "TINY hello, cmdline: test=poweroff words=arrive$"

# Unconfined: the one exit path a sanitizer build also checks for leaks (see vmm/sandbox.c).
run_vmm unconfined $(tiny) --cmdline "test=poweroff" --sandbox off
check "--sandbox off: the guest powers off (status 0)" expect_exit unconfined 0 "TINY powering off"

# As phyllomed runs it: the kernel and /dev/kvm arrive as inherited file descriptors.
run_vmm fds --kernel fd:3 --kvm-fd 4 --cmdline "test=poweroff" 3< "$PHYLLOME_TINYGUEST" 4<> /dev/kvm
check "kernel and /dev/kvm from inherited file descriptors (fd:N, --kvm-fd)" expect_exit fds 0 "TINY powering off"

# A firmware instead of a kernel: real mode at the reset vector, fw_cfg by port and by DMA.
fw=${PHYLLOME_TINYFIRMWARE:?}
firmware_checks=("--firmware: the image runs from the reset vector and powers off (status 0)"
	"--firmware: fw_cfg's signature, its directory by DMA, and etc/e820's RAM below 4 GiB"
	"--firmware from an inherited file descriptor"
	"--firmware without --nvram: no flash below it"
	"--nvram: the firmware finds a flash (status 00), programs a byte (80) and erases a block"
	"--nvram: what it wrote is in the file, nothing else changed")
if [ -d /sys/module/kvm_pvm ]; then
	# The software kvm_pvm runs 64-bit paravirtualized guests only: no real mode.
	for c in "${firmware_checks[@]}"; do
		tap_skip "$c" "this host's KVM is kvm_pvm, which has no real mode for a reset vector"
	done
else
	run_vmm firmware --firmware "$fw" --memory 64M
	check "${firmware_checks[0]}" expect_exit firmware 0 "^TINYFW powering off"
	check "${firmware_checks[1]}" output_has firmware "^TINYFW fw_cfg=QEMU dma=ok files=06 e820=0000000400000000"
	run_vmm firmwarefd --firmware fd:3 --kvm-fd 4 --memory 64M 3< "$fw" 4<> /dev/kvm
	check "${firmware_checks[2]}" expect_exit firmwarefd 0 "^TINYFW powering off"
	check "--firmware without --nvram: no flash below it" output_has firmware "^TINYFW no flash"
	# The variables' flash: OVMF's probe, a program and an erase, in the file afterwards.
	head -c 65536 /dev/zero > "$scratch/nvram.bin"
	run_vmm nvram --firmware "$fw" --nvram "$scratch/nvram.bin" --memory 64M
	check "--nvram: the firmware finds a flash (status 00), programs a byte (80) and erases a block" \
		output_has nvram "^TINYFW flash status=00 program=80 byte=5a erased=ff"
	check "--nvram: what it wrote is in the file, nothing else changed" \
		python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
sys.exit(not (len(d) == 65536 and d[0] == 0x5a and d[0x1000] == ord("P") and d[0x1001:0x2000] == b"\xff" * 0xfff
	and d[1:0x1000] == bytes(0xfff) and d[0x2000:] == bytes(65536 - 0x2000)))' "$scratch/nvram.bin"
fi

run_vmm reset $(tiny) --cmdline test=reset
check "ACPI reset register ends the VMM with status 3" expect_exit reset 3 "guest reset the machine"

run_vmm kbdreset $(tiny) --cmdline test=kbdreset
check "i8042 reset ends the VMM with status 3" expect_exit kbdreset 3 "guest reset the machine"

run_vmm triple $(tiny) --cmdline test=triplefault
check "a triple fault ends the VMM with status 4 and says so" expect_exit triple 4 "triple-faulted"

run_vmm panic $(tiny) --cmdline test=panic
check "a guest's pvpanic report ends the VMM with status 6 and says so" \
	expect_exit panic 6 "The guest kernel panicked$"
check "the pvpanic port tells the guest it understands panicked and crash-loaded" \
	output_has panic "TINY pvpanic supports 3$"

for cpus in 1 2 4 8; do
	run_vmm "smp$cpus" $(tiny) --cpus "$cpus" --cmdline test=smp
	check "$cpus vCPUs: MADT lists $cpus and all of them start" expect_exit "smp$cpus" 0 "TINY cpus=$cpus started=$cpus\$"
done

printf 'hello from stdin\nquit\n' > "$scratch/input"
VMM_STDIN=$scratch/input run_vmm echo_stdin $(tiny) --cmdline test=echo
check "serial input from stdin raises the UART interrupt and is read" expect_exit echo_stdin 0 "TINY echo: HELLO FROM STDIN"

sock=$scratch/console.sock
start_vmm echo_socket $(tiny) --cmdline test=echo --serial "socket:$sock"
python3 "$here/console-client.py" "$sock" "TINY echo ready" "typed into the socket" "TINY echo: TYPED INTO THE SOCKET" \
	> "$scratch/client.out" 2>&1
client=$?
(python3 "$here/console-client.py" "$sock" "TINY echo: TYPED" "quit" "" > /dev/null 2>&1 || true)
wait_vmm
check "a console socket client reads the output and types input" [ "$client" = 0 ]
[ "$client" = 0 ] || tap_diag < "$scratch/client.out"
check "the console socket VM powers off (status 0)" [ "$STATUS" = 0 ]
check "the console socket is removed at exit" [ ! -e "$sock" ]

run_vmm serial_file $(tiny) --cmdline test=poweroff --serial "file:$scratch/console.log"
check "--serial file: writes the console to the file" grep -q "TINY powering off" "$scratch/console.log"

start_vmm button $(tiny) --cmdline test=powerbutton
wait_output button "TINY power button armed" 30
kill -TERM "$VMM_PID"
wait_vmm
check "SIGTERM presses the ACPI power button (GED interrupt) and the guest powers off" \
	expect_exit button 0 "TINY power button pressed"

# guest_ram_aligned PID MIB: the monitor's guest RAM (the one mapping of MIB MiB) starts on a
# 2 MiB boundary: otherwise KVM maps it with 4 KiB pages only (a Debian guest then took 19
# times QEMU's nested page faults) and transparent huge pages cannot back it.
guest_ram_aligned() {
	local start end
	while IFS='- ' read -r start end _; do
		if [ $((0x$end - 0x$start)) -eq $(($2 << 20)) ]; then
			[ $((0x$start % (2 << 20))) -eq 0 ] && return 0
			echo "guest RAM at 0x$start, not 2 MiB-aligned" | tap_diag
			return 1
		fi
	done < "/proc/$1/maps"
	echo "no $2 MiB mapping in /proc/$1/maps" | tap_diag
	return 1
}

# no_huge_stacks PID: no thread of the monitor but the main one (vCPUs, the device thread)
# has a transparent huge page in its stack (found through the stack pointer in its
# /proc/PID/task/TID/syscall): glibc's 8 MiB default stack cost a whole 2 MiB page of RSS
# at its first touch. (The mapping may be larger than the stack where a neighbour merged
# into it; what counts is the huge page.)
no_huge_stacks() {
	local task sp start end huge found=0
	for task in /proc/"$1"/task/*; do
		[ "${task##*/}" = "$1" ] && continue
		sp=$(awk 'NF >= 9 {print $(NF - 1)}' "$task/syscall" 2> /dev/null)
		[ -n "$sp" ] || continue
		while IFS='- ' read -r start end _; do
			[ $((0x$start)) -le $((sp)) ] && [ $((sp)) -lt $((0x$end)) ] || continue
			found=$((found + 1))
			huge=$(awk -v range="$start-$end" '$1 == range {inside = 1; next}
				inside && /^AnonHugePages:/ {print $2; exit}' "/proc/$1/smaps")
			if [ "${huge:-0}" != 0 ]; then
				echo "thread ${task##*/}: ${huge} KiB of huge pages in its stack ($(((0x$end - 0x$start) >> 10)) KiB)" | tap_diag
				return 1
			fi
		done < "/proc/$1/maps"
	done
	[ "$found" -ge 2 ] && return 0
	echo "found the stacks of $found threads, expected at least 2 (vCPU, device)" | tap_diag
	return 1
}

start_vmm ignore_timeout $(tiny) --cmdline test=ignore --shutdown-timeout 1
wait_output ignore_timeout "TINY ignoring" 30
check "guest RAM is mapped on a 2 MiB boundary (huge pages for KVM and THP)" guest_ram_aligned "$VMM_PID" 64
check "no huge page in the stacks of the monitor's threads" no_huge_stacks "$VMM_PID"
kill -TERM "$VMM_PID"
wait_vmm
check "a guest that ignores the power button is stopped after --shutdown-timeout (status 5)" \
	expect_exit ignore_timeout 5 "did not power off within 1 s"

start_vmm ignore_twice $(tiny) --cmdline test=ignore --shutdown-timeout 600
wait_output ignore_twice "TINY ignoring" 30
kill -TERM "$VMM_PID"
wait_output ignore_twice "Pressing the power button" 30
kill -TERM "$VMM_PID"
wait_vmm
check "a second SIGTERM stops the VM at once (status 5)" expect_exit ignore_twice 5 "Stopping the VM at once"

tap_done

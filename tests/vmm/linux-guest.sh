#!/bin/bash
# phyllome-vmm boots the Linux test guest (Debian's cloud kernel + a busybox
# initramfs, tests/guest) under real KVM: vCPU counts, memory sizes (also
# across the 32-bit hole), command line, initrd, power-off, reboot, a clean
# shutdown through the ACPI power button on SIGTERM, a kernel panic reported
# through pvpanic, and a pause its clock does not see. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-600}
guest="--kernel $PHYLLOME_GUEST_DIR/vmlinuz --initrd $PHYLLOME_GUEST_DIR/initrd.img"
base_cmdline="console=ttyS0 quiet panic=-1"

# memtotal_ok NAME MIB: MemTotal is what the VM was given, less what the kernel keeps (< 20%).
memtotal_ok() {
	local kb
	kb=$(sed -n 's/^PHYLLOME memtotal_kb=//p' "$scratch/$1.out" | tr -d '\r')
	[ -n "$kb" ] && [ "$kb" -le $(($2 * 1024)) ] && [ "$kb" -ge $(($2 * 1024 * 80 / 100)) ] && return 0
	echo "MemTotal ${kb:-missing} kB for a ${2} MiB VM" | tap_diag
	return 1
}

boot_and_check() { # NAME CPUS MIB ACTION STATUS PATTERN
	local name=$1 cpus=$2 mib=$3 action=$4 status=$5 pattern=$6
	# shellcheck disable=SC2086
	run_vmm "$name" $guest --cpus "$cpus" --memory "${mib}M" \
		--cmdline "$base_cmdline phyllome.action=$action phyllome.marker=MARK-$name extra.word=42"
	check "$name: $cpus vCPUs, $mib MiB: exits with status $status" expect_exit "$name" "$status" "$pattern"
	check "$name: the initrd's /init ran and printed its marker" output_has "$name" "^MARK-$name"
	check "$name: the guest sees $cpus CPUs" output_has "$name" "^PHYLLOME cpus=$cpus"
	check "$name: the guest's MemTotal matches $mib MiB" memtotal_ok "$name" "$mib"
	check "$name: the command line arrives" output_has "$name" "^PHYLLOME cmdline=.*extra.word=42"
}

# rtc_ok NAME FROM TO: the guest's RTC (rtc_cmos) read a time between FROM and TO (host seconds).
rtc_ok() {
	local line epoch
	line=$(grep -a -m1 '^PHYLLOME rtc=' "$scratch/$1.out" | tr -d '\r')
	epoch=${line##*since_epoch=}
	case $line in
	"PHYLLOME rtc=rtc_cmos "*) [ -n "$epoch" ] && [ "$epoch" -ge $(($2 - 2)) ] && [ "$epoch" -le $(($3 + 2)) ] && return 0 ;;
	esac
	echo "the guest's RTC: '${line:-no line}'; the host's clock ran from $2 to $3" | tap_diag
	return 1
}

rtc_from=$(date +%s)
boot_and_check small 1 256 poweroff 0 "^PHYLLOME powering off"
check "small: the guest's rtc_cmos reads the host's UTC" rtc_ok small "$rtc_from" "$(date +%s)"
check "small: virtio-rng is a PCI device (1af4:1044) bound to virtio-pci" \
	output_has small "^PHYLLOME pci 0000:00:0[0-9a-f].0 0x1af4:0x1044 driver=virtio-pci"
check "small: 00:00.0 is the PCIe host bridge (1b36:0008)" output_has small "^PHYLLOME pci 0000:00:00.0 0x1b36:0x0008"
check "small: the kernel's early check of the 0xcf8 config mechanism passes" \
	sh -c "! grep -q 'No config space access function found' '$scratch/small.out'"
check "small: /dev/hwrng is virtio-rng" output_has small "^PHYLLOME hwrng=virtio_rng"
check "small: /dev/hwrng gives 32 bytes" output_has small "^PHYLLOME hwrng-bytes=[0-9a-f]{64}"
boot_and_check reboot 2 512 reboot 3 "^PHYLLOME rebooting"
check "reboot: the VMM reports the guest's reset" output_has reboot "guest reset the machine"
boot_and_check high 2 3584 poweroff 0 "^PHYLLOME powering off"

# shellcheck disable=SC2086
start_vmm button $guest --cpus 4 --memory 1G --cmdline "$base_cmdline phyllome.action=wait"
if wait_output button "^PHYLLOME-GUEST-READY" 300; then
	kill -TERM "$VMM_PID"
fi
wait_vmm
check "SIGTERM: 4 vCPUs up, the power button shuts the guest down cleanly (status 0)" \
	expect_exit button 0 "^PHYLLOME power button pressed: shutting down"
check "SIGTERM: the guest kernel reached ACPI S5" output_has button "system sleep state S5|reboot: Power down"
check "SIGTERM: the guest saw 4 CPUs" output_has button "^PHYLLOME cpus=4"

# pvpanic: the guest's driver binds to the ACPI device, and a kernel panic is
# announced on the control channel and ends the VM with status 6.
sock=$scratch/control.sock
# shellcheck disable=SC2086
start_vmm panic $guest --memory 256M --control "$sock" --cmdline "console=ttyS0 quiet panic=0 phyllome.action=panic"
wait_socket "$sock"
# The guest takes seconds to boot: the watcher listens long before it panics.
/usr/bin/python3 "$here/vmmctl.py" "$sock" watch GuestPanicked 300 > "$scratch/panic.signal" 2>&1
wait_vmm
check "panic: the guest's pvpanic driver binds to the ACPI device" output_has panic "^PHYLLOME pvpanic bound"
check "panic: a guest kernel panic (sysrq c) is announced as GuestPanicked(false)" \
	grep -qx "GuestPanicked false" "$scratch/panic.signal"
grep -qx "GuestPanicked false" "$scratch/panic.signal" || tap_diag < "$scratch/panic.signal"
check "panic: then the VMM ends with status 6" expect_exit panic 6 "The guest kernel panicked$"
check "panic: the guest's own panic message is on the console" output_has panic "Kernel panic - not syncing"

# Pause and Resume: while paused the guest's clock stands still, so its uptime
# goes on from where it stopped, and its watchdogs keep quiet.
# shellcheck disable=SC2086
start_vmm clock $guest --cpus 2 --memory 256M --control "$sock" \
	--cmdline "$base_cmdline phyllome.action=uptime"
uptime_lines() { grep -c "^PHYLLOME uptime" "$scratch/clock.out"; }
last_uptime() { sed -n 's/^PHYLLOME uptime \([0-9.]*\).*/\1/p' "$scratch/clock.out" | tail -n 1; }
wait_output clock "^PHYLLOME uptime" 300
sleep 3
/usr/bin/python3 "$here/vmmctl.py" "$sock" call Pause > /dev/null 2>&1
before_lines=$(uptime_lines)
before=$(last_uptime)
sleep 15
paused_lines=$(uptime_lines)
/usr/bin/python3 "$here/vmmctl.py" "$sock" call Resume > /dev/null 2>&1
for i in $(seq 150); do
	[ "$(uptime_lines)" -ge $((paused_lines + 3)) ] && break
	sleep 0.2
done
after=$(sed -n 's/^PHYLLOME uptime \([0-9.]*\).*/\1/p' "$scratch/clock.out" | sed -n "$((paused_lines + 1))p")
check "pause: no uptime line while paused for 15 s" [ "$paused_lines" -le $((before_lines + 1)) ]
check "resume: the guest goes on printing its uptime" [ "$(uptime_lines)" -ge $((paused_lines + 3)) ]
clock_ok() {
	awk -v a="$before" -v b="$after" 'BEGIN { exit !(a != "" && b != "" && b - a < 6) }' && return 0
	echo "uptime $before before the 15 s pause, ${after:-nothing} after it" | tap_diag
	return 1
}
echo "guest uptime ${before:-?} s at the pause, ${after:-?} s at its first line after 15 s paused" | tap_diag
check "resume: the guest's clock did not jump over the 15 s pause" clock_ok
check "resume: no soft lockup or clocksource complaints from the guest" \
	sh -c "! grep -qiE 'soft lockup|clocksource.*unstable|rcu_sched self-detected' '$scratch/clock.out'"
/usr/bin/python3 "$here/vmmctl.py" "$sock" call Quit > /dev/null 2>&1
wait_vmm

tap_done

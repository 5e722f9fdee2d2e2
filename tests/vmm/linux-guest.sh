#!/bin/bash
# phyllome-vmm boots the Linux test guest (Debian's cloud kernel + a busybox
# initramfs, tests/guest) under real KVM: vCPU counts, memory sizes (also
# across the 32-bit hole), command line, initrd, power-off, reboot, and a
# clean shutdown through the ACPI power button on SIGTERM. Prints TAP.
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

boot_and_check small 1 256 poweroff 0 "^PHYLLOME powering off"
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

tap_done

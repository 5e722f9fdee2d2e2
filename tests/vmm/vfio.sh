#!/bin/bash
# A host PCI device given to the Linux test guest through VFIO, under real
# KVM: QEMU's edu device in the test-host VM, alone in its group behind an
# emulated Intel IOMMU (kvm-suite.sh gets the hardware from KVMHOST_ARGS).
# The guest finds 1234:11e8, reads its identification register and
# round-trips the liveness register through its BAR (a KVM memory slot over
# the device's mmapped BAR), DMAs 2 KiB into the device and back into
# another page of guest RAM through the IOMMU, takes the device's INTx
# interrupt through uio_pci_generic and reads its expansion ROM. Bad
# addresses and a device not bound to vfio-pci are refused with clear
# errors; phyllomed's passthrough code moves the device and gives it back.
# Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-600}
guest="--kernel $PHYLLOME_GUEST_DIR/vmlinuz --initrd $PHYLLOME_GUEST_DIR/initrd.img"

edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2> /dev/null)" = 0x1234 ] && [ "$(cat "$d/device" 2> /dev/null)" = 0x11e8 ] && edu=${d##*/}
done
[ -n "$edu" ] || { echo "1..0 # SKIP no edu PCI device here (it is the test-host VM's, with KVMHOST_ARGS)"; exit 0; }
sysdev=/sys/bus/pci/devices/$edu
[ -e "$sysdev/iommu_group" ] || { echo "1..0 # SKIP $edu has no IOMMU group (no IOMMU)"; exit 0; }
modprobe vfio-pci 2> /dev/null
group=$(basename "$(readlink "$sysdev/iommu_group")")
driver_of() { basename "$(readlink "$sysdev/driver" 2> /dev/null)" 2> /dev/null; }
original_driver=$(driver_of)

rebind() { # rebind DRIVER|"": driver_override, unbind, probe
	echo "$1" > "$sysdev/driver_override"
	[ -e "$sysdev/driver" ] && echo "$edu" > "$sysdev/driver/unbind"
	echo "$edu" > /sys/bus/pci/drivers_probe
}
restore() {
	rebind ""
	cleanup_scratch
}
trap restore EXIT

cat > "$scratch/edu.script" << 'GUEST'
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && dev=$d
done
echo "PHYLLOME edu-found=${dev##*/}"
echo "PHYLLOME edu-irq-line=$(cat "$dev/irq")"
echo "1234 11e8" > /sys/bus/pci/drivers/uio_pci_generic/new_id
echo "PHYLLOME edu-driver=$(basename "$(readlink "$dev/driver")")"
guest-tool edu "$dev"
if [ -e "$dev/rom" ] && echo 1 > "$dev/rom"; then
	echo "PHYLLOME edu-rom=$(md5sum < "$dev/rom" | cut -d' ' -f1)"
	echo 0 > "$dev/rom"
fi
dmesg | grep -iE 'uio|00:03|GSI|INT [A-D]|irq' | tail -n 12 | sed 's/^/PHYLLOME dmesg: /'
grep -E 'uio|IO-APIC' /proc/interrupts | sed 's/^/PHYLLOME interrupts: /'
exit 0
GUEST
truncate -s %4096 "$scratch/edu.script"
script_disk="--disk $scratch/edu.script,readonly,serial=phyllome-script"
guest_value() { sed -n "s/^PHYLLOME $1=//p" "$scratch/edu.out" | tr -d '\r' | head -n 1; }

# ---- refused before anything is set up ----
run_vmm nodev $guest --vfio 0000:00:1f.7
check "a device that does not exist is refused by name" expect_exit nodev 2 "no PCI device 0000:00:1f.7"
rebind ""
run_vmm unbound $guest --vfio "$edu"
check "a device not bound to vfio-pci is refused, with what to do" \
	expect_exit unbound 2 "is (bound to [a-z_-]+|without a driver), not vfio-pci: bind it to vfio-pci first"

# ---- the device in the guest ----
rebind vfio-pci
check "the test bound $edu to vfio-pci (group $group)" [ "$(driver_of)" = vfio-pci ]
exec 8< /dev/null
run_vmm notgroup $guest --vfio "group-fd=8,device=$edu"
exec 8<&-
check "a group fd that is no VFIO group is refused" expect_exit notgroup 2 "is this a VFIO group"
# shellcheck disable=SC2086
run_vmm edu $guest -v --memory 256M --cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" \
	--vfio "$edu" $script_disk
check "the guest runs its script and powers off (status 0)" expect_exit edu 0 "^PHYLLOME script status=0"
check "the monitor put it on its bus with INTx and MSI" output_has edu "host device $edu \(1234:11e8\) at 00:[0-9a-f]{2}\.0: INTx MSI"
check "its 1 MiB BAR 0 is mapped into the guest (a KVM memory slot), not trapped" \
	output_has edu "host device $edu: BAR 0, 1024 KiB, mapped into the guest"
if [ -n "${EDU_ROM:-}" ]; then
	check "its expansion ROM is offered" output_has edu "host device $edu: expansion ROM, 4096 bytes"
	check "the guest reads the ROM byte for byte (sysfs rom, through a trapped ROM BAR)" \
		[ "$(guest_value edu-rom)" = "$(md5sum < "$EDU_ROM" | cut -d' ' -f1)" ]
fi
check "the guest finds 1234:11e8 on its PCI bus" [ -n "$(guest_value edu-found)" ]
line=$(guest_value edu-irq-line)
check "its INTx line is a PCI GSI from the _PRT (20-23): ${line:-none}" [ "${line:-0}" -ge 20 ] && [ "${line:-0}" -le 23 ]
check "uio_pci_generic binds it" [ "$(guest_value edu-driver)" = uio_pci_generic ]
check "the identification register reads 0x010000ed" [ "$(guest_value edu-id)" = 0x010000ed ]
check "the liveness register returns the complement of what was written" \
	[ "$(guest_value edu-liveness)" = 0xedcba987 ]
check "2 KiB DMAed from guest RAM into the device and back into another page match" [ "$(guest_value edu-dma)" = match ]
check "the DMA's completion interrupt reaches the guest" \
	[ "$(guest_value edu-dma-irq | cut -d' ' -f1)" = yes ]
check "an interrupt the guest raises reaches it, status 0x5a" \
	[ "$(guest_value edu-irq0)" = "yes status=0x5a" ]
check "and again after the guest acknowledged it (INTx unmasked at EOI)" \
	[ "$(guest_value edu-irq1)" = "yes status=0x5a" ]
[ "$tap_failed" = 0 ] || tail -n 60 "$scratch/edu.out" | tap_diag

# ---- the group and the container passed open, as phyllomed passes them ----
exec 8<> "/dev/vfio/$group" 7<> /dev/vfio/vfio
run_vmm groupfd $guest -v --memory 256M --cmdline "console=ttyS0 quiet panic=-1" --vfio "group-fd=8,device=$edu" \
	--vfio-container-fd 7
exec 8<&- 7<&-
check "inherited group and container fds work the same (guest boots and powers off)" \
	expect_exit groupfd 0 "host device $edu \(1234:11e8\)"
check "the device stays on vfio-pci after the VMs, for the next one" [ "$(driver_of)" = vfio-pci ]
rebind ""
check "and goes back to its own driver (${original_driver:-none}) when unbound" [ "$(driver_of)" = "$original_driver" ]

# ---- phyllomed's passthrough code (daemon/passthrough.c) on this real sysfs ----
# As a start: the device moved to vfio-pci, the container and its group opened and
# passed as fds 3 and 4; a second run, as after a reboot of the guest, on the
# device still on vfio-pci; as a stop: the device back where it was.
tool=${PHYLLOME_BUILD_DIR:-}/tests/passthrough-run
if [ -x "$tool" ]; then
	# shellcheck disable=SC2086
	"$tool" --runs=2 /sys "$edu" -- "$PHYLLOME_VMM" $guest --memory 256M \
		--cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" $script_disk > "$scratch/take.out" 2>&1
	check "phyllomed's code moves $edu to vfio-pci and passes the container and the group as fds" eval \
		'grep -qx "PASSTHROUGH moved $edu=$original_driver" "$scratch/take.out" &&
		grep -qx "PASSTHROUGH arg --vfio-container-fd=3" "$scratch/take.out" &&
		grep -qx "PASSTHROUGH arg --vfio=group-fd=4,device=$edu" "$scratch/take.out"'
	check "the monitor on those fds gives the guest the device (identification register)" \
		grep -q "PHYLLOME edu-id=0x010000ed" "$scratch/take.out"
	check "between two runs (a reboot of the guest) the device stays on vfio-pci" \
		grep -qx "PASSTHROUGH between-runs $edu vfio-pci" "$scratch/take.out"
	check "the second run keeps it and still knows its own driver (${original_driver:-none}); its guest reads it too" \
		eval 'sed -n "/^PASSTHROUGH run 2$/,\$p" "$scratch/take.out" > "$scratch/run2.out" &&
			grep -qx "PASSTHROUGH moved $edu=$original_driver" "$scratch/run2.out" &&
			grep -q "PHYLLOME edu-id=0x010000ed" "$scratch/run2.out" &&
			[ "$(grep -c "^PASSTHROUGH monitor-status 0$" "$scratch/take.out")" = 2 ]'
	override=$(cat "$sysdev/driver_override")
	check "when it ends the device is back on ${original_driver:-no driver}, driver_override cleared" \
		eval '[ "$(driver_of)" = "$original_driver" ] && { [ "$override" = "(null)" ] || [ -z "$override" ]; }'
	[ "$tap_failed" = 0 ] || tail -n 30 "$scratch/take.out" | tap_diag
else
	tap_skip "phyllomed's passthrough code on a real device" "no passthrough-run in PHYLLOME_BUILD_DIR"
fi
tap_done

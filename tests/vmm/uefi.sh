#!/bin/bash
# phyllome-vmm boots through Debian's OVMF (edk2) under real KVM: the firmware
# reaches its UEFI shell from an empty disk and runs a startup.nsh (no Linux);
# an installed Debian 12 boots from its GPT disk through shim and GRUB with
# Secure Boot on (Microsoft's and Debian's signatures), runs on our ACPI tables,
# adds a boot entry through the firmware's runtime services, and powers off;
# the variable store keeps that entry for the next boots, a SIGKILL of the
# monitor in between too; Secure Boot refuses an unsigned boot loader, which
# boots the same Debian without Secure Boot (systemd-boot).
# The disks come from tests/guest/build-uefi-disks.sh (PHYLLOME_UEFI_DIR).
# Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_UEFI_DIR:?}"
ovmf=${PHYLLOME_OVMF_DIR:-/usr/share/OVMF}
code=$ovmf/OVMF_CODE_4M.fd
# A firmware boot in the emulated test host: the firmware alone about a
# minute, Debian to systemd's "running" three to four.
VMM_DEADLINE=${VMM_DEADLINE:-600}

for f in "$code" "$ovmf/OVMF_VARS_4M.fd" "$ovmf/OVMF_VARS_4M.ms.fd"; do
	[ -s "$f" ] || { echo "1..0 # SKIP $f is missing (apt-get install ovmf)"; exit 0; }
done

# A disk the guest may write: a copy, sparse, so the built one stays as it is.
disk_copy() {
	cp --sparse=always "$PHYLLOME_UEFI_DIR/$1" "$scratch/$1"
	echo "$scratch/$1"
}

# console_text NAME: the VM's console with escape sequences and CRs dropped.
console_text() {
	sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g; s/\r//g' "$scratch/$1.out"
}

# serial_has NAME PATTERN: the console has a line matching PATTERN.
# (grep reads it all: with -q it would stop early, and sed's SIGPIPE fail the pipeline.)
serial_has() {
	console_text "$1" | grep -a -E -e "$2" > /dev/null
}

expect_serial() {
	serial_has "$1" "$2" && return 0
	echo "no /$2/ on the console; the guest's reports and the console's end:" | tap_diag
	console_text "$1" | grep -a 'phyllome-report' | tap_diag
	console_text "$1" | tail -n 30 | tap_diag
	return 1
}

exit_status_is() {
	[ "$STATUS" = "$1" ] && return 0
	echo "exit status $STATUS, not $1" | tap_diag
	return 1
}

report_field() { # NAME FIELD
	sed 's/\r//g' "$scratch/$1.out" | sed -n "s/^.*phyllome-report: state=.* $2=\([^ ]*\).*/\1/p" | tail -n 1
}

field_is() { # NAME FIELD VALUE
	local v
	v=$(report_field "$1" "$2")
	[ "$v" = "$3" ] && return 0
	echo "$2=${v:-missing}, not $3" | tap_diag
	return 1
}

# --- the firmware alone: its shell, a script, power off through the PIIX4 PM block ---
cp "$ovmf/OVMF_VARS_4M.fd" "$scratch/shell-vars.fd"
run_vmm shell --firmware "$code" --nvram "$scratch/shell-vars.fd" --memory 512M \
	--disk "$(disk_copy shell.img)"
check "shell: OVMF starts its UEFI shell on the serial console" expect_serial shell "UEFI Interactive Shell"
check "shell: the shell found the disk's FAT file system (virtio-blk, BARs where OVMF put them)" \
	expect_serial shell "PciRoot\(0x0\)/Pci\(0x[0-9a-f]+,0x0\)/HD\(1,GPT,"
check "shell: startup.nsh from the disk runs" expect_serial shell "^phyllome-shell: startup.nsh runs"
check "shell: 'reset -s' powers the VM off (status 0)" exit_status_is 0

# --- the firmware's screen: the bochs display and virtio-gpu (OVMF's QemuVideoDxe and
# VirtioGpuDxe), seen through the control channel ---
# (No disk: the firmware ends in its shell's prompt, drawn on the display as on COM1.)
# screen_shows_shell PNG: a picture of a mode OVMF sets, mostly black, with grey text and the
# prompt's yellow (red and green, no blue: the channels are in their places).
screen_shows_shell() {
	python3 - "$1" << 'PY' 2>&1 | tap_diag
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
at, idat = 8, b""
while at < len(data):
    n, kind = struct.unpack(">I4s", data[at:at + 8])
    if kind == b"IHDR":
        w, h, depth, colour = struct.unpack(">IIBB", data[at + 8:at + 18])
    if kind == b"IDAT":
        idat += data[at + 8:at + 8 + n]
    at += 12 + n
raw = zlib.decompress(idat)
assert (depth, colour) == (8, 2) and w >= 640 and h >= 480, f"{w}x{h}, depth {depth}, colour {colour}"
rows = [raw[y * (1 + 3 * w) + 1:(y + 1) * (1 + 3 * w)] for y in range(h)]
pixels = [tuple(r[x:x + 3]) for r in rows for x in range(0, 3 * w, 3)]
lit = sum(1 for p in pixels if max(p) > 64)
yellow = sum(1 for (r, g, b) in pixels if r > 160 and g > 160 and b < 100)
print(f"{w}x{h}: {lit} lit pixels, {yellow} yellow")
sys.exit(0 if 500 < lit < w * h // 4 and yellow > 20 else 1)
PY
	return "${PIPESTATUS[0]}"
}
for kind in bochs virtio-gpu; do
	cp "$ovmf/OVMF_VARS_4M.fd" "$scratch/screen-vars.fd"
	start_vmm "screen-$kind" --firmware "$code" --nvram "$scratch/screen-vars.fd" --memory 512M \
		--display "$kind" --control "$scratch/screen.ctl"
	wait_output "screen-$kind" "Shell>" 300
	/usr/bin/python3 "$here/vmmctl.py" "$scratch/screen.ctl" screenshot "$scratch/screen.png" > "$scratch/screenshot.out" 2>&1
	kill -KILL "$VMM_PID"
	wait_vmm
	check "display: OVMF draws its shell on the $kind display; Screenshot gives it as a PNG" \
		eval 'screen_shows_shell "$scratch/screen.png" || { tap_diag < "$scratch/screenshot.out"; false; }'
	rm -f "$scratch/screen.png"
done

# --- Debian 12 through shim and GRUB, Secure Boot on ---
cp "$ovmf/OVMF_VARS_4M.ms.fd" "$scratch/sb-vars.fd"
debian=$(disk_copy debian.img)
uuid=5b0e2a7c-93d1-4c38-9f0e-6d1f2a3b4c5d
run_vmm debian --firmware "$code" --nvram "$scratch/sb-vars.fd" --memory 1G --cpus 2 --disk "$debian" \
	--uuid "$uuid"
check "debian: shim and GRUB boot the signed kernel; systemd reaches 'running', no failed unit" \
	expect_serial debian "phyllome-report: state=running failed=0 "
check "debian: the guest booted through UEFI (/sys/firmware/efi)" field_is debian efi yes
check "debian: the guest reports Secure Boot enabled" field_is debian secureboot yes
check "debian: systemd-detect-virt says kvm" field_is debian virt kvm
check "debian: the OS runs on our ACPI tables (MADT from PHYLLO)" field_is debian acpi_oem PHYLLO
check "debian: the MADT lists both vCPUs" field_is debian cpus 2
check "debian: the SMBIOS tables name the system (sys_vendor)" field_is debian sys_vendor Phyllome
check "debian: the SMBIOS system UUID is the one given (--uuid)" field_is debian product_uuid "$uuid"
check "debian: efibootmgr added a boot entry through the firmware's variable services" \
	expect_serial debian "phyllome-report: boot entry added"
check "debian: the guest powers off cleanly (status 0)" exit_status_is 0

# --- a SIGKILL while the firmware boots leaves the store whole; the variables persist ---
# (Under Secure Boot, Debian's OVMF refuses its own shell too: "Security Violation".)
start_vmm killed --firmware "$code" --nvram "$scratch/sb-vars.fd" --memory 512M --disk "$(disk_copy shell.img)"
wait_output killed "BdsDxe: (failed to start|starting) " 300
kill -KILL "$VMM_PID"
wait_vmm
check "killed: SIGKILL while the firmware tries its boot options (status 137)" exit_status_is 137

# An unsigned boot loader (systemd-boot) is refused; the firmware then waits in its boot manager.
start_vmm unsigned --firmware "$code" --nvram "$scratch/sb-vars.fd" --memory 512M --disk "$(disk_copy unsigned.img)"
wait_output unsigned "Access Denied" 300
kill -KILL "$VMM_PID"
wait_vmm
check "variables persist, through a SIGKILL too: the firmware tries the entry the guest added" \
	expect_serial unsigned "BdsDxe: failed to load Boot[0-9A-F]+ \"phyllome-test\""
check "secure boot: the firmware refuses the unsigned systemd-boot (Access Denied)" \
	expect_serial unsigned "BdsDxe: failed to (load|start) Boot[0-9A-F]+ .*: Access Denied"

# --- the same disk without Secure Boot: systemd-boot boots Debian ---
cp "$ovmf/OVMF_VARS_4M.fd" "$scratch/plain-vars.fd"
run_vmm sdboot --firmware "$code" --nvram "$scratch/plain-vars.fd" --memory 1G --disk "$(disk_copy unsigned.img)"
check "systemd-boot: without Secure Boot it boots Debian to 'running', no failed unit" \
	expect_serial sdboot "phyllome-report: state=running failed=0 "
check "systemd-boot: the guest booted through UEFI, Secure Boot off" \
	eval 'field_is sdboot efi yes && field_is sdboot secureboot no'
check "systemd-boot: the guest powers off cleanly (status 0)" exit_status_is 0

tap_done

#!/bin/bash
# Builds the disks of the UEFI suite from Debian's packages, with no loop device:
# GPT by sfdisk on a sparse file, FAT file systems by mkfs.fat and mtools, the
# root file system the distribution guest's (build-distro.sh) copied in whole.
#
#   build-uefi-disks.sh DISTRO_DIR OUTDIR
#
#   OUTDIR/shell.img   a GPT disk whose EFI system partition holds only a
#                      startup.nsh: the firmware finds no boot loader, its UEFI
#                      shell runs the script (lists the boot entries, powers off)
#   OUTDIR/debian.img  a GPT disk as an installed Debian 12 has it: the ESP with
#                      shim -> GRUB (both signed, Debian's and Microsoft's
#                      signatures) and the signed kernel and initrd, then the
#                      root partition; boots with or without Secure Boot
#   OUTDIR/unsigned.img  its ESP's \EFI\BOOT\BOOTX64.EFI is systemd-boot,
#                      which nobody signed: Secure Boot must refuse it; without
#                      Secure Boot it boots the same Debian
#
# The boot loaders' packages are downloaded (apt-get download, not installed:
# their scripts would touch this machine's boot) and cached in $PHYLLOME_CACHE.
set -euo pipefail

distro=${1:?usage: build-uefi-disks.sh DISTRO_DIR OUTDIR}
out=${2:?usage: build-uefi-disks.sh DISTRO_DIR OUTDIR}
cache=${PHYLLOME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phyllome}/efi-debs
packages=(shim-signed grub-efi-amd64-signed systemd-boot-efi)
esp_mib=64

die() { echo "build-uefi-disks: $*" >&2; exit 1; }
for tool in sfdisk mkfs.fat mcopy mmd dpkg-deb; do
	command -v "$tool" > /dev/null || die "$tool is missing (apt-get install fdisk dosfstools mtools dpkg)"
done
[ -s "$distro/root.img" ] || die "no distribution guest in $distro (tests/guest/build-distro.sh)"

mkdir -p "$cache" "$out"
for p in "${packages[@]}"; do
	ls "$cache/${p}"_*.deb > /dev/null 2>&1 && continue
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$p" > /dev/null) || die "cannot download $p (apt-get update first?)"
done
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
for deb in "$cache"/*.deb; do
	dpkg-deb -x "$deb" "$work/pkgs"
done
shim=$work/pkgs/usr/lib/shim/shimx64.efi.signed
grub=$work/pkgs/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
sdboot=$work/pkgs/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for f in "$shim" "$grub" "$sdboot"; do
	[ -s "$f" ] || die "$f is not in the packages"
done

cmdline="root=LABEL=phyllome-root ro console=ttyS0 phyllome.report=poweroff"
cat > "$work/grub.cfg" << CFG
set timeout=0
menuentry "Debian GNU/Linux" {
	linux /vmlinuz $cmdline phyllome.add-boot-entry
	initrd /initrd.img
}
CFG
# systemd-boot's entry boots the same; only GRUB's (the Secure Boot path) adds a boot entry.
cat > "$work/loader.conf" << 'CFG'
timeout 0
default debian.conf
CFG
cat > "$work/debian.conf" << CFG
title Debian GNU/Linux (systemd-boot)
linux /vmlinuz
initrd /initrd.img
options $cmdline
CFG
# The shell's script: the boot entries (the suite looks for one a guest added), then power off.
printf 'echo phyllome-shell: startup.nsh runs\r\nbcfg boot dump\r\necho phyllome-shell: done\r\nreset -s\r\n' > "$work/startup.nsh"

# make_esp IMAGE FILE:DEST... - a FAT file system holding those files.
make_esp() {
	local image=$1 spec dir path part
	shift
	truncate -s "${esp_mib}M" "$image"
	mkfs.fat -F 32 -n ESP "$image" > /dev/null
	for spec in "$@"; do
		dir=$(dirname "${spec#*:}") path=
		for part in ${dir//\// }; do
			path=$path/$part
			mdir -i "$image" "::$path" > /dev/null 2>&1 || mmd -i "$image" "::$path"
		done
		mcopy -o -i "$image" "${spec%%:*}" "::${spec#*:}"
	done
}

# make_disk IMAGE ESP [ROOT] - GPT: the ESP, then the root partition when given.
make_disk() {
	local image=$1 esp=$2 root=${3:-} esp_sectors root_sectors=0 table
	esp_sectors=$(($(stat -c %s "$esp") / 512))
	[ -n "$root" ] && root_sectors=$(($(stat -c %s "$root") / 512))
	# 1 MiB before the ESP, 1 MiB after the last partition for the backup GPT.
	truncate -s $(((2048 + esp_sectors + root_sectors + 2048) * 512)) "$image"
	table="label: gpt
start=2048, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\""
	[ -n "$root" ] && table="$table
start=$((2048 + esp_sectors)), size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root"
	echo "$table" | sfdisk -q "$image" > /dev/null
	dd if="$esp" of="$image" bs=1M seek=1 conv=notrunc,sparse status=none
	[ -z "$root" ] || dd if="$root" of="$image" bs=1M seek=$((1 + esp_sectors / 2048)) conv=notrunc,sparse status=none
}

make_esp "$work/shell-esp.img" "$work/startup.nsh:/startup.nsh"
make_disk "$work/shell.img" "$work/shell-esp.img"

common=("$distro/vmlinuz:/vmlinuz" "$distro/initrd.img:/initrd.img")
make_esp "$work/debian-esp.img" "${common[@]}" "$shim:/EFI/BOOT/BOOTX64.EFI" \
	"$grub:/EFI/BOOT/grubx64.efi" "$work/grub.cfg:/EFI/BOOT/grub.cfg" "$work/grub.cfg:/EFI/debian/grub.cfg"
make_disk "$work/debian.img" "$work/debian-esp.img" "$distro/root.img"

make_esp "$work/unsigned-esp.img" "${common[@]}" "$sdboot:/EFI/BOOT/BOOTX64.EFI" \
	"$work/loader.conf:/loader/loader.conf" "$work/debian.conf:/loader/entries/debian.conf"
make_disk "$work/unsigned.img" "$work/unsigned-esp.img" "$distro/root.img"

mv "$work/shell.img" "$work/debian.img" "$work/unsigned.img" "$out/"
echo "build-uefi-disks: $out/{shell,debian,unsigned}.img ($(basename "$(ls "$cache"/shim-signed_*.deb)"), $(basename "$(ls "$cache"/grub-efi-amd64-signed_*.deb)"), $(basename "$(ls "$cache"/systemd-boot-efi_*.deb)"))" >&2

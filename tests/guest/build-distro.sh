#!/bin/bash
# Builds the distribution guest: a real Debian 12 system made by debootstrap
# from Debian's packages (systemd, udev, dbus, logind, Debian's cloud kernel
# with its initramfs-tools initrd) on a 2 GiB ext4 image. Unlike the test
# guest (our own /init on busybox), nothing in it was written here but a few
# lines of configuration: it is how a user's VM boots.
#
#   build-distro.sh OUTDIR    writes OUTDIR/vmlinuz, OUTDIR/initrd.img and
#                             OUTDIR/root.img (sparse; the tests boot copies of it)
#
# The guest: root (empty password) logs in on ttyS0; the power button powers
# off (logind); with phyllome.report on the kernel command line,
# phyllome-report.service prints one line when systemd reaches `running`
# (phyllome-report: state=... and systemd's own monotonic timestamps, in
# microseconds since the kernel started), and with phyllome.report=poweroff
# powers off after it.
#
# Needs root (debootstrap, file ownership) and the network, once: the result
# and the downloaded packages are cached in $PHYLLOME_CACHE (default
# ~/.cache/phyllome), keyed by this script's contents.
set -euo pipefail

out=${1:?usage: build-distro.sh OUTDIR}
cache=${PHYLLOME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phyllome}
mirror=${PHYLLOME_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=systemd,systemd-sysv,udev,dbus,libpam-systemd,kmod,procps,linux-image-cloud-amd64,initramfs-tools,efibootmgr
image_mib=2048

die() { echo "build-distro: $*" >&2; exit 1; }

stamp=$(sha256sum < "$0" | cut -c1-16)
built=$cache/distro-$stamp
mkdir -p "$out" "$cache"

install_result() {
	local f
	for f in vmlinuz initrd.img; do
		# A hard link where the cache shares the file system: nothing writes these.
		ln -f "$built/$f" "$out/$f" 2> /dev/null || cp "$built/$f" "$out/$f"
	done
	# A copy: a guest booted on OUTDIR's image must not change the cache's.
	cp --sparse=always --reflink=auto "$built/root.img" "$out/root.img.new"
	mv "$out/root.img.new" "$out/root.img"
	echo "$stamp" > "$out/stamp"
}

if [ "$(cat "$out/stamp" 2> /dev/null)" = "$stamp" ] && [ -s "$out/root.img" ]; then
	exit 0
fi
if [ -s "$built/root.img" ]; then
	install_result
	exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap > /dev/null || die "debootstrap is missing (apt-get install debootstrap)"
# Earlier results only (distro-<16 hex digits>), not a build under way (distro-build.*).
for old in "$cache"/distro-????????????????; do
	[ -e "$old" ] && [ "$old" != "$built" ] && rm -rf "$old"
done

work=$(mktemp -d "$cache/distro-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$cache/debootstrap-debs"
echo "build-distro: debootstrap bookworm ($packages); about 2 minutes on a fresh machine" >&2
if ! debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debootstrap-debs" \
	bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	die "debootstrap failed (its log above)"
fi

echo phyllome-distro > "$root/etc/hostname"
printf '127.0.1.1\tphyllome-distro\n' >> "$root/etc/hosts"
# By label: the same image is the whole of /dev/vda when booted directly and a
# partition of a GPT disk behind a firmware (tests/guest/build-uefi-disks.sh).
printf 'LABEL=phyllome-root\t/\text4\terrors=remount-ro\t0\t1\n' > "$root/etc/fstab"
chroot "$root" passwd -qd root
# No network in these guests: nothing waits for one.
rm -f "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"

cat > "$root/usr/local/sbin/phyllome-report" << 'EOF'
#!/bin/sh
# Waits until systemd has finished booting, then prints its timestamps on the console.
state=$(systemctl is-system-running --wait)
show() { systemctl show -P "$@"; }
failed=$(systemctl list-units --failed --no-legend --plain | wc -l)
# What a firmware boot shows: UEFI, Secure Boot's state (the variable's fifth
# byte), what systemd thinks the machine is, whose ACPI tables the OS runs on,
# what the SMBIOS tables say.
efi=no secureboot=no
if [ -d /sys/firmware/efi ]; then
	efi=yes
	sb=$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2> /dev/null | tr -d ' ')
	[ "$sb" = 1 ] && secureboot=yes
fi
echo "phyllome-report: state=$state failed=$failed" \
	"userspace_us=$(show UserspaceTimestampMonotonic)" \
	"sysinit_us=$(show ActiveEnterTimestampMonotonic sysinit.target)" \
	"finish_us=$(show FinishTimestampMonotonic)" \
	"efi=$efi secureboot=$secureboot virt=$(systemd-detect-virt)" \
	"acpi_oem=$(head -c 16 /sys/firmware/acpi/tables/APIC | tail -c 6)" \
	"cpus=$(grep -c ^processor /proc/cpuinfo)" \
	"sys_vendor=$(cat /sys/class/dmi/id/sys_vendor 2> /dev/null | tr ' ' _)" \
	"product_uuid=$(cat /sys/class/dmi/id/product_uuid 2> /dev/null)" > /dev/console
# A boot entry of our own, through the firmware's runtime variable services: the
# UEFI suite looks for it at the next boot (the variable store must keep it).
case " $(cat /proc/cmdline) " in
*" phyllome.add-boot-entry "*)
	if out=$(efibootmgr -q -c -d /dev/vda -p 1 -L phyllome-test -l '\EFI\BOOT\BOOTX64.EFI' 2>&1); then
		echo "phyllome-report: boot entry added" > /dev/console
	else
		echo "phyllome-report: efibootmgr failed: $out" > /dev/console
	fi ;;
esac
case " $(cat /proc/cmdline) " in
*" phyllome.report=poweroff "*) systemctl poweroff ;;
esac
EOF
chmod 755 "$root/usr/local/sbin/phyllome-report"
cat > "$root/etc/systemd/system/phyllome-report.service" << 'EOF'
[Unit]
Description=Report the end of the boot on the console (Phyllome tests and benchmarks)
ConditionKernelCommandLine=|phyllome.report
ConditionKernelCommandLine=|phyllome.report=poweroff

[Service]
Type=exec
ExecStart=/usr/local/sbin/phyllome-report

[Install]
WantedBy=multi-user.target
EOF
chroot "$root" systemctl enable -q phyllome-report.service

kver=$(basename "$(ls "$root"/boot/vmlinuz-* | tail -n 1)")
kver=${kver#vmlinuz-}
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

truncate -s "${image_mib}M" "$work/root.img"
mkfs.ext4 -q -L phyllome-root -d "$root" "$work/root.img" || die "mkfs.ext4 -d failed"
mkdir "$work/result"
mv "$work/vmlinuz" "$work/initrd.img" "$work/root.img" "$work/result/"
rm -rf "$built"
mv "$work/result" "$built"
install_result
echo "build-distro: $out/root.img (Debian 12, $kver, $(du -m "$out/root.img" | cut -f1) MiB used of $image_mib)" >&2

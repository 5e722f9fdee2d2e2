#!/bin/bash
# Builds the Phyllome test guest from Debian packages only: the kernel of
# linux-image-cloud-amd64 (downloaded and unpacked, never installed) and an
# initramfs of busybox-static, the kernel modules it needs, and tests/guest/init.
#
#   build-guest.sh OUTDIR [PROGRAM...]   writes OUTDIR/vmlinuz and OUTDIR/initrd.img;
#                                        static PROGRAMs go to the guest's /bin
#   build-guest.sh --drm OUTDIR [...]    the same from linux-image-amd64 (the cloud kernel
#                                        has no DRM), with virtio_gpu and bochs, as
#                                        OUTDIR/drm-vmlinuz and OUTDIR/drm-initrd.img
#   build-guest.sh --arm64 OUTDIR [...]  an arm64 guest from linux-image-arm64 (its Image)
#                                        and busybox-static:arm64, as OUTDIR/arm64-vmlinuz and
#                                        OUTDIR/arm64-initrd.img (PROGRAMs must be arm64 ones)
#
# Downloads are cached in $PHYLLOME_CACHE (default ~/.cache/phyllome); an
# existing OUTDIR result is rebuilt only when this script or init changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
flavour=cloud-amd64 prefix= extra_modules= debarch=
# virtio and its transports are modules in Debian's kernels; the power button needs button + evdev;
# uio_pci_generic drives a host device given to the guest (the VFIO suite);
# pvpanic-mmio drives the ACPI pvpanic device (QEMU0001, I/O or MMIO); virtio_input the keyboard
# and tablet the display channel drives.
modules="button evdev pvpanic-mmio virtio_pci virtio_mmio virtio_blk virtio_net virtio_console virtio_rng virtio_input vmw_vsock_virtio_transport uio_pci_generic"
if [ "${1:-}" = --drm ]; then
	flavour=amd64 prefix=drm- extra_modules="virtio_gpu bochs"
	shift
elif [ "${1:-}" = --arm64 ]; then
	# The power button is gpio-keys on the PL061 (the GPIO driver and pl011 are built in).
	flavour=arm64 prefix=arm64- debarch=:arm64
	modules="evdev gpio_keys virtio_pci virtio_blk virtio_net virtio_console virtio_rng virtio_input vmw_vsock_virtio_transport"
	shift
fi
out=${1:?usage: build-guest.sh [--drm] OUTDIR [PROGRAM...]}
shift
programs=("$@")
cache=${PHYLLOME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phyllome}
modules="$modules $extra_modules"

die() { echo "build-guest: $*" >&2; exit 1; }

mkdir -p "$out" "$cache"
stamp=$( (echo "$flavour"; cat "$0" "$here/init" "${programs[@]}") | sha256sum | cut -c1-16)
if [ -s "$out/${prefix}vmlinuz" ] && [ -s "$out/${prefix}initrd.img" ] && [ "$(cat "$out/${prefix}stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

kpkg=$(apt-cache depends "linux-image-$flavour$debarch" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || die "cannot resolve linux-image-$flavour$debarch: run 'apt-get update' first"
kpkg=${kpkg%:*}
kver=${kpkg#linux-image-}
debs_arch=${debarch#:}
debs_arch=${debs_arch:-amd64}

for pkg in "$kpkg" busybox-static; do
	if ! ls "$cache/${pkg}"_*_"$debs_arch".deb > /dev/null 2>&1; then
		echo "build-guest: downloading $pkg$debarch" >&2
		(cd "$cache" && apt-get -q -o APT::Sandbox::User=root download "$pkg$debarch" > /dev/null) ||
			die "apt-get download $pkg$debarch failed"
	fi
done

work=$(mktemp -d "$cache/guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$(ls "$cache/${kpkg}"_*_"$debs_arch".deb | tail -n1)" "$work/k"
dpkg-deb -x "$(ls "$cache"/busybox-static_*_"$debs_arch".deb | tail -n1)" "$work/b"
depmod -b "$work/k" "$kver"

root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib/modules}
cp "$work/b/bin/busybox" "$root/bin/"
if [ -n "$debarch" ]; then
	# A busybox that does not run here links its applets at boot (init).
	ln -sf busybox "$root/bin/sh"
else
	for applet in $("$root/bin/busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
fi
install -m 755 "$here/init" "$root/init"
for p in "${programs[@]}"; do
	install -m 755 "$p" "$root/bin/"
done

: > "$root/lib/modules/load.list"
for m in $modules; do
	modprobe -d "$work/k" -S "$kver" --show-depends "$m" 2>/dev/null | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		name=$(basename "$path")
		grep -qxF "$name" "$root/lib/modules/load.list" && continue
		cp "$path" "$root/lib/modules/"
		echo "$name" >> "$root/lib/modules/load.list"
	done
done
mknod -m 600 "$root/dev/console" c 5 1 2> /dev/null || true

(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out/${prefix}initrd.img.new"
cp "$work/k/boot/vmlinuz-$kver" "$out/${prefix}vmlinuz.new"
mv "$out/${prefix}initrd.img.new" "$out/${prefix}initrd.img"
mv "$out/${prefix}vmlinuz.new" "$out/${prefix}vmlinuz"
echo "$stamp" > "$out/${prefix}stamp"
echo "build-guest: $out/${prefix}vmlinuz ($kver) and $out/${prefix}initrd.img ($(du -k "$out/${prefix}initrd.img" | cut -f1) KiB)" >&2

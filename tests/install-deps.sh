#!/bin/bash
# Installs what a fresh Debian 12 machine lacks to build Phyllome and run its
# tests. Run as root; does nothing when everything is there already.
set -euo pipefail

packages=(
	# build
	meson ninja-build gcc libc6-dev pkg-config binutils
	libglib2.0-dev libglib2.0-bin libpolkit-gobject-1-dev libsystemd-dev libseccomp-dev liburing-dev
	# host devices' names (phyllomed's ListHostDevices)
	libpci-dev pci.ids
	# the libFuzzer harnesses (tests/fuzz)
	clang libclang-rt-14-dev
	# the layout check (tests/check-format.sh, .clang-format)
	clang-format
	# the manual pages (man/), and their check (tests/check-man.sh)
	scdoc man-db groff-base bsdextrautils
	# the Debian packages (debian/) and their test (tests/package)
	dpkg-dev debhelper lintian
	# the daemon's tests: a private systemd with its bus, polkitd and machined (tests/sdbox)
	systemd dbus polkitd systemd-container util-linux bsdutils passwd
	# the Linux test guest and the test-host VM (tests/guest, tests/kvmhost)
	apt dpkg kmod cpio gzip qemu-system-x86
	# the distribution guest (tests/guest/build-distro.sh) and its suite's file system check
	debootstrap e2fsprogs
	# the UEFI suite: Debian's OVMF, the disks' tools (GPT, FAT), and what the test host's
	# patched emulator builds from (tests/kvmhost/outer-qemu: Debian's qemu source package)
	ovmf fdisk dosfstools mtools libpixman-1-dev libfdt-dev libcap-ng-dev
	# the benchmarks' peak RSS (GNU time: a child's own, not what Python held before exec)
	time
	# the GNOME Shell extension's tests: gjs for its model, a headless GNOME Shell 43 (software rendering)
	gjs gnome-shell libgl1-mesa-dri
	# phyllome-viewer (GTK 4.8) and its test: an X server, keys typed into it, its picture read back
	libgtk-4-dev xvfb xauth xdotool gir1.2-gtk-3.0
	# test scripts
	python3 python3-dbus python3-gi coreutils procps
	# the aarch64 cross build (cross/aarch64-linux-gnu.ini) with arm64 libraries through multiarch
	# (libfdt's and polkit's headers are their -dev packages', above: those are not multi-arch),
	# and the arm64 test host it runs in (tests/kvmhost/kvmhost.sh --arch arm64)
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
	libfdt1:arm64 liburing-dev:arm64 libseccomp-dev:arm64 libsystemd-dev:arm64
	libglib2.0-dev:arm64 libpolkit-gobject-1-0:arm64 libpci-dev:arm64
	# dtc, to read the aarch64 device tree (its unit test decodes it with libfdt-dev, above)
	device-tree-compiler
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2> /dev/null | grep -q "ok installed" || missing+=("$p")
done
# build-guest.sh and kvmhost.sh resolve and download Debian's kernels: they need the package lists.
lists_present=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2> /dev/null | head -n 1)

# The arm64 packages above come through multiarch.
arm64_enabled=$(dpkg --print-foreign-architectures | grep -x arm64 || true)
if [ ${#missing[@]} -eq 0 ] && [ -n "$lists_present" ] && [ -n "$arm64_enabled" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${missing[*]:-package lists}; run as root (sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]:-nothing (updating package lists only)}" >&2
export DEBIAN_FRONTEND=noninteractive
[ -n "$arm64_enabled" ] || dpkg --add-architecture arm64
apt-get update -q
[ ${#missing[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/bin/bash
# build.sh CACHE_DIR - builds, once, the emulator that runs the test host for
# firmware guests, and prints its path.
#
# The test host is a KVM host emulated by QEMU's TCG. Debian's QEMU aborts there
# as soon as a guest of the test host writes CR8 while the test host's KVM has a
# virtual interrupt pending (tcg-svm-cr8-bql.patch says why); edk2's OVMF does
# that on every interrupt, Linux never. So the firmware suites run the test host
# in Debian 12's own QEMU, from its source package, with that one fix: x86_64
# system emulation only, with what the test host uses (q35, a serial port,
# virtio-9p), about five minutes on two cores. The peer the benchmarks compare
# against stays the QEMU Debian ships.
#
# Needs deb.debian.org (a private deb-src list; the system's apt sources are
# left as they are), dpkg-dev, gcc, meson, ninja-build, pkg-config and the
# headers of glib, pixman, libfdt and libcap-ng.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$1/outer-qemu
stamp=$(cat "$0" "$here/tcg-svm-cr8-bql.patch" "$here/test-host-devices.mak" | sha256sum | cut -c1-16)
binary=$cache/$stamp/qemu-system-x86_64

mkdir -p "$cache"
exec 9> "$cache/lock"
flock 9
if [ -x "$binary" ]; then
	echo "$binary"
	exit 0
fi

say() { echo "outer-qemu: $*" >&2; }
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
started=$(date +%s)
say "building the test host's emulator (Debian 12's QEMU with the CR8 fix) once, in about 5 minutes"

mkdir -p lists/partial
cat > sources.list <<'LIST'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
LIST
apt_private=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
apt-get -q "${apt_private[@]}" update > apt.log 2>&1 || { cat apt.log >&2; say "cannot read Debian's source lists"; exit 1; }
apt-get -q "${apt_private[@]}" source --download-only qemu > apt.log 2>&1 || { cat apt.log >&2; say "cannot download Debian's qemu source"; exit 1; }
dpkg-source --no-check -x qemu_*.dsc src > dpkg-source.log 2>&1 || { cat dpkg-source.log >&2; exit 1; }
say "$(ls qemu_*.dsc): source unpacked with Debian's patches"
cd src
patch -p1 --forward --quiet < "$here/tcg-svm-cr8-bql.patch" || { say "tcg-svm-cr8-bql.patch does not apply to $(ls ../qemu_*.dsc)"; exit 1; }
cp "$here/test-host-devices.mak" configs/devices/x86_64-softmmu/phyllome-test-host.mak
mkdir build
cd build
# Its BIOS and option ROMs are Debian's qemu-system-data and seabios (kvmhost.sh passes -L:
# QEMU looks for them relative to its own path).
../configure --prefix=/usr --target-list=x86_64-softmmu --without-default-features \
	--without-default-devices --with-devices-x86_64=phyllome-test-host \
	--enable-tcg --enable-virtfs --enable-attr --enable-cap-ng \
	--disable-werror --disable-docs --disable-install-blobs > configure.log 2>&1 ||
	{ tail -n 30 configure.log >&2; say "configure failed"; exit 1; }
ninja -j"$(nproc)" qemu-system-x86_64 > ninja.log 2>&1 || { tail -n 40 ninja.log >&2; say "the build failed"; exit 1; }
mkdir -p "$cache/$stamp"
install -m 0755 qemu-system-x86_64 "$binary.new"
mv "$binary.new" "$binary"
# Earlier builds (another patch or recipe) go.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$stamp" ! -name "build.*" -exec rm -rf {} +
say "built in $(($(date +%s) - started)) s: $binary"
echo "$binary"

#!/bin/bash
# kvmhost.sh - runs a command inside a throw-away test-host VM whose KVM is
# real (kvm_amd on the SVM and nested paging that QEMU's emulator provides),
# with this machine's root file system visible read-only under a tmpfs
# overlay, so the build tree and installed programs are at the same paths.
# It exists because some machines' own /dev/kvm (kvm-pvm) cannot run a Linux
# guest, or there is none at all; on a host with VT-x/AMD-V tests run directly.
#
#   kvmhost.sh run [--rw DIR]... [--smp N] [--mem MiB] -- CMD [ARGS...]
#       Boots the test host (a few seconds), runs CMD as root in the current
#       directory, powers off and exits with CMD's status (124: timed out or
#       the test host died). Writes vanish with the VM except under --rw DIRs.
#       The test host's console goes to stderr, prefixed with "kvmhost| ".
#       --smp defaults to 1: with two vCPUs the test host's nested KVM wedged
#       both of them after a VM ended, in about one run in four.
#       --patched-emulator runs the test host in Debian 12's QEMU with the fix
#       for the CR8 abort that firmware guests meet (outer-qemu/build.sh; built
#       once into the cache, about 5 minutes) instead of the installed one.
#       --arch arm64 runs an arm64 test host instead (qemu-system-aarch64's `virt` at EL2, so
#       its KVM is real): Debian's arm64 kernel, busybox and bash; the command sees this
#       machine's files as the x86 one does, and runs arm64 programs among them (a cross
#       build; the arm64 libraries of Debian's multiarch packages). It must be an arm64 bash
#       or busybox script: /bin/bash and /bin/sh are the test host's, busybox's applets
#       come first in PATH.
#   kvmhost.sh image     (re)builds the test host's kernel and initramfs (KVMHOST_ARCH=arm64:
#                        the arm64 one)
#
# Environment: PHYLLOME_CACHE (default ~/.cache/phyllome), KVMHOST_TIMEOUT (s, default 1800),
# KVMHOST_EMULATOR (the outer QEMU to run, instead of either of the above).
# Needs root, qemu-system-x86 (qemu-system-arm), busybox-static, kmod, cpio, and apt lists
# (apt-get update; for arm64, `dpkg --add-architecture arm64` before it).
set -euo pipefail

arch=${KVMHOST_ARCH:-x86_64}
for a in "$@"; do
	[ "$a" = -- ] && break
	[ "${prev:-}" = --arch ] && arch=$a
	prev=$a
done
cache=${PHYLLOME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phyllome}/kvmhost
if [ "$arch" = arm64 ]; then
	cache=$cache/arm64
	# Debian's arm64 kernel: KVM built in, 9p, overlayfs, vhost as modules.
	flavour=arm64 debarch=:arm64
	modules="tun vhost_net vhost_vsock virtio_pci virtio_net 9p 9pnet_virtio overlay"
else
	# The generic kernel: it has 9p, overlayfs, kvm_amd, vhost and vfio as modules.
	flavour=amd64 debarch=
	modules="kvm_amd tun vhost_net vhost_vsock vfio_pci virtio_pci virtio_net 9p 9pnet_virtio overlay"
fi

die() {
	echo "kvmhost: $*" >&2
	exit 2
}

# The test host's /init: mount the host's root over 9p with a tmpfs overlay, chroot, run the command.
write_init() {
	cat > "$1" <<'INIT'
#!/bin/sh
export PATH=/bin
[ -e /bin/mount ] || /bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
while read -r m; do insmod "/mods/$m" 2>/dev/null || echo "kvmhost: insmod $m failed"; done < /mods.list
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576 host /host || { echo "kvmhost: no host fs"; poweroff -f; }
mount -t tmpfs -o size=75% ovl /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /new
mount --move /dev /new/dev
# devtmpfs has no /dev/fd: bash's process substitution and /dev/stdout need it.
ln -sf /proc/self/fd /new/dev/fd
ln -sf /proc/self/fd/0 /new/dev/stdin
ln -sf /proc/self/fd/1 /new/dev/stdout
ln -sf /proc/self/fd/2 /new/dev/stderr
mount --move /proc /new/proc
mount --move /sys /new/sys
mount -t cgroup2 cgroup2 /new/sys/fs/cgroup 2>/dev/null
# Controllers for the cgroups that tests create (a systemd box sets MemoryMax, TasksMax).
echo "+cpu +memory +pids" > /new/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
# /tmp and /var/tmp stay the host's under the overlay (a build tree may live
# there; writes go to the overlay); /run would mislead tools about services.
mount -t tmpfs tmpfs /new/run
mkdir -p /new/dev/pts /new/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /new/dev/pts
mount -t tmpfs shm /new/dev/shm
cp /kvmhost.cmd /kvmhost.cwd /kvmhost.env /new/run/
# An arm64 test host runs the files of an x86 machine: its own busybox and bash go first.
if [ -d /arm64 ]; then
	mkdir -p /new/run/arm64/bin /new/usr/lib/aarch64-linux-gnu
	cp /bin/busybox /arm64/bash /new/run/arm64/bin/
	for a in $(busybox --list); do
		[ -e "/new/run/arm64/bin/$a" ] || ln -s busybox "/new/run/arm64/bin/$a"
	done
	cp -a /arm64/lib/. /new/usr/lib/aarch64-linux-gnu/
	cp /arm64/bash /new/usr/bin/bash
	ln -sf /run/arm64/bin/busybox /new/usr/bin/sh
	echo 'export PATH=/run/arm64/bin:$PATH' >> /new/run/kvmhost.env
	export PATH=/run/arm64/bin:/usr/bin:/bin
fi
i=0
for arg in $(cat /new/proc/cmdline); do
	case $arg in kvmhost.rw=*)
		dir=${arg#kvmhost.rw=}
		mkdir -p "/new$dir"
		mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576 "rw$i" "/new$dir" || echo "kvmhost: cannot share $dir"
		i=$((i + 1)) ;;
	esac
done
# A heartbeat on the console: when a run never ends, the log shows what the test host was doing.
(
	while sleep 30; do
		echo "kvmhost-heartbeat: load $(cut -d' ' -f1-3 /new/proc/loadavg)"
		chroot /new ps -eo pid,stat,wchan:24,etime,args --sort=start_time 2> /dev/null | tail -n 6 |
			cut -c1-160 | sed 's/^/kvmhost-heartbeat: /'
	done
) &
heartbeat=$!
chroot /new /bin/sh -c 'cd "$(cat /run/kvmhost.cwd)" || cd /; . /run/kvmhost.env; sh /run/kvmhost.cmd'
status=$?
kill $heartbeat 2>/dev/null
echo "KVMHOST-EXIT $status"
sync
echo o > /new/proc/sysrq-trigger
sleep 10
INIT
}

build_image() {
	local work kpkg kver
	mkdir -p "$cache"
	work=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$work"' RETURN
	kpkg=$(apt-cache depends "linux-image-$flavour$debarch" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$kpkg" ] || die "cannot resolve linux-image-$flavour$debarch: run 'apt-get update' first"
	kpkg=${kpkg%:*}
	kver=${kpkg#linux-image-}
	echo "kvmhost: building the test host from $kpkg$debarch" >&2
	(cd "$work" && apt-get -q -o APT::Sandbox::User=root download "$kpkg$debarch" "busybox-static$debarch" > /dev/null) ||
		die "apt-get download failed"
	dpkg-deb -x "$work/${kpkg}"_*.deb "$work/k"
	dpkg-deb -x "$work"/busybox-static_*.deb "$work/b"
	depmod -b "$work/k" "$kver"
	mkdir -p "$work"/r/{bin,dev,proc,sys,mods,host,new,ovl}
	cp "$work/b/bin/busybox" "$work/r/bin/"
	if [ "$arch" = arm64 ]; then
		# Its applets are linked at boot (/init), where this busybox runs.
		ln -sf busybox "$work/r/bin/sh"
		(cd "$work" && apt-get -q -o APT::Sandbox::User=root download bash:arm64 libtinfo6:arm64 > /dev/null) ||
			die "apt-get download of bash:arm64 failed"
		dpkg-deb -x "$work"/bash_*.deb "$work/bash"
		dpkg-deb -x "$work"/libtinfo6_*.deb "$work/tinfo"
		mkdir -p "$work/r/arm64/lib"
		cp "$work/bash/bin/bash" "$work/r/arm64/"
		cp -a "$work"/tinfo/lib/aarch64-linux-gnu/. "$work/r/arm64/lib/"
	else
		for a in $("$work/r/bin/busybox" --list); do
			[ "$a" = busybox ] || ln -sf busybox "$work/r/bin/$a"
		done
	fi
	: > "$work/r/mods.list"
	for m in $modules; do
		modprobe -d "$work/k" -S "$kver" --show-depends "$m" | while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			grep -qxF "$(basename "$path")" "$work/r/mods.list" && continue
			cp "$path" "$work/r/mods/"
			basename "$path" >> "$work/r/mods.list"
		done
	done
	write_init "$work/r/init"
	chmod 755 "$work/r/init"
	mknod -m 600 "$work/r/dev/console" c 5 1
	(cd "$work/r" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$cache/initrd.img.new"
	cp "$work/k/boot/vmlinuz-$kver" "$cache/vmlinuz.new"
	mv "$cache/initrd.img.new" "$cache/initrd.img"
	mv "$cache/vmlinuz.new" "$cache/vmlinuz"
	sha256sum < "$0" > "$cache/stamp"
}

cmd_run() {
	local smp=1 mem=4096 rws=() qemu_args=() extra_append="" i=0 work console status
	local qemu=qemu-system-x86_64 patched=false
	while [ $# -gt 0 ]; do
		case $1 in
		--arch) shift 2 ;; # read above
		--patched-emulator) patched=true; shift ;;
		--rw) rws+=("$(realpath "$2")"); shift 2 ;;
		--qemu-arg) qemu_args+=("$2"); shift 2 ;;
		--append) extra_append="$extra_append $2"; shift 2 ;;
		--smp) smp=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--) shift; break ;;
		*) die "unknown option $1" ;;
		esac
	done
	[ $# -gt 0 ] || die "usage: kvmhost.sh run [--arch arm64] [--rw DIR] [--smp N] [--mem MiB] [--qemu-arg ARG] [--append ARGS] [--patched-emulator] -- CMD..."
	if [ "$arch" = arm64 ]; then
		qemu=qemu-system-aarch64
		command -v $qemu > /dev/null || die "$qemu is missing (apt-get install qemu-system-arm)"
	else
		command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
	fi
	if [ -n "${KVMHOST_EMULATOR:-}" ]; then
		qemu=$KVMHOST_EMULATOR
	elif $patched; then
		qemu=$("$(dirname "$0")/outer-qemu/build.sh" "$cache") || die "cannot build the patched emulator"
		# Its BIOS and option ROMs are Debian's (it looks beside itself otherwise).
		qemu_args+=(-L /usr/share/seabios -L /usr/share/qemu)
	fi
	if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/initrd.img" ] || ! sha256sum < "$0" | cmp -s - "$cache/stamp"; then
		build_image
	fi

	# The command, its directory and environment travel in an initramfs appended to the image.
	work=$(mktemp -d "$cache/run.XXXXXX")
	trap 'rm -rf "$work"' RETURN
	printf '%q ' "$@" > "$work/kvmhost.cmd"
	echo >> "$work/kvmhost.cmd"
	pwd > "$work/kvmhost.cwd"
	export -p | sed -n 's/^declare -x /export /p' |
		grep -v -E '^export (PWD|OLDPWD|SHLVL|_|BASH[A-Z_]*|MALLOC_PERTURB_)(=|$)' > "$work/kvmhost.env" || true
	(cd "$work" && printf '%s\n' kvmhost.cmd kvmhost.cwd kvmhost.env | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$work/extra.img"
	cat "$cache/initrd.img" "$work/extra.img" > "$work/initrd.img"

	local fsargs=(-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap")
	local append="console=ttyS0 quiet lpj=4000000 no_timer_check tsc_early_khz=2000000 panic=-1$extra_append"
	# arm64: `virt` with EL2 (virtualization=on) and a GICv3, so the test host's KVM has its
	# vGICv3; pauth-impdef spares the emulator the architected pointer-auth cipher.
	local machine=(-M q35 -cpu max)
	if [ "$arch" = arm64 ]; then
		machine=(-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on)
		append="console=ttyAMA0 quiet panic=-1$extra_append"
	fi
	for dir in "${rws[@]}"; do
		fsargs+=(-virtfs "local,path=$dir,mount_tag=rw$i,security_model=none,multidevs=remap")
		append="$append kvmhost.rw=$dir"
		i=$((i + 1))
	done
	console=$work/console
	# Neither QEMU nor the commands inside run under meson's MALLOC_PERTURB_ (also
	# dropped from kvmhost.env above): with it, the emulated test host wedged (soft
	# lockups on every CPU) in every CI run, and never without it. Which process's
	# memory it disturbs is not known yet.
	timeout "${KVMHOST_TIMEOUT:-1800}" env -u MALLOC_PERTURB_ "$qemu" "${machine[@]}" -accel tcg,thread=multi \
		-smp "$smp" -m "$mem" -nodefaults -no-user-config -display none -serial "file:$console" -no-reboot \
		-kernel "$cache/vmlinuz" -initrd "$work/initrd.img" -append "$append" "${fsargs[@]}" "${qemu_args[@]}" \
		< /dev/null > "$work/qemu.log" 2>&1 || true
	tr -d '\r' < "$console" | grep -v '^KVMHOST-EXIT' | sed 's/^/kvmhost| /' >&2 || true
	status=$(tr -d '\r' < "$console" | sed -n 's/^KVMHOST-EXIT //p' | tail -n 1)
	if [ -z "$status" ]; then
		echo "kvmhost: the test host ended without the command's status (timeout or crash)" >&2
		cat "$work/qemu.log" >&2
		return 124
	fi
	return "$status"
}

[ "$(id -u)" = 0 ] || die "must run as root (it boots a VM with this machine's file system)"
case ${1:-} in
run) shift; cmd_run "$@" ;;
image) build_image ;;
*) echo "usage: kvmhost.sh run [--arch arm64] [--rw DIR] [--smp N] [--mem MiB] [--qemu-arg ARG] [--append ARGS] [--patched-emulator] -- CMD... | image" >&2; exit 2 ;;
esac

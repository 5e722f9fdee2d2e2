#!/bin/bash
# The main job, from a fresh clone of Phyllome on Debian 12: installs the
# build dependencies, builds, builds the Linux test guest and boots it in
# phyllome-vmm with its console on this terminal.
#
#   sudo tests/demo.sh [--cpus N] [--memory SIZE] [EXTRA phyllome-vmm OPTIONS...]
#
# On a terminal the guest gives you a shell ('poweroff -f' ends it, Ctrl-A x
# stops the VM at once); otherwise it reports what it found and powers off.
# Where this machine's KVM cannot run Linux (no VT-x/AMD-V, or a software
# kvm-pvm), it boots the guest inside the test-host VM and says so; its
# console then shows once that VM has finished.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${BUILDDIR:-build}

bash tests/install-deps.sh
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" > /dev/null
ninja -C "$builddir"
ninja -C "$builddir" tests/guest/vmlinuz tests/guest/initrd.img
vmm=$builddir/vmm/phyllome-vmm
guest=$builddir/tests/guest

action=poweroff
[ -t 0 ] && [ -t 1 ] && action=shell
args=(--kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --cpus 2 --memory 512M "$@")

if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
	echo "demo: booting the test guest in phyllome-vmm (${action}); Ctrl-A x stops it" >&2
	exec "$vmm" "${args[@]}" --cmdline "console=ttyS0 quiet phyllome.action=$action"
fi

echo "demo: this machine's KVM cannot run a Linux guest (no hardware virtualization)," >&2
echo "demo: so phyllome-vmm runs inside the test-host VM (QEMU emulating AMD SVM, real kvm_amd)." >&2
echo "demo: that takes about a minute; the guest's console follows as it boots." >&2
out=$(mktemp -d)
touch "$out/console"
# The test host writes the console into a shared folder: follow it live.
tail -f "$out/console" &
tail_pid=$!
trap 'kill "$tail_pid" 2> /dev/null || true; rm -rf "$out"' EXIT
status=0
tests/kvmhost/kvmhost.sh run --rw "$out" -- sh -c \
	'out=$1; shift; "$0" "$@" --serial "file:$out/console" > /dev/null 2> "$out/vmm.log"; echo $? > "$out/status"' \
	"$vmm" "$out" "${args[@]}" --cmdline "console=ttyS0 phyllome.action=poweroff" 2> "$out/kvmhost.log" || status=$?
if [ ! -s "$out/status" ]; then
	echo "demo: the test-host VM failed (status $status):" >&2
	tail -n 30 "$out/kvmhost.log" >&2
	exit 1
fi
sleep 1
kill "$tail_pid" 2> /dev/null || true
cat "$out/vmm.log" >&2
echo "demo: phyllome-vmm exited with status $(cat "$out/status") (0: the guest powered off)" >&2
exit "$(cat "$out/status")"

#!/bin/bash
# The main job, from a fresh clone of Phyllome on Debian 12: installs the
# build dependencies, builds, builds the Linux test guest, and shows the
# manager at work: phyllomed in a private systemd (with its own D-Bus,
# polkitd and machined), a machine of the test guest created, started,
# listed, its console read, stopped through its power button, with
# phyllomectl, each step printed as typed.
#
#   sudo tests/demo.sh                     the manager (about two minutes)
#   sudo tests/demo.sh --vmm [--cpus N] [--memory SIZE] [phyllome-vmm OPTIONS...]
#                                          the bare monitor, its console on this terminal
#
# With --vmm on a terminal the guest gives you a shell ('poweroff -f' ends it,
# Ctrl-A x stops the VM at once); otherwise it reports what it found and
# powers off. Where this machine's KVM cannot run Linux (no VT-x/AMD-V, or a
# software kvm-pvm), either demo runs inside the test-host VM and says so;
# its output is followed live.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
builddir=${BUILDDIR:-build}
mode=manager
if [ "${1:-}" = --vmm ]; then
	mode=vmm
	shift
fi

bash tests/install-deps.sh
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" > /dev/null
ninja -C "$builddir"
ninja -C "$builddir" tests/guest/vmlinuz tests/guest/initrd.img
vmm=$builddir/vmm/phyllome-vmm
guest=$builddir/tests/guest

. tests/kvmhost/hw-kvm.sh

# in_test_host NAME CMD...: runs CMD in the test-host VM with $out shared,
# following $out/NAME.log live; returns CMD's status.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
in_test_host() {
	local name=$1 status=0 tail_pid
	shift
	echo "demo: this machine's KVM cannot run a Linux guest (no hardware virtualization)," >&2
	echo "demo: so it runs inside the test-host VM (QEMU emulating AMD SVM, real kvm_amd);" >&2
	echo "demo: that VM takes a minute to start, then the demo's output follows." >&2
	touch "$out/$name.log"
	tail -f "$out/$name.log" &
	tail_pid=$!
	tests/kvmhost/kvmhost.sh run --rw "$out" --mem 4096 -- sh -c \
		'out=$1 name=$2; shift 2; "$@" > "$out/$name.log" 2>&1; echo $? > "$out/status"' \
		sh "$out" "$name" "$@" 2> "$out/kvmhost.log" || status=$?
	sleep 1
	kill "$tail_pid" 2> /dev/null || true
	if [ ! -s "$out/status" ]; then
		echo "demo: the test-host VM failed (status $status):" >&2
		tail -n 30 "$out/kvmhost.log" >&2
		return 1
	fi
	return "$(cat "$out/status")"
}

if [ "$mode" = manager ]; then
	ninja -C "$builddir" tests/tinyguest/tinyguest.bzImage > /dev/null
	if hw_kvm; then
		exec tests/daemon/demo-manager.sh "$builddir"
	fi
	in_test_host manager tests/daemon/demo-manager.sh "$(realpath "$builddir")"
	exit
fi

action=poweroff
[ -t 0 ] && [ -t 1 ] && action=shell
args=(--kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" --cpus 2 --memory 512M "$@")
if hw_kvm; then
	echo "demo: booting the test guest in phyllome-vmm (${action}); Ctrl-A x stops it" >&2
	exec "$vmm" "${args[@]}" --cmdline "console=ttyS0 quiet phyllome.action=$action"
fi
status=0
in_test_host vmm "$vmm" "${args[@]}" --cmdline "console=ttyS0 phyllome.action=poweroff" || status=$?
echo "demo: phyllome-vmm exited with status $status (0: the guest powered off)" >&2
exit "$status"

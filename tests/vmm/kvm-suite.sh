#!/bin/bash
# Runs a suite that needs KVM where KVM can run it, and passes its TAP through.
#
#   kvm-suite.sh tiny|linux SCRIPT
#
# tiny:  tiny guest programs, which any /dev/kvm runs (also a software kvm-pvm).
# linux: a Linux guest, which needs hardware-style KVM (VT-x/AMD-V, or nested).
# Where: PHYLLOME_KVM_TESTS=direct|kvmhost|auto (meson option kvm_tests). auto
# runs directly when this host can, and otherwise inside the test-host VM
# (tests/kvmhost/kvmhost.sh: QEMU's emulator with nested SVM and real kvm_amd).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=$1
script=$2
where=${PHYLLOME_KVM_TESTS:-auto}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

host_has_hw_virt() {
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]
}

if [ "$where" = auto ]; then
	if host_has_hw_virt || { [ "$kind" = tiny ] && [ -c /dev/kvm ]; }; then
		where=direct
	else
		where=kvmhost
	fi
fi

if [ "$where" = direct ]; then
	[ -c /dev/kvm ] || skip_all "no /dev/kvm on this host"
	echo "# running directly on this host's /dev/kvm"
	exec "$script"
fi

[ "$(id -u)" = 0 ] || skip_all "this host's KVM cannot run the $kind suite and the test-host VM needs root"
command -v qemu-system-x86_64 > /dev/null || skip_all "this host's KVM cannot run the $kind suite and qemu-system-x86_64 is missing"

results=$(mktemp -d "${TMPDIR:-/tmp}/phyllome-kvmhost.XXXXXX")
trap 'rm -rf "$results"' EXIT
mem=4096
[ "$kind" = linux ] && mem=6144
echo "# this host's KVM cannot run the $kind suite: running it inside the test-host VM (kvmhost.sh)"
"$here/../kvmhost/kvmhost.sh" run --rw "$results" --mem "$mem" -- \
	sh -c "\"\$0\" > \"\$1/tap\" 2> \"\$1/stderr\"; echo \$? > \"\$1/status\"" "$script" "$results" \
	2> "$results/kvmhost.log"
host_status=$?
cat "$results/tap" 2> /dev/null
if [ ! -s "$results/status" ]; then
	echo "not ok 1 - the test-host VM did not run the suite (kvmhost.sh status $host_status)"
	echo "1..1"
	tail -n 60 "$results/kvmhost.log" | sed 's/^/# /'
	exit 1
fi
[ -s "$results/stderr" ] && sed 's/^/# stderr: /' "$results/stderr"
exit "$(cat "$results/status")"

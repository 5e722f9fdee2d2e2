#!/bin/bash
# Runs a suite that needs KVM where KVM can run it, and passes its TAP through.
#
#   kvm-suite.sh tiny|linux|arm64 SCRIPT
#
# tiny:  tiny guest programs, which any /dev/kvm runs (also a software kvm-pvm).
# linux: a Linux guest, which needs hardware-style KVM (VT-x/AMD-V, or nested).
# arm64: the aarch64 monitor with an arm64 Linux guest: directly on an arm64 host
#        with /dev/kvm, elsewhere in the arm64 test-host VM (kvmhost.sh --arch arm64).
# Where: PHYLLOME_KVM_TESTS=direct|kvmhost|auto (meson option kvm_tests). auto
# runs directly when this host can, and otherwise inside the test-host VM
# (tests/kvmhost/kvmhost.sh: QEMU's emulator with nested SVM and real kvm_amd).
# KVM_SUITE_NEEDS lists other /dev nodes the suite needs (vhost-vsock, ...): a
# host without one of them runs the suite in the test-host VM, which has them
# all, rather than skip what needs it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=$1
script=$2
where=${PHYLLOME_KVM_TESTS:-auto}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

. "$here/../kvmhost/hw-kvm.sh"

host_has_devices() {
	local d
	for d in ${KVM_SUITE_NEEDS:-}; do
		[ -c "/dev/$d" ] || return 1
	done
}

if [ "$kind" = arm64 ]; then
	[ -x "${PHYLLOME_ARM64_VMM:-}" ] ||
		skip_all "no cross-built aarch64 phyllome-vmm (meson option arm64_vmm; tests/run.sh builds one)"
	if [ "$(uname -m)" = aarch64 ] && [ -c /dev/kvm ] && [ "$where" != kvmhost ]; then
		where=direct
	else
		where=kvmhost
		KVMHOST_ARGS="--arch arm64 ${KVMHOST_ARGS:-}"
	fi
fi
if [ "$where" = auto ]; then
	if { hw_kvm || { [ "$kind" = tiny ] && [ -c /dev/kvm ]; }; } && host_has_devices; then
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
emulator=qemu-system-x86_64
[ "$kind" = arm64 ] && emulator=qemu-system-aarch64
command -v $emulator > /dev/null || skip_all "this host's KVM cannot run the $kind suite and $emulator is missing"

results=$(mktemp -d "${TMPDIR:-/tmp}/phyllome-kvmhost.XXXXXX")
trap 'rm -rf "$results"' EXIT
mem=4096
[ "$kind" = linux ] && mem=6144
[ "$kind" = arm64 ] && mem=2048

# One vCPU for the test host: with two, its nested KVM (SVM emulated by QEMU's
# TCG) wedged both of its CPUs right after a VM ended, in about one suite run
# in four (the heartbeat stopped with them, so it was the test host, not the
# suite); with one it never did in our runs, and the tiny suites ran twice as fast.
# run_in_test_host: 0 when the suite ran to its end (whatever its result).
run_in_test_host() {
	rm -f "$results"/tap "$results"/stderr "$results"/status
	# shellcheck disable=SC2086 # KVMHOST_ARGS: options for kvmhost.sh run (a suite's extra hardware)
	"$here/../kvmhost/kvmhost.sh" run --rw "$results" --mem "$mem" --smp "${KVMHOST_SMP:-1}" ${KVMHOST_ARGS:-} -- \
		sh -c "\"\$0\" < /dev/null > \"\$1/tap\" 2> \"\$1/stderr\"; echo \$? > \"\$1/status\"" "$script" "$results" \
		2> "$results/kvmhost.log"
	host_status=$?
	[ -s "$results/status" ]
}

echo "# this host's KVM cannot run the $kind suite: running it inside the test-host VM (kvmhost.sh)"
if ! run_in_test_host; then
	# The emulated test host itself can wedge (its KVM spinning on both CPUs
	# with soft lockups, seen about once in twenty SMP guest boots); that is
	# the environment, not the suite: say so and run the suite once more.
	echo "# the test-host VM ended without finishing the suite (kvmhost.sh status $host_status); its log ends:"
	grep -E "soft lockup|kvmhost:|kvmhost-heartbeat|Kernel panic" "$results/kvmhost.log" | tail -n 8 | sed 's/^/#   /'
	echo "# it got to:"
	tail -n 3 "$results/tap" 2> /dev/null | sed 's/^/#   /'
	tail -n 3 "$results/stderr" 2> /dev/null | sed 's/^/#   /'
	echo "# running the suite again in a new test-host VM"
	run_in_test_host
fi
if [ ! -s "$results/status" ]; then
	# Keep what the suite got through, then one failure for the rest, so the
	# TAP stays well-formed and the log shows where it stopped.
	grep -vE '^1\.\.[0-9]+' "$results/tap" 2> /dev/null
	done_tests=$(grep -cE '^(ok|not ok) ' "$results/tap" 2> /dev/null)
	next=$((${done_tests:-0} + 1))
	echo "not ok $next - the test-host VM ended before the suite did (kvmhost.sh status $host_status)"
	echo "1..$next"
	[ -s "$results/stderr" ] && tail -n 20 "$results/stderr" | sed 's/^/# stderr: /'
	tail -n 60 "$results/kvmhost.log" | sed 's/^/# /'
	exit 1
fi
cat "$results/tap"
[ -s "$results/stderr" ] && sed 's/^/# stderr: /' "$results/stderr"
exit "$(cat "$results/status")"

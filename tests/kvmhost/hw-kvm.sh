# Sourced by the scripts that choose where a Linux guest runs (the KVM suites,
# tests/run.sh, tests/demo.sh, the benchmarks).
# shellcheck shell=bash

# hw_kvm: this host's KVM runs Linux guests: VT-x or AMD-V behind /dev/kvm, not
# the software kvm_pvm (tiny 64-bit programs only). Elsewhere they run in the
# test-host VM (kvmhost.sh).
hw_kvm() {
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]
}

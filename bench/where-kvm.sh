# Sourced by the benchmarks: where their measurement runs.
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/../tests/kvmhost/hw-kvm.sh"

# bench_in_test_host NAME SMP OUT CMD...: runs CMD inside a test-host VM
# (tests/kvmhost/kvmhost.sh) of SMP CPUs and 4 GiB, with the directory OUT shared
# and writable there; CMD's output is followed here as it comes. Exits with CMD's
# status, showing the end of the test host's log when that is not 0; OUT is
# removed at exit (also when interrupted, with the follower).
bench_in_test_host() {
	local name=$1 smp=$2 out=$3 status=0 tail_pid
	shift 3
	echo "bench/$name: no hardware KVM here; measuring inside the test-host VM (progress follows)" >&2
	touch "$out/result"
	tail -f "$out/result" &
	tail_pid=$!
	# shellcheck disable=SC2064 # the values now: these locals are gone when the trap runs
	trap "kill $tail_pid 2> /dev/null; rm -rf '$out'" EXIT
	# shellcheck disable=SC2016 # expanded by that sh, inside the test host
	# shellcheck disable=SC2086 # BENCH_KVMHOST_ARGS: options for kvmhost.sh run (bench/uefi's emulator)
	tests/kvmhost/kvmhost.sh run --rw "$out" --smp "$smp" --mem 4096 ${BENCH_KVMHOST_ARGS:-} -- \
		sh -c 'out=$0; "$@" > "$out/result" 2>&1' "$out" "$@" 2> "$out/kvmhost.log" || status=$?
	sleep 1
	if [ "$status" != 0 ]; then
		echo "bench/$name: failed (status $status); the test host's log ends:" >&2
		tail -n 40 "$out/kvmhost.log" >&2
	fi
	exit "$status"
}

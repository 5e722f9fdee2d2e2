# TAP output and VMM process helpers, sourced by the test scripts.
# shellcheck shell=bash

tap_count=0
tap_failed=0

tap_ok() {
	tap_count=$((tap_count + 1))
	echo "ok $tap_count - $*"
}

tap_not_ok() {
	tap_count=$((tap_count + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $*"
}

tap_skip() {
	tap_count=$((tap_count + 1))
	echo "ok $tap_count - $1 # SKIP $2"
}

tap_diag() {
	sed 's/^/# /'
}

# check DESCRIPTION COMMAND...: one test point from a command's success.
check() {
	local desc=$1
	shift
	if "$@"; then tap_ok "$desc"; else tap_not_ok "$desc"; fi
}

tap_done() {
	echo "1..$tap_count"
	[ "$tap_failed" = 0 ]
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/phyllome-test.XXXXXX")
vmm_pids=()
cleanup_scratch() {
	local pid
	for pid in "${vmm_pids[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
	rm -rf "$scratch"
}
trap cleanup_scratch EXIT

# start_vmm NAME ARGS...: starts phyllome-vmm in the background with its output
# in $scratch/NAME.out; VMM_PID is its PID (signals go straight to it). After
# VMM_DEADLINE seconds wait_vmm kills it, so a hung VMM cannot hang the suite.
start_vmm() {
	local name=$1
	shift
	"$PHYLLOME_VMM" "$@" > "$scratch/$name.out" 2>&1 < "${VMM_STDIN:-/dev/null}" &
	VMM_PID=$!
	# Progress on stderr: where a suite that never finished got to.
	echo "$(date +%T) started $name (PID $VMM_PID)" >&2
	VMM_NAME=$name
	VMM_STARTED=$SECONDS
	vmm_pids+=("$VMM_PID")
}

# wait_vmm: waits for the last started VMM; STATUS is its exit status.
wait_vmm() {
	local left=$((${VMM_DEADLINE:-300} - (SECONDS - VMM_STARTED)))
	STATUS=0
	[ "$left" -gt 0 ] || left=1
	# tail --pid returns when the process is gone; timeout bounds the wait.
	if ! timeout "$left" tail -s 0.2 --pid="$VMM_PID" -f /dev/null; then
		kill -KILL "$VMM_PID" 2> /dev/null
		echo "(killed after ${VMM_DEADLINE:-300} s)" >> "$scratch/$VMM_NAME.out"
		# A vCPU wedged inside (nested) KVM can make even SIGKILL wait: report it, do not hang.
		if ! timeout 30 tail -s 0.2 --pid="$VMM_PID" -f /dev/null; then
			echo "(still there 30 s after SIGKILL: a vCPU is stuck in the kernel)" >> "$scratch/$VMM_NAME.out"
			STATUS=137
			return
		fi
	fi
	wait "$VMM_PID" || STATUS=$?
}

# run_vmm NAME ARGS...: runs phyllome-vmm to its end; STATUS is its exit status.
run_vmm() {
	start_vmm "$@"
	wait_vmm
}

# wait_output NAME PATTERN SECONDS: waits until the VMM's output has a line matching PATTERN.
wait_output() {
	local file=$scratch/$1.out
	timeout "$3" tail --pid="$VMM_PID" -n +1 -f "$file" 2> /dev/null | grep -q -m1 -E -e "$2"
	grep -q -E -e "$2" "$file"
}

# wait_socket PATH [SECONDS]: waits until the VMM made its socket at PATH (default 10 s).
wait_socket() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# expect_eq GOT EXPECTED: equal, or a diagnostic saying how they differ.
expect_eq() {
	[ "$1" = "$2" ] && return 0
	echo "got '$1', expected '$2'" | tap_diag
	return 1
}

# file_has FILE PATTERN: the file has a line matching PATTERN (else the file goes to the log).
file_has() {
	grep -qaE "$2" "$1" && return 0
	echo "no line matching '$2' in:" | tap_diag
	tap_diag < "$1"
	return 1
}

# output_has NAME PATTERN
output_has() {
	grep -q -E -e "$2" "$scratch/$1.out"
}

# expect_exit NAME STATUS PATTERN: the run ended with STATUS and printed a line matching PATTERN.
expect_exit() {
	local name=$1 want=$2 pattern=$3
	if [ "$STATUS" = "$want" ] && output_has "$name" "$pattern"; then
		return 0
	fi
	echo "expected status $want and /$pattern/, got status $STATUS; output:" | tap_diag
	tail -n 40 "$scratch/$name.out" | tap_diag
	return 1
}

#!/bin/bash
# Builds the libFuzzer targets with clang (AddressSanitizer and UBSan) and runs
# each for a bounded number of inputs from a seed corpus. Prints TAP.
#
#   run-fuzz.sh [RUNS]            bounded run (the test suite's: 200000 inputs each)
#   FUZZ_SECONDS=600 run-fuzz.sh  a longer run, by time
#
# Crashes are kept in $FUZZ_OUT (default: a temporary directory) to reproduce:
#   ./fuzz-virtqueue CRASH-FILE
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
runs=${1:-200000}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/phyllome-fuzz.XXXXXX")}
mkdir -p "$out"

if ! command -v clang > /dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	clang -x c -fsanitize=fuzzer - -o "$out/probe" 2> /dev/null; then
	echo "1..0 # SKIP clang with libFuzzer (clang, libclang-rt-dev) is not installed"
	exit 0
fi

n=0
failed=0
# The VMM's sources each target is built from.
declare -A sources=(
	[virtqueue]="virtio/queue.c virtio/blk-request.c memory.c log.c"
	[blk]="virtio/queue.c virtio/blk-request.c memory.c log.c"
	[fw-cfg]="hw/fw_cfg.c"
	[gpu]="virtio/gpu.c virtio/queue.c display/rect.c display/png.c memory.c util.c log.c"
)
# Each target's own definitions: virtio-gpu's pool, small enough to fill many times a second.
declare -A defines=([gpu]="-DGPU_POOL_SIZE=(4ULL<<20)")
for target in virtqueue blk fw-cfg gpu; do
	n=$((n + 1))
	bin=$out/fuzz-$target
	read -r -a target_sources <<< "${sources[$target]}"
	if ! clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		${defines[$target]:-} -I"$src/vmm" -I"$src/dbus" "$here/fuzz-$target.c" "${target_sources[@]/#/$src/vmm/}" \
		-o "$bin" 2> "$out/build-$target.log"; then
		echo "not ok $n - fuzz-$target builds"
		sed 's/^/# /' "$out/build-$target.log"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$out/corpus-$target"
	python3 "$here/make-seeds-$target.py" "$out/seeds-$target"
	limit=(-runs="$runs")
	[ -n "${FUZZ_SECONDS:-}" ] && limit=(-max_total_time="$FUZZ_SECONDS")
	if (cd "$out" && "$bin" "${limit[@]}" -seed=1 -max_len=4096 -artifact_prefix="$out/" \
		"$out/corpus-$target" "$out/seeds-$target" > "$out/run-$target.log" 2>&1); then
		echo "ok $n - fuzz-$target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$out/run-$target.log" | tail -n 1)s, no crash"
	else
		echo "not ok $n - fuzz-$target found a crash (kept in $out)"
		tail -n 30 "$out/run-$target.log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ -z "${FUZZ_OUT:-}" ] && [ "$failed" = 0 ] && rm -rf "$out"
[ "$failed" = 0 ]

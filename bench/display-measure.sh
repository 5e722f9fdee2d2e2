#!/bin/bash
# bench/display's measurement, where KVM runs Linux: BUILDDIR SECONDS.
set -euo pipefail
build=$1 seconds=$2
work=$(mktemp -d /tmp/phyllome-display-bench.XXXXXX)
vmm_pid=
trap '[ -n "$vmm_pid" ] && kill -KILL "$vmm_pid" 2> /dev/null; rm -rf "$work"' EXIT
width=1920 height=1080

# The guest sets the mode, says so, then draws for SECONDS + 40 (the listener's setup and run).
cat > "$work/guest.script" << SCRIPT
fb=\$(bochs-mode $width $height)
echo "PHYLLOME display on"
guest-tool animate \$((fb)) $((width * height * 4)) $((seconds + 40))
SCRIPT
truncate -s 64K "$work/guest.script"
"$build/vmm/phyllome-vmm" --kernel "$build/tests/guest/vmlinuz" --initrd "$build/tests/guest/initrd.img" \
	--memory 512M --cmdline "console=ttyS0 quiet panic=-1 phyllome.action=script" \
	--disk "$work/guest.script,readonly,serial=phyllome-script" \
	--display bochs --control "$work/control.sock" > "$work/vmm.out" 2>&1 &
vmm_pid=$!
for i in $(seq 600); do
	grep -q "PHYLLOME display on" "$work/vmm.out" && break
	sleep 0.5
done
grep -q "PHYLLOME display on" "$work/vmm.out" || { echo "the guest never turned its display on" >&2; tail -n 20 "$work/vmm.out" >&2; exit 1; }
sleep 2
"$build/tests/display-client" "$work/control.sock" bench "$seconds" | tee "$work/bench.out"
awk '
/^copy per update ms/ { copy = $5 }
/^memcpy of the frame ms/ { memcpy = $6 }
/^updates / { rate = $6 + 0 }
END {
	if (memcpy > 0) {
		printf "a viewer'"'"'s copy of an update / a memcpy of the frame: %.2f\n", copy / memcpy
		printf "updates a second / memcpys of the frame a second: %.3f\n", rate * memcpy / 1000
	}
}' "$work/bench.out"
kill -TERM "$vmm_pid" 2> /dev/null || true
wait "$vmm_pid" 2> /dev/null || true
vmm_pid=

#!/bin/bash
# bench/boot-arm64's measurement, on an arm64 host with KVM (or in the arm64 test host, where
# only bash and busybox run): each monitor boots the guest ROUNDS times, alternating;
# the time from exec to the guest's marker line and to the monitor's exit, by bash's
# EPOCHREALTIME as each line arrives.
#   boot-arm64-measure.sh PHYLLOME_VMM QEMU GUEST_DIR ROUNDS CPUS MEM_MIB
set -uo pipefail
vmm=$1 qemu=$2 guest=$3 rounds=$4 cpus=$5 mem=$6
cmdline="console=ttyAMA0 quiet"
kernel=$guest/arm64-vmlinuz initrd=$guest/arm64-initrd.img

now_us() { echo "${EPOCHREALTIME/./}"; }

# one NAME CMD...: prints "MARKER_MS EXIT_MS" for one boot.
one() {
	local start
	shift
	start=$(now_us)
	"$@" 2>&1 < /dev/null | {
		marker=""
		while IFS= read -r line; do
			[ -z "$marker" ] && [[ $line == *PHYLLOME-GUEST-READY* ]] && marker=$(now_us)
		done
		echo $(((${marker:-0} - start) / 1000)) $((($(now_us) - start) / 1000))
	}
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

phyllome=(one phyllome "$vmm" --kernel "$kernel" --initrd "$initrd" --cpus "$cpus" --memory "${mem}M"
	--cmdline "$cmdline")
# The same machine in QEMU: virt with a GICv3, the guest's virtio-rng, no firmware, no defaults.
qemu=(one qemu "$qemu" -M virt,gic-version=3 -enable-kvm -cpu host -smp "$cpus" -m "$mem" -nodefaults
	-no-user-config -display none -serial stdio -no-reboot -L /usr/share/qemu
	-device virtio-rng-pci -kernel "$kernel" -initrd "$initrd" -append "$cmdline")

echo "# $(uname -m) $(uname -r), $rounds rounds, $cpus vCPU(s), $mem MiB; exec -> marker, exec -> exit (ms)"
"${phyllome[@]}" > /dev/null # warm the page cache for both
: > /tmp/bench-p
: > /tmp/bench-q
for i in $(seq "$rounds"); do
	"${phyllome[@]}" | tee -a /tmp/bench-p | sed "s/^/phyllome-vmm round $i: /"
	"${qemu[@]}" | tee -a /tmp/bench-q | sed "s/^/qemu virt     round $i: /"
done
pm=$(cut -d' ' -f1 /tmp/bench-p | median) pe=$(cut -d' ' -f2 /tmp/bench-p | median)
qm=$(cut -d' ' -f1 /tmp/bench-q | median) qe=$(cut -d' ' -f2 /tmp/bench-q | median)
echo "median to marker: phyllome-vmm $pm ms, qemu-system-aarch64 -M virt $qm ms, ratio $(awk "BEGIN { printf \"%.2f\", $pm / $qm }")"
echo "median to exit:   phyllome-vmm $pe ms, qemu-system-aarch64 -M virt $qe ms, ratio $(awk "BEGIN { printf \"%.2f\", $pe / $qe }")"

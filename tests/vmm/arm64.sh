#!/bin/bash
# The aarch64 monitor (a cross build) under real arm64 KVM, with Debian's arm64
# kernel and a busybox initramfs: boot with 1 and 2 vCPUs, the console both
# ways, virtio-blk, virtio-rng, virtio-net on a tap, the power button, reset,
# panic, the sandbox, and Images and options it must refuse. Runs where an
# arm64 /dev/kvm is (kvm-suite.sh arm64: the arm64 test-host VM here), with
# busybox's tools beside bash. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_ARM64_VMM:?}" "${PHYLLOME_ARM64_GUEST_DIR:?}"
PHYLLOME_VMM=$PHYLLOME_ARM64_VMM
VMM_DEADLINE=${VMM_DEADLINE:-240}
kernel=$PHYLLOME_ARM64_GUEST_DIR/arm64-vmlinuz
guest="--kernel $kernel --initrd $PHYLLOME_ARM64_GUEST_DIR/arm64-initrd.img"
cmdline="console=ttyAMA0 quiet"

# busybox's tail has no --pid: these poll the monitor instead.
wait_vmm() {
	STATUS=0
	while kill -0 "$VMM_PID" 2> /dev/null; do
		if [ $((SECONDS - VMM_STARTED)) -ge "$VMM_DEADLINE" ]; then
			kill -KILL "$VMM_PID" 2> /dev/null
			echo "(killed after $VMM_DEADLINE s)" >> "$scratch/$VMM_NAME.out"
			break
		fi
		sleep 0.2
	done
	wait "$VMM_PID" || STATUS=$?
}

wait_output() { # NAME PATTERN SECONDS
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q -E -e "$2" "$scratch/$1.out" && return 0
		kill -0 "$VMM_PID" 2> /dev/null || break
		sleep 0.2
	done
	grep -q -E -e "$2" "$scratch/$1.out"
}

guest_value() { sed -n "s/^PHYLLOME $2=//p" "$scratch/$1.out" | tr -d '\r' | head -n 1; }

# pad FILE: whole 4 KiB blocks, as a disk image must be.
pad() {
	local size
	size=$(stat -c %s "$1")
	head -c $(((4096 - size % 4096) % 4096)) /dev/zero >> "$1"
}

[ -c /dev/kvm ] || { echo "1..0 # SKIP no arm64 /dev/kvm here"; exit 0; }
echo "# $(uname -m), $(uname -r); monitor $PHYLLOME_VMM"

# --- Boots: the marker, what the guest sees of its machine. ---
for cpus in 1 2; do
	name=boot$cpus
	run_vmm $name $guest --memory 256M --cpus $cpus --cmdline "$cmdline"
	check "$cpus vCPU(s): the guest reaches its marker and powers off, status 0" \
		expect_exit $name 0 "^PHYLLOME-GUEST-READY"
	check "$cpus vCPU(s): the guest counts $cpus CPUs" expect_eq "$(guest_value $name cpus)" "$cpus"
	online=0
	[ $cpus = 2 ] && online=0-1
	check "$cpus vCPU(s): all of them online (PSCI CPU_ON)" expect_eq "$(guest_value $name online)" "$online"
done
mem_kb=$(guest_value boot1 memtotal_kb)
check "the guest sees its 256 MiB of RAM (MemTotal $mem_kb kB)" [ "${mem_kb:-0}" -gt 200000 ] && [ "${mem_kb:-0}" -le 262144 ]
check "the PL011 is the guest's console (ttyAMA0 at 0x9000000)" file_has "$scratch/boot1.out" "^PHYLLOME serial: 0: uart:PL011 rev[0-9]+ mmio:0x09000000"
check "the PL031 is its real-time clock, at the host's time" \
	[ "$(($(guest_value boot1 rtc | sed 's/.*since_epoch=//') - $(date +%s)))" -lt 300 ]
check "the power button is a gpio-keys input device" file_has "$scratch/boot1.out" "^PHYLLOME power button watched on /dev/input/event"
rng=$(guest_value boot1 hwrng-bytes)
check "virtio-rng gives the guest bytes (through an MSI-X vector and the ITS)" [ ${#rng} = 64 ] && [ "$rng" != "$(printf '0%.0s' $(seq 64))" ]
check "virtio-rng is bound by virtio-pci on the ECAM host bridge" file_has "$scratch/boot1.out" "^PHYLLOME pci 0000:00:0[0-9a-f]\.0 0x1af4:0x1044 driver=virtio-pci"

# --- The console both ways: typed lines reach the guest's shell, its answers come back. ---
mkfifo "$scratch/console.in"
VMM_STDIN=$scratch/console.in start_vmm console $guest --memory 256M --cmdline "$cmdline phyllome.action=shell"
exec 7> "$scratch/console.in"
wait_output console "^PHYLLOME shell" 90
printf 'echo PHYLLOME-TYPED-$((6 * 7))\n' >&7
check "console input: a line typed reaches the guest's shell and its answer comes back" wait_output console "^PHYLLOME-TYPED-42" 30
printf 'poweroff -f\n' >&7
wait_vmm
exec 7>&-
check "console input: the shell's poweroff ends the monitor with status 0" [ "$STATUS" = 0 ]

# --- Disks and network in one boot: the guest runs a script from a disk. ---
head -c 1048576 /dev/urandom > "$scratch/data.img"
data_md5=$(md5sum < "$scratch/data.img" | cut -d' ' -f1)
# The host's end of the tap serves 1 MiB for the guest to fetch (the receive path) and a CGI
# that answers the checksum of what the guest posts (the transmit path): busybox httpd and wget.
mkdir -p "$scratch/www/cgi-bin"
head -c 1048576 /dev/urandom > "$scratch/www/blob"
www_md5=$(md5sum < "$scratch/www/blob" | cut -d' ' -f1)
cat > "$scratch/www/cgi-bin/sink" << 'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
head -c "$CONTENT_LENGTH" | md5sum | cut -d' ' -f1
EOF
chmod +x "$scratch/www/cgi-bin/sink"
cat > "$scratch/script.img" << 'EOF'
for b in /sys/block/vd*; do
	[ "$(cat $b/serial)" = phyllome-data ] && data=/dev/${b##*/}
done
echo "PHYLLOME data-md5=$(head -c 1048576 $data | md5sum | cut -d' ' -f1)"
ip link set eth0 up
ip addr add 10.78.0.2/24 dev eth0
echo "PHYLLOME mac=$(cat /sys/class/net/eth0/address)"
ping -c 3 -W 5 10.78.0.1 > /dev/null 2>&1
echo "PHYLLOME ping=$?"
echo "PHYLLOME fetched-md5=$(wget -q -O - http://10.78.0.1:8080/blob | md5sum | cut -d' ' -f1)"
# busybox wget posts a file as a string, up to its first NUL: 1 MiB of random bytes in hex.
head -c 1048576 /dev/urandom | od -An -tx1 -v | tr -d ' \n' > /tmp/blob
echo "PHYLLOME blob-md5=$(md5sum < /tmp/blob | cut -d' ' -f1)"
echo "PHYLLOME posted-md5=$(wget -q -O - --post-file /tmp/blob http://10.78.0.1:8080/cgi-bin/sink)"
exit 0
EOF
pad "$scratch/script.img"
net=""
httpd_pid=
if tunctl -t ptap0 > /dev/null 2>&1 && ip addr add 10.78.0.1/24 dev ptap0 && ip link set ptap0 up; then
	httpd -f -p 10.78.0.1:8080 -h "$scratch/www" &
	httpd_pid=$!
	sleep 0.5
	kill -0 $httpd_pid 2> /dev/null && net="--net tap=ptap0,mac=52:54:00:12:34:56"
fi
run_vmm io $guest --memory 256M --cmdline "$cmdline phyllome.action=script" \
	--disk "$scratch/script.img,readonly,serial=phyllome-script" \
	--disk "$scratch/data.img,readonly,serial=phyllome-data" $net
check "virtio-blk: the guest runs the script it reads from one disk" file_has "$scratch/io.out" "^PHYLLOME script status=0"
check "virtio-blk: and reads the host's bytes from another" expect_eq "$(guest_value io data-md5)" "$data_md5"
if [ -n "$net" ]; then
	check "virtio-net: the NIC has the MAC it was given" expect_eq "$(guest_value io mac)" 52:54:00:12:34:56
	check "virtio-net: the guest pings the host end of the tap" expect_eq "$(guest_value io ping)" 0
	check "virtio-net: 1 MiB the guest fetched over TCP arrives whole" expect_eq "$(guest_value io fetched-md5)" "$www_md5"
	check "virtio-net: 2 MiB the guest posted over TCP arrive whole" \
		expect_eq "$(guest_value io posted-md5)" "$(guest_value io blob-md5)"
else
	for what in "the NIC has the MAC it was given" "the guest pings the host end of the tap" \
		"1 MiB the guest fetched over TCP arrives whole" "2 MiB the guest posted over TCP arrive whole"; do
		tap_skip "virtio-net: $what" "cannot make a tap and serve it here"
	done
fi
[ -n "$httpd_pid" ] && kill $httpd_pid 2> /dev/null
ip link delete ptap0 2> /dev/null || tunctl -d ptap0 > /dev/null 2>&1

# --- The power button, and the sandbox while the guest waits for it. ---
start_vmm button $guest --memory 256M --cpus 2 --cmdline "$cmdline phyllome.action=wait"
wait_output button "^PHYLLOME-GUEST-READY" 90
threads=0 confined=0
for task in /proc/$VMM_PID/task/*; do
	threads=$((threads + 1))
	grep -q "^Seccomp:[[:space:]]*2" "$task/status" && grep -q "^CapEff:[[:space:]]*0000000000000000" "$task/status" &&
		confined=$((confined + 1))
done
check "sandbox: every thread of the monitor ($threads) runs under seccomp with no capabilities" \
	expect_eq "$confined" "$threads"
kill -TERM "$VMM_PID"
wait_vmm
check "SIGTERM presses the power button: the guest powers off cleanly, status 0" \
	expect_exit button 0 "^PHYLLOME power button pressed: shutting down"
check "SIGTERM: the monitor said it pressed the button" output_has button "Pressing the power button"

# --- A reset, and a panic. ---
run_vmm reboot $guest --memory 256M --cmdline "$cmdline phyllome.action=reboot"
check "a guest reboot (PSCI SYSTEM_RESET) ends the monitor with status 3" expect_exit reboot 3 "guest reset the machine"
run_vmm panic $guest --memory 256M --cmdline "$cmdline panic=-1 phyllome.action=panic"
check "a guest panic (its warm reset, reboot=panic_warm) ends the monitor with status 6" \
	expect_exit panic 6 "The guest kernel panicked$"
check "panic: the guest's own panic message is on the console" output_has panic "Kernel panic - not syncing"

# --- A forbidden system call in any thread kind kills the monitor (aarch64's syscall table). ---
for kind in vcpu main io; do
	case $kind in vcpu) thread=vCPU ;; io) thread=device ;; *) thread=main ;; esac
	if "$PHYLLOME_VMM" --test-forbidden-syscall=$kind --help > /dev/null 2>&1; then
		run_vmm forbidden_$kind $guest --memory 256M --cmdline "$cmdline" --test-forbidden-syscall=$kind
		check "sandbox: a forbidden system call in the $thread thread kills the monitor with SIGSYS" \
			expect_exit forbidden_$kind $((128 + 31)) "sandbox: the $thread thread made system call [0-9]+"
	else
		tap_skip "sandbox: a forbidden system call in the $thread thread kills the monitor" "built without test hooks"
	fi
done

# --- What it refuses: one clear line, status 2, before KVM. ---
head -c 65536 /dev/urandom > "$scratch/garbage"
run_vmm garbage --kernel "$scratch/garbage" --memory 256M
check "a file that is not an Image: status 2, said so" expect_exit garbage 2 "not an arm64 Linux Image"
gzip -c < "$kernel" > "$scratch/vmlinuz.gz"
run_vmm gzipped --kernel "$scratch/vmlinuz.gz" --memory 256M
check "a gzip-compressed Image: status 2, said so" expect_exit gzipped 2 "gzip-compressed"
run_vmm small $guest --memory 16M
check "an Image too big for the VM's RAM: status 2, said so" expect_exit small 2 "more than 16 MiB of RAM holds"
head -c $((48 << 20)) /dev/zero > "$scratch/big-initrd"
run_vmm bigrd --kernel "$kernel" --initrd "$scratch/big-initrd" --memory 64M
check "an initrd that does not fit beside the kernel: status 2, said so" expect_exit bigrd 2 "does not fit in RAM"
rm -f "$scratch/big-initrd"
run_vmm longcmd $guest --memory 256M --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
check "a command line over the kernel's 2047 bytes: status 2" expect_exit longcmd 2 "takes at most 2047"
run_vmm cpus $guest --memory 256M --cpus 124
check "--cpus 124: status 2, more than the GIC's redistributors serve" expect_exit cpus 2 "serve at most 123 vCPUs"
run_vmm firmware --firmware "$scratch/garbage" --memory 256M
check "--firmware: status 2, not supported on aarch64 yet" expect_exit firmware 2 "UEFI firmware on aarch64 is not supported yet"

tap_done

#!/bin/bash
# Every bad input to phyllome-vmm gets a clear message and exit status 2,
# before KVM is touched (so this suite needs no /dev/kvm). Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_TINYGUEST:?}"
tiny=$PHYLLOME_TINYGUEST

refuses() { # NAME PATTERN ARGS...: status 2 and a message matching PATTERN
	local name=$1 pattern=$2
	shift 2
	run_vmm "$name" "$@"
	expect_exit "$name" 2 "$pattern"
}

# patched COPY OFFSET HEXBYTES: a copy of the tiny guest with bytes overwritten.
patched() {
	cp "$tiny" "$scratch/$1"
	printf "$3" | dd of="$scratch/$1" bs=1 seek=$(($2)) conv=notrunc status=none
	echo "$scratch/$1"
}

check "no --kernel nor --firmware" refuses nokernel "nothing to boot: use --kernel PATH or --firmware PATH"
check "unknown option" refuses unknown "unrecognized option" --kernel "$tiny" --frobnicate
check "stray argument" refuses stray "unexpected argument" --kernel "$tiny" extra
check "missing kernel file" refuses missing "Cannot open the kernel .*/nope: No such file" --kernel "$scratch/nope"
check "kernel from a file descriptor that is not open" refuses badfd "kernel fd:99 is not an open file descriptor" \
	--kernel fd:99
check "a --kvm-fd that is not open" refuses badkvmfd "invalid KVM file descriptor '77'" --kernel "$tiny" --kvm-fd 77
check "a --control-fd that is not open" refuses badctlfd "invalid control file descriptor '55'" --kernel "$tiny" --control-fd 55
check "a control socket in a missing directory" refuses badctl "Cannot create the control socket" --kernel "$tiny" --control /nonexistent/dir/sock
check "kernel is a directory" refuses dir "is not a regular file" --kernel "$scratch"
head -c 8192 /dev/urandom > "$scratch/random.bin"
check "kernel is not a bzImage" refuses notbz "not a bzImage" --kernel "$scratch/random.bin"
: > "$scratch/empty"
check "kernel is empty" refuses emptyk "too small to be a Linux bzImage" --kernel "$scratch/empty"
check "kernel without a 64-bit entry point" refuses no64 "no 64-bit entry point" \
	--kernel "$(patched no64.bz 0x236 '\x00\x00')"
check "kernel with boot protocol 2.05" refuses old "older than 2.06" --kernel "$(patched old.bz 0x206 '\x05\x02')"
check "setup header claims more setup than the file has" refuses setup "more setup code than the file holds" \
	--kernel "$(patched setup.bz 0x1f1 '\xff')"
check "command line longer than the kernel takes" refuses longcmd "command line is 3000 bytes.*at most 2047" \
	--kernel "$tiny" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
# --firmware: an image of whole pages, 64 KiB to 16 MiB; no kernel, initrd or command line with it.
fw=${PHYLLOME_TINYFIRMWARE:?}
head -c 4096 /dev/zero > "$scratch/fw-short.bin"
head -c $((65536 + 100)) /dev/zero > "$scratch/fw-odd.bin"
truncate -s 17M "$scratch/fw-big.bin"
check "missing firmware file" refuses fwmissing "Cannot open the firmware .*/nope: No such file" \
	--firmware "$scratch/nope"
check "firmware is a directory" refuses fwdir "The firmware .* is not a regular file" --firmware "$scratch"
check "firmware of 4 KiB" refuses fwshort "is 4096 bytes: a firmware image is whole 4 KiB pages, from 64 KiB to 16 MiB" \
	--firmware "$scratch/fw-short.bin"
check "firmware not of whole pages" refuses fwodd "is 65636 bytes: a firmware image is whole 4 KiB pages" \
	--firmware "$scratch/fw-odd.bin"
check "firmware of 17 MiB" refuses fwbig "is 17825792 bytes: a firmware image is whole 4 KiB pages" \
	--firmware "$scratch/fw-big.bin"
check "firmware and a kernel" refuses fwkernel "--firmware boots from the disks: --kernel, --initrd and --cmdline are for direct kernel boot" \
	--firmware "$fw" --kernel "$tiny"
check "firmware and a command line" refuses fwcmdline "--firmware boots from the disks" --firmware "$fw" --cmdline quiet
# --display: a kind it has.
check "an unknown --display" refuses displaybad "invalid display 'vga': expected virtio-gpu, bochs or none" \
	--firmware "$fw" --display vga
check "--resolution without virtio-gpu" refuses resnogpu "--resolution is the mode virtio-gpu offers: it needs --display virtio-gpu" \
	--firmware "$fw" --display bochs --resolution 800x600
check "--resolution past what an EDID says" refuses resbig "invalid resolution '8192x4096': expected WIDTHxHEIGHT, each 16 to 4095" \
	--firmware "$fw" --display virtio-gpu --resolution 8192x4096
check "--resolution without a height" refuses resnoh "invalid resolution '1920x'" \
	--firmware "$fw" --display virtio-gpu --resolution 1920x
check "--input with a word it does not take" refuses inputbad "invalid input setting 'maybe': expected on or off" \
	--firmware "$fw" --display bochs --input maybe
# --uuid: the SMBIOS system UUID, only for a firmware.
check "malformed --uuid" refuses uuidbad "invalid UUID '1234-5678': must be 32 hex digits" \
	--firmware "$fw" --uuid 1234-5678
check "--uuid with a stray character" refuses uuidchar "invalid UUID" \
	--firmware "$fw" --uuid 5b0e2a7c-93d1-4c38-9f0e-6d1f2a3b4c5g
check "--uuid without --firmware" refuses uuidnofw "--uuid is what a firmware's SMBIOS tables say: it needs --firmware" \
	--kernel "$tiny" --uuid 5b0e2a7c-93d1-4c38-9f0e-6d1f2a3b4c5d

# --nvram: writable, whole pages, room beside the firmware; nothing is written to a refused one.
head -c 8192 /dev/zero > "$scratch/nvram.bin"
head -c 5000 /dev/zero > "$scratch/nvram-odd.bin"
truncate -s 16M "$scratch/nvram-big.bin"
check "--nvram without --firmware" refuses nvramnofw "--nvram holds a firmware's variables: it needs --firmware" \
	--kernel "$tiny" --nvram "$scratch/nvram.bin"
check "missing nvram file" refuses nvrammissing "Cannot open the nvram .*/nope for writing: No such file" \
	--firmware "$fw" --nvram "$scratch/nope"
check "an nvram open read-only (fd:N)" refuses nvramro "The nvram fd:3 is not open for reading and writing" \
	--firmware "$fw" --nvram fd:3 3< "$scratch/nvram.bin"
check "an nvram not of whole pages" refuses nvramodd "The nvram .* is 5000 bytes: a variable store is whole 4 KiB pages, at most 16320 KiB beside this firmware" \
	--firmware "$fw" --nvram "$scratch/nvram-odd.bin"
check "an nvram with no room beside the firmware" refuses nvrambig "is 16777216 bytes: a variable store is whole 4 KiB pages" \
	--firmware "$fw" --nvram "$scratch/nvram-big.bin"
check "an nvram that is a directory" refuses nvramdir "(Cannot open the nvram .* for writing: Is a directory|is not a regular file)" \
	--firmware "$fw" --nvram "$scratch"
check "a refused nvram is left as it was" cmp -s "$scratch/nvram.bin" <(head -c 8192 /dev/zero)
check "firmware from a file descriptor that is not open" refuses fwbadfd "firmware fd:98 is not an open file descriptor" \
	--firmware fd:98
check "0 vCPUs" refuses cpus0 "invalid vCPU count '0'" --kernel "$tiny" --cpus 0
check "255 vCPUs" refuses cpus255 "invalid vCPU count '255'" --kernel "$tiny" --cpus 255
check "vCPU count that is not a number" refuses cpusx "invalid vCPU count 'two'" --kernel "$tiny" --cpus two
check "too little memory" refuses mem1 "at least 8M" --kernel "$tiny" --memory 4M
check "too much memory" refuses mem2 "at most 1T" --kernel "$tiny" --memory 2T
check "memory size with a bad suffix" refuses mem3 "optional K, M, G or T suffix" --kernel "$tiny" --memory 12Q
check "memory size not a multiple of 4 KiB" refuses mem4 "multiple of 4 KiB" --kernel "$tiny" --memory 8193K
check "bad --serial" refuses serial "expected stdio, file:PATH, socket:PATH, fd:N or none" --kernel "$tiny" --serial tcp:1
check "a --serial fd: that is not open" refuses serialfd "expected an open file descriptor number above 2" \
	--kernel "$tiny" --serial fd:66
check "a --serial fd: that is a file, not a socket" refuses serialfile "console file descriptor 3 is not a socket" \
	--kernel "$tiny" --serial fd:3 3< "$scratch/empty"
check "a --control-fd that is a file, not a socket" refuses ctlfile "control file descriptor 3 is not a socket" \
	--kernel "$tiny" --control-fd 3 3< "$scratch/empty"
check "bad --sandbox" refuses sandbox "invalid sandbox setting 'maybe': expected on or off" \
	--kernel "$tiny" --sandbox maybe
check "console socket in a missing directory" refuses sockdir "Cannot create the console socket" \
	--kernel "$tiny" --serial "socket:$scratch/no/such/dir/sock"
check "console file that cannot be created" refuses confile "Cannot open console file" \
	--kernel "$tiny" --serial "file:$scratch/no/such/dir/log"
check "missing initrd" refuses noinitrd "Cannot open the initrd" --kernel "$tiny" --initrd "$scratch/nope"
check "empty initrd" refuses emptyinitrd "initrd .* is empty" --kernel "$tiny" --initrd "$scratch/empty"
head -c 16M /dev/zero > "$scratch/big.initrd"
check "initrd larger than guest RAM" refuses biginitrd "initrd \(16 MiB\) does not fit" \
	--kernel "$tiny" --memory 8M --initrd "$scratch/big.initrd"
if [ -n "${PHYLLOME_GUEST_DIR:-}" ] && [ -s "$PHYLLOME_GUEST_DIR/vmlinuz" ]; then
	check "Linux kernel in too little memory" refuses smallmem "kernel needs [0-9]+ MiB of RAM" \
		--kernel "$PHYLLOME_GUEST_DIR/vmlinuz" --memory 16M
else
	tap_skip "Linux kernel in too little memory" "the Linux test guest was not built"
fi
# Disks: bad options, and images that cannot serve as a disk.
check "--disk without a path" refuses disknopath "invalid disk ',readonly': expected PATH" \
	--kernel "$tiny" --disk ,readonly
check "--disk with an unknown option" refuses diskopt "invalid disk '.*,fast': unknown option after the path" \
	--kernel "$tiny" --disk "$scratch/empty,fast"
check "--disk serial= longer than 20 characters" refuses diskserial "serial=ID takes 1 to 20 characters" \
	--kernel "$tiny" --disk "$scratch/empty,serial=123456789012345678901"
check "--disk serial= with a space" refuses diskserial2 "printable ASCII without spaces" \
	--kernel "$tiny" --disk "$scratch/empty,serial=a b"
many=()
for i in $(seq 17); do many+=(--disk "$scratch/d$i"); done
check "17 disks" refuses disk17 "at most 16 disks" --kernel "$tiny" "${many[@]}"
check "a disk image that does not exist" refuses diskmissing "Disk image .*/nope.img does not exist" \
	--kernel "$tiny" --disk "$scratch/nope.img"
check "a disk image that is a directory" refuses diskdir "is a directory; a disk is a raw image file or a block device" \
	--kernel "$tiny" --disk "$scratch"
check "an empty disk image" refuses diskempty "Disk image .*/empty is empty" --kernel "$tiny" --disk "$scratch/empty"
truncate -s 1M "$scratch/ro.img"
check "--disk fd:N open read-only, without ,readonly" refuses diskfdro "Disk fd:3 is open read-only; add ,readonly" \
	--kernel "$tiny" --disk fd:3 3< "$scratch/ro.img"
check "--disk fd:N that is not open" refuses diskfd "fd:N takes an open file descriptor" --kernel "$tiny" --disk fd:88
truncate -s 1M "$scratch/locked.img"
# A POSIX lock, as another program would hold it, conflicts with the monitor's OFD lock.
coproc LOCKER { exec /usr/bin/python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)' "$scratch/locked.img"; }
locker=$LOCKER_PID # bash unsets LOCKER_PID as soon as it reaps the coprocess
read -r -t 30 locked <&"${LOCKER[0]}" || locked=
check "a disk image another program has locked" refuses disklocked "Disk image .*/locked.img is in use" \
	--kernel "$tiny" --disk "$scratch/locked.img"
check "a variable store another program has locked" refuses nvramlocked "Cannot lock the nvram .*/locked.img" \
	--firmware "$PHYLLOME_TINYFIRMWARE" --nvram "$scratch/locked.img"
[ -n "$locked" ] || echo "the locking helper did not start" | tap_diag
kill "$locker" 2> /dev/null
wait "$locker" 2> /dev/null
# NICs: option errors only here (opening a tap would touch this host's network).
check "--net without tap= or fd=" refuses netnone "invalid network device 'mac=52:54:00:00:00:01': expected tap=NAME or fd=N" \
	--kernel "$tiny" --net mac=52:54:00:00:00:01
check "--net with a multicast MAC" refuses netmac "mac= takes a unicast address" \
	--kernel "$tiny" --net tap=t0,mac=01:00:5e:00:00:01
check "--net with a malformed MAC" refuses netmac2 "mac= takes a unicast address" --kernel "$tiny" --net tap=t0,mac=52:54:00
check "--net with vhost=maybe" refuses netvhost "invalid network device 'tap=t0,vhost=maybe'" \
	--kernel "$tiny" --net tap=t0,vhost=maybe
check "--net with a 16-character interface name" refuses netname "at most 15 characters" \
	--kernel "$tiny" --net tap=abcdefghijklmnop
check "--net fd= that is not open" refuses netfd "fd=N takes an open file descriptor" --kernel "$tiny" --net fd=77
nics=()
for i in $(seq 9); do nics+=(--net "tap=t$i"); done
check "9 NICs" refuses net9 "at most 8" --kernel "$tiny" "${nics[@]}"
check "--vsock with a reserved context ID" refuses vsock2 "invalid vsock device 'cid=2': expected cid=N with N from 3" \
	--kernel "$tiny" --vsock cid=2
check "--vsock with a vhost-fd= that is not open" refuses vsockfd "invalid vsock device 'cid=5,vhost-fd=99'" \
	--kernel "$tiny" --vsock cid=5,vhost-fd=99
check "--net with vhost=off and vhost-fd=" refuses netvhostfd "contradict" --kernel "$tiny" \
	--net tap=t0,vhost=off,vhost-fd=3 3< "$scratch/empty"
check "--vsock without cid=" refuses vsockx "invalid vsock device '7'" --kernel "$tiny" --vsock 7
check "--console and --serial both on stdio" refuses hvcstdio "cannot both use stdio" --kernel "$tiny" --console stdio
check "--console none" refuses hvcnone "invalid console 'none'" --kernel "$tiny" --console none
run_vmm help --help
check "--help exits 0 and documents the exit statuses" expect_exit help 0 "Exit status: 0 guest powered off"
run_vmm version --version
check "--version" expect_exit version 0 "^phyllome-vmm [0-9]"

tap_done

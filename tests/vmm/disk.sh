#!/bin/bash
# virtio-blk in the Linux test guest under real KVM: the guest copies a
# read-only disk to a writable one byte for byte, cannot write the read-only
# one, reads the disks' serials, discards and zeroes ranges (holes in the
# host file); data it fsynced survives a SIGKILL of the
# monitor; a disk whose host file system fills up, or whose image shrinks
# under it, gives the guest I/O errors while the monitor stays up. Each guest
# runs a shell script that the test hands it on a disk. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-600}
guest="--kernel $PHYLLOME_GUEST_DIR/vmlinuz --initrd $PHYLLOME_GUEST_DIR/initrd.img"
cmdline="console=ttyS0 quiet panic=-1 phyllome.action=script"
MiB=1048576

# script NAME: the guest script on stdin becomes the disk image $scratch/NAME.script;
# disk SERIAL in it names the guest's block device with that serial.
script() {
	local img=$scratch/$1.script
	{
		echo 'disk() { for b in /sys/block/vd*; do [ "$(cat $b/serial)" = "$1" ] && echo /dev/${b##*/}; done; }'
		cat
		printf '\nexit 0\n'
	} > "$img"
	truncate -s %4096 "$img"
	echo "$img,readonly,serial=phyllome-script"
}

md5() { md5sum | cut -d' ' -f1; }
# guest_value NAME KEY: what the guest printed as "PHYLLOME KEY=VALUE".
guest_value() { sed -n "s/^PHYLLOME $2=//p" "$scratch/$1.out" | tr -d '\r' | head -n 1; }

# --- A read-only source copied to a writable disk, three disks at once; the
# writable one is an inherited fd (fd:N), as phyllomed passes images.
head -c $((4 * MiB)) /dev/urandom > "$scratch/src.img"
truncate -s $((8 * MiB)) "$scratch/dst.img"
src_md5=$(md5 < "$scratch/src.img")
# shellcheck disable=SC2086
run_vmm copy $guest --memory 256M --cmdline "$cmdline" \
	--disk "$(script copy <<'EOF'
src=$(disk src); dst=$(disk dst)
echo "PHYLLOME disks=$src,$dst"
echo "PHYLLOME src-ro=$(cat /sys/block/${src#/dev/}/ro)"
echo "PHYLLOME src-sectors=$(cat /sys/block/${src#/dev/}/size)"
echo "PHYLLOME src-md5=$(md5sum < $src | cut -d' ' -f1)"
dd if=$src of=$dst bs=64k conv=fsync 2>/dev/null
echo "PHYLLOME copy-status=$?"
if dd if=/dev/zero of=$src bs=4k count=1 2>/dev/null; then echo "PHYLLOME ro-write=succeeded"; else echo "PHYLLOME ro-write=failed"; fi
echo 3 > /proc/sys/vm/drop_caches
echo "PHYLLOME dst-md5=$(head -c 4194304 $dst | md5sum | cut -d' ' -f1)"
echo "PHYLLOME discard-max=$(cat /sys/block/${dst#/dev/}/queue/discard_max_bytes)"
blkdiscard -o 1048576 -l 1048576 $dst
echo "PHYLLOME discard=$?"
guest-tool zeroout $dst 2097152 1048576
echo "PHYLLOME zeroout=$?"
EOF
)" --disk "$scratch/src.img,readonly,serial=src" --disk fd:7,serial=dst 7<> "$scratch/dst.img"
check "copy: three disks, the guest runs its script and powers off (status 0)" \
	expect_exit copy 0 "^PHYLLOME script status=0"
check "copy: the guest finds both data disks by their serials (GET_ID)" \
	[ -n "$(guest_value copy disks | grep -E '^/dev/vd[a-z],/dev/vd[a-z]$')" ]
check "copy: the read-only disk is read-only in the guest" [ "$(guest_value copy src-ro)" = 1 ]
check "copy: its size is the image's (8192 sectors)" [ "$(guest_value copy src-sectors)" = 8192 ]
check "copy: the guest reads the image's bytes (md5 as on the host)" [ "$(guest_value copy src-md5)" = "$src_md5" ]
check "copy: dd to the writable disk with fsync succeeds" [ "$(guest_value copy copy-status)" = 0 ]
# range FILE FROM_MIB MIB: those bytes of the file.
range() { tail -c +$(($2 * MiB + 1)) "$1" | head -c $(($3 * MiB)); }
zeroes() { [ "$(range "$1" "$2" "$3" | tr -d '\0' | wc -c)" = 0 ]; }
check "copy: the guest reads its copy back (md5)" [ "$(guest_value copy dst-md5)" = "$src_md5" ]
check "copy: the host file holds the guest's copy byte for byte (where it did not discard)" \
	eval '[ "$(range "$scratch/src.img" 0 1 | md5)" = "$(range "$scratch/dst.img" 0 1 | md5)" ] &&
		[ "$(range "$scratch/src.img" 3 1 | md5)" = "$(range "$scratch/dst.img" 3 1 | md5)" ]'
check "copy: and nothing past it" zeroes "$scratch/dst.img" 4 4
check "discard: the guest's disk offers discard" [ "$(guest_value copy discard-max)" -gt 0 ] 2> /dev/null
check "discard: blkdiscard of MiB 1 succeeds, and the host file reads zeroes there" \
	eval '[ "$(guest_value copy discard)" = 0 ] && zeroes "$scratch/dst.img" 1 1'
check "write-zeroes: BLKZEROOUT of MiB 2 succeeds, and the host file reads zeroes there" \
	eval '[ "$(guest_value copy zeroout)" = 0 ] && zeroes "$scratch/dst.img" 2 1'
check "copy: writing the read-only disk fails in the guest" [ "$(guest_value copy ro-write)" = failed ]
check "copy: the read-only image is unchanged" [ "$(md5 < "$scratch/src.img")" = "$src_md5" ]

# --- What the guest fsynced is in the file when the monitor is killed right after.
truncate -s $((8 * MiB)) "$scratch/flush.img"
# shellcheck disable=SC2086
start_vmm flush $guest --memory 256M --cmdline "$cmdline" --disk "$scratch/flush.img,serial=data" \
	--disk "$(script flush <<'EOF'
d=$(disk data)
head -c 1048576 /dev/urandom > /tmp/pattern
dd if=/tmp/pattern of=$d bs=64k seek=16 conv=fsync 2>/dev/null
echo "PHYLLOME flushed=$?,$(md5sum < /tmp/pattern | cut -d' ' -f1)"
sleep 600
EOF
)"
if wait_output flush "^PHYLLOME flushed=" 300; then
	kill -KILL "$VMM_PID"
fi
wait_vmm
flushed=$(guest_value flush flushed)
check "flush: the guest's write + fsync succeeds, then the monitor is killed (SIGKILL)" \
	[ "${flushed%%,*}" = 0 -a "$STATUS" = 137 ]
check "flush: the data is in the image at the offset the guest wrote" \
	[ "$(tail -c +$((MiB + 1)) "$scratch/flush.img" | head -c $MiB | md5)" = "${flushed#*,}" ]

# --- A full host file system and an image that shrinks: I/O errors in the guest, the monitor stays up.
small=$scratch/small
mkdir -p "$small"
if mount -t tmpfs -o size=2m phyllome-test "$small"; then
	truncate -s $((64 * MiB)) "$small/full.img"
	head -c $((8 * MiB)) /dev/urandom > "$scratch/shrink.img"
	# shellcheck disable=SC2086
	start_vmm errors $guest --memory 256M --cmdline "$cmdline" \
		--disk "$small/full.img,serial=full" --disk "$scratch/shrink.img,serial=shrink" \
		--disk "$(script errors <<'EOF'
full=$(disk full); shrink=$(disk shrink)
dd if=/dev/zero of=$full bs=64k count=128 conv=fsync 2>/dev/null
echo "PHYLLOME full-write=$?"
dd if=$full of=/dev/null bs=4k count=1 2>/dev/null
echo "PHYLLOME full-read-after=$?"
echo "PHYLLOME shrink-now=1"
result=never
for i in $(seq 120); do
	echo 3 > /proc/sys/vm/drop_caches
	if ! dd if=$shrink of=/dev/null bs=64k count=16 skip=64 2>/dev/null; then result=failed; break; fi
	sleep 1
done
echo "PHYLLOME shrunk-read=$result"
dd if=$shrink of=/dev/null bs=4k count=1 2>/dev/null
echo "PHYLLOME shrunk-read-start=$?"
EOF
)"
	if wait_output errors "^PHYLLOME shrink-now=" 300; then
		truncate -s $MiB "$scratch/shrink.img"
	fi
	wait_vmm
	check "full: the guest's write to a disk whose host file system is full fails" \
		[ "$(guest_value errors full-write)" != 0 -a -n "$(guest_value errors full-write)" ]
	check "full: the monitor logs the host's ENOSPC" output_has errors "write of .* failed: No space left on device"
	check "full: the guest still reads that disk" [ "$(guest_value errors full-read-after)" = 0 ]
	check "shrink: reading past the shrunken image's end fails in the guest" \
		[ "$(guest_value errors shrunk-read)" = failed ]
	check "shrink: the monitor says the read came up short" output_has errors "read of .* moved only 0 bytes"
	check "shrink: what is left of the image still reads" [ "$(guest_value errors shrunk-read-start)" = 0 ]
	check "errors: the monitor stayed up and the guest powered off (status 0)" \
		expect_exit errors 0 "^PHYLLOME script status=0"
	umount "$small"
else
	for t in "full: write fails" "full: ENOSPC logged" "full: still reads" "shrink: read fails" \
		"shrink: short read logged" "shrink: start still reads" "errors: monitor stayed up"; do
		tap_skip "$t" "cannot mount a small tmpfs here"
	done
fi

# --- A read-only host file system: a clear refusal, and ,readonly works.
rodir=$scratch/ro
mkdir -p "$rodir"
truncate -s $MiB "$rodir/ro.img"
if mount --bind "$rodir" "$rodir" && mount -o remount,bind,ro "$rodir"; then
	# shellcheck disable=SC2086
	run_vmm rofs $guest --memory 128M --disk "$rodir/ro.img"
	check "read-only file system: the monitor refuses the disk for writing and says to add ,readonly" \
		expect_exit rofs 2 "cannot be opened for writing .*add ,readonly"
	umount "$rodir"
else
	tap_skip "read-only file system: clear refusal" "cannot make a read-only bind mount here"
fi

tap_done

#!/bin/sh
# disk-fs.sh MIB COMMAND... : makes an ext4 file system in RAM (a loop device
# over /dev/shm) with a MIB-sized, fully written image on it, runs COMMAND with
# the word IMAGE replaced by the image's path, and removes it all. Without
# loop devices (the test-host VM has no loop module) the image is a file in
# /dev/shm, and DISK_BENCH_DIRECT=0 tells the measurement: tmpfs has no O_DIRECT.
set -eu
mib=$1
shift
fsdir=$(mktemp -d /dev/shm/phyllome-bench.XXXXXX)
cleanup() {
	umount "$fsdir/mnt" 2> /dev/null || true
	rm -rf "$fsdir"
}
trap cleanup EXIT
truncate -s $((mib * 2 + 64))M "$fsdir/fs.img"
mkfs.ext4 -q -F "$fsdir/fs.img"
mkdir "$fsdir/mnt"
if mount -o loop "$fsdir/fs.img" "$fsdir/mnt" 2> /dev/null; then
	export DISK_BENCH_DIRECT=1
	dd if=/dev/zero of="$fsdir/mnt/disk.img" bs=1M count="$mib" oflag=direct status=none
else
	echo "# no loop device here: the image is a file in RAM (tmpfs), host I/O buffered" >&2
	export DISK_BENCH_DIRECT=0
	rm -f "$fsdir/fs.img"
	dd if=/dev/zero of="$fsdir/mnt/disk.img" bs=1M count="$mib" status=none
fi
for arg; do
	shift
	[ "$arg" = IMAGE ] && arg=$fsdir/mnt/disk.img
	set -- "$@" "$arg"
done
"$@"

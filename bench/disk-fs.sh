#!/bin/sh
# disk-fs.sh MIB COMMAND... : makes an ext4 file system in RAM (a loop device
# over /dev/shm) with a MIB-sized, fully written image on it, runs COMMAND with
# the word IMAGE replaced by the image's path, and removes it all.
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
mount -o loop "$fsdir/fs.img" "$fsdir/mnt"
dd if=/dev/zero of="$fsdir/mnt/disk.img" bs=1M count="$mib" oflag=direct status=none
for arg; do
	shift
	[ "$arg" = IMAGE ] && arg=$fsdir/mnt/disk.img
	set -- "$@" "$arg"
done
"$@"

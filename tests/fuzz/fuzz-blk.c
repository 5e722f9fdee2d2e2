/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: virtio-blk requests from a hostile driver. The ring is
 * set up as in fuzz-virtqueue; every request popped is decoded against a
 * small disk, and every byte of what the decoder hands to the host call
 * (the iovecs of a read or write) is touched, so AddressSanitizer sees any
 * that leaves guest RAM; ranges must lie inside the disk.
 */
#include "fuzz-ring.h"
#include "virtio/blk-request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_memory mem;
	struct virtqueue vq;
	static struct virtqueue_request req;
	volatile uint8_t sink = 0;

	if (!fuzz_ring_setup(data, size, &mem, &vq))
		return 0;
	for (int round = 0; round < 2 * VIRTQUEUE_MAX_SIZE; round++) {
		static struct blk_op op;
		struct blk_disk disk = { .sectors = 64,
					 .readonly = data[8] & 4,
					 .serial = "fuzz-disk" };
		uint64_t moved = 0;
		int r = virtqueue_pop(&vq, &req);

		if (r <= 0)
			break;
		blk_request_decode(&disk, &req, &op);
		for (unsigned i = 0; i < op.iov_count; i++) {
			uint8_t *p = op.iov[i].iov_base;

			if (op.action == BLK_READ)
				memset(p, 0x5a, op.iov[i].iov_len);
			else
				for (size_t j = 0; j < op.iov[i].iov_len; j++)
					sink ^= p[j];
			moved += op.iov[i].iov_len;
		}
		if ((op.action == BLK_READ || op.action == BLK_WRITE) &&
		    (moved != op.length || op.offset + op.length > disk.sectors * BLK_SECTOR_SIZE))
			abort();
		if (op.action == BLK_WRITE && disk.readonly)
			abort();
		if (op.action == BLK_FALLOCATE &&
		    op.offset + op.length > disk.sectors * BLK_SECTOR_SIZE)
			abort();
		if (op.status_byte)
			*op.status_byte = op.status;
		virtqueue_push(&vq, &req, op.written);
	}
	(void)sink;
	return 0;
}

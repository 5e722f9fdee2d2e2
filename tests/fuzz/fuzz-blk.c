/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: virtio-blk requests from a hostile driver. The ring is
 * set up as in fuzz-virtqueue; every request popped is decoded against a
 * small disk, and every byte of what the decoder hands to the host call
 * (the iovecs of a read or write) is touched, so AddressSanitizer sees any
 * that leaves guest RAM; ranges must lie inside the disk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "virtio/blk-request.h"
#include "virtio/queue.h"

#define GUEST_RAM (64 * 1024)
#define SETUP_BYTES 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_memory mem;
	struct virtqueue vq;
	static struct virtqueue_request req;
	volatile uint8_t sink = 0;

	if (size < SETUP_BYTES)
		return 0;
	if (!ram && !(ram = malloc(GUEST_RAM)))
		abort();
	memset(ram, 0, GUEST_RAM);
	memcpy(ram, data + SETUP_BYTES,
	       size - SETUP_BYTES < GUEST_RAM ? size - SETUP_BYTES : GUEST_RAM);
	mem = (struct guest_memory){.host = ram, .size = GUEST_RAM, .low_size = GUEST_RAM};

	virtqueue_reset(&vq, &mem, VIRTQUEUE_MAX_SIZE);
	vq.size = u16(data);
	vq.desc_addr = u16(data + 2);
	vq.avail_addr = u16(data + 4);
	vq.used_addr = u16(data + 6);
	vq.indirect = data[8] & 1;
	vq.event_idx = data[8] & 2;
	/* The high bits of byte 9 move the rings past the end of RAM, as a driver may try. */
	if (data[9] & 0x80)
		vq.desc_addr += (uint64_t)data[9] << 24;
	if (virtqueue_check(&vq) < 0)
		return 0;
	vq.enabled = true;

	for (int round = 0; round < 2 * VIRTQUEUE_MAX_SIZE; round++) {
		static struct blk_op op;
		struct blk_disk disk = {
		    .sectors = 64, .readonly = data[8] & 4, .serial = "fuzz-disk"};
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

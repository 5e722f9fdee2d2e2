/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile driver's split virtqueue. The input sets the
 * queue's size, ring addresses and negotiated features, then fills guest
 * RAM; the device pops every request it can, touches every byte of every
 * buffer it was given (so AddressSanitizer sees any buffer outside guest
 * RAM) and returns it. Nothing the input holds may crash or hang us.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
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
	struct virtqueue_request req;
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
		uint32_t written = 0;
		int r = virtqueue_pop(&vq, &req);

		if (r <= 0)
			break;
		for (unsigned i = 0; i < req.count; i++) {
			for (uint32_t j = 0; j < req.buf[i].len; j++)
				sink ^= req.buf[i].host[j];
			if (req.buf[i].writable && req.buf[i].len) {
				memset(req.buf[i].host, 0xa5, req.buf[i].len);
				written += req.buf[i].len;
			}
		}
		virtqueue_push(&vq, &req, written);
		(void)virtqueue_should_notify(&vq);
	}
	(void)sink;
	return 0;
}

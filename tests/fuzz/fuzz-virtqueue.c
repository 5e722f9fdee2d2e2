/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile driver's split virtqueue. The input sets the
 * queue's size, ring addresses and negotiated features, then fills guest
 * RAM; the device pops every request it can, touches every byte of every
 * buffer it was given (so AddressSanitizer sees any buffer outside guest
 * RAM) and returns it. Nothing the input holds may crash or hang us.
 */
#include "fuzz-ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_memory mem;
	struct virtqueue vq;
	static struct virtqueue_request req;
	volatile uint8_t sink = 0;

	if (!fuzz_ring_setup(data, size, &mem, &vq))
		return 0;
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

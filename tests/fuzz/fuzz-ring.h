/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * What the fuzz targets share: a hostile driver's split virtqueue made from
 * the input. Its first bytes set the queue's size, ring addresses and the
 * negotiated features, the rest fills 64 KiB of guest RAM from address 0.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "virtio/queue.h"

#define FUZZ_GUEST_RAM (64 * 1024)
#define FUZZ_SETUP_BYTES 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline uint16_t fuzz_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* false: the input is too short, or the queue would not pass the transport's check. */
static inline bool fuzz_ring_setup(const uint8_t *data, size_t size, struct guest_memory *mem,
				   struct virtqueue *vq)
{
	static uint8_t *ram;
	size_t n;

	if (size < FUZZ_SETUP_BYTES)
		return false;
	if (!ram && !(ram = malloc(FUZZ_GUEST_RAM)))
		abort();
	n = size - FUZZ_SETUP_BYTES < FUZZ_GUEST_RAM ? size - FUZZ_SETUP_BYTES : FUZZ_GUEST_RAM;
	memset(ram, 0, FUZZ_GUEST_RAM);
	memcpy(ram, data + FUZZ_SETUP_BYTES, n);
	*mem = (struct guest_memory){ .host = ram,
				      .size = FUZZ_GUEST_RAM,
				      .low_size = FUZZ_GUEST_RAM };

	virtqueue_reset(vq, mem, VIRTQUEUE_MAX_SIZE);
	vq->size = fuzz_u16(data);
	vq->desc_addr = fuzz_u16(data + 2);
	vq->avail_addr = fuzz_u16(data + 4);
	vq->used_addr = fuzz_u16(data + 6);
	vq->indirect = data[8] & 1;
	vq->event_idx = data[8] & 2;
	/* The high bits of byte 9 move the rings past the end of RAM, as a driver may try. */
	if (data[9] & 0x80)
		vq->desc_addr += (uint64_t)data[9] << 24;
	if (virtqueue_check(vq) < 0)
		return false;
	vq->enabled = true;
	return true;
}

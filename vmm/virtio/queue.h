/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "memory.h"

/*
 * A split virtqueue (virtio 1.x, 2.7) with indirect descriptors and
 * EVENT_IDX. Everything the guest wrote is checked before use: ring
 * addresses and sizes, the available index, descriptor indexes, chain
 * lengths (a loop is a broken chain), indirect tables, and every buffer
 * lies wholly in guest RAM. A broken ring makes virtqueue_pop() fail with
 * -EIO, and the device then asks the driver for a reset (NEEDS_RESET).
 */
#define VIRTQUEUE_MAX_SIZE 256
#define VIRTQUEUE_MAX_SEGMENTS 64

struct virtqueue {
	const struct guest_memory *mem;
	uint16_t max_size;
	/* Set by the driver through the transport. */
	uint16_t size;
	bool enabled;
	uint64_t desc_addr, avail_addr, used_addr;
	uint16_t msix_vector;
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	/* Ours. */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
};

struct virtqueue_buffer {
	uint8_t *host;
	uint32_t len;
	bool writable;
};

struct virtqueue_request {
	uint16_t head;
	unsigned count;
	struct virtqueue_buffer buf[VIRTQUEUE_MAX_SEGMENTS];
};

void virtqueue_reset(struct virtqueue *vq, const struct guest_memory *mem, uint16_t max_size);
/* When the driver enables the queue: its size and rings must make sense. */
int virtqueue_check(const struct virtqueue *vq);
/* 1: a request; 0: none available; -EIO: the ring is broken. */
int virtqueue_pop(struct virtqueue *vq, struct virtqueue_request *req);
/* Whether the driver made a buffer available that we have not taken. */
bool virtqueue_has_buffers(const struct virtqueue *vq);
/* Returns the request's chain to the driver, with how many bytes the device wrote into it. */
void virtqueue_push(struct virtqueue *vq, const struct virtqueue_request *req, uint32_t written);
/* After pushes: whether the driver wants an interrupt for them (EVENT_IDX, or NO_INTERRUPT). */
bool virtqueue_should_notify(struct virtqueue *vq);

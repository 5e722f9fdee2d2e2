/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "display/channel.h"
#include "virtio/pci.h"

/*
 * virtio-gpu (5.7) in 2D: one scanout, resources the guest creates and
 * fills from its own memory (TRANSFER_TO_HOST_2D from the scatter list it
 * attached), SET_SCANOUT to show one, RESOURCE_FLUSH to say what changed;
 * the display mode offered (GET_DISPLAY_INFO, and an EDID) follows the
 * viewer's size hint with a display-change event. Every resource lives in
 * one pool memfd of GPU_POOL_SIZE bytes, sealed as the bochs framebuffer
 * is: listeners map it read-only, and a guest that creates resources
 * without end runs out of the pool (ERR_OUT_OF_MEMORY), never the host.
 * Everything the guest writes is checked: resource IDs, rectangles against
 * their resources, backing entries against guest RAM, transfers against
 * the backing. The cursor queue's pointer image (a resource of at most
 * 64x64) and position go to the display channel's listeners.
 */
#ifndef GPU_POOL_SIZE /* the fuzzer builds with a smaller one */
#define GPU_POOL_SIZE (256ULL << 20)
#endif
#define GPU_MAX_RESOURCES 512
#define GPU_MAX_BACKING_ENTRIES 16384
#define GPU_MAX_SIDE 16384
#define GPU_MAX_MODE 4095 /* what an EDID detailed timing can say */
#define GPU_DEFAULT_WIDTH 1280
#define GPU_DEFAULT_HEIGHT 800

struct gpu_backing {
	uint8_t *host;
	uint32_t len;
};

struct gpu_resource {
	uint32_t id; /* 0: a free slot */
	uint32_t format, width, height;
	uint64_t offset, size; /* in the pool */
	struct gpu_backing *backing;
	uint32_t backing_count;
};

struct virtio_gpu {
	struct virtio_pci vp;
	int pool_fd;
	uint8_t *pool;
	uint8_t *request;	/* the control request's readable bytes, gathered */
	pthread_mutex_t lock;	/* the scanout, the mode and the damage, between the device
				   thread and the main loop */
	unsigned width, height; /* the mode offered to the guest */
	uint32_t events;	/* VIRTIO_GPU_EVENT_DISPLAY until the driver clears it */
	uint32_t scanout_resource;
	uint32_t scanout_x, scanout_y, scanout_width, scanout_height;
	uint64_t generation;
	struct display_rect damage;   /* flushed since the display channel last looked */
	struct display_cursor cursor; /* the cursor queue's pointer */
	uint64_t cursor_generation, cursor_moved;
	struct gpu_resource resources[GPU_MAX_RESOURCES];
	uint64_t commands, errors;
};

#define VIRTIO_GPU_RESPONSE_MAX (24 + 8 + 1024) /* the EDID's */

int virtio_gpu_init(struct virtio_gpu *g, unsigned width, unsigned height,
		    const struct virtio_host *host);
/* The device without its PCI function, for tests: resources, scanout, commands. */
int virtio_gpu_init_core(struct virtio_gpu *g, unsigned width, unsigned height,
			 const struct guest_memory *mem);
/* Runs one control command (its readable bytes) and writes its response (at most
 * VIRTIO_GPU_RESPONSE_MAX bytes); returns the response's length. */
size_t virtio_gpu_execute(struct virtio_gpu *g, const uint8_t *request, size_t len,
			  uint8_t *response);
/* Runs one cursor command (UPDATE_CURSOR, MOVE_CURSOR); they have no response. */
void virtio_gpu_cursor_command(struct virtio_gpu *g, const uint8_t *request, size_t len);
void virtio_gpu_done(struct virtio_gpu *g);
/* The display channel's view of it (opaque: the struct virtio_gpu). */
extern const struct display_source_ops virtio_gpu_display_ops;

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "options.h"
#include "virtio/blk-request.h"
#include "virtio/pci.h"

/*
 * virtio-blk (5.2) on a raw image file or block device, through io_uring:
 * every request the driver queues goes to the kernel at once, so many are
 * in flight; completions wake the device thread through an eventfd. The
 * ring may only read, write, sync and fallocate its one registered file
 * (io_uring restrictions), whatever becomes of the monitor later.
 */
#define VIRTIO_BLK_QUEUE_SIZE 256

struct virtio_blk;

struct blk_request {
	struct virtqueue_request req;
	struct blk_op op;
	struct blk_request *next_free;
};

struct virtio_blk {
	struct virtio_pci vp;
	const struct disk_config *config;
	struct blk_disk disk;
	char name[32];
	int fd;
	uint64_t sectors;
	bool block_device;
	struct io_uring ring;
	bool ring_ready;
	struct watch completions; /* eventfd the ring signals */
	struct blk_request requests[VIRTIO_BLK_QUEUE_SIZE];
	struct blk_request *free_requests;
	unsigned in_flight;
	bool waiting_for_slot; /* the driver queued more than we had room for */
	unsigned errors_logged;
};

/* Opens the image: errors here are the user's to fix (a missing file, a read-only one, ...). */
int virtio_blk_open(struct virtio_blk *blk, const struct disk_config *config, unsigned index);
int virtio_blk_init(struct virtio_blk *blk, const struct virtio_host *host);
void virtio_blk_done(struct virtio_blk *blk);

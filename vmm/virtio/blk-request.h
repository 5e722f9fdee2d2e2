/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/queue.h"

/*
 * What a virtio-blk request (5.2.6) asks of the host, decoded and checked
 * against the disk: the driver's header, data and status byte may be split
 * across buffers in any way, and nothing it wrote is trusted. Pure: no I/O,
 * so the fuzzer can drive it.
 */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define BLK_SECTOR_SIZE 512
#define BLK_SERIAL_SIZE 20
/* What one discard or write-zeroes request may cover, in sectors. */
#define BLK_MAX_RANGE_SECTORS 0x3fffffu

struct blk_disk {
	uint64_t sectors;
	bool readonly;
	char serial[BLK_SERIAL_SIZE + 1];
};

enum blk_action {
	BLK_ANSWER, /* answered already: status says how */
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,
	BLK_FALLOCATE,
};

struct blk_op {
	enum blk_action action;
	uint8_t type;	      /* VIRTIO_BLK_T_*, for messages */
	uint8_t status;	      /* BLK_ANSWER's */
	uint8_t *status_byte; /* NULL: the request has none, and gets no answer but its return */
	uint64_t offset, length;
	int fallocate_mode;
	struct iovec iov[VIRTQUEUE_MAX_SEGMENTS];
	unsigned iov_count;
	uint32_t written; /* what the used ring reports when the host call succeeds */
};

void blk_request_decode(const struct blk_disk *disk, const struct virtqueue_request *req,
			struct blk_op *op);

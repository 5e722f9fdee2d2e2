/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/blk-request.h"

#include <linux/falloc.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

#define HEADER_SIZE 16
#define SEGMENT_SIZE 16 /* struct virtio_blk_discard_write_zeroes */
#define WRITE_ZEROES_UNMAP 1

/* The driver's bytes of one kind (readable or writable), as the chain orders them. */
static uint64_t total_length(const struct virtqueue_request *req, bool writable)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < req->count; i++)
		if (req->buf[i].writable == writable)
			n += req->buf[i].len;
	return n;
}

/* iovecs over bytes [skip, skip + len) of one kind. */
static unsigned gather(const struct virtqueue_request *req, bool writable, uint64_t skip,
		       uint64_t len, struct iovec *iov)
{
	unsigned n = 0;

	for (unsigned i = 0; i < req->count && len; i++) {
		const struct virtqueue_buffer *b = &req->buf[i];
		uint64_t take;

		if (b->writable != writable || b->len == 0)
			continue;
		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		take = b->len - skip < len ? b->len - skip : len;
		iov[n++] = (struct iovec){ .iov_base = b->host + skip, .iov_len = take };
		len -= take;
		skip = 0;
	}
	return n;
}

static void copy_out(const struct iovec *iov, unsigned n, uint8_t *dst, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(dst, iov[i].iov_base, take);
		dst += take;
		len -= take;
	}
}

static void copy_in(const struct iovec *iov, unsigned n, const uint8_t *src, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t take = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, src, take);
		src += take;
		len -= take;
	}
}

/* The status byte: the last byte the driver gave us to write. */
static uint8_t *find_status(const struct virtqueue_request *req)
{
	for (unsigned i = req->count; i-- > 0;)
		if (req->buf[i].writable && req->buf[i].len)
			return req->buf[i].host + req->buf[i].len - 1;
	return NULL;
}

static bool in_disk(const struct blk_disk *disk, uint64_t sector, uint64_t sectors)
{
	return sector <= disk->sectors && sectors <= disk->sectors - sector;
}

static void answer(struct blk_op *op, uint8_t status)
{
	op->action = BLK_ANSWER;
	op->status = status;
}

/* DISCARD and WRITE_ZEROES: one segment each (we offer max_*_seg = 1). */
static void decode_range(const struct blk_disk *disk, const struct virtqueue_request *req,
			 uint64_t readable, struct blk_op *op)
{
	uint8_t segment[SEGMENT_SIZE];
	struct iovec iov[VIRTQUEUE_MAX_SEGMENTS];
	uint64_t sector;
	uint32_t count, flags;

	if (disk->readonly || readable != HEADER_SIZE + SEGMENT_SIZE) {
		answer(op, VIRTIO_BLK_S_IOERR);
		return;
	}
	copy_out(iov, gather(req, false, HEADER_SIZE, SEGMENT_SIZE, iov), segment, SEGMENT_SIZE);
	sector = get_le64(segment);
	count = get_le32(segment + 8);
	flags = get_le32(segment + 12);
	if (!in_disk(disk, sector, count) || count > BLK_MAX_RANGE_SECTORS ||
	    (flags & ~(uint32_t)WRITE_ZEROES_UNMAP) ||
	    (op->type == VIRTIO_BLK_T_DISCARD && flags)) {
		answer(op, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	op->offset = sector * BLK_SECTOR_SIZE;
	op->length = (uint64_t)count * BLK_SECTOR_SIZE;
	if (op->length == 0) {
		answer(op, VIRTIO_BLK_S_OK);
		return;
	}
	op->action = BLK_FALLOCATE;
	/* Unmapping reads back as zeroes too; the driver allows it when it sets the flag. */
	if (op->type == VIRTIO_BLK_T_DISCARD || (flags & WRITE_ZEROES_UNMAP))
		op->fallocate_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else
		op->fallocate_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

static void decode_rw(const struct blk_disk *disk, const struct virtqueue_request *req,
		      uint64_t sector, uint64_t readable, uint64_t writable, struct blk_op *op)
{
	bool in = op->type == VIRTIO_BLK_T_IN;
	uint64_t len = in ? writable - 1 : readable - HEADER_SIZE;

	if ((!in && disk->readonly) || len % BLK_SECTOR_SIZE ||
	    !in_disk(disk, sector, len / BLK_SECTOR_SIZE)) {
		answer(op, VIRTIO_BLK_S_IOERR);
		return;
	}
	op->offset = sector * BLK_SECTOR_SIZE;
	op->length = len;
	if (len == 0) {
		answer(op, VIRTIO_BLK_S_OK);
		return;
	}
	op->iov_count = gather(req, in, in ? 0 : HEADER_SIZE, len, op->iov);
	op->action = in ? BLK_READ : BLK_WRITE;
	if (in)
		op->written = (uint32_t)(len + 1);
}

void blk_request_decode(const struct blk_disk *disk, const struct virtqueue_request *req,
			struct blk_op *op)
{
	uint64_t readable = total_length(req, false), writable = total_length(req, true);
	uint8_t header[HEADER_SIZE];
	struct iovec iov[VIRTQUEUE_MAX_SEGMENTS];
	uint32_t type;

	memset(op, 0, offsetof(struct blk_op, iov));
	op->iov_count = 0;
	op->written = 1;
	op->status_byte = find_status(req);
	if (!op->status_byte || readable < HEADER_SIZE) {
		answer(op, VIRTIO_BLK_S_IOERR);
		return;
	}
	copy_out(iov, gather(req, false, 0, HEADER_SIZE, iov), header, HEADER_SIZE);
	type = get_le32(header);
	op->type = type <= 0xff ? (uint8_t)type : 0xff;

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		decode_rw(disk, req, get_le64(header + 8), readable, writable, op);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Nothing to make durable on a disk we never write. */
		if (disk->readonly)
			answer(op, VIRTIO_BLK_S_OK);
		else
			op->action = BLK_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint8_t id[BLK_SERIAL_SIZE] = {};
		uint64_t n = writable - 1 < BLK_SERIAL_SIZE ? writable - 1 : BLK_SERIAL_SIZE;

		memcpy(id, disk->serial, strnlen(disk->serial, BLK_SERIAL_SIZE));
		copy_in(iov, gather(req, true, 0, n, iov), id, n);
		op->written = (uint32_t)(n + 1);
		answer(op, VIRTIO_BLK_S_OK);
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		decode_range(disk, req, readable, op);
		break;
	default:
		answer(op, VIRTIO_BLK_S_UNSUPP);
		break;
	}
}

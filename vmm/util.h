/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly len bytes at offset; -EIO when the file is shorter than it said. */
int pread_full(int fd, void *buf, size_t len, off_t offset);
/* Writes all len bytes (through short writes and EINTR); -errno, or -EIO when nothing more is
 * taken. */
int write_full(int fd, const void *buf, size_t len);

/*
 * An eventfd's counter: eventfd_signal adds one (waking its watcher),
 * eventfd_drain reads it back to zero and returns what it held. -errno
 * otherwise; -EAGAIN from drain means nothing was pending.
 */
int eventfd_signal(int fd);
int64_t eventfd_drain(int fd);

/*
 * pthread_create with the stack size our threads (vCPUs, the device thread)
 * get; returns what pthread_create does (0, or a positive error number).
 */
int thread_create(pthread_t *thread, void *(*start)(void *), void *arg);

/* Little-endian fields in byte buffers: what the guest, a file or a device register holds. */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

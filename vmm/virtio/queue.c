/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/queue.h"

#include <errno.h>
#include <string.h>

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define DESC_SIZE 16

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static uint8_t *ring_ptr(const struct virtqueue *vq, uint64_t gpa, uint64_t len)
{
	return guest_memory_ptr(vq->mem, gpa, len);
}

void virtqueue_reset(struct virtqueue *vq, const struct guest_memory *mem, uint16_t max_size)
{
	*vq = (struct virtqueue){
		.mem = mem, .max_size = max_size, .size = max_size, .msix_vector = 0xffff
	};
}

int virtqueue_check(const struct virtqueue *vq)
{
	uint64_t n = vq->size;

	if (n == 0 || n > vq->max_size || (n & (n - 1)))
		return -EINVAL;
	if ((vq->desc_addr & 15) || (vq->avail_addr & 1) || (vq->used_addr & 3))
		return -EINVAL;
	if (!ring_ptr(vq, vq->desc_addr, n * DESC_SIZE) ||
	    !ring_ptr(vq, vq->avail_addr, 6 + 2 * n) || !ring_ptr(vq, vq->used_addr, 6 + 8 * n))
		return -EFAULT;
	return 0;
}

static void read_desc(const uint8_t *table, uint16_t i, struct desc *d)
{
	const uint8_t *p = table + (size_t)i * DESC_SIZE;

	memcpy(&d->addr, p, 8);
	memcpy(&d->len, p + 8, 4);
	memcpy(&d->flags, p + 12, 2);
	memcpy(&d->next, p + 14, 2);
}

static int add_buffer(struct virtqueue *vq, struct virtqueue_request *req, const struct desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	uint8_t *host = NULL;

	if (req->count == VIRTQUEUE_MAX_SEGMENTS)
		return -EIO;
	/* Device-readable buffers come first, as the spec requires. */
	if (!writable && req->count && req->buf[req->count - 1].writable)
		return -EIO;
	if (d->len) {
		host = guest_memory_ptr(vq->mem, d->addr, d->len);
		if (!host)
			return -EIO;
	}
	req->buf[req->count++] =
	    (struct virtqueue_buffer){ .host = host, .len = d->len, .writable = writable };
	return 0;
}

/* Walks a chain in table (of n descriptors) from i; nested indirect tables are refused. */
static int walk(struct virtqueue *vq, struct virtqueue_request *req, const uint8_t *table,
		uint16_t n, uint16_t i, bool indirect)
{
	for (unsigned seen = 0;; seen++) {
		struct desc d;
		int r;

		if (i >= n || seen >= n)
			return -EIO; /* out of the table, or a loop */
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			const uint8_t *sub;

			if (indirect || !vq->indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    d.len == 0 || d.len % DESC_SIZE ||
			    d.len / DESC_SIZE > VIRTQUEUE_MAX_SIZE)
				return -EIO;
			sub = guest_memory_ptr(vq->mem, d.addr, d.len);
			if (!sub)
				return -EIO;
			return walk(vq, req, sub, (uint16_t)(d.len / DESC_SIZE), 0, true);
		}
		r = add_buffer(vq, req, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtqueue_pop(struct virtqueue *vq, struct virtqueue_request *req)
{
	uint8_t *avail = ring_ptr(vq, vq->avail_addr, 6 + 2ull * vq->size);
	uint8_t *desc = ring_ptr(vq, vq->desc_addr, (uint64_t)vq->size * DESC_SIZE);
	uint16_t avail_idx, head;

	if (!vq->enabled || !avail || !desc)
		return -EIO;
	avail_idx = load16(avail + 2);
	if (avail_idx == vq->last_avail)
		return 0;
	/* More entries than the ring holds: the driver's index is garbage. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return -EIO;
	memcpy(&head, avail + 4 + 2 * (vq->last_avail % vq->size), 2);
	req->head = head;
	req->count = 0;
	if (walk(vq, req, desc, vq->size, head, false) < 0)
		return -EIO;
	vq->last_avail++;
	if (vq->event_idx) {
		uint8_t *used = ring_ptr(vq, vq->used_addr, 6 + 8ull * vq->size);
		/* avail_event: wake us when the driver adds past what we have taken. */
		store16(used + 4 + 8 * vq->size, vq->last_avail);
	}
	return 1;
}

bool virtqueue_has_buffers(const struct virtqueue *vq)
{
	uint8_t *avail = ring_ptr(vq, vq->avail_addr, 6 + 2ull * vq->size);

	return vq->enabled && avail && load16(avail + 2) != vq->last_avail;
}

void virtqueue_push(struct virtqueue *vq, const struct virtqueue_request *req, uint32_t written)
{
	uint8_t *used = ring_ptr(vq, vq->used_addr, 6 + 8ull * vq->size);
	uint8_t *elem;
	uint32_t id = req->head;

	if (!used)
		return;
	elem = used + 4 + 8 * (vq->used_idx % vq->size);
	memcpy(elem, &id, 4);
	memcpy(elem + 4, &written, 4);
	vq->used_idx++;
	/* The element before the index: the driver reads them in that order. */
	store16(used + 2, vq->used_idx);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	uint8_t *avail = ring_ptr(vq, vq->avail_addr, 6 + 2ull * vq->size);
	uint16_t old, event;
	bool valid;

	if (!avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(avail) & VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	event = load16(avail + 4 + 2 * vq->size);
	/* vring_need_event(): did used_idx pass used_event since we last signalled? */
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

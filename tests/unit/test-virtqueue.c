/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The split virtqueue against what a hostile driver can write into guest RAM. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "memory.h"
#include "virtio/queue.h"

#define QSIZE 8
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define DATA 0x20000

static struct guest_memory mem;
static struct virtqueue vq;

static uint8_t *gpa(uint64_t a)
{
	return guest_memory_ptr(&mem, a, 1);
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *p = gpa(table + 16 * i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void offer(uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, gpa(AVAIL + 2), 2);
	memcpy(gpa(AVAIL + 4 + 2 * (idx % QSIZE)), &head, 2);
	idx++;
	memcpy(gpa(AVAIL + 2), &idx, 2);
}

static void setup(void)
{
	if (!mem.host)
		g_assert_cmpint(guest_memory_init(&mem, 16 << 20), ==, 0);
	memset(mem.host, 0, 1 << 20);
	virtqueue_reset(&vq, &mem, QSIZE);
	vq.desc_addr = DESC;
	vq.avail_addr = AVAIL;
	vq.used_addr = USED;
	vq.indirect = true;
	g_assert_cmpint(virtqueue_check(&vq), ==, 0);
	vq.enabled = true;
}

static void test_chain(void)
{
	struct virtqueue_request req;
	uint16_t used_idx;
	uint32_t id;

	setup();
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 0);
	put_desc(DESC, 0, DATA, 16, 1, 1);	/* readable, NEXT */
	put_desc(DESC, 1, DATA + 16, 32, 2, 0); /* writable */
	offer(0);
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 1);
	g_assert_cmpuint(req.count, ==, 2);
	g_assert_false(req.buf[0].writable);
	g_assert_true(req.buf[1].writable);
	g_assert_true(req.buf[1].host == gpa(DATA + 16));
	virtqueue_push(&vq, &req, 32);
	memcpy(&used_idx, gpa(USED + 2), 2);
	memcpy(&id, gpa(USED + 4), 4);
	g_assert_cmpuint(used_idx, ==, 1);
	g_assert_cmpuint(id, ==, 0);
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 0);
}

static void expect_broken(void)
{
	struct virtqueue_request req;

	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, -EIO);
}

static void test_hostile(void)
{
	/* A loop. */
	setup();
	put_desc(DESC, 0, DATA, 16, 1, 1);
	put_desc(DESC, 1, DATA, 16, 1, 0);
	offer(0);
	expect_broken();
	/* A head out of the table. */
	setup();
	offer(QSIZE + 3);
	expect_broken();
	/* A next out of the table. */
	setup();
	put_desc(DESC, 0, DATA, 16, 1, 200);
	offer(0);
	expect_broken();
	/* A buffer beyond guest RAM, and one that wraps around. */
	setup();
	put_desc(DESC, 0, 64ULL << 20, 16, 0, 0);
	offer(0);
	expect_broken();
	setup();
	put_desc(DESC, 0, ~0ULL - 4, 16, 0, 0);
	offer(0);
	expect_broken();
	/* An available index that jumped more than the ring holds. */
	setup();
	{
		uint16_t idx = QSIZE + 1;
		memcpy(gpa(AVAIL + 2), &idx, 2);
	}
	expect_broken();
	/* Readable after writable. */
	setup();
	put_desc(DESC, 0, DATA, 16, 2 | 1, 1);
	put_desc(DESC, 1, DATA, 16, 0, 0);
	offer(0);
	expect_broken();
	/* Indirect: nested, misaligned length, and not negotiated. */
	setup();
	put_desc(DESC, 0, DATA, 32, 4, 0);
	put_desc(DATA, 0, DATA + 0x100, 16, 4, 0);
	offer(0);
	expect_broken();
	setup();
	put_desc(DESC, 0, DATA, 20, 4, 0);
	offer(0);
	expect_broken();
	setup();
	vq.indirect = false;
	put_desc(DESC, 0, DATA, 16, 4, 0);
	put_desc(DATA, 0, DATA + 0x100, 16, 0, 0);
	offer(0);
	expect_broken();
	/* Rings that do not fit, sizes that are not powers of two. */
	setup();
	vq.used_addr = (16ULL << 20) - 8;
	g_assert_cmpint(virtqueue_check(&vq), <, 0);
	setup();
	vq.size = 6;
	g_assert_cmpint(virtqueue_check(&vq), <, 0);
	vq.size = 512;
	g_assert_cmpint(virtqueue_check(&vq), <, 0);
}

static void test_indirect(void)
{
	struct virtqueue_request req;

	setup();
	put_desc(DESC, 0, DATA, 48, 4, 0);
	put_desc(DATA, 0, DATA + 0x100, 8, 1, 1);
	put_desc(DATA, 1, DATA + 0x200, 8, 1, 2);
	put_desc(DATA, 2, DATA + 0x300, 64, 2, 0);
	offer(0);
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 1);
	g_assert_cmpuint(req.count, ==, 3);
	g_assert_true(req.buf[2].writable);
	g_assert_cmpuint(req.buf[2].len, ==, 64);
}

static void test_event_idx(void)
{
	struct virtqueue_request req;
	uint16_t used_event;

	setup();
	vq.event_idx = true;
	put_desc(DESC, 0, DATA, 16, 2, 0);
	offer(0);
	offer(0);
	/* The driver wants an interrupt only once the second buffer is used. */
	used_event = 1;
	memcpy(gpa(AVAIL + 4 + 2 * QSIZE), &used_event, 2);
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 1);
	virtqueue_push(&vq, &req, 16);
	g_assert_true(virtqueue_should_notify(&vq)); /* the first time, always */
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 1);
	virtqueue_push(&vq, &req, 16);
	g_assert_true(virtqueue_should_notify(&vq));
	used_event = 5;
	memcpy(gpa(AVAIL + 4 + 2 * QSIZE), &used_event, 2);
	offer(0);
	g_assert_cmpint(virtqueue_pop(&vq, &req), ==, 1);
	virtqueue_push(&vq, &req, 16);
	g_assert_false(virtqueue_should_notify(&vq));
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtqueue/chain", test_chain);
	g_test_add_func("/virtqueue/hostile", test_hostile);
	g_test_add_func("/virtqueue/indirect", test_indirect);
	g_test_add_func("/virtqueue/event-idx", test_event_idx);
	r = g_test_run();
	guest_memory_done(&mem);
	return r;
}

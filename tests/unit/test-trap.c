/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one trap table behind port I/O and MMIO exits. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "trap.h"

typedef struct {
	uint64_t offset;
	unsigned size;
	int writes, reads;
} Seen;

static void seen_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	Seen *s = opaque;

	s->offset = offset;
	s->size = size;
	s->reads++;
	memset(data, 0x5a, size);
}

static void seen_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	Seen *s = opaque;

	s->offset = offset;
	s->size = size;
	s->writes++;
}

static const struct trap_ops seen_ops = { .read = seen_read, .write = seen_write };

static void test_register(void)
{
	struct trap_table t;
	Seen a = { 0 }, b = { 0 };

	trap_table_init(&t, "I/O port", 0x10000, false);
	g_assert_cmpint(trap_register(&t, "a", 0x3f8, 8, &seen_ops, &a), ==, 0);
	g_assert_cmpint(trap_register(&t, "b", 0x3f0, 8, &seen_ops, &b), ==, 0);
	g_assert_cmpint(trap_register(&t, "overlap", 0x3ff, 1, &seen_ops, &b), ==, -EEXIST);
	g_assert_cmpint(trap_register(&t, "empty", 0x100, 0, &seen_ops, &b), ==, -EINVAL);
	g_assert_cmpint(trap_register(&t, "past the end", 0xfffe, 4, &seen_ops, &b), ==, -EINVAL);
	g_assert_cmpuint(t.count, ==, 2);
	for (unsigned i = 2; i < TRAP_MAX_RANGES; i++)
		g_assert_cmpint(trap_register(&t, "filler", 0x1000 + i * 4, 4, &seen_ops, &b), ==,
				0);
	g_assert_cmpint(trap_register(&t, "one too many", 0x9000, 4, &seen_ops, &b), ==, -ENOSPC);
}

static void test_dispatch(void)
{
	struct trap_table pio, mmio;
	Seen port = { 0 }, region = { 0 };
	uint8_t data[8];

	trap_table_init(&pio, "I/O port", 0x10000, false);
	trap_table_init(&mmio, "MMIO", UINT64_MAX, true);
	g_assert_cmpint(trap_register(&pio, "uart", 0x3f8, 8, &seen_ops, &port), ==, 0);
	g_assert_cmpint(trap_register(&mmio, "ecam", 0xe0000000, 0x1000, &seen_ops, &region), ==,
			0);

	trap_access(&pio, 0x3fd, data, 1, false);
	g_assert_cmpuint(port.offset, ==, 5);
	g_assert_cmpint(port.reads, ==, 1);
	g_assert_cmpuint(data[0], ==, 0x5a);
	/* Port I/O goes to the range of its first port, even past its end. */
	trap_access(&pio, 0x3ff, data, 4, true);
	g_assert_cmpuint(port.offset, ==, 7);
	g_assert_cmpint(port.writes, ==, 1);

	trap_access(&mmio, 0xe0000ffc, data, 4, false);
	g_assert_cmpuint(region.offset, ==, 0xffc);
	g_assert_cmpint(region.reads, ==, 1);
	/* An MMIO access that straddles the region's end is nobody's: all ones. */
	trap_access(&mmio, 0xe0000ffe, data, 4, false);
	g_assert_cmpint(region.reads, ==, 1);
	g_assert_cmpuint(data[0] & data[1] & data[2] & data[3], ==, 0xff);
	/* Nobody there: reads all ones, writes go nowhere. */
	trap_access(&pio, 0x80, data, 2, false);
	g_assert_cmpuint(data[0] & data[1], ==, 0xff);
	trap_access(&mmio, 0x1000, data, 8, true);
	g_assert_cmpint(region.writes, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/trap/register", test_register);
	g_test_add_func("/trap/dispatch", test_dispatch);
	return g_test_run();
}

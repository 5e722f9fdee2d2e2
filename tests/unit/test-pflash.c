/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The variables' flash (hw/pflash.c) as OVMF's QemuFlash code probes, programs and erases it. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hw/pflash.h"

#define SIZE (4 * PFLASH_BLOCK_SIZE)
static uint8_t array[SIZE];
static bool mapped, map_fails;
static int syncs, map_changes;

static int set_mapped(void *opaque, bool now_mapped)
{
	(void)opaque;
	if (map_fails)
		return -ENOMEM;
	mapped = now_mapped;
	map_changes++;
	return 0;
}

static int sync_array(void *opaque)
{
	(void)opaque;
	syncs++;
	return 0;
}

/* What the guest reads at offset: the array while mapped (KVM serves it), else the device. */
static uint8_t rd(struct pflash *flash, uint64_t offset)
{
	uint8_t v;

	if (mapped)
		return array[offset];
	pflash_ops.read(flash, offset, &v, 1);
	return v;
}

static void wr(struct pflash *flash, uint64_t offset, uint8_t v)
{
	pflash_ops.write(flash, offset, &v, 1);
}

static void setup(struct pflash *flash)
{
	memset(array, 0xa5, sizeof(array));
	mapped = true;
	map_fails = false;
	syncs = map_changes = 0;
	g_assert_cmpint(pflash_init(flash, array, SIZE, set_mapped, sync_array, NULL), ==, 0);
}

/* OvmfPkg's QemuFlashDetected, step by step: it must conclude "behaves as FLASH". */
static void test_ovmf_probe(void)
{
	struct pflash flash;
	uint8_t original, probe;

	setup(&flash);
	original = rd(&flash, 0);
	wr(&flash, 0, 0x50);
	probe = rd(&flash, 0);
	g_assert_cmpuint(probe, ==, original); /* not RAM */
	wr(&flash, 0, 0x70);
	g_assert_false(mapped);
	g_assert_cmpuint(rd(&flash, 0), ==, 0x00); /* cleared status: a flash */
	wr(&flash, 0, 0x10);
	wr(&flash, 0, original);
	wr(&flash, 0, 0x70);
	probe = rd(&flash, 0);
	wr(&flash, 0, 0xff);
	g_assert_cmphex(probe & 0x10, ==, 0); /* the program did not fail */
	g_assert_cmphex(probe & 0x80, ==, 0x80);
	g_assert_true(mapped);
	g_assert_cmpuint(rd(&flash, 0), ==, original);
	pflash_done(&flash);
}

/* QemuFlashWrite: 0x10 and a byte, for each byte, then Read Array once; synced then, once. */
static void test_program_and_erase(void)
{
	struct pflash flash;
	static const char text[] = "BootOrder";

	setup(&flash);
	for (size_t i = 0; i < sizeof(text); i++) {
		wr(&flash, 0x100 + i, i % 2 ? 0x40 : 0x10);
		wr(&flash, 0x100 + i, (uint8_t)text[i]);
	}
	g_assert_false(mapped);
	g_assert_cmpint(syncs, ==, 0);
	wr(&flash, 0x100 + sizeof(text) - 1, 0xff);
	g_assert_true(mapped);
	g_assert_cmpint(syncs, ==, 1);
	g_assert_cmpstr((char *)array + 0x100, ==, text);
	/* Erase the second block from an address inside it. */
	wr(&flash, PFLASH_BLOCK_SIZE + 17, 0x20);
	wr(&flash, PFLASH_BLOCK_SIZE + 17, 0xd0);
	g_assert_cmphex(rd(&flash, PFLASH_BLOCK_SIZE + 17), ==, 0x80);
	wr(&flash, 0, 0xff);
	g_assert_cmpint(syncs, ==, 2);
	for (size_t i = 0; i < PFLASH_BLOCK_SIZE; i++)
		g_assert_cmphex(array[PFLASH_BLOCK_SIZE + i], ==, 0xff);
	g_assert_cmphex(array[PFLASH_BLOCK_SIZE - 1], ==, 0xa5);
	g_assert_cmphex(array[2 * PFLASH_BLOCK_SIZE], ==, 0xa5);
	/* Read Array with nothing written: no sync. */
	wr(&flash, 0, 0x70);
	wr(&flash, 0, 0xff);
	g_assert_cmpint(syncs, ==, 2);
	pflash_done(&flash);
}

/* A hostile guest: an erase not confirmed, writes past the end, wide program writes at the end,
 * unknown commands. Errors in the status, never a byte outside the array. */
static void test_hostile_commands(void)
{
	struct pflash flash;
	uint8_t wide[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	setup(&flash);
	wr(&flash, 0, 0x20);
	wr(&flash, 0, 0x42);
	g_assert_cmphex(rd(&flash, 0) & 0x30, ==, 0x30);
	g_assert_cmphex(array[0], ==, 0xa5);
	wr(&flash, 0, 0x50);
	g_assert_true(mapped);
	/* Past the end: ignored, whatever the command. */
	wr(&flash, SIZE, 0x20);
	wr(&flash, SIZE + 5, 0xd0);
	g_assert_true(mapped);
	/* A program whose bytes would run past the end. */
	wr(&flash, SIZE - 4, 0x10);
	pflash_ops.write(&flash, SIZE - 4, wide, 8);
	g_assert_cmphex(rd(&flash, 0) & 0x10, ==, 0x10);
	g_assert_cmphex(array[SIZE - 4], ==, 0xa5);
	/* The CFI query and other commands it does not have: back to the array. */
	wr(&flash, 0, 0x98);
	g_assert_true(mapped);
	g_assert_cmpuint(rd(&flash, 3), ==, 0xa5);
	pflash_done(&flash);
}

/* A slot that cannot be mapped again: reads come to the device, and in read-array mode they get
 * the array, not the status. */
static void test_map_fails(void)
{
	struct pflash flash;

	setup(&flash);
	wr(&flash, 0, 0x70);
	g_assert_false(mapped);
	map_fails = true;
	wr(&flash, 0, 0xff);
	g_assert_false(mapped);
	g_assert_cmphex(rd(&flash, 0), ==, 0xa5);
	pflash_done(&flash);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pflash/ovmf-probe", test_ovmf_probe);
	g_test_add_func("/pflash/program-and-erase", test_program_and_erase);
	g_test_add_func("/pflash/hostile-commands", test_hostile_commands);
	g_test_add_func("/pflash/map-fails", test_map_fails);
	return g_test_run();
}

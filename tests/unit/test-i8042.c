/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The keyboard controller (hw/i8042.c): its reset line, and a status that says no keyboard
 * answers, as a firmware's PS/2 driver reads it. */
#include <glib.h>

#include "hw/i8042.h"

static unsigned resets;

static void count_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

static void test_status(void)
{
	struct i8042 k = { .reset = count_reset };
	uint8_t v = 0xaa;

	/* Port 0x64: no data (bit 0) and room for a command (bit 1), but OVMF's Ps2KeyboardDxe
	 * takes receive timeout with parity error (bits 6 and 7) as "no keyboard controller". */
	i8042_io_ops.read(&k, 4, &v, 1);
	g_assert_cmphex(v, ==, 0xc0);
	/* Port 0x60: nothing. */
	i8042_io_ops.read(&k, 0, &v, 1);
	g_assert_cmphex(v, ==, 0);
}

static void test_reset(void)
{
	struct i8042 k = { .reset = count_reset };
	uint8_t selftest = 0xaa, pulse = 0xfe;

	resets = 0;
	i8042_io_ops.write(&k, 4, &selftest, 1);
	i8042_io_ops.write(&k, 0, &pulse, 1);
	g_assert_cmpuint(resets, ==, 0);
	i8042_io_ops.write(&k, 4, &pulse, 1);
	g_assert_cmpuint(resets, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i8042/status", test_status);
	g_test_add_func("/i8042/reset", test_reset);
	return g_test_run();
}

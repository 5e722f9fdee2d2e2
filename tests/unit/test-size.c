/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one size grammar of phyllome-vmm, phyllomed and phyllomectl (common/size.h). */
#include <errno.h>
#include <glib.h>

#include "size.h"

static uint64_t parsed(const char *s, uint64_t bare_unit)
{
	uint64_t v = 0;

	g_assert_cmpint(size_parse(s, bare_unit, &v), ==, 0);
	return v;
}

static void test_units(void)
{
	/* Every spelling of a unit, in either case, means the same binary unit. */
	const char *mib[] = { "3M", "3m", "3MiB", "3mib", "3MB", "3mb", "3Mib" };

	for (guint i = 0; i < G_N_ELEMENTS(mib); i++)
		g_assert_cmpuint(parsed(mib[i], 1), ==, 3 * SIZE_MIB);
	g_assert_cmpuint(parsed("4096B", SIZE_MIB), ==, 4096);
	g_assert_cmpuint(parsed("4096b", 1), ==, 4096);
	g_assert_cmpuint(parsed("65536k", 1), ==, 65536ULL << 10);
	g_assert_cmpuint(parsed("2G", 1), ==, 2ULL << 30);
	g_assert_cmpuint(parsed("1TiB", 1), ==, 1ULL << 40);
	g_assert_cmpuint(parsed("0", 1), ==, 0);
}

static void test_bare_numbers(void)
{
	/* The caller's unit: MiB on command lines, bytes in definitions. */
	g_assert_cmpuint(parsed("512", SIZE_MIB), ==, 512 * SIZE_MIB);
	g_assert_cmpuint(parsed("67108864", 1), ==, 64 * SIZE_MIB);
}

static void test_refused(void)
{
	const char *bad[] = { "",      " 1M",  "1M ", "-1M", "+1M",  "1.5G", "12Q", "1Gx",
			      "1GiBB", "1BiB", "1BB", "M",   "0x10", "1 G",  "1iB" };
	uint64_t v = 42;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("'%s'", bad[i]);
		g_assert_cmpint(size_parse(bad[i], 1, &v), ==, -EINVAL);
	}
	g_assert_cmpint(size_parse(NULL, 1, &v), ==, -EINVAL);
	g_assert_cmpint(size_parse("1", 0, &v), ==, -EINVAL);
	g_assert_cmpuint(v, ==, 42);
}

static void test_range(void)
{
	uint64_t v = 42;

	g_assert_cmpuint(parsed("18446744073709551615", 1), ==, UINT64_MAX);
	g_assert_cmpint(size_parse("18446744073709551616", 1, &v), ==, -ERANGE);
	g_assert_cmpint(size_parse("99999999999999999999", SIZE_MIB, &v), ==, -ERANGE);
	g_assert_cmpint(size_parse("17179869184G", 1, &v), ==, -ERANGE);
	g_assert_cmpint(size_parse("17592186044416", SIZE_MIB, &v), ==, -ERANGE);
	g_assert_cmpuint(parsed("17592186044415", SIZE_MIB), ==, 17592186044415ULL << 20);
	g_assert_cmpuint(v, ==, 42);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/size/units", test_units);
	g_test_add_func("/size/bare-numbers", test_bare_numbers);
	g_test_add_func("/size/refused", test_refused);
	g_test_add_func("/size/range", test_range);
	return g_test_run();
}

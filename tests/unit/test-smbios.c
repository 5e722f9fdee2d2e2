/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SMBIOS tables (hw/smbios.c), walked as OVMF installs them and as dmidecode reads them. */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "hw/smbios.h"
#include "util.h"

static const struct smbios_machine machine = {
	.uuid = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
		  0xdd, 0xee, 0xff },
	.cpus = 3,
	.ram_below_4g = 3ULL << 30,
	.ram_above_4g = 5ULL << 30,
	.version = "9.9",
};

/* One structure: where it starts, its formatted length, its strings. */
struct structure {
	const uint8_t *p;
	const char *strings[8];
	unsigned string_count;
	size_t total; /* with the string set */
};

static struct structure next_structure(const uint8_t *p, const uint8_t *end)
{
	struct structure s = { .p = p };
	const uint8_t *q;

	g_assert_cmpint(end - p, >=, 4);
	g_assert_cmpuint(p[1], >=, 4);
	q = p + p[1];
	if (q[0] == 0 && q[1] == 0) {
		s.total = (size_t)(q + 2 - p);
		return s;
	}
	while (*q) {
		g_assert_cmpuint(s.string_count, <, G_N_ELEMENTS(s.strings));
		s.strings[s.string_count++] = (const char *)q;
		q += strlen((const char *)q) + 1;
		g_assert_true(q < end);
	}
	s.total = (size_t)(q + 1 - p);
	return s;
}

static const char *string_field(const struct structure *s, unsigned offset)
{
	unsigned n = s->p[offset];
	g_assert_cmpuint(n, >=, 1);
	g_assert_cmpuint(n, <=, s->string_count);
	return s->strings[n - 1];
}

static void test_tables(void)
{
	uint8_t tables[SMBIOS_MAX_SIZE], anchor[SMBIOS_ANCHOR_SIZE], sum = 0;
	int len = smbios_build(&machine, tables, sizeof(tables), anchor);
	const uint8_t *p = tables, *end;
	unsigned count[128] = { 0 };
	GHashTable *handles = g_hash_table_new(NULL, NULL);
	bool saw_end = false;

	g_assert_cmpint(len, >, 0);
	end = tables + len;
	while (p < end) {
		struct structure s = next_structure(p, end);
		unsigned handle = get_le16(p + 2);

		g_assert_false(saw_end);
		/* Handles are unique: OVMF's SMBIOS protocol refuses a second one. */
		g_assert_false(g_hash_table_contains(handles, GUINT_TO_POINTER(handle)));
		g_hash_table_add(handles, GUINT_TO_POINTER(handle));
		count[p[0] & 127]++;
		switch (p[0]) {
		case 1:
			g_assert_cmpuint(p[1], ==, 0x1b);
			g_assert_cmpstr(string_field(&s, 0x04), ==, "Phyllome");
			g_assert_cmpstr(string_field(&s, 0x06), ==, "9.9");
			/* dmidecode prints 00112233-4455-6677-8899-aabbccddeeff from these bytes.
			 */
			g_assert_cmphex(get_le32(p + 0x08), ==, 0x00112233);
			g_assert_cmphex(get_le16(p + 0x0c), ==, 0x4455);
			g_assert_cmphex(get_le16(p + 0x0e), ==, 0x6677);
			g_assert_cmpmem(p + 0x10, 8, machine.uuid + 8, 8);
			break;
		case 4:
			g_assert_cmpuint(p[1], ==, 0x30);
			g_assert_cmpuint(p[0x18], ==, 0x41);
			break;
		case 16:
			/* 8 GiB: more than the 32-bit KiB field holds? No: 8 Mi KiB fits. */
			g_assert_cmpuint(get_le32(p + 0x07), ==, 8u << 20);
			break;
		case 17:
			g_assert_cmpuint(get_le16(p + 0x0c), ==, 8192);
			g_assert_cmpstr(string_field(&s, 0x10), ==, "DIMM 0");
			break;
		case 19:
			if (get_le32(p + 0x04) == 0)
				g_assert_cmpuint(get_le32(p + 0x08), ==, (3u << 20) - 1);
			else
				g_assert_cmpuint(get_le32(p + 0x04), ==, 4u << 20);
			break;
		case 127:
			saw_end = true;
			break;
		}
		p += s.total;
	}
	g_assert_true(p == end);
	g_assert_true(saw_end);
	g_assert_cmpuint(count[1], ==, 1);
	g_assert_cmpuint(count[3], ==, 1);
	g_assert_cmpuint(count[4], ==, 3);
	g_assert_cmpuint(count[17], ==, 1);
	g_assert_cmpuint(count[19], ==, 2);
	g_assert_cmpuint(count[0], ==, 0); /* the firmware's to describe */

	/* The entry point as OVMF's DetectSmbiosVersionLib checks it. */
	g_assert_cmpmem(anchor, 5, "_SM3_", 5);
	g_assert_cmpuint(anchor[6], ==, SMBIOS_ANCHOR_SIZE);
	g_assert_cmpuint(anchor[7], ==, 3);
	g_assert_cmpuint(get_le32(anchor + 12), ==, (unsigned)len);
	for (unsigned i = 0; i < SMBIOS_ANCHOR_SIZE; i++)
		sum = (uint8_t)(sum + anchor[i]);
	g_assert_cmpuint(sum, ==, 0);
	g_hash_table_destroy(handles);
}

/* The most vCPUs fit in SMBIOS_MAX_SIZE; a buffer too small is refused, not overrun. */
static void test_sizes(void)
{
	struct smbios_machine big = machine;
	uint8_t tables[SMBIOS_MAX_SIZE + 16], anchor[SMBIOS_ANCHOR_SIZE];

	big.cpus = 254;
	big.ram_above_4g = 8ULL << 40; /* 8 TiB: the extended size fields */
	g_assert_cmpint(smbios_build(&big, tables, SMBIOS_MAX_SIZE, anchor), >, 0);
	memset(tables, 0x5a, sizeof(tables));
	g_assert_cmpint(smbios_build(&big, tables, 1000, anchor), ==, -ENOSPC);
	for (size_t i = 1000; i < sizeof(tables); i++)
		g_assert_cmpuint(tables[i], ==, 0x5a);
	for (size_t n = 0; n < 300; n++)
		g_assert_cmpint(smbios_build(&machine, tables, n, anchor), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/smbios/tables", test_tables);
	g_test_add_func("/smbios/sizes", test_sizes);
	return g_test_run();
}

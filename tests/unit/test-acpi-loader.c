/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ACPI tables for a firmware (arch/x86_64/acpi-loader.c), installed by a loader that does
 * what OVMF's AcpiPlatformDxe does with etc/table-loader, then checked as an OS would read them. */
#include <glib.h>
#include <string.h>

#include "arch/x86_64/acpi-loader.h"
#include "arch/x86_64/acpi.h"
#include "util.h"

#define MEMORY_SIZE (1u << 20)
#define FSEG_BASE 0xf0000u
#define HIGH_BASE 0x40000u
static uint8_t memory[MEMORY_SIZE];

struct placed {
	const char *name;
	const struct acpi_loader_blob *blob;
	uint32_t address; /* 0: not allocated yet */
};

static struct placed *find(struct placed *files, size_t n, const uint8_t *name)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(files[i].name, (const char *)name, 56) == 0)
			return &files[i];
	g_assert_not_reached();
}

/* OVMF's order and arithmetic: allocate, relocate pointers, then checksum = -(sum of range). */
static const struct pci_windows windows = { .mmio32_base = 0xc0000000, .mmio64_base = 8ULL << 30 };

static void run_loader(const struct acpi_loader *loader, struct placed *files, size_t n)
{
	uint32_t next_fseg = FSEG_BASE, next_high = HIGH_BASE;

	g_assert_cmpuint(loader->commands.size % ACPI_LOADER_ENTRY_SIZE, ==, 0);
	for (size_t at = 0; at < loader->commands.size; at += ACPI_LOADER_ENTRY_SIZE) {
		const uint8_t *e = loader->commands.data + at;
		struct placed *f, *src;
		uint32_t offset, start, length, align;
		uint64_t value = 0;
		uint8_t size, sum = 0;

		switch (get_le32(e)) {
		case ACPI_LOADER_ALLOCATE:
			f = find(files, n, e + 4);
			align = get_le32(e + 60);
			g_assert_true(align && !(align & (align - 1)));
			if (e[64] == ACPI_LOADER_ZONE_FSEG) {
				f->address = (next_fseg + align - 1) & ~(align - 1);
				next_fseg = f->address + (uint32_t)f->blob->size;
			} else {
				g_assert_cmpuint(e[64], ==, ACPI_LOADER_ZONE_HIGH);
				f->address = (next_high + align - 1) & ~(align - 1);
				next_high = f->address + (uint32_t)f->blob->size;
			}
			memcpy(memory + f->address, f->blob->data, f->blob->size);
			break;
		case ACPI_LOADER_ADD_POINTER:
			f = find(files, n, e + 4);
			src = find(files, n, e + 60);
			g_assert_cmpuint(f->address, !=, 0);
			g_assert_cmpuint(src->address, !=, 0);
			offset = get_le32(e + 116);
			size = e[120];
			g_assert_true(size == 1 || size == 2 || size == 4 || size == 8);
			g_assert_cmpuint(offset + size, <=, f->blob->size);
			memcpy(&value, memory + f->address + offset, size);
			g_assert_cmpuint(value, <, src->blob->size); /* an offset into its source */
			value += src->address;
			memcpy(memory + f->address + offset, &value, size);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			f = find(files, n, e + 4);
			offset = get_le32(e + 60);
			start = get_le32(e + 64);
			length = get_le32(e + 68);
			g_assert_cmpuint(start + length, <=, f->blob->size);
			g_assert_cmpuint(offset, >=, start);
			g_assert_cmpuint(offset, <, start + length);
			for (uint32_t i = 0; i < length; i++)
				sum += memory[f->address + start + i];
			memory[f->address + offset] = (uint8_t)-sum;
			break;
		default:
			g_assert_not_reached();
		}
	}
}

static const uint8_t *table(uint64_t address, const char *signature)
{
	const uint8_t *t;

	g_assert_cmpuint(address, >=, HIGH_BASE);
	g_assert_cmpuint(address, <, MEMORY_SIZE - ACPI_HEADER_SIZE);
	t = memory + address;
	g_assert_cmpmem(t, 4, signature, 4);
	g_assert_cmpuint(acpi_checksum(t, get_le32(t + 4)), ==, 0);
	return t;
}

static void test_installed_tables(void)
{
	struct acpi_loader loader;
	const uint8_t *rsdp, *xsdt, *fadt = NULL, *madt = NULL, *mcfg = NULL;

	memset(memory, 0, sizeof(memory));
	g_assert_cmpint(acpi_loader_build(4, &windows, &loader), ==, 0);
	struct placed files[] = {
		{ ACPI_LOADER_FILE_RSDP, &loader.rsdp, 0 },
		{ ACPI_LOADER_FILE_TABLES, &loader.tables, 0 },
	};
	run_loader(&loader, files, G_N_ELEMENTS(files));

	/* The RSDP in the F segment, both checksums right, pointing at the placed XSDT. */
	g_assert_cmpuint(files[0].address, >=, FSEG_BASE);
	g_assert_cmpuint(files[0].address % 16, ==, 0);
	rsdp = memory + files[0].address;
	g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(acpi_checksum(rsdp, 20), ==, 0);
	g_assert_cmpuint(acpi_checksum(rsdp, ACPI_RSDP_SIZE), ==, 0);
	xsdt = table(get_le64(rsdp + 24), "XSDT");
	for (uint32_t off = ACPI_HEADER_SIZE; off < get_le32(xsdt + 4); off += 8) {
		const uint8_t *t = memory + get_le64(xsdt + off);

		if (memcmp(t, "FACP", 4) == 0)
			fadt = table(get_le64(xsdt + off), "FACP");
		else if (memcmp(t, "APIC", 4) == 0)
			madt = table(get_le64(xsdt + off), "APIC");
		else if (memcmp(t, "MCFG", 4) == 0)
			mcfg = table(get_le64(xsdt + off), "MCFG");
	}
	g_assert_nonnull(fadt);
	g_assert_nonnull(madt);
	g_assert_nonnull(mcfg);
	/* The DSDT by both of the FADT's fields. */
	g_assert_cmpuint(get_le32(fadt + 40), ==, get_le64(fadt + 140));
	(void)table(get_le64(fadt + 140), "DSDT");
	/* The MADT lists the 4 vCPUs' local APICs (type 0, 8 bytes each). */
	{
		uint32_t cpus = 0, len = get_le32(madt + 4);

		for (uint32_t off = 44; off + 2 <= len; off += madt[off + 1])
			cpus += madt[off] == 0;
		g_assert_cmpuint(cpus, ==, 4);
	}
	acpi_loader_free(&loader);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi-loader/installed-tables", test_installed_tables);
	return g_test_run();
}

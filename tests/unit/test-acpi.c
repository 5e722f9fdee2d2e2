/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ACPI tables (structure and checksums) and the AML encodings of the DSDT. */
#include <glib.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/aml.h"
#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/layout.h"
#include "pci/pci.h"

#define BASE 0xe0000ULL
#define MMIO64 (8ULL << 30)
static const struct pci_windows windows = { .mmio32_base = 0x80000000, .mmio64_base = MMIO64 };

static uint8_t tables[64 * 1024];

static const uint8_t *at(uint64_t gpa)
{
	g_assert_cmpuint(gpa, >=, BASE);
	g_assert_cmpuint(gpa, <, BASE + sizeof(tables));
	return tables + (gpa - BASE);
}

static const uint8_t *find_table(const uint8_t *xsdt, const char *sig)
{
	uint32_t len = get_le32(xsdt + 4);

	for (uint32_t off = ACPI_HEADER_SIZE; off < len; off += 8) {
		const uint8_t *t = at(get_le64(xsdt + off));
		if (memcmp(t, sig, 4) == 0)
			return t;
	}
	return NULL;
}

static void assert_table_valid(const uint8_t *t)
{
	g_assert_cmpuint(acpi_checksum(t, get_le32(t + 4)), ==, 0);
}

static const uint8_t *build(unsigned ncpus)
{
	size_t size = 0;

	memset(tables, 0xaa, sizeof(tables));
	g_assert_cmpint(acpi_build_tables(tables, sizeof(tables), BASE, ncpus, &windows, &size), ==,
			0);
	g_assert_cmpuint(size, <, sizeof(tables));
	return tables;
}

static void test_rsdp_xsdt(void)
{
	const uint8_t *rsdp = build(2), *xsdt;

	g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(rsdp[15], ==, 2);
	g_assert_cmpuint(acpi_checksum(rsdp, 20), ==, 0);
	g_assert_cmpuint(acpi_checksum(rsdp, ACPI_RSDP_SIZE), ==, 0);
	xsdt = at(get_le64(rsdp + 24));
	g_assert_cmpmem(xsdt, 4, "XSDT", 4);
	assert_table_valid(xsdt);
	g_assert_nonnull(find_table(xsdt, "FACP"));
	g_assert_nonnull(find_table(xsdt, "APIC"));
}

static void test_fadt(void)
{
	const uint8_t *rsdp = build(1);
	const uint8_t *fadt = find_table(at(get_le64(rsdp + 24)), "FACP"), *dsdt;
	uint32_t flags;

	assert_table_valid(fadt);
	g_assert_cmpuint(get_le32(fadt + 4), ==, ACPI_FADT_SIZE);
	flags = get_le32(fadt + ACPI_FADT_FLAGS_OFFSET);
	g_assert_true(flags & ACPI_FADT_FLAG_HW_REDUCED);
	g_assert_true(flags & ACPI_FADT_FLAG_RESET_REG_SUP);
	/* Reset, sleep control and sleep status registers: byte-wide system I/O at our ports. */
	g_assert_cmpuint(fadt[116], ==, 1);
	g_assert_cmpuint(get_le64(fadt + 120), ==, PORT_ACPI_RESET);
	g_assert_cmpuint(fadt[128], ==, ACPI_RESET_VALUE);
	g_assert_cmpuint(get_le64(fadt + 248), ==, PORT_ACPI_SLEEP_CONTROL);
	g_assert_cmpuint(get_le64(fadt + 260), ==, PORT_ACPI_SLEEP_STATUS);
	dsdt = at(get_le64(fadt + 140));
	g_assert_cmpuint(get_le32(fadt + 40), ==, get_le64(fadt + 140));
	g_assert_cmpmem(dsdt, 4, "DSDT", 4);
	assert_table_valid(dsdt);
}

static void test_madt(void)
{
	for (unsigned ncpus = 1; ncpus <= 254; ncpus += 51) {
		const uint8_t *rsdp = build(ncpus);
		const uint8_t *madt = find_table(at(get_le64(rsdp + 24)), "APIC");
		uint32_t len = get_le32(madt + 4);
		unsigned cpus = 0, ioapics = 0;

		assert_table_valid(madt);
		g_assert_cmpuint(get_le32(madt + 36), ==, GUEST_LAPIC_ADDR);
		for (uint32_t off = 44; off < len; off += madt[off + 1]) {
			g_assert_cmpuint(madt[off + 1], >, 0);
			if (madt[off] == 0) {
				g_assert_cmpuint(madt[off + 3], ==,
						 cpus); /* APIC IDs 0..n-1, as CPUID says */
				g_assert_cmpuint(madt[off + 4] & 1, ==, 1);
				cpus++;
			} else if (madt[off] == 1) {
				g_assert_cmpuint(get_le32(madt + off + 4), ==, GUEST_IOAPIC_ADDR);
				ioapics++;
			}
		}
		g_assert_cmpuint(cpus, ==, ncpus);
		g_assert_cmpuint(ioapics, ==, 1);
	}
}

/* The pvpanic device: its _HID as a string, and an I/O resource of one port at PORT_PVPANIC. */
static void test_dsdt_pvpanic(void)
{
	const uint8_t *rsdp = build(1);
	const uint8_t *fadt = find_table(at(get_le64(rsdp + 24)), "FACP");
	const uint8_t *dsdt = at(get_le64(fadt + 140));
	const uint8_t io_port[] = { 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01 };
	uint32_t len = get_le32(dsdt + 4);
	const uint8_t *dev = memmem(dsdt, len, "PEVT", 4);

	g_assert_nonnull(dev);
	g_assert_nonnull(memmem(dev, len - (size_t)(dev - dsdt), "QEMU0001", 9));
	g_assert_nonnull(memmem(dev, len - (size_t)(dev - dsdt), io_port, sizeof(io_port)));
}

/* _PRT: four pins for each of slots 1-31, each on the GSI the VMM wires a host device's INTx to. */
static void test_pci_routing(void)
{
	const uint8_t *rsdp = build(1);
	const uint8_t *fadt = find_table(at(get_le64(rsdp + 24)), "FACP");
	const uint8_t *dsdt = at(get_le64(fadt + 140));
	uint32_t len = get_le32(dsdt + 4);
	const uint8_t *prt = memmem(dsdt, len, "_PRT", 4);
	/* Package (4) { 0x0003FFFF, 1 (pin B), Zero, GSI } */
	const uint8_t slot3_pin_b[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff,
					0x03, 0x00, 0x01, 0x00, 0x0a, (uint8_t)pci_intx_gsi(3, 2) };

	g_assert_nonnull(prt);
	g_assert_cmpuint(prt[4], ==, 0x12);   /* PackageOp */
	g_assert_cmpuint(prt[5] >> 6, ==, 1); /* a two-byte PkgLength, then the element count */
	g_assert_cmpuint(prt[7], ==, 31 * 4);
	g_assert_nonnull(memmem(prt, len - (size_t)(prt - dsdt), slot3_pin_b, sizeof(slot3_pin_b)));
	g_assert_cmpuint(pci_intx_gsi(3, 2), >=, 20);
	g_assert_cmpuint(pci_intx_gsi(3, 2), <=, 23);
	g_assert_cmpuint(pci_intx_gsi(1, 1), !=,
			 pci_intx_gsi(2, 1)); /* slots spread over the four lines */
}

/* MCFG names ECAM for bus 0; the DSDT has the host bridge with its windows and the ECAM
 * reservation. */
static void test_pci(void)
{
	const uint8_t *rsdp = build(1);
	const uint8_t *mcfg = find_table(at(get_le64(rsdp + 24)), "MCFG");
	const uint8_t *fadt = find_table(at(get_le64(rsdp + 24)), "FACP");
	const uint8_t *dsdt = at(get_le64(fadt + 140));
	uint32_t len = get_le32(dsdt + 4);
	uint8_t qword_min[8];

	g_assert_nonnull(mcfg);
	assert_table_valid(mcfg);
	g_assert_cmpuint(get_le32(mcfg + 4), ==, 60);
	g_assert_cmpuint(get_le64(mcfg + 44), ==, GUEST_PCI_ECAM_BASE);
	g_assert_cmpuint(mcfg[54], ==, 0);
	g_assert_cmpuint(mcfg[55], ==, 0);
	g_assert_nonnull(memmem(dsdt, len, "PCI0", 4));
	g_assert_nonnull(memmem(dsdt, len, "RES0", 4));
	for (int i = 0; i < 8; i++)
		qword_min[i] = (uint8_t)(MMIO64 >> (8 * i));
	g_assert_nonnull(memmem(dsdt, len, qword_min, sizeof(qword_min)));
}

static void test_too_small_area(void)
{
	size_t size;

	g_assert_cmpint(acpi_build_tables(tables, 100, BASE, 1, &windows, &size), <, 0);
	g_assert_cmpint(acpi_build_tables(tables, sizeof(tables), BASE, 0, &windows, &size), <, 0);
	g_assert_cmpint(acpi_build_tables(tables, sizeof(tables), BASE, 256, &windows, &size), <,
			0);
}

static void test_pkg_length(void)
{
	uint8_t enc[4];

	g_assert_cmpuint(aml_pkg_length_encode(0x3e, enc), ==, 1);
	g_assert_cmpuint(enc[0], ==, 0x3f);
	/* 0x3f bytes of contents need two length bytes: total 0x41. */
	g_assert_cmpuint(aml_pkg_length_encode(0x3f, enc), ==, 2);
	g_assert_cmpuint(enc[0], ==, 0x41);
	g_assert_cmpuint(enc[1], ==, 0x04);
	g_assert_cmpuint(aml_pkg_length_encode(0xffd, enc), ==, 2);
	g_assert_cmpuint(aml_pkg_length_encode(0xfff, enc), ==, 3);
	g_assert_cmpuint(enc[0] >> 6, ==, 2);
	g_assert_cmpuint(aml_pkg_length_encode(1u << 28, enc), ==, 0);
}

static void test_aml_terms(void)
{
	struct aml a;
	const uint8_t eisa[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0c };
	const uint8_t ints[] = { 0x00, 0x01, 0x0a, 0x10, 0x0b, 0x34,
				 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12 };
	const uint8_t names[] = { '\\', 0x2e, '_', 'S', 'B', '_', 'P',
				  'W',	'R',  'B', 'C', 'O', 'M', '1' };
	const uint8_t scope[] = { 0x10, 0x07, '\\', '_', 'S', 'B', '_', 0x01 };

	aml_init(&a);
	aml_eisaid(&a, "PNP0C0C");
	g_assert_cmpint(a.error, ==, 0);
	g_assert_cmpmem(a.buf, a.len, eisa, sizeof(eisa));
	aml_free(&a);

	aml_init(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 0x10);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0x12345678);
	g_assert_cmpmem(a.buf, a.len, ints, sizeof(ints));
	aml_free(&a);

	aml_init(&a);
	aml_name_string(&a, "\\_SB.PWRB");
	aml_name_string(&a, "COM1");
	g_assert_cmpmem(a.buf, a.len, names, sizeof(names));
	aml_free(&a);

	aml_init(&a);
	aml_scope_begin(&a, "\\_SB");
	aml_integer(&a, 1);
	aml_end(&a);
	g_assert_cmpint(a.error, ==, 0);
	g_assert_cmpmem(a.buf, a.len, scope, sizeof(scope));
	aml_end(&a); /* unbalanced */
	g_assert_cmpint(a.error, <, 0);
	aml_free(&a);

	aml_init(&a);
	aml_eisaid(&a, "pnp0c0c");
	g_assert_cmpint(a.error, <, 0);
	aml_free(&a);
}

/* A long body forces a multi-byte PkgLength, inserted in front of contents already written. */
static void test_aml_long_package(void)
{
	struct aml a;
	uint8_t body[200];

	memset(body, 0x5a, sizeof(body));
	aml_init(&a);
	aml_buffer(&a, body, sizeof(body));
	g_assert_cmpint(a.error, ==, 0);
	/* BufferOp, a 2-byte PkgLength, BytePrefix 200, then the bytes. */
	g_assert_cmpuint(a.buf[0], ==, 0x11);
	g_assert_cmpuint(a.buf[1] >> 6, ==, 1);
	g_assert_cmpuint((a.buf[1] & 0xf) | a.buf[2] << 4, ==, a.len - 1);
	g_assert_cmpuint(a.buf[3], ==, 0x0a);
	g_assert_cmpuint(a.buf[4], ==, 200);
	g_assert_cmpmem(a.buf + 5, sizeof(body), body, sizeof(body));
	aml_free(&a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/acpi/rsdp-xsdt", test_rsdp_xsdt);
	g_test_add_func("/acpi/fadt", test_fadt);
	g_test_add_func("/acpi/madt", test_madt);
	g_test_add_func("/acpi/dsdt-pvpanic", test_dsdt_pvpanic);
	g_test_add_func("/acpi/pci-routing", test_pci_routing);
	g_test_add_func("/acpi/pci", test_pci);
	g_test_add_func("/acpi/too-small", test_too_small_area);
	g_test_add_func("/aml/pkg-length", test_pkg_length);
	g_test_add_func("/aml/terms", test_aml_terms);
	g_test_add_func("/aml/long-package", test_aml_long_package);
	return g_test_run();
}

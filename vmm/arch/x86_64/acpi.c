/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "acpi.h"

#include <errno.h>
#include <string.h>

#include "aml.h"
#include "bzimage.h"
#include "cleanup.h"
#include "layout.h"
#include "hw/rtc.h"
#include "pci/pci.h"

#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_IO_APIC 1
#define MADT_TYPE_LOCAL_APIC_NMI 4
#define MADT_FLAG_PCAT_COMPAT 1
#define FADT_BOOT_ARCH_NO_VGA (1u << 2)
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

uint8_t acpi_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += data[i];
	return (uint8_t)-sum;
}

/* A cursor over the output area; running out of room is remembered, not fatal mid-way. */
struct table_writer {
	uint8_t *dst;
	size_t max;
	size_t len;
	uint64_t base_gpa;
	int error;
};

static uint8_t *table_alloc(struct table_writer *w, size_t size, uint64_t *ret_gpa)
{
	size_t start = ALIGN_UP(w->len, (size_t)16);

	if (w->error || start + size > w->max) {
		w->error = -ENOSPC;
		return NULL;
	}
	memset(w->dst + start, 0, size);
	w->len = start + size;
	*ret_gpa = w->base_gpa + start;
	return w->dst + start;
}

static void header_init(uint8_t *t, const char sig[4], uint32_t length, uint8_t revision)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, length);
	t[8] = revision;
	memcpy(t + 10, "PHYLLO", 6);
	memcpy(t + 16, "PHYLLOME", 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, "PHYL", 4);
	put_le32(t + 32, 1);
}

static void header_finish(uint8_t *t, uint32_t length)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, length);
}

static void gas_io_byte(uint8_t *gas, uint16_t port)
{
	gas[0] = GAS_SYSTEM_IO;
	gas[1] = 8;
	gas[2] = 0;
	gas[3] = GAS_ACCESS_BYTE;
	put_le64(gas + 4, port);
}

/* Resource descriptors, built in place: little-endian fields after a fixed head. */
static size_t put_resource(uint8_t *p, const uint8_t *head, size_t head_len, const uint64_t *fields,
			   size_t n, size_t field_size)
{
	memcpy(p, head, head_len);
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < field_size; b++)
			p[head_len + i * field_size + b] = (uint8_t)(fields[i] >> (8 * b));
	return head_len + n * field_size;
}

/* Word/DWord/QWord address space descriptors: producer, fixed min and max. */
static size_t address_space(uint8_t *p, unsigned width, uint8_t resource_type, uint8_t type_flags,
			    uint64_t min, uint64_t max)
{
	const uint8_t tag = width == 2 ? 0x88 : width == 4 ? 0x87 : 0x8a;
	const uint16_t len = (uint16_t)(3 + 5 * width);
	const uint8_t head[] = { tag,		(uint8_t)len, (uint8_t)(len >> 8),
				 resource_type, 0x0c,	      type_flags };
	const uint64_t fields[] = { 0, min, max, 0, max - min + 1 };

	return put_resource(p, head, sizeof(head), fields, 5, width);
}

/*
 * The PCIe host bridge: bus 0, the config ports it decodes, an I/O window and
 * the two memory windows its BARs live in. Linux takes BARs as placed when
 * they sit inside these windows.
 */
static size_t pci_host_bridge_crs(uint8_t *p, const struct pci_windows *windows)
{
	const uint8_t config_ports[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	size_t n = 0;

	n += address_space(p + n, 2, 2, 0, 0, 0); /* bus numbers 0-0 */
	memcpy(p + n, config_ports, sizeof(config_ports));
	n += sizeof(config_ports);
	n += address_space(p + n, 2, 1, 3, 0x0000, 0x0cf7);
	n += address_space(p + n, 2, 1, 3, 0x0d00, 0xffff);
	n += address_space(p + n, 4, 0, 1, windows->mmio32_base, GUEST_PCI_MMIO32_END - 1);
	n += address_space(p + n, 8, 0, 1, windows->mmio64_base,
			   windows->mmio64_base + GUEST_PCI_MMIO64_SIZE - 1);
	p[n++] = 0x79;
	p[n++] = 0x00;
	return n;
}

static void dsdt_build(struct aml *a, const struct pci_windows *windows)
{
	/* Bus 16 + ports 8 + two I/O windows 32 + DWord 26 + QWord 46 + end 2 = 130. */
	uint8_t pci_crs[160];
	size_t pci_crs_len = pci_host_bridge_crs(pci_crs, windows);
	/* Memory32Fixed: the ECAM area belongs to the motherboard, which is how Linux trusts the
	 * MCFG. */
	const uint8_t ecam_crs[] = {
		0x86,
		0x09,
		0x00,
		0x01,
		(uint8_t)GUEST_PCI_ECAM_BASE,
		(uint8_t)(GUEST_PCI_ECAM_BASE >> 8),
		(uint8_t)(GUEST_PCI_ECAM_BASE >> 16),
		(uint8_t)(GUEST_PCI_ECAM_BASE >> 24),
		(uint8_t)GUEST_PCI_ECAM_SIZE,
		(uint8_t)(GUEST_PCI_ECAM_SIZE >> 8),
		(uint8_t)(GUEST_PCI_ECAM_SIZE >> 16),
		(uint8_t)(GUEST_PCI_ECAM_SIZE >> 24),
		0x79,
		0x00,
	};
	/* Extended Interrupt descriptor: consumer, edge, active-high, exclusive, one GSI. */
	const uint8_t ged_crs[] = {
		0x89, 0x06, 0x00, 0x03, 0x01, GSI_POWER_BUTTON, 0x00, 0x00, 0x00, 0x79, 0x00,
	};
	/* I/O 0x3f8..0x3ff (16-bit decode) and IRQ 4. */
	const uint8_t com1_crs[] = {
		0x47,
		0x01,
		PORT_COM1 & 0xff,
		PORT_COM1 >> 8,
		PORT_COM1 & 0xff,
		PORT_COM1 >> 8,
		0x01,
		0x08,
		0x22,
		1 << IRQ_COM1,
		0x00,
		0x79,
		0x00,
	};
	/* Its two ports, no interrupt: the clock raises none (hw/rtc.h). */
	const uint8_t rtc_crs[] = {
		0x47, 0x01, PORT_RTC_INDEX, 0x00, PORT_RTC_INDEX, 0x00, 0x01, 0x02, 0x79, 0x00,
	};
	/* One I/O port, 16-bit decode. */
	const uint8_t pvpanic_crs[] = {
		0x47,
		0x01,
		PORT_PVPANIC & 0xff,
		PORT_PVPANIC >> 8,
		PORT_PVPANIC & 0xff,
		PORT_PVPANIC >> 8,
		0x01,
		0x01,
		0x79,
		0x00,
	};

	aml_scope_begin(a, "\\_SB");

	aml_device_begin(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_end(a);

	/* hardware-reduced ACPI has no fixed power button: the GED turns our interrupt into a
	 * Notify. */
	aml_device_begin(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, ged_crs, sizeof(ged_crs));
	aml_method_begin(a, "_EVT", 1);
	aml_if_begin(a);
	aml_arg_equals(a, 0, GSI_POWER_BUTTON);
	aml_notify(a, "\\_SB.PWRB", 0x80);
	aml_end(a);
	aml_end(a);
	aml_end(a);

	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_buffer(a, com1_crs, sizeof(com1_crs));
	aml_end(a);

	aml_device_begin(a, "RTC0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_name(a, "_CRS");
	aml_buffer(a, rtc_crs, sizeof(rtc_crs));
	aml_end(a);

	aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, pci_crs, pci_crs_len);
	/* Legacy interrupts, for devices given to the guest whole (VFIO): each slot's pins on the
	 * IOAPIC. */
	aml_name(a, "_PRT");
	aml_package_begin(a, (PCI_SLOTS - 1) * 4);
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++)
		for (unsigned pin = 1; pin <= 4; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin - 1);
			aml_integer(a, 0);
			aml_integer(a, pci_intx_gsi(slot, pin));
			aml_end(a);
		}
	aml_end(a);
	aml_end(a);

	aml_device_begin(a, "RES0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, ecam_crs, sizeof(ecam_crs));
	aml_end(a);

	aml_device_begin(a, "PEVT");
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a, pvpanic_crs, sizeof(pvpanic_crs));
	aml_end(a);

	aml_end(a);

	/* \_S5: the value the OS writes as SLP_TYP into the sleep control register to power off. */
	aml_name(a, "\\_S5");
	aml_package_begin(a, 2);
	aml_integer(a, ACPI_SLEEP_TYPE_S5);
	aml_integer(a, 0);
	aml_end(a);
}

static uint64_t write_dsdt(struct table_writer *w, const struct pci_windows *windows)
{
	struct aml a;
	uint64_t gpa = 0;
	uint8_t *t;

	aml_init(&a);
	dsdt_build(&a, windows);
	if (a.error || a.depth != 0) {
		w->error = a.error ? a.error : -EINVAL;
		aml_free(&a);
		return 0;
	}
	t = table_alloc(w, ACPI_HEADER_SIZE + a.len, &gpa);
	if (t) {
		header_init(t, "DSDT", (uint32_t)(ACPI_HEADER_SIZE + a.len), 2);
		memcpy(t + ACPI_HEADER_SIZE, a.buf, a.len);
		header_finish(t, (uint32_t)(ACPI_HEADER_SIZE + a.len));
	}
	aml_free(&a);
	return gpa;
}

static uint64_t write_fadt(struct table_writer *w, uint64_t dsdt)
{
	uint64_t gpa = 0;
	uint8_t *t = table_alloc(w, ACPI_FADT_SIZE, &gpa);

	if (!t)
		return 0;
	header_init(t, "FACP", ACPI_FADT_SIZE, 6);
	put_le32(t + 40, (uint32_t)dsdt);
	t[108] = RTC_REG_CENTURY; /* CENTURY: where the RTC keeps it */
	put_le16(t + 109, FADT_BOOT_ARCH_NO_VGA);
	put_le32(t + ACPI_FADT_FLAGS_OFFSET,
		 ACPI_FADT_FLAG_HW_REDUCED | ACPI_FADT_FLAG_RESET_REG_SUP |
		     ACPI_FADT_FLAG_PWR_BUTTON | ACPI_FADT_FLAG_SLP_BUTTON);
	gas_io_byte(t + 116, PORT_ACPI_RESET);
	t[128] = ACPI_RESET_VALUE;
	t[131] = 5; /* FADT minor version: ACPI 6.5 */
	put_le64(t + 140, dsdt);
	gas_io_byte(t + 244, PORT_ACPI_SLEEP_CONTROL);
	gas_io_byte(t + 256, PORT_ACPI_SLEEP_STATUS);
	memcpy(t + 268, "PHYLLOME", 8);
	header_finish(t, ACPI_FADT_SIZE);
	return gpa;
}

static uint64_t write_madt(struct table_writer *w, unsigned ncpus)
{
	size_t size = 44 + 8 * (size_t)ncpus + 12 + 6;
	uint64_t gpa = 0;
	uint8_t *t = table_alloc(w, size, &gpa), *e;

	if (!t)
		return 0;
	header_init(t, "APIC", (uint32_t)size, 5);
	put_le32(t + 36, (uint32_t)GUEST_LAPIC_ADDR);
	put_le32(t + 40, MADT_FLAG_PCAT_COMPAT);
	e = t + 44;
	for (unsigned i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_TYPE_LOCAL_APIC;
		e[1] = 8;
		e[2] = (uint8_t)i;  /* ACPI processor UID */
		e[3] = (uint8_t)i;  /* APIC ID, as CPUID reports it */
		put_le32(e + 4, 1); /* enabled */
	}
	e[0] = MADT_TYPE_IO_APIC;
	e[1] = 12;
	e[2] = (uint8_t)ncpus; /* IOAPIC ID after the CPUs' */
	put_le32(e + 4, (uint32_t)GUEST_IOAPIC_ADDR);
	put_le32(e + 8, 0);
	e += 12;
	/* LINT1 of every processor is NMI, as the vCPU setup programs it. */
	e[0] = MADT_TYPE_LOCAL_APIC_NMI;
	e[1] = 6;
	e[2] = 0xff;
	put_le16(e + 3, 0);
	e[5] = 1;
	header_finish(t, (uint32_t)size);
	return gpa;
}

/* MCFG: where ECAM config space is, for segment 0, bus 0. */
static uint64_t write_mcfg(struct table_writer *w)
{
	const size_t size = ACPI_HEADER_SIZE + 8 + 16;
	uint64_t gpa = 0;
	uint8_t *t = table_alloc(w, size, &gpa), *e;

	if (!t)
		return 0;
	header_init(t, "MCFG", (uint32_t)size, 1);
	e = t + ACPI_HEADER_SIZE + 8;
	put_le64(e, GUEST_PCI_ECAM_BASE);
	put_le16(e + 8, 0);
	e[10] = 0;
	e[11] = (uint8_t)((GUEST_PCI_ECAM_SIZE >> 20) - 1);
	header_finish(t, (uint32_t)size);
	return gpa;
}

static uint64_t write_xsdt(struct table_writer *w, const uint64_t *tables, size_t n)
{
	size_t size = ACPI_HEADER_SIZE + 8 * n;
	uint64_t gpa = 0;
	uint8_t *t = table_alloc(w, size, &gpa);

	if (!t)
		return 0;
	header_init(t, "XSDT", (uint32_t)size, 1);
	for (size_t i = 0; i < n; i++)
		put_le64(t + ACPI_HEADER_SIZE + 8 * i, tables[i]);
	header_finish(t, (uint32_t)size);
	return gpa;
}

int acpi_build_tables(uint8_t *dst, size_t max, uint64_t base_gpa, unsigned ncpus,
		      const struct pci_windows *pci_windows, size_t *ret_size)
{
	struct table_writer w = { .dst = dst, .max = max, .base_gpa = base_gpa };
	uint64_t rsdp_gpa, tables[3];
	uint8_t *rsdp;

	if (ncpus == 0 || ncpus > 255)
		return -EINVAL;

	rsdp = table_alloc(&w, ACPI_RSDP_SIZE, &rsdp_gpa);
	uint64_t dsdt = write_dsdt(&w, pci_windows);
	tables[0] = write_fadt(&w, dsdt);
	tables[1] = write_madt(&w, ncpus);
	tables[2] = write_mcfg(&w);
	uint64_t xsdt = write_xsdt(&w, tables, ARRAY_SIZE(tables));
	if (w.error)
		return w.error;

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "PHYLLO", 6);
	rsdp[15] = 2; /* ACPI 2.0+: use the XSDT */
	put_le32(rsdp + 20, ACPI_RSDP_SIZE);
	put_le64(rsdp + 24, xsdt);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, ACPI_RSDP_SIZE);

	*ret_size = w.len;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The aarch64 machine's arch-neutral parts, on any host: its device tree
 * decoded with libfdt node by node, the Image header checks, and the PL011,
 * PL031 and PL061 as Linux's drivers use them.
 */
#include <glib.h>
#include <libfdt.h>
#include <string.h>
#include <time.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"
#include "hw/pl011.h"
#include "hw/pl031.h"
#include "hw/pl061.h"

#define FDT_SIZE (64 << 10)

static void *build_tree(unsigned cpus)
{
	struct fdt_machine m = {
		.cpus = cpus,
		.ram_size = 256ULL << 20,
		.cmdline = "console=ttyAMA0 quiet",
		.initrd_start = 0x4fc00000,
		.initrd_size = 0x123456,
		.pci_mmio32_base = GUEST_PCI_MMIO32_START,
		.pci_mmio64_base = 64ULL << 30,
	};
	void *fdt = g_malloc0(FDT_SIZE);
	int size;

	memset(m.rng_seed, 0xa5, sizeof(m.rng_seed));
	size = aarch64_fdt_build(&m, fdt, FDT_SIZE);
	g_assert_cmpint(size, >, 0);
	g_assert_cmpint(fdt_check_full(fdt, (size_t)size), ==, 0);
	return fdt;
}

static int node(const void *fdt, const char *path)
{
	int offset = fdt_path_offset(fdt, path);

	if (offset < 0)
		g_error("no node %s in the tree: %s", path, fdt_strerror(offset));
	return offset;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
	const void *value = fdt_getprop(fdt, node(fdt, path), name, len);

	if (!value)
		g_error("no property %s in %s", name, path);
	return value;
}

static void assert_string(const void *fdt, const char *path, const char *name, const char *want)
{
	int len;
	const char *value = prop(fdt, path, name, &len);

	g_assert_cmpstr(value, ==, want);
}

/* The property holds these 32-bit cells, exactly. */
static void assert_cells(const void *fdt, const char *path, const char *name, const uint32_t *want,
			 int count)
{
	int len;
	const fdt32_t *cells = prop(fdt, path, name, &len);

	g_assert_cmpint(len, ==, count * 4);
	for (int i = 0; i < count; i++)
		g_assert_cmphex(fdt32_to_cpu(cells[i]), ==, want[i]);
}

static void assert_u32(const void *fdt, const char *path, const char *name, uint32_t want)
{
	assert_cells(fdt, path, name, &want, 1);
}

static void assert_reg64(const void *fdt, const char *path, const uint64_t *want, int count)
{
	int len;
	/* Properties are 4-byte aligned in the blob: 64-bit cells are read by fdt64_ld(). */
	const fdt64_t *cells = prop(fdt, path, "reg", &len);

	g_assert_cmpint(len, ==, count * 8);
	for (int i = 0; i < count; i++)
		g_assert_cmphex(fdt64_ld(cells + i), ==, want[i]);
}

static bool has_compatible(const void *fdt, const char *path, const char *compatible)
{
	return fdt_node_check_compatible(fdt, node(fdt, path), compatible) == 0;
}

static uint32_t phandle_of(const void *fdt, const char *path)
{
	uint32_t phandle = fdt_get_phandle(fdt, node(fdt, path));

	g_assert_cmpuint(phandle, !=, 0);
	return phandle;
}

static void test_fdt_root_chosen_memory(void)
{
	g_autofree void *fdt = build_tree(1);
	const uint64_t memory[] = { GUEST_RAM_BASE, 256ULL << 20 };
	int len;
	const char *stdout_path;
	const fdt64_t *initrd;

	g_assert_true(has_compatible(fdt, "/", "linux,dummy-virt"));
	assert_u32(fdt, "/", "#address-cells", 2);
	assert_u32(fdt, "/", "#size-cells", 2);
	assert_u32(fdt, "/", "interrupt-parent", phandle_of(fdt, "/intc@8000000"));

	assert_string(fdt, "/chosen", "bootargs", "console=ttyAMA0 quiet");
	/* stdout-path names the UART's node. */
	stdout_path = prop(fdt, "/chosen", "stdout-path", &len);
	g_assert_cmpint(node(fdt, stdout_path), ==, node(fdt, "/pl011@9000000"));
	initrd = prop(fdt, "/chosen", "linux,initrd-start", &len);
	g_assert_cmpint(len, ==, 8);
	g_assert_cmphex(fdt64_ld(initrd), ==, 0x4fc00000);
	initrd = prop(fdt, "/chosen", "linux,initrd-end", &len);
	g_assert_cmphex(fdt64_ld(initrd), ==, 0x4fc00000 + 0x123456);
	prop(fdt, "/chosen", "rng-seed", &len);
	g_assert_cmpint(len, ==, 64);

	assert_string(fdt, "/memory@40000000", "device_type", "memory");
	assert_reg64(fdt, "/memory@40000000", memory, 2);
}

static void test_fdt_cpus_psci_timer(void)
{
	g_autofree void *fdt = build_tree(18);
	const uint32_t timer[] = { 1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4 };
	assert_u32(fdt, "/cpus", "#address-cells", 1);
	assert_u32(fdt, "/cpus", "#size-cells", 0);
	/* KVM's MPIDRs: 16 vCPUs per cluster, so vCPU 17 is cluster 1, CPU 1. */
	assert_u32(fdt, "/cpus/cpu@0", "reg", 0);
	assert_u32(fdt, "/cpus/cpu@f", "reg", 0xf);
	assert_u32(fdt, "/cpus/cpu@101", "reg", 0x101);
	g_assert_cmphex(aarch64_vcpu_mpidr(17), ==, 0x101);
	g_assert_cmphex(aarch64_vcpu_mpidr(4096), ==, 0x10000);
	for (unsigned i = 0; i < 18; i++) {
		g_autofree char *path =
		    g_strdup_printf("/cpus/cpu@%llx", (unsigned long long)aarch64_vcpu_mpidr(i));

		assert_string(fdt, path, "device_type", "cpu");
		assert_string(fdt, path, "enable-method", "psci");
		g_assert_true(has_compatible(fdt, path, "arm,arm-v8"));
	}
	g_assert_cmpint(fdt_path_offset(fdt, "/cpus/cpu@102"), <, 0);

	g_assert_true(has_compatible(fdt, "/psci", "arm,psci-0.2"));
	g_assert_true(has_compatible(fdt, "/psci", "arm,psci-1.0"));
	assert_string(fdt, "/psci", "method", "hvc");

	g_assert_true(has_compatible(fdt, "/timer", "arm,armv8-timer"));
	assert_cells(fdt, "/timer", "interrupts", timer, 12);
}

static void test_fdt_gic_its(void)
{
	g_autofree void *fdt = build_tree(3);
	const uint64_t gic_reg[] = { 0x08000000, 0x10000, 0x080a0000, 3 * 0x20000 };
	const uint64_t its_reg[] = { 0x08080000, 0x20000 };
	int len;

	g_assert_true(has_compatible(fdt, "/intc@8000000", "arm,gic-v3"));
	assert_u32(fdt, "/intc@8000000", "#interrupt-cells", 3);
	g_assert_nonnull(
	    fdt_getprop(fdt, node(fdt, "/intc@8000000"), "interrupt-controller", &len));
	assert_reg64(fdt, "/intc@8000000", gic_reg, 4);
	g_assert_true(has_compatible(fdt, "/intc@8000000/its@8080000", "arm,gic-v3-its"));
	g_assert_nonnull(
	    fdt_getprop(fdt, node(fdt, "/intc@8000000/its@8080000"), "msi-controller", &len));
	assert_u32(fdt, "/intc@8000000/its@8080000", "#msi-cells", 1);
	assert_reg64(fdt, "/intc@8000000/its@8080000", its_reg, 2);
}

static void test_fdt_platform_devices(void)
{
	g_autofree void *fdt = build_tree(1);
	const uint32_t clock = phandle_of(fdt, "/apb-pclk");
	const uint32_t uart_irq[] = { 0, SPI_UART, 4 }, rtc_irq[] = { 0, SPI_RTC, 4 },
		       gpio_irq[] = { 0, SPI_GPIO, 4 };
	const uint32_t uart_clocks[] = { clock, clock };
	const uint64_t uart_reg[] = { 0x09000000, 0x1000 };
	uint32_t gpios[3];
	int len;

	assert_u32(fdt, "/apb-pclk", "clock-frequency", 24000000);
	g_assert_true(has_compatible(fdt, "/pl011@9000000", "arm,pl011"));
	g_assert_true(has_compatible(fdt, "/pl011@9000000", "arm,primecell"));
	assert_reg64(fdt, "/pl011@9000000", uart_reg, 2);
	assert_cells(fdt, "/pl011@9000000", "interrupts", uart_irq, 3);
	assert_cells(fdt, "/pl011@9000000", "clocks", uart_clocks, 2);

	g_assert_true(has_compatible(fdt, "/pl031@9010000", "arm,pl031"));
	assert_cells(fdt, "/pl031@9010000", "interrupts", rtc_irq, 3);
	assert_u32(fdt, "/pl031@9010000", "clocks", clock);

	g_assert_true(has_compatible(fdt, "/pl061@9030000", "arm,pl061"));
	assert_cells(fdt, "/pl061@9030000", "interrupts", gpio_irq, 3);
	g_assert_nonnull(fdt_getprop(fdt, node(fdt, "/pl061@9030000"), "gpio-controller", &len));
	assert_u32(fdt, "/pl061@9030000", "#gpio-cells", 2);

	/* The power button: KEY_POWER on the PL061's line 3, active high. */
	g_assert_true(has_compatible(fdt, "/gpio-keys", "gpio-keys"));
	assert_u32(fdt, "/gpio-keys/poweroff", "linux,code", 116);
	gpios[0] = phandle_of(fdt, "/pl061@9030000");
	gpios[1] = GPIO_POWER_BUTTON;
	gpios[2] = 0;
	assert_cells(fdt, "/gpio-keys/poweroff", "gpios", gpios, 3);
}

static void test_fdt_pci(void)
{
	g_autofree void *fdt = build_tree(1);
	const char *pcie = "/pcie@3f000000";
	const uint64_t ecam[] = { GUEST_PCI_ECAM_BASE, GUEST_PCI_ECAM_SIZE };
	const uint32_t ranges[] = {
		0x02000000, 0,	0x10000000, 0,	0x10000000, 0,	0x2f000000,
		0x03000000, 16, 0,	    16, 0,	    16, 0,
	};
	const uint32_t msi_map[] = { 0, phandle_of(fdt, "/intc@8000000/its@8080000"), 0, 0x10000 };
	const uint32_t mask[] = { 0x1800, 0, 0, 7 };
	const fdt32_t *map;
	int len;

	g_assert_true(has_compatible(fdt, pcie, "pci-host-ecam-generic"));
	assert_string(fdt, pcie, "device_type", "pci");
	assert_u32(fdt, pcie, "#address-cells", 3);
	assert_u32(fdt, pcie, "#size-cells", 2);
	assert_reg64(fdt, pcie, ecam, 2);
	assert_cells(fdt, pcie, "ranges", ranges, 14);
	assert_cells(fdt, pcie, "msi-map", msi_map, 4);
	assert_cells(fdt, pcie, "interrupt-map-mask", mask, 4);
	g_assert_nonnull(fdt_getprop(fdt, node(fdt, pcie), "dma-coherent", &len));
	/* 4 slots x 4 pins, each: child address (3), pin, GIC phandle, its address (2), SPI (3);
	 * swizzled: slot 1 pin A is pin B's line. */
	map = prop(fdt, pcie, "interrupt-map", &len);
	g_assert_cmpint(len, ==, 16 * 10 * 4);
	for (int e = 0; e < 16; e++) {
		const fdt32_t *entry = map + e * 10;
		uint32_t slot = fdt32_to_cpu(entry[0]) >> 11, pin = fdt32_to_cpu(entry[3]);

		g_assert_cmpuint(fdt32_to_cpu(entry[4]), ==, phandle_of(fdt, "/intc@8000000"));
		g_assert_cmpuint(fdt32_to_cpu(entry[7]), ==, 0);
		g_assert_cmpuint(fdt32_to_cpu(entry[8]), ==,
				 SPI_PCI_INTX_BASE + (slot + pin - 1) % 4);
	}
}

static void test_fdt_too_small(void)
{
	struct fdt_machine m = { .cpus = 1, .ram_size = 1 << 28, .cmdline = "" };
	uint8_t small[512];

	g_assert_cmpint(aarch64_fdt_build(&m, small, sizeof(small)), ==, -E2BIG);
}

static void image_header(uint8_t *h, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	memset(h, 0, ARM64_IMAGE_HEADER_SIZE);
	for (int i = 0; i < 8; i++) {
		h[0x08 + i] = (uint8_t)(text_offset >> (8 * i));
		h[0x10 + i] = (uint8_t)(image_size >> (8 * i));
		h[0x18 + i] = (uint8_t)(flags >> (8 * i));
	}
	memcpy(h + 0x38, "ARM\x64", 4);
}

static void test_image(void)
{
	uint8_t h[4096] = { 0 };
	struct arm64_image image;
	const char *reason = NULL;

	image_header(h, 0, 0x200000, 0xa);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, 0);
	g_assert_cmphex(image.text_offset, ==, 0);
	g_assert_cmphex(image.image_size, ==, 0x200000);

	/* Before 3.17: no image_size, loaded at 0x80000. */
	image_header(h, 0, 0, 0);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, 0);
	g_assert_cmphex(image.text_offset, ==, 0x80000);

	image_header(h, 0, 0x200000, 1);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);
	g_assert_nonnull(strstr(reason, "big-endian"));

	image_header(h, 0x1234, 0x200000, 0);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);

	image_header(h, 0, 100, 0);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);
	g_assert_nonnull(strstr(reason, "smaller than the file"));

	image_header(h, 0, 0x200000, 0);
	h[0x38] = 'X';
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);
	g_assert_nonnull(strstr(reason, "not an arm64 Linux Image"));
	g_assert_cmpint(arm64_image_parse(h, 10, &image, &reason), ==, -ENOEXEC);

	h[0] = 0x1f, h[1] = 0x8b;
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);
	g_assert_nonnull(strstr(reason, "gzip-compressed"));
	memcpy(h, "MZ\0\0zimg", 8);
	g_assert_cmpint(arm64_image_parse(h, sizeof(h), &image, &reason), ==, -ENOEXEC);
	g_assert_nonnull(strstr(reason, "zboot"));
}

static GString *uart_output;
static int irq_level, irq_changes;

static void capture(void *opaque, const uint8_t *data, size_t len)
{
	g_string_append_len(uart_output, (const char *)data, (gssize)len);
}

static void set_irq(void *opaque, int level)
{
	irq_level = level;
	irq_changes++;
}

static uint32_t rd32(const struct trap_ops *ops, void *dev, uint64_t offset)
{
	uint8_t b[4];

	ops->read(dev, offset, b, 4);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr32(const struct trap_ops *ops, void *dev, uint64_t offset, uint32_t v)
{
	const uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			       (uint8_t)(v >> 24) };

	ops->write(dev, offset, b, 4);
}

/* The PL011 as amba-pl011 drives it: IDs, transmit with TXIM, receive with RXIM|RTIM. */
static void test_pl011(void)
{
	struct pl011 u;
	const uint8_t id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

	uart_output = g_string_new(NULL);
	irq_level = irq_changes = 0;
	pl011_init(&u, capture, set_irq, NULL);
	for (int i = 0; i < 8; i++)
		g_assert_cmphex(rd32(&pl011_ops, &u, 0xfe0 + 4 * i), ==, id[i]);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x018) & 0x90, ==, 0x90); /* TXFE, RXFE */

	wr32(&pl011_ops, &u, 0x000, 'h');
	wr32(&pl011_ops, &u, 0x000, 'i');
	g_assert_cmpstr(uart_output->str, ==, "hi");
	g_assert_cmpint(irq_level, ==, 0); /* TX pending, but masked */
	wr32(&pl011_ops, &u, 0x038, 0x20); /* TXIM */
	g_assert_cmpint(irq_level, ==, 1);
	wr32(&pl011_ops, &u, 0x044, 0x7ff); /* ICR */
	g_assert_cmpint(irq_level, ==, 0);

	wr32(&pl011_ops, &u, 0x038, 0x50); /* RXIM | RTIM */
	g_assert_cmpuint(pl011_receive(&u, (const uint8_t *)"ok", 2), ==, 2);
	g_assert_cmpint(irq_level, ==, 1);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x040), ==, 0x50);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x018) & 0x10, ==, 0);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x000), ==, 'o');
	/* Cleared while a byte waits: it asks again. */
	wr32(&pl011_ops, &u, 0x044, 0x50);
	g_assert_cmpint(irq_level, ==, 1);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x000), ==, 'k');
	g_assert_cmpint(irq_level, ==, 0);
	g_assert_cmphex(rd32(&pl011_ops, &u, 0x018) & 0x10, ==, 0x10);
	g_assert_cmpuint(pl011_rx_space(&u), ==, PL011_RX_BUFFER);
	pl011_done(&u);
	g_string_free(uart_output, TRUE);
}

/* gpio-keys asks the PL061 for both edges of line 3; the power button is one press. */
static void test_pl061(void)
{
	struct pl061 g;

	irq_level = irq_changes = 0;
	pl061_init(&g, set_irq, NULL);
	g_assert_cmphex(rd32(&pl061_ops, &g, 0xfe0), ==, 0x61);
	wr32(&pl061_ops, &g, 0x408, 1 << 3); /* IBE: both edges */
	wr32(&pl061_ops, &g, 0x410, 1 << 3); /* IE */
	g_assert_cmpint(irq_level, ==, 0);
	pl061_set_input(&g, 3, true);
	g_assert_cmpint(irq_level, ==, 1);
	/* GPIODATA through the address mask: line 3 alone. */
	g_assert_cmphex(rd32(&pl061_ops, &g, (1 << 3) << 2), ==, 1 << 3);
	g_assert_cmphex(rd32(&pl061_ops, &g, (1 << 2) << 2), ==, 0);
	wr32(&pl061_ops, &g, 0x41c, 1 << 3); /* IC */
	g_assert_cmpint(irq_level, ==, 0);
	pl061_set_input(&g, 3, false);
	g_assert_cmpint(irq_level, ==, 1);
	wr32(&pl061_ops, &g, 0x41c, 0xff);
	/* A line the guest does not listen to raises nothing. */
	pl061_set_input(&g, 5, true);
	g_assert_cmpint(irq_level, ==, 0);
	/* Level-sensitive, high: follows the line. */
	wr32(&pl061_ops, &g, 0x404, 1 << 5); /* IS */
	wr32(&pl061_ops, &g, 0x40c, 1 << 5); /* IEV: high */
	wr32(&pl061_ops, &g, 0x410, 1 << 5);
	g_assert_cmpint(irq_level, ==, 1);
	pl061_set_input(&g, 5, false);
	g_assert_cmpint(irq_level, ==, 0);
	pl061_done(&g);
}

static void test_pl031(void)
{
	struct pl031 rtc;
	uint32_t now;

	pl031_init(&rtc);
	now = rd32(&pl031_ops, &rtc, 0x00);
	g_assert_cmpint(llabs((long long)now - (long long)time(NULL)), <=, 2);
	g_assert_cmphex(rd32(&pl031_ops, &rtc, 0xfe0), ==, 0x31);
	wr32(&pl031_ops, &rtc, 0x08, 1000000); /* LR: the guest sets its clock */
	g_assert_cmpint(llabs((long long)rd32(&pl031_ops, &rtc, 0x00) - 1000000), <=, 2);
	g_assert_cmphex(rd32(&pl031_ops, &rtc, 0x0c), ==, 1);
	pl031_done(&rtc);
}

int main(int argc, char **argv)
{
	/* --dump FILE: the tree of a 2-vCPU machine, for dtc (tests/unit/dtc-check.sh). */
	if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
		g_autofree void *fdt = build_tree(2);

		return g_file_set_contents(argv[2], fdt, fdt_totalsize(fdt), NULL) ? 0 : 1;
	}
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aarch64/fdt/root-chosen-memory", test_fdt_root_chosen_memory);
	g_test_add_func("/aarch64/fdt/cpus-psci-timer", test_fdt_cpus_psci_timer);
	g_test_add_func("/aarch64/fdt/gic-its", test_fdt_gic_its);
	g_test_add_func("/aarch64/fdt/platform-devices", test_fdt_platform_devices);
	g_test_add_func("/aarch64/fdt/pci", test_fdt_pci);
	g_test_add_func("/aarch64/fdt/too-small", test_fdt_too_small);
	g_test_add_func("/aarch64/image", test_image);
	g_test_add_func("/aarch64/pl011", test_pl011);
	g_test_add_func("/aarch64/pl061", test_pl061);
	g_test_add_func("/aarch64/pl031", test_pl031);
	return g_test_run();
}

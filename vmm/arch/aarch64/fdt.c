/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device tree of an aarch64 Phyllome VM, written node by node with libfdt. */
#include "arch/aarch64/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

#include "arch/aarch64/layout.h"

/* Phandles the nodes refer to each other by. */
enum {
	PHANDLE_GIC = 1,
	PHANDLE_ITS,
	PHANDLE_CLOCK,
	PHANDLE_GPIO,
};

/* Interrupt specifiers of arm,gic-v3: type, number, flags. */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH 4
#define GPIO_ACTIVE_HIGH 0
#define KEY_POWER 116
/* PCI address space codes of a ranges entry's first cell. */
#define PCI_SPACE_MEM32 0x02000000u
#define PCI_SPACE_MEM64 0x03000000u
#define PCI_INTX_PINS 4

#define UART_CLOCK_HZ 24000000

uint64_t aarch64_vcpu_mpidr(unsigned index)
{
	/* KVM's reset value: 16 vCPUs per cluster in Aff0, clusters in Aff1, then Aff2. */
	return (uint64_t)(index & 0xf) | (uint64_t)((index >> 4) & 0xff) << 8 |
	       (uint64_t)((index >> 12) & 0xff) << 16;
}

/* A property of 64-bit cells (addresses and sizes with #address-cells = #size-cells = 2). */
static int prop_u64s(void *fdt, const char *name, const uint64_t *values, size_t count)
{
	fdt64_t cells[8];

	for (size_t i = 0; i < count; i++)
		cells[i] = cpu_to_fdt64(values[i]);
	return fdt_property(fdt, name, cells, (int)(count * sizeof(cells[0])));
}

static int prop_u32s(void *fdt, const char *name, const uint32_t *values, size_t count)
{
	fdt32_t cells[PCI_INTX_PINS * PCI_INTX_PINS * 10];

	for (size_t i = 0; i < count; i++)
		cells[i] = cpu_to_fdt32(values[i]);
	return fdt_property(fdt, name, cells, (int)(count * sizeof(cells[0])));
}

/* A node named "name@address" for a platform device. */
static int begin_device(void *fdt, const char *name, uint64_t address)
{
	char node[64];

	snprintf(node, sizeof(node), "%s@%llx", name, (unsigned long long)address);
	return fdt_begin_node(fdt, node);
}

/* One libfdt call after another; the first error ends the tree. */
#define TRY(call)                                                                                  \
	do {                                                                                       \
		int err_ = (call);                                                                 \
		if (err_ < 0)                                                                      \
			return err_;                                                               \
	} while (0)

static int add_cpus(void *fdt, const struct fdt_machine *m)
{
	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < m->cpus; i++) {
		char node[32];
		uint64_t mpidr = aarch64_vcpu_mpidr(i);

		snprintf(node, sizeof(node), "cpu@%llx", (unsigned long long)mpidr);
		TRY(fdt_begin_node(fdt, node));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u32(fdt, "reg", (uint32_t)mpidr));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct fdt_machine *m)
{
	const uint64_t reg[] = { GUEST_GIC_DIST_ADDR, GUEST_GIC_DIST_SIZE, GUEST_GIC_REDIST_ADDR,
				 GUEST_GIC_REDIST_STRIDE * m->cpus };
	const uint64_t its_reg[] = { GUEST_GIC_ITS_ADDR, GUEST_GIC_ITS_SIZE };

	TRY(begin_device(fdt, "intc", GUEST_GIC_DIST_ADDR));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	TRY(prop_u64s(fdt, "reg", reg, 4));
	TRY(fdt_property_u32(fdt, "#redistributor-regions", 1));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
	/* The ITS turns the PCI devices' MSI writes into LPIs. */
	TRY(begin_device(fdt, "its", GUEST_GIC_ITS_ADDR));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
	TRY(fdt_property(fdt, "msi-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#msi-cells", 1));
	TRY(prop_u64s(fdt, "reg", its_reg, 2));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_ITS));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int add_timer_and_psci(void *fdt)
{
	const uint32_t timer_irqs[] = {
		GIC_PPI, PPI_TIMER_SECURE, IRQ_LEVEL_HIGH, GIC_PPI, PPI_TIMER_PHYS, IRQ_LEVEL_HIGH,
		GIC_PPI, PPI_TIMER_VIRT,   IRQ_LEVEL_HIGH, GIC_PPI, PPI_TIMER_HYP,  IRQ_LEVEL_HIGH,
	};
	/* KVM implements PSCI 1.x (0.2 at least) through HVC: CPU_ON, SYSTEM_OFF, SYSTEM_RESET. */
	static const char psci_compatible[] = "arm,psci-1.0\0arm,psci-0.2";

	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(prop_u32s(fdt, "interrupts", timer_irqs, 12));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	TRY(fdt_end_node(fdt));
	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property(fdt, "compatible", psci_compatible, sizeof(psci_compatible)));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	return fdt_end_node(fdt);
}

/* A PrimeCell device: compatible, reg, one SPI, the APB clock. */
static int begin_primecell(void *fdt, const char *name, uint64_t address, unsigned spi,
			   const char *compatible)
{
	char compat[64];
	int len = snprintf(compat, sizeof(compat), "%s%carm,primecell", compatible, '\0');
	const uint64_t reg[] = { address, GUEST_PLATFORM_DEVICE_SIZE };
	const uint32_t irq[] = { GIC_SPI, spi, IRQ_LEVEL_HIGH };

	TRY(begin_device(fdt, name, address));
	TRY(fdt_property(fdt, "compatible", compat, len + 1));
	TRY(prop_u64s(fdt, "reg", reg, 2));
	TRY(prop_u32s(fdt, "interrupts", irq, 3));
	return 0;
}

static int add_platform_devices(void *fdt)
{
	static const char uart_clock_names[] = "uartclk\0apb_pclk";
	const uint32_t uart_clocks[] = { PHANDLE_CLOCK, PHANDLE_CLOCK };

	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_CLOCK));
	TRY(fdt_end_node(fdt));

	TRY(begin_primecell(fdt, "pl011", GUEST_UART_ADDR, SPI_UART, "arm,pl011"));
	TRY(prop_u32s(fdt, "clocks", uart_clocks, 2));
	TRY(fdt_property(fdt, "clock-names", uart_clock_names, sizeof(uart_clock_names)));
	TRY(fdt_end_node(fdt));

	TRY(begin_primecell(fdt, "pl031", GUEST_RTC_ADDR, SPI_RTC, "arm,pl031"));
	TRY(fdt_property_u32(fdt, "clocks", PHANDLE_CLOCK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	TRY(fdt_end_node(fdt));

	TRY(begin_primecell(fdt, "pl061", GUEST_GPIO_ADDR, SPI_GPIO, "arm,pl061"));
	TRY(fdt_property_u32(fdt, "clocks", PHANDLE_CLOCK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	TRY(fdt_property(fdt, "gpio-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#gpio-cells", 2));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_GPIO));
	TRY(fdt_end_node(fdt));

	/* The power button the host presses on SIGTERM or Stop: a key on GPIO line 3, as on QEMU's
	 * virt; the label names it as the ACPI button is named on x86. */
	{
		const uint32_t gpios[] = { PHANDLE_GPIO, GPIO_POWER_BUTTON, GPIO_ACTIVE_HIGH };

		TRY(fdt_begin_node(fdt, "gpio-keys"));
		TRY(fdt_property_string(fdt, "compatible", "gpio-keys"));
		TRY(fdt_property_string(fdt, "label", "Power Button"));
		TRY(fdt_begin_node(fdt, "poweroff"));
		TRY(fdt_property_string(fdt, "label", "GPIO Key Poweroff"));
		TRY(fdt_property_u32(fdt, "linux,code", KEY_POWER));
		TRY(prop_u32s(fdt, "gpios", gpios, 3));
		TRY(fdt_end_node(fdt));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

static int add_pci(void *fdt, const struct fdt_machine *m)
{
	const uint64_t reg[] = { GUEST_PCI_ECAM_BASE, GUEST_PCI_ECAM_SIZE };
	const uint64_t mmio32_size = GUEST_PCI_MMIO32_END - m->pci_mmio32_base;
	const uint32_t ranges[] = {
		PCI_SPACE_MEM32,
		(uint32_t)(m->pci_mmio32_base >> 32),
		(uint32_t)m->pci_mmio32_base,
		(uint32_t)(m->pci_mmio32_base >> 32),
		(uint32_t)m->pci_mmio32_base,
		(uint32_t)(mmio32_size >> 32),
		(uint32_t)mmio32_size,
		PCI_SPACE_MEM64,
		(uint32_t)(m->pci_mmio64_base >> 32),
		(uint32_t)m->pci_mmio64_base,
		(uint32_t)(m->pci_mmio64_base >> 32),
		(uint32_t)m->pci_mmio64_base,
		(uint32_t)(GUEST_PCI_MMIO64_SIZE >> 32),
		(uint32_t)GUEST_PCI_MMIO64_SIZE,
	};
	const uint32_t bus_range[] = { 0, 0 };
	/* Requester ID n is the ITS's device n. */
	const uint32_t msi_map[] = { 0, PHANDLE_ITS, 0, 0x10000 };
	const uint32_t map_mask[] = { 3 << 11, 0, 0, 7 };
	/* INTx: slot s, pin p (1-4) on SPI 3 + (s + p - 1) % 4, swizzled as behind a bridge; the
	 * mask folds every slot onto the first four. */
	uint32_t map[PCI_INTX_PINS * PCI_INTX_PINS * 10];
	size_t n = 0;

	for (uint32_t slot = 0; slot < PCI_INTX_PINS; slot++)
		for (uint32_t pin = 1; pin <= PCI_INTX_PINS; pin++) {
			uint32_t *e = map + n;

			/* The child's address (its slot) and pin, the GIC and its empty address,
			 * the SPI. */
			e[0] = slot << 11, e[1] = 0, e[2] = 0, e[3] = pin;
			e[4] = PHANDLE_GIC, e[5] = 0, e[6] = 0;
			e[7] = GIC_SPI;
			e[8] = SPI_PCI_INTX_BASE + (slot + pin - 1) % PCI_INTX_PINS;
			e[9] = IRQ_LEVEL_HIGH;
			n += 10;
		}

	TRY(begin_device(fdt, "pcie", GUEST_PCI_ECAM_BASE));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
	TRY(prop_u32s(fdt, "bus-range", bus_range, 2));
	/* The guest's DMA is cache-coherent with the monitor's view of its RAM. */
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	TRY(prop_u64s(fdt, "reg", reg, 2));
	TRY(prop_u32s(fdt, "ranges", ranges, 14));
	TRY(prop_u32s(fdt, "msi-map", msi_map, 4));
	TRY(prop_u32s(fdt, "interrupt-map-mask", map_mask, 4));
	TRY(prop_u32s(fdt, "interrupt-map", map, n));
	return fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct fdt_machine *m)
{
	char stdout_path[64];

	snprintf(stdout_path, sizeof(stdout_path), "/pl011@%llx",
		 (unsigned long long)GUEST_UART_ADDR);
	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs", m->cmdline));
	TRY(fdt_property_string(fdt, "stdout-path", stdout_path));
	if (m->initrd_size) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", m->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", m->initrd_start + m->initrd_size));
	}
	TRY(fdt_property(fdt, "rng-seed", m->rng_seed, sizeof(m->rng_seed)));
	return fdt_end_node(fdt);
}

static int build(void *fdt, size_t size, const struct fdt_machine *m)
{
	const uint64_t memory_reg[] = { GUEST_RAM_BASE, m->ram_size };
	char memory_node[32];

	TRY(fdt_create(fdt, (int)size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(fdt, "model", "Phyllome aarch64 virtual machine"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

	TRY(add_chosen(fdt, m));
	snprintf(memory_node, sizeof(memory_node), "memory@%llx",
		 (unsigned long long)GUEST_RAM_BASE);
	TRY(fdt_begin_node(fdt, memory_node));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_u64s(fdt, "reg", memory_reg, 2));
	TRY(fdt_end_node(fdt));
	TRY(add_cpus(fdt, m));
	TRY(add_timer_and_psci(fdt));
	TRY(add_gic(fdt, m));
	TRY(add_platform_devices(fdt));
	TRY(add_pci(fdt, m));

	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int aarch64_fdt_build(const struct fdt_machine *m, void *buf, size_t size)
{
	int r;

	if (size > INT32_MAX)
		size = INT32_MAX;
	r = build(buf, size, m);
	if (r == -FDT_ERR_NOSPACE)
		return -E2BIG;
	if (r < 0)
		return -EINVAL;
	return (int)fdt_totalsize(buf);
}

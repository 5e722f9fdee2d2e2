/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pci/i440fx.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "arch/x86_64/layout.h"
#include "log.h"
#include "util.h"

#define PCI_VENDOR_INTEL 0x8086
#define PCI_DEVICE_I440FX 0x1237
#define PCI_DEVICE_PIIX3_ISA 0x7000
#define PCI_DEVICE_PIIX4_PM 0x7113
#define PCI_CLASS_BRIDGE_ISA 0x060100
#define PCI_CLASS_BRIDGE_OTHER 0x068000

#define PIIX4_PMBA 0x40
#define PIIX4_PMBA_IO_SPACE 0x1
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PMREGMISC_PMIOSE 0x1
#define PM_BLOCK_SIZE 0x40

/* The PM I/O block's registers, as offsets from PMBA. */
#define PM1_STATUS 0x0
#define PM1_ENABLE 0x2
#define PM1_CONTROL 0x4
#define PM_TIMER 0x8
#define PM_REGISTERS_END 0xc

#define PM1_CONTROL_SCI_EN 0x0001
#define PM1_CONTROL_SLEEP_TYPE(v) (((v) >> 10) & 7)
#define PM1_CONTROL_SLEEP_ENABLE 0x2000
/* The sleep type a PIIX4 (and so OVMF's ResetShutdown) means S5 by. */
#define PIIX4_SLEEP_TYPE_S5 0

#define PM_TIMER_HZ 3579545ULL
#define PM_TIMER_MASK 0xffffffu

static const struct pci_device_ops config_only_ops = { 0 };

uint32_t pc_chipset_pm_timer_at(uint64_t ns)
{
	/* 128 bits: ns times the rate passes 2^64 after an hour and a half. */
	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u) & PM_TIMER_MASK;
}

static uint64_t ns_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - start->tv_sec) * 1000000000u + (uint64_t)now.tv_nsec -
	       (uint64_t)start->tv_nsec;
}

static void pm_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pc_chipset *c = opaque;
	uint8_t regs[PM_REGISTERS_END] = { 0 }; /* status reads 0: no event ever fires */

	pthread_mutex_lock(&c->lock);
	put_le16(regs + PM1_ENABLE, c->pm1_enable);
	put_le16(regs + PM1_CONTROL, c->pm1_control);
	pthread_mutex_unlock(&c->lock);
	put_le32(regs + PM_TIMER, pc_chipset_pm_timer_at(ns_since(&c->started)));
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i < sizeof(regs) ? regs[offset + i] : 0;
}

static void pm_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pc_chipset *c = opaque;
	bool power_off = false;

	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < size; i++) {
		unsigned byte = (unsigned)(offset + i);
		uint16_t *reg = byte - PM1_ENABLE < 2	 ? &c->pm1_enable
				: byte - PM1_CONTROL < 2 ? &c->pm1_control
							 : NULL;
		unsigned shift = (byte & 1) * 8;

		if (reg)
			*reg = (uint16_t)((*reg & ~(0xffu << shift)) | (unsigned)data[i] << shift);
	}
	if (c->pm1_control & PM1_CONTROL_SLEEP_ENABLE) {
		unsigned type = PM1_CONTROL_SLEEP_TYPE(c->pm1_control);

		c->pm1_control &= (uint16_t)~PM1_CONTROL_SLEEP_ENABLE; /* it reads back as 0 */
		if (type == PIIX4_SLEEP_TYPE_S5)
			power_off = true;
		else
			log_warning("The firmware asked for sleep type %u, which this VM does not "
				    "offer",
				    type);
	}
	pthread_mutex_unlock(&c->lock);
	if (power_off)
		c->acpi_pm->power_off(c->acpi_pm->opaque);
}

static const struct trap_ops pm_io_ops = { .read = pm_read, .write = pm_write };

int pc_chipset_init(struct pc_chipset *c, struct pci_bus *bus, struct trap_table *pio,
		    struct acpi_pm *acpi_pm)
{
	struct pci_device *host = &bus->host_bridge;
	int r;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->acpi_pm = acpi_pm;
	c->pm1_control = PM1_CONTROL_SCI_EN;
	clock_gettime(CLOCK_MONOTONIC, &c->started);

	put_le16(host->config + PCI_VENDOR_ID, PCI_VENDOR_INTEL);
	put_le16(host->config + PCI_DEVICE_ID, PCI_DEVICE_I440FX);
	host->name = "i440FX host bridge";

	pci_device_init(&c->isa_bridge, "PIIX3 ISA bridge", PCI_VENDOR_INTEL, PCI_DEVICE_PIIX3_ISA,
			PCI_CLASS_BRIDGE_ISA, PCI_SUBSYSTEM_VENDOR_QEMU, PCI_SUBSYSTEM_QEMU,
			&config_only_ops, c);
	c->isa_bridge.config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
	/* Decoding on, as a BIOS leaves it: OVMF's SIO bus driver (COM1, the PS/2 keyboard)
	 * takes the bridge only when I/O and memory decoding are on. */
	put_le16(c->isa_bridge.config + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	put_le16(c->isa_bridge.wmask + PCI_COMMAND,
		 get_le16(c->isa_bridge.wmask + PCI_COMMAND) | PCI_COMMAND_IO);

	pci_device_init(&c->pm, "PIIX4 power management", PCI_VENDOR_INTEL, PCI_DEVICE_PIIX4_PM,
			PCI_CLASS_BRIDGE_OTHER, PCI_SUBSYSTEM_VENDOR_QEMU, PCI_SUBSYSTEM_QEMU,
			&config_only_ops, c);
	c->pm.config[PCI_REVISION_ID] = 3;
	put_le16(c->pm.config + PCI_COMMAND, PCI_COMMAND_IO);
	put_le32(c->pm.config + PIIX4_PMBA, PORT_PIIX4_PM_BASE | PIIX4_PMBA_IO_SPACE);
	c->pm.config[PIIX4_PMREGMISC] = PIIX4_PMREGMISC_PMIOSE;

	if ((r = pci_bus_add_function(bus, 1, 0, &c->isa_bridge)) < 0 ||
	    (r = pci_bus_add_function(bus, 1, 3, &c->pm)) < 0)
		return r;
	return trap_register(pio, "PIIX4 power management", PORT_PIIX4_PM_BASE, PM_BLOCK_SIZE,
			     &pm_io_ops, c);
}

void pc_chipset_done(struct pc_chipset *c)
{
	pthread_mutex_destroy(&c->lock);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pci/pci.h"

#include <errno.h>
#include <string.h>

#include "arch/layout.h"
#include "log.h"

#define CONFIG_ADDRESS_ENABLE 0x80000000u
#define HEADER_SIZE 0x40
#define BAR_REGISTER(bar) ((bar) == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * (bar))

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint16_t subsystem_vendor, uint16_t subsystem,
		     const struct pci_device_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->next_cap = HEADER_SIZE;
	put_le16(dev->config + PCI_VENDOR_ID, vendor);
	put_le16(dev->config + PCI_DEVICE_ID, device);
	dev->config[PCI_REVISION_ID] = 1;
	dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	put_le16(dev->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	put_le16(dev->config + PCI_SUBSYSTEM_VENDOR_ID, subsystem_vendor);
	put_le16(dev->config + PCI_SUBSYSTEM_ID, subsystem);
	/* No INTx: our devices interrupt through MSI-X only. */
	dev->config[PCI_INTERRUPT_PIN] = 0;
	put_le16(dev->wmask + PCI_COMMAND,
		 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
}

static uint8_t bar_type(const struct pci_bar *b)
{
	return (b->is_64 ? PCI_BAR_MEM_64 : 0) | (b->prefetchable ? PCI_BAR_MEM_PREFETCH : 0);
}

int pci_device_add_bar(struct pci_device *dev, unsigned bar, uint64_t size, unsigned flags)
{
	uint64_t mask = ~(size - 1);
	bool is_64 = flags & PCI_BAR_MEM_64;

	if (bar >= PCI_BARS || (is_64 && bar == PCI_BARS - 1) || size < 4096 ||
	    (size & (size - 1)) || dev->bars[bar].size || (is_64 && dev->bars[bar + 1].size))
		return -EINVAL;
	dev->bars[bar] = (struct pci_bar){ .size = size,
					   .is_64 = is_64,
					   .prefetchable = flags & PCI_BAR_MEM_PREFETCH };
	dev->config[BAR_REGISTER(bar)] = bar_type(&dev->bars[bar]);
	/* The guest sizes a BAR by writing all ones: only the address bits above its size stick. */
	put_le32(dev->wmask + BAR_REGISTER(bar), (uint32_t)mask & ~0xfu);
	if (is_64)
		put_le32(dev->wmask + BAR_REGISTER(bar + 1), (uint32_t)(mask >> 32));
	return 0;
}

int pci_device_add_rom(struct pci_device *dev, uint64_t size)
{
	if (size < 4096 || (size & (size - 1)) || size > (1ULL << 31) ||
	    dev->bars[PCI_ROM_BAR].size)
		return -EINVAL;
	dev->bars[PCI_ROM_BAR] = (struct pci_bar){ .size = size };
	/* Address bits above its size, and the enable bit. */
	put_le32(dev->wmask + PCI_ROM_ADDRESS,
		 ((uint32_t) ~(size - 1) & 0xfffff800u) | PCI_ROM_ENABLE);
	return 0;
}

int pci_device_add_capability(struct pci_device *dev, uint8_t id, unsigned len)
{
	unsigned offset = (dev->next_cap + 3) & ~3u;

	if (len < 2 || offset + len > 0x100)
		return -ENOSPC;
	dev->config[offset] = id;
	dev->config[offset + 1] = dev->config[PCI_CAPABILITY_LIST];
	dev->config[PCI_CAPABILITY_LIST] = (uint8_t)offset;
	put_le16(dev->config + PCI_STATUS,
		 get_le16(dev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
	dev->next_cap = offset + len;
	return (int)offset;
}

uint64_t pci_device_bar_address(const struct pci_device *dev, unsigned bar)
{
	uint64_t addr;

	if (!(get_le16(dev->config + PCI_COMMAND) & PCI_COMMAND_MEMORY) || !dev->bars[bar].size)
		return 0;
	if (bar == PCI_ROM_BAR)
		return (get_le32(dev->config + PCI_ROM_ADDRESS) & PCI_ROM_ENABLE)
			   ? get_le32(dev->config + PCI_ROM_ADDRESS) & 0xfffff800u
			   : 0;
	addr = get_le32(dev->config + BAR_REGISTER(bar)) & ~0xfull;
	if (dev->bars[bar].is_64)
		addr |= (uint64_t)get_le32(dev->config + BAR_REGISTER(bar + 1)) << 32;
	return addr;
}

unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return GSI_PCI_INTX_BASE + ((slot + pin - 1) & 3);
}

/* Where the firmware would put it: aligned to its size, in the window that fits. */
static int place_bar(struct pci_bus *bus, struct pci_device *dev, unsigned bar)
{
	uint64_t size = dev->bars[bar].size;
	uint64_t *next = dev->bars[bar].is_64 ? &bus->mmio64_next : &bus->mmio32_next;
	uint64_t end = dev->bars[bar].is_64 ? bus->mmio64_end : bus->mmio32_end;
	uint64_t addr = (*next + size - 1) & ~(size - 1);

	if (addr < *next || addr + size > end || addr + size < addr)
		return log_error_errno(ENOSPC, "No room for BAR %u (%llu KiB) of %s", bar,
				       (unsigned long long)(size >> 10), dev->name);
	*next = addr + size;
	put_le32(dev->config + BAR_REGISTER(bar), (uint32_t)addr | bar_type(&dev->bars[bar]));
	if (dev->bars[bar].is_64)
		put_le32(dev->config + BAR_REGISTER(bar + 1), (uint32_t)(addr >> 32));
	return 0;
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev)
{
	/* Slot 0 is the host bridge's, as on a PC. */
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		if (bus->devices[slot])
			continue;
		for (unsigned bar = 0; bar <= PCI_ROM_BAR; bar++) {
			int r = dev->bars[bar].size ? place_bar(bus, dev, bar) : 0;
			if (r < 0)
				return r;
		}
		dev->bus = bus;
		dev->slot = slot;
		bus->devices[slot] = dev;
		return 0;
	}
	return log_error_errno(ENOSPC, "No free PCI slot for %s", dev->name);
}

int pci_bus_add_function(struct pci_bus *bus, unsigned slot, unsigned function,
			 struct pci_device *dev)
{
	struct pci_device **place =
	    function == 0 ? &bus->devices[slot] : &bus->other_functions[slot][function - 1];

	if (slot == 0 || slot >= PCI_SLOTS || function >= PCI_FUNCTIONS || *place)
		return -EINVAL;
	for (unsigned bar = 0; bar <= PCI_ROM_BAR; bar++)
		if (dev->bars[bar].size)
			return -EINVAL;
	dev->bus = bus;
	dev->slot = slot;
	*place = dev;
	return 0;
}

/* ---- config space ---- */

static struct pci_device *device_at(struct pci_bus *bus, unsigned busno, unsigned slot,
				    unsigned function)
{
	if (busno != 0 || function >= PCI_FUNCTIONS || slot >= PCI_SLOTS)
		return NULL;
	return function == 0 ? bus->devices[slot] : bus->other_functions[slot][function - 1];
}

static void config_read(struct pci_device *dev, unsigned reg, uint8_t *data, unsigned size)
{
	if (!dev || reg + size > PCI_CONFIG_SIZE)
		memset(data, 0xff, size);
	else if (dev->ops->config_read)
		dev->ops->config_read(dev, reg, data, size);
	else
		memcpy(data, dev->config + reg, size);
}

void pci_device_config_store(struct pci_device *dev, unsigned reg, const uint8_t *data,
			     unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		dev->config[reg + i] = (uint8_t)((dev->config[reg + i] & ~dev->wmask[reg + i]) |
						 (data[i] & dev->wmask[reg + i]));
}

/* With -vv: where the guest (a firmware, above all) puts each BAR, once decoding is on. */
static void log_bar_moves(struct pci_device *dev, const uint64_t before[PCI_BARS + 1])
{
	for (unsigned bar = 0; bar <= PCI_ROM_BAR; bar++) {
		uint64_t now = pci_device_bar_address(dev, bar);

		if (now != before[bar])
			log_debug("PCI 00:%02x.0 %s: BAR %u %s 0x%llx", dev->slot, dev->name, bar,
				  now ? "now at" : "off, was at",
				  (unsigned long long)(now ? now : before[bar]));
	}
}

static void config_write(struct pci_device *dev, unsigned reg, const uint8_t *data, unsigned size)
{
	uint64_t before[PCI_BARS + 1];
	bool logging = log_get_max_level() >= LOG_DEBUG;

	if (!dev || reg + size > PCI_CONFIG_SIZE)
		return;
	for (unsigned bar = 0; logging && bar <= PCI_ROM_BAR; bar++)
		before[bar] = pci_device_bar_address(dev, bar);
	if (dev->ops->config_write)
		dev->ops->config_write(dev, reg, data, size);
	else
		pci_device_config_store(dev, reg, data, size);
	if (dev->ops->config_written)
		dev->ops->config_written(dev, reg, size);
	if (logging)
		log_bar_moves(dev, before);
}

/* Accesses must be naturally aligned and 1, 2 or 4 bytes, as PCI defines them. */
static bool config_access_ok(uint64_t reg, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && (reg & (size - 1)) == 0;
}

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;

	if (!config_access_ok(offset, size)) {
		memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	config_read(
	    device_at(bus, (unsigned)(offset >> 20), (offset >> 15) & 31, (offset >> 12) & 7),
	    offset & 0xfff, data, size);
	pthread_mutex_unlock(&bus->lock);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;

	if (!config_access_ok(offset, size))
		return;
	pthread_mutex_lock(&bus->lock);
	config_write(
	    device_at(bus, (unsigned)(offset >> 20), (offset >> 15) & 31, (offset >> 12) & 7),
	    offset & 0xfff, data, size);
	pthread_mutex_unlock(&bus->lock);
}

static const struct trap_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* Type 1 configuration: the address at 0xCF8, the data at 0xCFC-0xCFF. */
static struct pci_device *cf8_device(struct pci_bus *bus, unsigned *reg)
{
	uint32_t a = bus->config_address;

	if (!(a & CONFIG_ADDRESS_ENABLE))
		return NULL;
	*reg = (a & 0xfc) | ((a >> 16) & 0xf00); /* extended registers, as AMD's ECS bits */
	return device_at(bus, (a >> 16) & 0xff, (a >> 11) & 31, (a >> 8) & 7);
}

static void cf8_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;
	unsigned reg = 0;

	pthread_mutex_lock(&bus->lock);
	if (offset == 0 && size == 4) {
		put_le32(data, bus->config_address);
	} else if (offset >= 4 && config_access_ok(offset - 4, size)) {
		struct pci_device *dev = cf8_device(bus, &reg);
		config_read(dev, reg + (offset - 4u), data, size);
		if (!dev)
			memset(data, 0xff, size);
	} else {
		memset(data, 0xff, size);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void cf8_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pci_bus *bus = opaque;
	unsigned reg = 0;

	pthread_mutex_lock(&bus->lock);
	if (offset == 0 && size == 4)
		bus->config_address = get_le32(data) & 0x8fffffffu;
	else if (offset >= 4 && config_access_ok(offset - 4, size)) {
		struct pci_device *dev = cf8_device(bus, &reg);
		if (dev)
			config_write(dev, reg + (offset - 4u), data, size);
	}
	pthread_mutex_unlock(&bus->lock);
}

static const struct trap_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

/* ---- BARs ---- */

static struct pci_device *bar_at(struct pci_bus *bus, uint64_t addr, unsigned size,
				 unsigned *ret_bar, uint64_t *ret_offset)
{
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		struct pci_device *dev = bus->devices[slot];

		for (unsigned bar = 0; dev && bar <= PCI_ROM_BAR; bar++) {
			uint64_t base = pci_device_bar_address(dev, bar);

			if (!base || addr < base || addr - base >= dev->bars[bar].size ||
			    size > dev->bars[bar].size - (addr - base))
				continue;
			*ret_bar = bar;
			*ret_offset = addr - base;
			return dev;
		}
	}
	return NULL;
}

/* The bridge's windows: an access lands in whichever BAR the guest put there. */
static void window_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pci_window *w = opaque;
	struct pci_bus *bus = w->bus;
	struct pci_device *dev;
	uint64_t bar_offset;
	unsigned bar;

	pthread_mutex_lock(&bus->lock);
	dev = bar_at(bus, w->base + offset, size, &bar, &bar_offset);
	if (dev && dev->ops->bar_read)
		dev->ops->bar_read(dev, bar, bar_offset, data, size);
	else
		memset(data, 0xff, size);
	pthread_mutex_unlock(&bus->lock);
}

static void window_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pci_window *w = opaque;
	struct pci_bus *bus = w->bus;
	struct pci_device *dev;
	uint64_t bar_offset;
	unsigned bar;

	pthread_mutex_lock(&bus->lock);
	dev = bar_at(bus, w->base + offset, size, &bar, &bar_offset);
	if (dev && dev->ops->bar_write)
		dev->ops->bar_write(dev, bar, bar_offset, data, size);
	pthread_mutex_unlock(&bus->lock);
}

static const struct trap_ops window_ops = { .read = window_read, .write = window_write };

#define PCI_VENDOR_REDHAT 0x1b36
#define PCI_DEVICE_REDHAT_PCIE_HOST 0x0008
#define PCI_CLASS_BRIDGE_HOST 0x060000

static const struct pci_device_ops host_bridge_ops = { 0 };

int pci_bus_init(struct pci_bus *bus, struct trap_table *pio, struct trap_table *mmio,
		 const struct pci_windows *windows)
{
	uint64_t mmio64_base = windows->mmio64_base;
	int r;

	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	/*
	 * A host bridge function at 00:00.0, as QEMU's q35 has one: Linux's early
	 * check of the 0xcf8 mechanism looks for it, and says "PCI: Fatal: No config
	 * space access function found" when there is none.
	 */
	pci_device_init(&bus->host_bridge, "PCIe host bridge", PCI_VENDOR_REDHAT,
			PCI_DEVICE_REDHAT_PCIE_HOST, PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_REDHAT,
			PCI_SUBSYSTEM_QEMU, &host_bridge_ops, bus);
	bus->host_bridge.bus = bus;
	bus->devices[0] = &bus->host_bridge;
	/* We place BARs from 3 GiB up as before; a firmware places them where it likes in the
	 * window, which starts lower when there is less RAM (see memory.h). */
	bus->mmio32_next = GUEST_PCI_MMIO32_START;
	bus->mmio32_end = GUEST_PCI_MMIO32_END;
	bus->mmio64_next = mmio64_base;
	bus->mmio64_end = mmio64_base + GUEST_PCI_MMIO64_SIZE;
	bus->window32 = (struct pci_window){ .bus = bus, .base = windows->mmio32_base };
	bus->window64 = (struct pci_window){ .bus = bus, .base = mmio64_base };
	if ((r = trap_register(mmio, "PCI ECAM", GUEST_PCI_ECAM_BASE, GUEST_PCI_ECAM_SIZE,
			       &ecam_ops, bus)) < 0 ||
	    (r = trap_register(mmio, "PCI 32-bit window", windows->mmio32_base,
			       GUEST_PCI_MMIO32_END - windows->mmio32_base, &window_ops,
			       &bus->window32)) < 0 ||
	    (r = trap_register(mmio, "PCI 64-bit window", mmio64_base, GUEST_PCI_MMIO64_SIZE,
			       &window_ops, &bus->window64)) < 0 ||
	    (r = trap_register(pio, "PCIe host bridge", PORT_PCI_CONFIG_ADDRESS, 8, &cf8_ops,
			       bus)) < 0)
		return r;
	return 0;
}

void pci_bus_done(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

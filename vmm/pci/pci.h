/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "trap.h"
#include "util.h"

/*
 * PCI bus 0 behind a PCIe host bridge: config space through ECAM (and the
 * legacy 0xCF8/0xCFC ports, which early Linux code and firmware read), one
 * function per slot but for the PC chipset's, memory BARs only. The monitor plays the firmware's
 * part: it places every BAR in the bridge's windows before the guest runs;
 * the guest may move them. Config space and BAR accesses run under the bus
 * lock, on whichever vCPU made them.
 */
#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8
#define PCI_CONFIG_SIZE 4096
#define PCI_BARS 6
#define PCI_ROM_BAR PCI_BARS /* bars[PCI_ROM_BAR]: the expansion ROM, at PCI_ROM_ADDRESS */
#define PCI_ROM_ENABLE 0x1

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_BAR_IO 0x01
#define PCI_BAR_MEM_64 0x04
#define PCI_BAR_MEM_PREFETCH 0x08
#define PCI_ROM_ADDRESS 0x30
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_PIN 0x3d
/* The subsystem IDs QEMU's devices carry, and so ours: guests' drivers and firmware know them. */
#define PCI_SUBSYSTEM_VENDOR_QEMU 0x1af4
#define PCI_SUBSYSTEM_QEMU 0x1100
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_device;

struct pci_device_ops {
	/* An access inside one of its BARs; offset from the BAR's start. */
	void (*bar_read)(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			 unsigned size);
	void (*bar_write)(struct pci_device *dev, unsigned bar, uint64_t offset,
			  const uint8_t *data, unsigned size);
	/* The guest wrote [offset, offset+size) of config space; already stored. */
	void (*config_written)(struct pci_device *dev, unsigned offset, unsigned size);
	/*
	 * A device whose config space lives elsewhere (a host device through VFIO)
	 * takes over every access; the others are served from dev->config under wmask.
	 */
	void (*config_read)(struct pci_device *dev, unsigned offset, uint8_t *data, unsigned size);
	void (*config_write)(struct pci_device *dev, unsigned offset, const uint8_t *data,
			     unsigned size);
};

struct pci_bar {
	uint64_t size; /* 0: none; else a power of two of at least 4 KiB */
	bool is_64;
	bool prefetchable;
};

struct pci_bus;

struct pci_device {
	const char *name;
	struct pci_bus *bus;
	unsigned slot;
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];	   /* bits the guest may change */
	struct pci_bar bars[PCI_BARS + 1]; /* and the expansion ROM */
	unsigned next_cap;		   /* where the next capability goes */
	const struct pci_device_ops *ops;
	void *opaque;
};

/* Where the bridge's windows start: the 32-bit one ends at GUEST_PCI_MMIO32_END, the 64-bit one
 * is GUEST_PCI_MMIO64_SIZE long. */
struct pci_windows {
	uint64_t mmio32_base, mmio64_base;
};

struct pci_window {
	struct pci_bus *bus;
	uint64_t base;
};

struct pci_bus {
	pthread_mutex_t lock;
	struct pci_device host_bridge; /* 00:00.0 */
	struct pci_window window32, window64;
	struct pci_device *devices[PCI_SLOTS]; /* function 0 of each slot */
	/* Functions 1-7: only the PC chipset's, which have no BARs. */
	struct pci_device *other_functions[PCI_SLOTS][PCI_FUNCTIONS - 1];
	uint32_t config_address; /* 0xCF8 */
	uint64_t mmio32_next, mmio32_end;
	uint64_t mmio64_next, mmio64_end;
};

/* What the device's DMA and MSIs carry as their source: bus 0, its slot, function 0. */
static inline uint32_t pci_requester_id(const struct pci_device *dev)
{
	return dev->slot << 3;
}

int pci_bus_init(struct pci_bus *bus, struct trap_table *pio, struct trap_table *mmio,
		 const struct pci_windows *windows);
void pci_bus_done(struct pci_bus *bus);

/* Fills in the header of a type-0 function; the device then adds BARs and capabilities. */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint16_t subsystem_vendor, uint16_t subsystem,
		     const struct pci_device_ops *ops, void *opaque);
/* A memory BAR of size bytes (a power of two, at least 4 KiB); flags: PCI_BAR_MEM_64,
 * PCI_BAR_MEM_PREFETCH. */
int pci_device_add_bar(struct pci_device *dev, unsigned bar, uint64_t size, unsigned flags);
/* An expansion ROM of size bytes (a power of two, at least 4 KiB), in the 32-bit window; read-only.
 */
int pci_device_add_rom(struct pci_device *dev, uint64_t size);
/* Stores what the guest wrote, as far as wmask lets it. */
void pci_device_config_store(struct pci_device *dev, unsigned offset, const uint8_t *data,
			     unsigned size);
/* Links a capability of len bytes into the list; returns its offset in config space, or -ENOSPC. */
int pci_device_add_capability(struct pci_device *dev, uint8_t id, unsigned len);
/* Puts the device in the first free slot and its BARs in the windows. */
int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev);
/* Puts a function of a multi-function device (function 0 says so in its header type) at a fixed
 * place; no BARs. */
int pci_bus_add_function(struct pci_bus *bus, unsigned slot, unsigned function,
			 struct pci_device *dev);
/* The GSI of INTx pin (1-4 for A-D) of a slot, as the DSDT's _PRT says. */
unsigned pci_intx_gsi(unsigned slot, unsigned pin);
/* Where the guest has a BAR now, 0 while memory decoding is off; the bus lock held. */
uint64_t pci_device_bar_address(const struct pci_device *dev, unsigned bar);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq-routing.h"
#include "options.h"
#include "pci/pci.h"

/*
 * A host PCI device given to the guest whole, through VFIO. Config space is
 * the device's own, read and written through VFIO, except what the monitor
 * must own: the BARs (the guest places them on our bus), the expansion ROM
 * (a read-only BAR served by VFIO), the interrupt line, and the MSI and MSI-X controls (their
 * messages become KVM routes). BAR pages VFIO lets us mmap become KVM
 * memory slots, so the guest reaches the device with no exit; the rest (an
 * MSI-X table, BARs that cannot be mapped) is trapped and forwarded.
 * Interrupts are eventfds VFIO signals and KVM injects as irqfds: INTx
 * (level, with a resample eventfd that unmasks the device at the guest's
 * EOI), MSI and MSI-X vectors on their own GSIs.
 */
#define VFIO_MSI_MAX_VECTORS 32
#define VFIO_MSIX_MAX_VECTORS 64

enum vfio_irq_mode {
	VFIO_IRQ_NONE,
	VFIO_IRQ_INTX,
	VFIO_IRQ_MSI,
	VFIO_IRQ_MSIX,
};

struct vfio_bar {
	uint64_t offset; /* of the region in the device fd */
	uint64_t size;	 /* the region's; the guest's BAR may be larger (at least a page) */
	uint8_t *map;	 /* the whole region mmapped, or NULL: every access is trapped */
	/* Pages that must be trapped even when mapped (the MSI-X table and PBA): [trap_start,
	 * trap_end). */
	uint64_t trap_start, trap_end;
	uint64_t mapped_at; /* the guest address the memory slots are at, 0 while none */
};

struct vfio_vector {
	int irqfd;
	unsigned gsi;
};

struct vfio_pci {
	struct pci_device pci;
	char bdf[PCI_BDF_MAX + 1];
	char name[40];
	int device_fd;
	bool can_reset;
	int vm_fd;
	struct irq_routing *irq;
	unsigned first_memslot; /* two KVM memory slots per BAR */
	uint64_t config_offset;
	unsigned config_size;
	struct vfio_bar
	    bars[PCI_BARS + 1]; /* and the expansion ROM (never mapped: reads are trapped) */
	uint8_t emulated[PCI_CONFIG_SIZE]; /* 1: the byte is ours, in pci.config; 0: the device's */
	enum vfio_irq_mode irq_mode;

	unsigned intx_pin; /* 1-4, or 0: none */
	int intx_fd, intx_resample_fd;

	unsigned msi_cap, msi_size, msi_vectors, msi_enabled;
	struct vfio_vector msi[VFIO_MSI_MAX_VECTORS];

	unsigned msix_cap, msix_vectors, msix_table_bar, msix_pba_bar;
	uint64_t msix_table_offset, msix_pba_offset;
	uint8_t msix_table[16 * VFIO_MSIX_MAX_VECTORS];
	struct vfio_vector msix[VFIO_MSIX_MAX_VECTORS];
};

/* Gets the device from its group and resets it; before the sandbox. */
int vfio_pci_open(struct vfio_pci *vp, const char *bdf, int group_fd);
/* Builds the guest's view, puts it on the bus and wires its interrupts. */
int vfio_pci_init(struct vfio_pci *vp, struct pci_bus *bus, int vm_fd, struct irq_routing *irq,
		  unsigned first_memslot);
/* Interrupts off, the device reset for its next user. */
void vfio_pci_done(struct vfio_pci *vp);

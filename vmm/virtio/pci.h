/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "event.h"
#include "iothread.h"
#include "irq-routing.h"
#include "memory.h"
#include "pci/pci.h"
#include "virtio/queue.h"

/*
 * The virtio 1.x PCI transport (4.1): a modern-only function with the
 * common, notify, ISR and device-config structures in BAR 0 and MSI-X (one
 * vector per queue and one for config changes) in the same BAR.
 *
 * A queue notification is an ioeventfd at the queue's notify address: KVM
 * signals it without leaving the guest, and the device thread runs the
 * device. Each MSI-X vector is an irqfd on its own GSI, routed to the
 * address and data the driver wrote. The transport state and the device
 * callbacks run under the PCI bus lock, on a vCPU or the device thread.
 */
#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_RING_INDIRECT_DESC (1ULL << 28)
#define VIRTIO_F_RING_EVENT_IDX (1ULL << 29)
#define VIRTIO_F_VERSION_1 (1ULL << 32)

struct virtio_pci;

/* What a virtio device needs from the VM. */
struct virtio_host {
	int vm_fd;
	const struct guest_memory *mem;
	struct irq_routing *irq;
	struct iothread *io;
};

struct virtio_kick {
	struct watch
	    watch; /* an eventfd: KVM's ioeventfd, or our own write when that could not be set up */
	struct virtio_pci *vp;
	unsigned queue;
};

struct virtio_vector {
	int irqfd;
	unsigned gsi;
	bool routed; /* the GSI routes to what the table holds for this vector (kept by table
			writes) */
};

struct virtio_device_ops {
	uint16_t device_type; /* virtio device ID (5): 4 entropy, 2 block, ... */
	uint32_t pci_class;
	uint64_t features; /* device-specific bits; the transport adds its own */
	unsigned num_queues;
	uint16_t queue_max_size;
	uint32_t config_size;
	void (*config_read)(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size);
	void (*config_write)(struct virtio_pci *vp, uint32_t offset, const uint8_t *data,
			     unsigned size);
	/* The driver notified queue q. */
	void (*queue_notify)(struct virtio_pci *vp, unsigned q);
	/* The driver set DRIVER_OK; features are final. Failing asks the driver for a reset. */
	int (*driver_ok)(struct virtio_pci *vp);
	/* The driver reset the device: drop whatever is in flight. */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_pci {
	struct pci_device pci;
	const struct virtio_device_ops *ops;
	void *opaque;
	uint64_t features; /* the device's own offer: ops->features, which a device may narrow
			      before the guest runs */
	struct virtio_host host;
	const struct guest_memory *mem;

	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_select;
	uint16_t config_msix_vector;
	struct virtqueue queues[VIRTIO_PCI_MAX_QUEUES];

	unsigned msix_cap;
	uint8_t msix_table[VIRTIO_PCI_MAX_VECTORS * 16];
	uint64_t msix_pending;
	struct virtio_vector vectors[VIRTIO_PCI_MAX_VECTORS];

	struct virtio_kick kicks[VIRTIO_PCI_MAX_QUEUES];
	bool kernel_kicks; /* vhost in the kernel takes the notifications, not the device thread */
	uint64_t ioeventfd_base; /* the notify structure's guest address the ioeventfds sit at; 0:
				    none */
};

int virtio_pci_init(struct virtio_pci *vp, const char *name, const struct virtio_device_ops *ops,
		    void *opaque, const struct virtio_host *host);
/* The same, for a device whose queues vhost runs: their notifications and interrupts bypass the
 * monitor. */
int virtio_pci_init_vhost(struct virtio_pci *vp, const char *name,
			  const struct virtio_device_ops *ops, void *opaque,
			  const struct virtio_host *host);
/* The eventfd KVM signals when the driver notifies queue q, and the irqfd of MSI-X vector v. */
int virtio_pci_kick_fd(const struct virtio_pci *vp, unsigned q);
int virtio_pci_irqfd(const struct virtio_pci *vp, uint16_t vector);
void virtio_pci_done(struct virtio_pci *vp);
/* After the device used buffers of queue q: interrupts the driver if it wants that. */
void virtio_pci_queue_done(struct virtio_pci *vp, unsigned q);
/* The device's config space changed (under the bus lock): a config interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* The device cannot go on with what the driver gave it: NEEDS_RESET, and a config interrupt. */
void virtio_pci_needs_reset(struct virtio_pci *vp);

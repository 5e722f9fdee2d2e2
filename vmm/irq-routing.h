/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * KVM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table,
 * so we keep it: the PC's irqchip routes (GSIs 0-23, as KVM sets them by
 * default) and one MSI route per device interrupt vector above them. A
 * vector is an irqfd bound to its GSI: whoever has work done writes the
 * eventfd (a device thread, or vhost in the kernel) and KVM injects the MSI
 * the route names, with no exit to the monitor. Safe to call from any thread.
 */
#define IRQ_ROUTING_MAX 1024
#define IRQ_ROUTING_FIRST_MSI_GSI 24

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned next_gsi;
	unsigned count;
	bool msi_devid; /* MSIs name their device (aarch64's ITS): devid is the requester ID */
	struct kvm_irq_routing_entry entries[IRQ_ROUTING_MAX];
};

/* Installs the irqchip routes; the in-kernel irqchip must exist. */
int irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_done(struct irq_routing *r);
/* A GSI for one MSI vector; it routes nowhere until irq_routing_set_msi(). */
int irq_routing_allocate(struct irq_routing *r, unsigned *ret_gsi);
/* Points gsi at the MSI (address, data) from requester ID devid (bus << 8 | slot << 3 | function);
 * commits to KVM only when that changed it. */
int irq_routing_set_msi(struct irq_routing *r, unsigned gsi, uint64_t address, uint32_t data,
			uint32_t devid);

/* An eventfd that raises gsi when written: -errno, or the fd. */
int irqfd_create(int vm_fd, unsigned gsi);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "irq-routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#if defined(__x86_64__)
#define PC_IRQCHIP_GSIS 24
#define PIC_GSIS 16
#else
/* The GIC's first SPIs, GSI n to SPI n (what KVM installs by default, for platform lines). */
#define PC_IRQCHIP_GSIS IRQ_ROUTING_FIRST_MSI_GSI
#define PIC_GSIS 0
#endif

static int commit(struct irq_routing *r)
{
	size_t size =
	    sizeof(struct kvm_irq_routing) + r->count * sizeof(struct kvm_irq_routing_entry);
	_cleanup_free_ struct kvm_irq_routing *table = calloc(1, size);

	if (!table)
		return -ENOMEM;
	table->nr = r->count;
	memcpy(table->entries, r->entries, r->count * sizeof(struct kvm_irq_routing_entry));
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		return log_error_errno(errno, "KVM_SET_GSI_ROUTING: %m");
	return 0;
}

static void add_irqchip(struct irq_routing *r, unsigned gsi, unsigned chip, unsigned pin)
{
	r->entries[r->count++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

int irq_routing_init(struct irq_routing *r, int vm_fd)
{
	int ret;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->next_gsi = IRQ_ROUTING_FIRST_MSI_GSI;
#if defined(__x86_64__)
	/* What KVM installs by default and a new table would otherwise drop: every GSI to the
	 * IOAPIC, the first 16 to the PICs too. */
	for (unsigned gsi = 0; gsi < PC_IRQCHIP_GSIS; gsi++) {
		add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < PIC_GSIS)
			add_irqchip(r, gsi,
				    gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				    gsi % 8);
	}
#else
	for (unsigned gsi = 0; gsi < PC_IRQCHIP_GSIS; gsi++)
		add_irqchip(r, gsi, 0, gsi);
	/* The ITS tells devices apart by the ID each MSI carries. */
	r->msi_devid = true;
#endif
	pthread_mutex_lock(&r->lock);
	ret = commit(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_routing_done(struct irq_routing *r)
{
	pthread_mutex_destroy(&r->lock);
}

int irq_routing_allocate(struct irq_routing *r, unsigned *ret_gsi)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->next_gsi - IRQ_ROUTING_FIRST_MSI_GSI + PC_IRQCHIP_GSIS + PIC_GSIS >= IRQ_ROUTING_MAX)
		ret = -ENOSPC;
	else
		*ret_gsi = r->next_gsi++;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_routing_set_msi(struct irq_routing *r, unsigned gsi, uint64_t address, uint32_t data,
			uint32_t devid)
{
	struct kvm_irq_routing_entry entry = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.flags = r->msi_devid ? KVM_MSI_VALID_DEVID : 0,
		.u.msi = { .address_lo = (uint32_t)address,
			   .address_hi = (uint32_t)(address >> 32),
			   .data = data,
			   .devid = r->msi_devid ? devid : 0 },
	};
	struct kvm_irq_routing_entry *slot = NULL;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->count; i++)
		if (r->entries[i].gsi == gsi) {
			slot = &r->entries[i];
			break;
		}
	if (slot && memcmp(slot, &entry, sizeof(entry)) == 0)
		goto out;
	if (!slot) {
		if (r->count == IRQ_ROUTING_MAX) {
			ret = -ENOSPC;
			goto out;
		}
		slot = &r->entries[r->count++];
	}
	*slot = entry;
	ret = commit(r);
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irqfd_create(int vm_fd, unsigned gsi)
{
	_cleanup_close_ int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct kvm_irqfd irqfd = { .gsi = gsi };

	if (fd < 0)
		return -errno;
	irqfd.fd = (uint32_t)fd;
	if (ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return TAKE_FD(fd);
}

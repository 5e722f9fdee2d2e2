/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/pci.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define NO_VECTOR 0xffff

/* BAR 0: one page per structure. */
#define BAR_SIZE 0x8000
#define COMMON_OFFSET 0x0000
#define COMMON_SIZE 56
#define ISR_OFFSET 0x1000
#define DEVICE_OFFSET 0x2000
#define NOTIFY_OFFSET 0x3000
#define NOTIFY_MULTIPLIER 4
#define MSIX_TABLE_OFFSET 0x4000
#define MSIX_PBA_OFFSET 0x5000

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_CONTROL_MASK_ALL 0x4000
#define MSIX_ENTRY_MASKED 1

/* struct virtio_pci_common_cfg (4.1.4.3) */
enum {
	DEVICE_FEATURE_SELECT = 0,
	DEVICE_FEATURE = 4,
	DRIVER_FEATURE_SELECT = 8,
	DRIVER_FEATURE = 12,
	CONFIG_MSIX_VECTOR = 16,
	NUM_QUEUES = 18,
	DEVICE_STATUS = 20,
	CONFIG_GENERATION = 21,
	QUEUE_SELECT = 22,
	QUEUE_SIZE = 24,
	QUEUE_MSIX_VECTOR = 26,
	QUEUE_ENABLE = 28,
	QUEUE_NOTIFY_OFF = 30,
	QUEUE_DESC = 32,
	QUEUE_DRIVER = 40,
	QUEUE_DEVICE = 48,
};

static uint64_t offered_features(const struct virtio_pci *vp)
{
	return vp->features | VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX |
	       VIRTIO_F_RING_INDIRECT_DESC;
}

static unsigned vector_count(const struct virtio_pci *vp)
{
	return vp->ops->num_queues + 1;
}

static struct virtqueue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->ops->num_queues ? &vp->queues[vp->queue_select] : NULL;
}

/* ---- MSI-X ---- */

static uint16_t msix_control(const struct virtio_pci *vp)
{
	return get_le16(vp->pci.config + vp->msix_cap + 2);
}

static uint64_t msix_address(const struct virtio_pci *vp, unsigned vector)
{
	const uint8_t *e = vp->msix_table + 16 * vector;

	return get_le32(e) | (uint64_t)get_le32(e + 4) << 32;
}

/*
 * Routes follow the table as soon as the driver unmasks a vector: vhost
 * raises the irqfd from the kernel, without asking us first.
 */
static void msix_update_routes(struct virtio_pci *vp)
{
	uint16_t control = msix_control(vp);

	if (!(control & MSIX_CONTROL_ENABLE) || (control & MSIX_CONTROL_MASK_ALL))
		return;
	for (unsigned v = 0; v < vector_count(vp); v++) {
		const uint8_t *e = vp->msix_table + 16 * v;

		if (vp->vectors[v].irqfd >= 0 && !(e[12] & MSIX_ENTRY_MASKED))
			vp->vectors[v].routed =
			    irq_routing_set_msi(vp->host.irq, vp->vectors[v].gsi,
						msix_address(vp, v), get_le32(e + 8),
						pci_requester_id(&vp->pci)) == 0;
	}
}

/*
 * Through the vector's irqfd: msix_update_routes() set its route when the driver wrote the table,
 * so an interrupt costs one eventfd write. KVM_SIGNAL_MSI when the vector has no route.
 */
static void msix_send(struct virtio_pci *vp, unsigned vector)
{
	const uint8_t *e = vp->msix_table + 16 * vector;
	struct virtio_vector *v = &vp->vectors[vector];
	struct kvm_msi msi = {
		.address_lo = get_le32(e),
		.address_hi = get_le32(e + 4),
		.data = get_le32(e + 8),
	};

	if (vp->host.irq->msi_devid) {
		msi.flags = KVM_MSI_VALID_DEVID;
		msi.devid = pci_requester_id(&vp->pci);
	}
	if (v->irqfd >= 0 && v->routed && eventfd_signal(v->irqfd) == 0)
		return;
	if (ioctl(vp->host.vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		log_debug("%s: KVM_SIGNAL_MSI: %m", vp->pci.name);
}

static void msix_notify(struct virtio_pci *vp, uint16_t vector)
{
	uint16_t control = msix_control(vp);

	if (vector == NO_VECTOR || vector >= vector_count(vp) || !(control & MSIX_CONTROL_ENABLE))
		return;
	/* Masked: remembered in the PBA, sent when the driver unmasks. */
	if ((control & MSIX_CONTROL_MASK_ALL) ||
	    (vp->msix_table[16 * vector + 12] & MSIX_ENTRY_MASKED)) {
		vp->msix_pending |= 1ULL << vector;
		return;
	}
	msix_send(vp, vector);
}

static void msix_deliver_pending(struct virtio_pci *vp)
{
	uint64_t pending = vp->msix_pending;

	vp->msix_pending = 0;
	for (unsigned v = 0; v < vector_count(vp); v++)
		if (pending & (1ULL << v))
			msix_notify(vp, (uint16_t)v);
}

/* ---- common configuration ---- */

static void reset(struct virtio_pci *vp)
{
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->driver_features = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_select = 0;
	vp->config_msix_vector = NO_VECTOR;
	for (unsigned q = 0; q < vp->ops->num_queues; q++)
		virtqueue_reset(&vp->queues[q], vp->mem, vp->ops->queue_max_size);
	if (vp->ops->reset)
		vp->ops->reset(vp);
}

static void common_snapshot(struct virtio_pci *vp, uint8_t *c)
{
	const struct virtqueue *vq = selected_queue(vp);
	uint64_t features = offered_features(vp);

	memset(c, 0, COMMON_SIZE);
	put_le32(c + DEVICE_FEATURE_SELECT, vp->device_feature_select);
	put_le32(c + DEVICE_FEATURE, vp->device_feature_select == 0   ? (uint32_t)features
				     : vp->device_feature_select == 1 ? (uint32_t)(features >> 32)
								      : 0);
	put_le32(c + DRIVER_FEATURE_SELECT, vp->driver_feature_select);
	put_le32(c + DRIVER_FEATURE,
		 vp->driver_feature_select < 2
		     ? (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select))
		     : 0);
	put_le16(c + CONFIG_MSIX_VECTOR, vp->config_msix_vector);
	put_le16(c + NUM_QUEUES, (uint16_t)vp->ops->num_queues);
	c[DEVICE_STATUS] = vp->status;
	c[CONFIG_GENERATION] = vp->config_generation;
	put_le16(c + QUEUE_SELECT, vp->queue_select);
	if (!vq)
		return; /* a queue that does not exist reads as size 0 */
	put_le16(c + QUEUE_SIZE, vq->size);
	put_le16(c + QUEUE_MSIX_VECTOR, vq->msix_vector);
	put_le16(c + QUEUE_ENABLE, vq->enabled);
	put_le16(c + QUEUE_NOTIFY_OFF, vp->queue_select);
	for (int i = 0; i < 8; i++) {
		c[QUEUE_DESC + i] = (uint8_t)(vq->desc_addr >> (8 * i));
		c[QUEUE_DRIVER + i] = (uint8_t)(vq->avail_addr >> (8 * i));
		c[QUEUE_DEVICE + i] = (uint8_t)(vq->used_addr >> (8 * i));
	}
}

static void write_status(struct virtio_pci *vp, uint8_t status)
{
	uint8_t newly = status & ~vp->status;

	if (status == 0) {
		reset(vp);
		return;
	}
	if (newly & VIRTIO_STATUS_FEATURES_OK) {
		/* Only what we offered, and the modern interface. */
		if ((vp->driver_features & ~offered_features(vp)) ||
		    !(vp->driver_features & VIRTIO_F_VERSION_1)) {
			log_debug("%s: the driver's features 0x%llx are not ours (0x%llx)",
				  vp->pci.name, (unsigned long long)vp->driver_features,
				  (unsigned long long)offered_features(vp));
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
		for (unsigned q = 0; q < vp->ops->num_queues; q++) {
			vp->queues[q].event_idx = vp->driver_features & VIRTIO_F_RING_EVENT_IDX;
			vp->queues[q].indirect = vp->driver_features & VIRTIO_F_RING_INDIRECT_DESC;
		}
	}
	log_debug("%s: the driver sets status 0x%x", vp->pci.name, status);
	/* NEEDS_RESET is ours to set; the driver clears it only by resetting. */
	vp->status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
			       (vp->status & VIRTIO_STATUS_NEEDS_RESET));
	if ((newly & VIRTIO_STATUS_DRIVER_OK) && vp->ops->driver_ok && vp->ops->driver_ok(vp) < 0)
		virtio_pci_needs_reset(vp);
}

/* Queue setup is only for before DRIVER_OK, on a queue that is not enabled. */
static bool queue_configurable(struct virtio_pci *vp, struct virtqueue *vq)
{
	return vq && !vq->enabled && !(vp->status & VIRTIO_STATUS_DRIVER_OK);
}

static void set_half(uint64_t *field, unsigned offset, const uint8_t *data, unsigned size)
{
	if (size == 8) {
		memcpy(field, data, 8);
	} else if (size == 4) {
		uint64_t shift = 8 * (offset & 4);
		*field = (*field & ~(0xffffffffULL << shift)) | ((uint64_t)get_le32(data) << shift);
	}
}

static void common_write(struct virtio_pci *vp, unsigned offset, const uint8_t *data, unsigned size)
{
	struct virtqueue *vq = selected_queue(vp);
	uint16_t v16 = size >= 2 ? get_le16(data) : data[0];

	switch (offset) {
	case DEVICE_FEATURE_SELECT:
		if (size == 4)
			vp->device_feature_select = get_le32(data);
		break;
	case DRIVER_FEATURE_SELECT:
		if (size == 4)
			vp->driver_feature_select = get_le32(data);
		break;
	case DRIVER_FEATURE:
		if (size == 4 && vp->driver_feature_select < 2 &&
		    !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned shift = 32 * vp->driver_feature_select;
			vp->driver_features = (vp->driver_features & ~(0xffffffffULL << shift)) |
					      ((uint64_t)get_le32(data) << shift);
		}
		break;
	case CONFIG_MSIX_VECTOR:
		if (size == 2)
			vp->config_msix_vector = v16 < vector_count(vp) ? v16 : NO_VECTOR;
		break;
	case DEVICE_STATUS:
		if (size == 1)
			write_status(vp, data[0]);
		break;
	case QUEUE_SELECT:
		if (size == 2)
			vp->queue_select = v16;
		break;
	case QUEUE_SIZE:
		if (size == 2 && queue_configurable(vp, vq))
			vq->size = v16;
		break;
	case QUEUE_MSIX_VECTOR:
		if (size == 2 && vq)
			vq->msix_vector = v16 < vector_count(vp) ? v16 : NO_VECTOR;
		break;
	case QUEUE_ENABLE:
		if (size == 2 && v16 == 1 && queue_configurable(vp, vq)) {
			if (virtqueue_check(vq) < 0) {
				log_warning("%s: the driver enabled queue %u with a bad size or "
					    "ring address",
					    vp->pci.name, vp->queue_select);
				virtio_pci_needs_reset(vp);
				break;
			}
			vq->enabled = true;
		}
		break;
	case QUEUE_DESC:
	case QUEUE_DESC + 4:
		if (queue_configurable(vp, vq))
			set_half(&vq->desc_addr, offset, data, size);
		break;
	case QUEUE_DRIVER:
	case QUEUE_DRIVER + 4:
		if (queue_configurable(vp, vq))
			set_half(&vq->avail_addr, offset, data, size);
		break;
	case QUEUE_DEVICE:
	case QUEUE_DEVICE + 4:
		if (queue_configurable(vp, vq))
			set_half(&vq->used_addr, offset, data, size);
		break;
	default:
		break; /* read-only fields, and writes of the wrong width */
	}
}

/* ---- BAR 0 ---- */

static void bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
		     unsigned size)
{
	struct virtio_pci *vp = (struct virtio_pci *)dev;
	uint8_t common[COMMON_SIZE];

	memset(data, 0, size);
	if (offset < COMMON_OFFSET + COMMON_SIZE) {
		if (offset + size <= COMMON_SIZE) {
			common_snapshot(vp, common);
			memcpy(data, common + offset, size);
		}
	} else if (offset == ISR_OFFSET) {
		/* Reading the ISR acknowledges it. */
		data[0] = vp->isr;
		vp->isr = 0;
	} else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + vp->ops->config_size) {
		if (offset + size <= DEVICE_OFFSET + vp->ops->config_size && vp->ops->config_read)
			vp->ops->config_read(vp, (uint32_t)(offset - DEVICE_OFFSET), data, size);
	} else if (offset >= MSIX_TABLE_OFFSET &&
		   offset + size <= MSIX_TABLE_OFFSET + 16 * vector_count(vp)) {
		memcpy(data, vp->msix_table + (offset - MSIX_TABLE_OFFSET), size);
	} else if (offset >= MSIX_PBA_OFFSET && offset + size <= MSIX_PBA_OFFSET + 8) {
		for (unsigned i = 0; i < size; i++)
			data[i] =
			    (uint8_t)(vp->msix_pending >> (8 * (offset - MSIX_PBA_OFFSET + i)));
	}
}

static void bar_write(struct pci_device *dev, unsigned bar, uint64_t offset, const uint8_t *data,
		      unsigned size)
{
	struct virtio_pci *vp = (struct virtio_pci *)dev;

	if (offset < COMMON_OFFSET + COMMON_SIZE) {
		common_write(vp, (unsigned)offset, data, size);
	} else if (offset >= NOTIFY_OFFSET &&
		   offset < NOTIFY_OFFSET + NOTIFY_MULTIPLIER * vp->ops->num_queues) {
		/* KVM took no ioeventfd here (or not yet): the device thread still does the work.
		 */
		(void)eventfd_signal(
		    vp->kicks[(offset - NOTIFY_OFFSET) / NOTIFY_MULTIPLIER].watch.fd);
	} else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + vp->ops->config_size) {
		if (offset + size <= DEVICE_OFFSET + vp->ops->config_size && vp->ops->config_write)
			vp->ops->config_write(vp, (uint32_t)(offset - DEVICE_OFFSET), data, size);
	} else if (offset >= MSIX_TABLE_OFFSET &&
		   offset + size <= MSIX_TABLE_OFFSET + 16 * vector_count(vp) && size == 4 &&
		   !(offset & 3)) {
		memcpy(vp->msix_table + (offset - MSIX_TABLE_OFFSET), data, size);
		msix_update_routes(vp);
		/* An unmasked vector gets what waited for it. */
		msix_deliver_pending(vp);
	}
}

/* ---- queue notifications ---- */

static int ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t base, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = base + NOTIFY_MULTIPLIER * q,
		.len = 0, /* any width: drivers write 16 bits, nothing says they must */
		.fd = vp->kicks[q].watch.fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vp->host.vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

/* The notify structure follows BAR 0 wherever the guest puts it; none while memory decoding is off.
 */
static void update_ioeventfds(struct virtio_pci *vp)
{
	uint64_t bar = pci_device_bar_address(&vp->pci, 0);
	uint64_t base = bar ? bar + NOTIFY_OFFSET : 0;

	if (base == vp->ioeventfd_base)
		return;
	for (unsigned q = 0; vp->ioeventfd_base && q < vp->ops->num_queues; q++)
		(void)ioeventfd(vp, q, vp->ioeventfd_base, false);
	vp->ioeventfd_base = 0;
	if (!base)
		return;
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		int r = ioeventfd(vp, q, base, true);

		if (r < 0) {
			/* The MMIO exit path still works, only slower. */
			log_debug("%s: KVM_IOEVENTFD: %s", vp->pci.name, strerror(-r));
			while (q-- > 0)
				(void)ioeventfd(vp, q, base, false);
			return;
		}
	}
	vp->ioeventfd_base = base;
}

static void kick_ready(struct watch *w, uint32_t events)
{
	struct virtio_kick *kick = container_of(w, struct virtio_kick, watch);
	struct virtio_pci *vp = kick->vp;
	struct pci_bus *bus = vp->pci.bus;

	if (eventfd_drain(w->fd) < 0)
		return;
	pthread_mutex_lock(&bus->lock);
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    vp->queues[kick->queue].enabled)
		vp->ops->queue_notify(vp, kick->queue);
	pthread_mutex_unlock(&bus->lock);
}

static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
	struct virtio_pci *vp = (struct virtio_pci *)dev;

	if (offset <= vp->msix_cap + 3 && offset + size > vp->msix_cap + 2) {
		msix_update_routes(vp);
		msix_deliver_pending(vp);
	}
	if (offset < PCI_BASE_ADDRESS_0 + 8 && offset + size > PCI_COMMAND)
		update_ioeventfds(vp);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_written = config_written,
};

/* struct virtio_pci_cap (4.1.4), with the notify multiplier after it when asked. */
static int add_virtio_cap(struct pci_device *dev, uint8_t type, uint32_t offset, uint32_t length,
			  bool notify)
{
	int cap = pci_device_add_capability(dev, PCI_CAP_ID_VNDR, notify ? 20 : 16);

	if (cap < 0)
		return cap;
	dev->config[cap + 2] = notify ? 20 : 16;
	dev->config[cap + 3] = type;
	dev->config[cap + 4] = 0; /* BAR 0 */
	put_le32(dev->config + cap + 8, offset);
	put_le32(dev->config + cap + 12, length);
	if (notify)
		put_le32(dev->config + cap + 16, NOTIFY_MULTIPLIER);
	return 0;
}

static int setup_notifications(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < vp->ops->num_queues; q++) {
		struct virtio_kick *kick = &vp->kicks[q];
		int r;

		kick->watch.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (kick->watch.fd < 0)
			return -errno;
		if (vp->kernel_kicks)
			continue;
		r = event_loop_add(&vp->host.io->loop, &kick->watch, EPOLLIN);
		if (r < 0)
			return r;
	}
	for (unsigned v = 0; v < vector_count(vp); v++) {
		int r = irq_routing_allocate(vp->host.irq, &vp->vectors[v].gsi);

		if (r < 0)
			return r;
		r = irqfd_create(vp->host.vm_fd, vp->vectors[v].gsi);
		if (r < 0)
			return r;
		vp->vectors[v].irqfd = r;
	}
	return 0;
}

static int init(struct virtio_pci *vp, const char *name, const struct virtio_device_ops *ops,
		void *opaque, const struct virtio_host *host, bool kernel_kicks)
{
	struct pci_device *dev = &vp->pci;
	int r, cap;

	if (ops->num_queues == 0 || ops->num_queues > VIRTIO_PCI_MAX_QUEUES ||
	    ops->config_size > 0x1000)
		return -EINVAL;
	/* The pci_device comes first, so that its callbacks can find us. */
	/* A subsystem ID of 0x40 or more, as virtio 1.x asks of non-transitional devices (4.1.2.1):
	 * OVMF's driver takes no device with less. */
	pci_device_init(dev, name, VIRTIO_PCI_VENDOR,
			(uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_type), ops->pci_class,
			VIRTIO_PCI_VENDOR, PCI_SUBSYSTEM_QEMU, &virtio_pci_ops, vp);
	vp->ops = ops;
	vp->opaque = opaque;
	vp->features = ops->features;
	vp->host = *host;
	vp->mem = host->mem;
	vp->kernel_kicks = kernel_kicks;
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		vp->kicks[q] = (struct virtio_kick){ .watch = { .fd = -1, .ready = kick_ready },
						     .vp = vp,
						     .queue = q };
	for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
		vp->vectors[v].irqfd = -1;
	r = setup_notifications(vp);
	if (r < 0)
		return log_error_errno(
		    r, "%s: cannot set up queue notifications and interrupts: %m", name);
	memset(vp->msix_table, 0, sizeof(vp->msix_table));
	for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
		vp->msix_table[16 * v + 12] = MSIX_ENTRY_MASKED;
	vp->msix_pending = 0;
	reset(vp);

	if ((r = pci_device_add_bar(dev, 0, BAR_SIZE, 0)) < 0 ||
	    (r = add_virtio_cap(dev, CAP_COMMON, COMMON_OFFSET, COMMON_SIZE, false)) < 0 ||
	    (r = add_virtio_cap(dev, CAP_ISR, ISR_OFFSET, 1, false)) < 0 ||
	    (r = add_virtio_cap(dev, CAP_NOTIFY, NOTIFY_OFFSET, NOTIFY_MULTIPLIER * ops->num_queues,
				true)) < 0 ||
	    (ops->config_size &&
	     (r = add_virtio_cap(dev, CAP_DEVICE, DEVICE_OFFSET, ops->config_size, false)) < 0))
		return r;
	cap = pci_device_add_capability(dev, PCI_CAP_ID_MSIX, 12);
	if (cap < 0)
		return cap;
	vp->msix_cap = (unsigned)cap;
	put_le16(dev->config + cap + 2, (uint16_t)(vector_count(vp) - 1));
	put_le32(dev->config + cap + 4, MSIX_TABLE_OFFSET); /* BIR 0 */
	put_le32(dev->config + cap + 8, MSIX_PBA_OFFSET);
	dev->wmask[cap + 3] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASK_ALL) >> 8;
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, const char *name, const struct virtio_device_ops *ops,
		    void *opaque, const struct virtio_host *host)
{
	return init(vp, name, ops, opaque, host, false);
}

int virtio_pci_init_vhost(struct virtio_pci *vp, const char *name,
			  const struct virtio_device_ops *ops, void *opaque,
			  const struct virtio_host *host)
{
	return init(vp, name, ops, opaque, host, true);
}

int virtio_pci_kick_fd(const struct virtio_pci *vp, unsigned q)
{
	return vp->kicks[q].watch.fd;
}

int virtio_pci_irqfd(const struct virtio_pci *vp, uint16_t vector)
{
	return vector < vector_count(vp) ? vp->vectors[vector].irqfd : -1;
}

/* The ioeventfds stay: they go with the VM's fd, which closes right after. */
void virtio_pci_done(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		if (vp->kicks[q].watch.fd >= 0) {
			if (!vp->kernel_kicks)
				event_loop_remove(&vp->host.io->loop, &vp->kicks[q].watch);
			close(vp->kicks[q].watch.fd);
			vp->kicks[q].watch.fd = -1;
		}
	for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++)
		if (vp->vectors[v].irqfd >= 0) {
			close(vp->vectors[v].irqfd);
			vp->vectors[v].irqfd = -1;
		}
}

void virtio_pci_queue_done(struct virtio_pci *vp, unsigned q)
{
	if (!virtqueue_should_notify(&vp->queues[q]))
		return;
	vp->isr |= 1;
	msix_notify(vp, vp->queues[q].msix_vector);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_generation++;
	vp->isr |= 2;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		msix_notify(vp, vp->config_msix_vector);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->isr |= 2;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		msix_notify(vp, vp->config_msix_vector);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/layout.h"
#include "cleanup.h"
#include "log.h"

int vhost_open(struct vhost *v, const char *path, int fd, const struct guest_memory *mem)
{
	_cleanup_free_ struct vhost_memory *table =
	    calloc(1, sizeof(struct vhost_memory) + 2 * sizeof(struct vhost_memory_region));
	uint64_t high = guest_memory_high_size(mem);

	v->path = path;
	v->fd = fd >= 0 ? fd : open(path, O_RDWR | O_CLOEXEC);
	if (v->fd < 0)
		return -errno;
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (!table)
		return -ENOMEM;
	table->regions[table->nregions++] = (struct vhost_memory_region){
		.guest_phys_addr = GUEST_RAM_BASE,
		.memory_size = mem->low_size,
		.userspace_addr = (uintptr_t)mem->host,
	};
	if (high)
		table->regions[table->nregions++] = (struct vhost_memory_region){
			.guest_phys_addr = GUEST_RAM_HIGH_BASE,
			.memory_size = high,
			.userspace_addr = (uintptr_t)(mem->host + mem->low_size),
		};
	if (ioctl(v->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0 ||
	    ioctl(v->fd, VHOST_SET_MEM_TABLE, table) < 0)
		return -errno;
	return 0;
}

void vhost_close(struct vhost *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

static int start_queue(struct vhost *v, struct virtio_pci *vp, unsigned q, unsigned index)
{
	const struct virtqueue *vq = &vp->queues[q];
	struct vhost_vring_state num = { .index = index, .num = vq->size };
	struct vhost_vring_state base = { .index = index, .num = 0 };
	struct vhost_vring_file kick = { .index = index, .fd = virtio_pci_kick_fd(vp, q) };
	struct vhost_vring_file call = { .index = index,
					 .fd = virtio_pci_irqfd(vp, vq->msix_vector) };
	struct vhost_vring_addr addr = {
		.index = index,
		.desc_user_addr =
		    (uintptr_t)guest_memory_ptr(vp->mem, vq->desc_addr, 16ull * vq->size),
		.avail_user_addr =
		    (uintptr_t)guest_memory_ptr(vp->mem, vq->avail_addr, 6 + 2ull * vq->size),
		.used_user_addr =
		    (uintptr_t)guest_memory_ptr(vp->mem, vq->used_addr, 6 + 8ull * vq->size),
	};

	/* virtqueue_check() vouched for the rings when the driver enabled the queue. */
	if (!vq->enabled || !addr.desc_user_addr || !addr.avail_user_addr || !addr.used_user_addr)
		return -EINVAL;
	if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_CALL, &call) < 0)
		return -errno;
	return 0;
}

int vhost_start(struct vhost *v, struct virtio_pci *vp, unsigned first, unsigned count)
{
	/* The ring features are vhost's business; the device's own are the backend's (the tap's).
	 */
	uint64_t features = vp->driver_features & v->features;

	if (ioctl(v->fd, VHOST_SET_FEATURES, &features) < 0)
		return log_error_errno(errno, "%s: VHOST_SET_FEATURES: %m", v->path);
	for (unsigned i = 0; i < count; i++) {
		int r = start_queue(v, vp, first + i, i);
		if (r < 0)
			return log_error_errno(r, "%s: cannot start queue %u: %m", v->path,
					       first + i);
	}
	return 0;
}

void vhost_stop(struct vhost *v, unsigned first, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		struct vhost_vring_state base = { .index = i };

		/* Getting the base stops the ring. */
		(void)ioctl(v->fd, VHOST_GET_VRING_BASE, &base);
	}
}

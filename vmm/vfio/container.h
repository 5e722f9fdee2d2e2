/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "memory.h"
#include "options.h"

/*
 * The host side of VFIO: one container (one IOMMU address space) per VM,
 * the IOMMU groups of the devices given to it, and all of guest RAM mapped
 * for DMA at its guest-physical addresses, so a device's DMA lands where
 * the guest driver meant it. Groups are opened (or inherited from phyllomed)
 * before the sandbox; nothing here runs once the guest does.
 */
struct vfio_group {
	int fd;
	dev_t rdev; /* which /dev/vfio/N: two devices of one group share it */
};

struct vfio_container {
	int fd;
	bool checked; /* fd is /dev/vfio/vfio, speaking our API, with the type 1 IOMMU */
	bool iommu_set;
	struct vfio_group groups[VM_MAX_VFIO];
	unsigned group_count;
	int kvm_device_fd; /* KVM's VFIO pseudo-device, told about every group */
};

/* inherited_fd: an open /dev/vfio/vfio (phyllomed's), or -1 to open it when a device needs it. */
void vfio_container_init(struct vfio_container *c, int inherited_fd);
/*
 * The group of the device bdf, checked (it exists, is bound to vfio-pci, its
 * group is viable) and attached to the container: inherited_fd when >= 0.
 * Returns the group's fd (owned by the container) or -errno, with a message
 * that says what to do.
 */
int vfio_container_add_device(struct vfio_container *c, const char *bdf, int inherited_fd);
/* Guest RAM for DMA; after every group is in, before any device runs. */
int vfio_container_map_memory(struct vfio_container *c, const struct guest_memory *mem);
/* Tells KVM which groups the VM uses (cache coherency of their DMA). */
int vfio_container_attach_kvm(struct vfio_container *c, int vm_fd);
void vfio_container_done(struct vfio_container *c);

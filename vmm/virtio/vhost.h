/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "memory.h"
#include "virtio/pci.h"

/*
 * A vhost device (/dev/vhost-net, /dev/vhost-vsock): the kernel runs the
 * device's virtqueues itself, woken by the queues' ioeventfds and raising
 * their irqfds, with guest RAM mapped as we map it.
 */
struct vhost {
	int fd;
	const char *path;
	uint64_t features; /* what this vhost device supports */
};

/* Opens path (or takes fd, when not -1), becomes its owner and gives it the guest's memory map. */
int vhost_open(struct vhost *v, const char *path, int fd, const struct guest_memory *mem);
void vhost_close(struct vhost *v);
/* On DRIVER_OK: the negotiated features and queues [first, first + count) as the driver set them
 * up. */
int vhost_start(struct vhost *v, struct virtio_pci *vp, unsigned first, unsigned count);
/* On reset: the queues stop; returns once vhost no longer touches them. */
void vhost_stop(struct vhost *v, unsigned first, unsigned count);

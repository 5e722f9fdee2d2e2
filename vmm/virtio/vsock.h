/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "virtio/pci.h"
#include "virtio/vhost.h"

/*
 * virtio-vsock (5.10) through vhost-vsock: the kernel carries AF_VSOCK
 * streams between the guest (its context ID) and the host; the monitor only
 * sets the device up and leaves the event queue idle.
 */
struct virtio_vsock {
	struct virtio_pci vp;
	uint64_t cid;
	struct vhost vhost;
	bool running;
};

/* Opens /dev/vhost-vsock and claims the context ID; errors are the user's to fix. */
int virtio_vsock_open(struct virtio_vsock *vs, uint64_t cid, int vhost_fd,
		      const struct guest_memory *mem);
int virtio_vsock_init(struct virtio_vsock *vs, const struct virtio_host *host);
void virtio_vsock_done(struct virtio_vsock *vs);

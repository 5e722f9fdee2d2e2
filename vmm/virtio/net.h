/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "options.h"
#include "virtio/pci.h"
#include "virtio/vhost.h"

/*
 * virtio-net (5.1) on a tap interface: one receive and one transmit queue,
 * checksum and TSO offloads passed through the tap's virtio net header.
 * Packets move in the kernel (vhost-net) when it can, else on the device
 * thread: frames from the tap go straight into the guest's receive buffers,
 * the guest's frames straight to the tap.
 */
struct virtio_net {
	struct virtio_pci vp;
	const struct net_config *config;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	int tap_fd;
	struct vhost vhost;
	bool use_vhost;
	bool vhost_running;
	struct watch tap_watch; /* the device thread's path: the tap has frames */
	bool tap_readable;	/* frames may wait in the tap: edge-triggered */
	bool rx_stalled;	/* no receive buffer left; the guest's next kick resumes */
	struct virtqueue_request rx_req;
	bool rx_req_held; /* popped, waiting for a frame */
	unsigned errors_logged;
};

/* Opens the tap (and vhost-net); errors here are the user's to fix. */
int virtio_net_open(struct virtio_net *net, const struct net_config *config, const char *vm_name,
		    unsigned index, const struct guest_memory *mem);
int virtio_net_init(struct virtio_net *net, const struct virtio_host *host);
void virtio_net_done(struct virtio_net *net);

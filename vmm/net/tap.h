/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>

/*
 * The host end of a virtio-net NIC: a tap interface that carries the virtio
 * net header (IFF_VNET_HDR) in front of every frame, in the 12-byte layout
 * of virtio 1.x, so checksum and segmentation offloads pass through.
 */
#define TAP_VNET_HDR_SIZE 12

/* Opens (or creates, with CAP_NET_ADMIN) the tap interface name; returns the fd. */
int tap_open(const char *name);
/* Checks an inherited fd is such a tap and sets it up; names it in ret_name. */
int tap_adopt(int fd, char ret_name[IFNAMSIZ]);
/* What the guest takes: TUN_F_* offload flags. */
int tap_set_offload(int fd, unsigned flags);

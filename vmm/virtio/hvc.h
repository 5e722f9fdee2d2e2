/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "console.h"
#include "virtio/pci.h"

/*
 * virtio-console (5.3) with one port, the guest's hvc0 (hence the name): what the guest
 * writes goes to a host console (stdio, file or socket, as the serial
 * port's), what the host types fills the guest's receive buffers.
 */
struct virtio_console {
	struct virtio_pci vp;
	struct console *host; /* opened by the VM beside the serial port's */
};

int virtio_console_init(struct virtio_console *vc, struct console *host,
			const struct virtio_host *vhost);
/* Console input, on the main thread: how much the guest's buffers took. */
size_t virtio_console_input(struct virtio_console *vc, const uint8_t *data, size_t len);
size_t virtio_console_input_space(struct virtio_console *vc);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "virtio/pci.h"

/* virtio-rng (5.4): the guest's /dev/hwrng, filled from the host's getrandom(). */
struct virtio_rng {
	struct virtio_pci vp;
};

int virtio_rng_init(struct virtio_rng *rng, const struct virtio_host *host);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/rng.h"

#include <errno.h>
#include <sys/random.h>

#include "log.h"

#define VIRTIO_ID_ENTROPY 4
#define RNG_QUEUE_SIZE 64
#define PCI_CLASS_OTHER 0xff0000

static void rng_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtqueue *vq = &vp->queues[q];
	struct virtqueue_request req;
	bool used = false;
	int r;

	while ((r = virtqueue_pop(vq, &req)) > 0) {
		uint32_t written = 0;

		for (unsigned i = 0; i < req.count; i++) {
			ssize_t n;

			if (!req.buf[i].writable || !req.buf[i].len)
				continue;
			n = getrandom(req.buf[i].host, req.buf[i].len, GRND_NONBLOCK);
			if (n > 0)
				written += (uint32_t)n;
			if (n < (ssize_t)req.buf[i].len)
				break; /* the host pool is short: give what we have */
		}
		virtqueue_push(vq, &req, written);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(vp, q);
	if (r < 0) {
		log_warning(
		    "virtio-rng: the guest's request queue is broken; the device needs a reset");
		virtio_pci_needs_reset(vp);
	}
}

static const struct virtio_device_ops rng_ops = {
	.device_type = VIRTIO_ID_ENTROPY,
	.pci_class = PCI_CLASS_OTHER,
	.num_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.queue_notify = rng_notify,
};

int virtio_rng_init(struct virtio_rng *rng, const struct virtio_host *host)
{
	return virtio_pci_init(&rng->vp, "virtio-rng", &rng_ops, rng, host);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/hvc.h"

#include <string.h>

#include "log.h"

#define VIRTIO_ID_CONSOLE 3
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000
#define CONSOLE_QUEUE_SIZE 64
#define RX_QUEUE 0
#define TX_QUEUE 1
#define CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr */

static void broken(struct virtio_pci *vp, const char *which)
{
	log_warning("virtio-console: the guest's %s queue is broken; the device needs a reset",
		    which);
	virtio_pci_needs_reset(vp);
}

static void console_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_console *vc = vp->opaque;
	struct virtqueue *vq = &vp->queues[TX_QUEUE];
	struct virtqueue_request req;
	bool used = false;
	int r;

	if (q != TX_QUEUE)
		return; /* new receive buffers: input that waited is offered again by the main loop
			 */
	while ((r = virtqueue_pop(vq, &req)) > 0) {
		for (unsigned i = 0; i < req.count; i++)
			if (!req.buf[i].writable && req.buf[i].len)
				console_write(vc->host, req.buf[i].host, req.buf[i].len);
		virtqueue_push(vq, &req, 0);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(vp, TX_QUEUE);
	if (r < 0)
		broken(vp, "transmit");
}

static bool ready(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & VIRTIO_STATUS_NEEDS_RESET) && vp->queues[RX_QUEUE].enabled;
}

size_t virtio_console_input(struct virtio_console *vc, const uint8_t *data, size_t len)
{
	struct virtio_pci *vp = &vc->vp;
	struct pci_bus *bus = vp->pci.bus;
	struct virtqueue *vq = &vp->queues[RX_QUEUE];
	struct virtqueue_request req;
	size_t taken = 0;
	bool used = false;

	pthread_mutex_lock(&bus->lock);
	while (ready(vp) && taken < len) {
		uint32_t written = 0;
		int r = virtqueue_pop(vq, &req);

		if (r < 0)
			broken(vp, "receive");
		if (r <= 0)
			break;
		for (unsigned i = 0; i < req.count && taken < len; i++) {
			size_t n;

			if (!req.buf[i].writable)
				continue;
			n = len - taken < req.buf[i].len ? len - taken : req.buf[i].len;
			memcpy(req.buf[i].host, data + taken, n);
			taken += n;
			written += (uint32_t)n;
		}
		virtqueue_push(vq, &req, written);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(vp, RX_QUEUE);
	pthread_mutex_unlock(&bus->lock);
	return taken;
}

/* Not exact, only whether it is worth offering input again: one receive buffer at least. */
size_t virtio_console_input_space(struct virtio_console *vc)
{
	struct virtio_pci *vp = &vc->vp;
	struct pci_bus *bus = vp->pci.bus;
	size_t space;

	pthread_mutex_lock(&bus->lock);
	space = ready(vp) && virtqueue_has_buffers(&vp->queues[RX_QUEUE]) ? 1 : 0;
	pthread_mutex_unlock(&bus->lock);
	return space;
}

static void console_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data,
				unsigned size)
{
	uint8_t c[CONFIG_SIZE] = {};

	put_le16(c + 0, 80);
	put_le16(c + 2, 25);
	put_le32(c + 4, 1);
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
}

static const struct virtio_device_ops console_ops = {
	.device_type = VIRTIO_ID_CONSOLE,
	.pci_class = PCI_CLASS_COMMUNICATION_OTHER,
	.num_queues = 2,
	.queue_max_size = CONSOLE_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = console_config_read,
	.queue_notify = console_notify,
};

int virtio_console_init(struct virtio_console *vc, struct console *host,
			const struct virtio_host *vhost)
{
	vc->host = host;
	return virtio_pci_init(&vc->vp, "virtio-console", &console_ops, vc, vhost);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/vsock.h"

#include <errno.h>
#include <linux/vhost.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"

#define VIRTIO_ID_VSOCK 19
#define PCI_CLASS_OTHER 0xff0000
#define VSOCK_QUEUE_SIZE 256
#define VHOST_QUEUES 2 /* rx and tx; the event queue stays ours */
#define CONFIG_SIZE 8  /* guest_cid */

int virtio_vsock_open(struct virtio_vsock *vs, uint64_t cid, int vhost_fd,
		      const struct guest_memory *mem)
{
	int r;

	memset(vs, 0, sizeof(*vs));
	vs->cid = cid;
	r = vhost_open(&vs->vhost, "/dev/vhost-vsock", vhost_fd, mem);
	if (r < 0)
		return log_error_errno(
		    r, "Cannot use /dev/vhost-vsock: %m (is the vhost_vsock module loaded?)");
	if (ioctl(vs->vhost.fd, VHOST_VSOCK_SET_GUEST_CID, &vs->cid) < 0) {
		if (errno == EADDRINUSE)
			return log_error_errno(EADDRINUSE,
					       "vsock context ID %llu is taken by another VM",
					       (unsigned long long)cid);
		return log_error_errno(errno, "vsock context ID %llu: %m", (unsigned long long)cid);
	}
	log_info("vsock: context ID %llu", (unsigned long long)cid);
	return 0;
}

static int vsock_driver_ok(struct virtio_pci *vp)
{
	struct virtio_vsock *vs = vp->opaque;
	int running = 1;
	int r = vhost_start(&vs->vhost, vp, 0, VHOST_QUEUES);

	if (r < 0)
		return r;
	if (ioctl(vs->vhost.fd, VHOST_VSOCK_SET_RUNNING, &running) < 0)
		return log_error_errno(errno, "vsock: VHOST_VSOCK_SET_RUNNING: %m");
	vs->running = true;
	return 0;
}

static void vsock_reset(struct virtio_pci *vp)
{
	struct virtio_vsock *vs = vp->opaque;
	int running = 0;

	if (!vs || !vs->running)
		return;
	(void)ioctl(vs->vhost.fd, VHOST_VSOCK_SET_RUNNING, &running);
	vhost_stop(&vs->vhost, 0, VHOST_QUEUES);
	vs->running = false;
}

static void vsock_notify(struct virtio_pci *vp, unsigned q)
{
	/* Only the event queue could get here, and we send no events. */
}

static void vsock_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_vsock *vs = vp->opaque;
	uint8_t c[CONFIG_SIZE];

	put_le64(c, vs->cid);
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
}

static const struct virtio_device_ops vsock_ops = {
	.device_type = VIRTIO_ID_VSOCK,
	.pci_class = PCI_CLASS_OTHER,
	.num_queues = 3,
	.queue_max_size = VSOCK_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = vsock_config_read,
	.queue_notify = vsock_notify,
	.driver_ok = vsock_driver_ok,
	.reset = vsock_reset,
};

int virtio_vsock_init(struct virtio_vsock *vs, const struct virtio_host *host)
{
	return virtio_pci_init_vhost(&vs->vp, "virtio-vsock", &vsock_ops, vs, host);
}

void virtio_vsock_done(struct virtio_vsock *vs)
{
	if (vs->vp.ops)
		virtio_pci_done(&vs->vp);
	vhost_close(&vs->vhost);
}

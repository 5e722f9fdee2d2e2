/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "net/tap.h"

#define VIRTIO_ID_NET 1
#define PCI_CLASS_NETWORK_ETHERNET 0x020000
#define NET_QUEUE_SIZE 256
#define RX_QUEUE 0
#define TX_QUEUE 1

#define VIRTIO_NET_F_CSUM (1ULL << 0)
#define VIRTIO_NET_F_GUEST_CSUM (1ULL << 1)
#define VIRTIO_NET_F_MAC (1ULL << 5)
#define VIRTIO_NET_F_GUEST_TSO4 (1ULL << 7)
#define VIRTIO_NET_F_GUEST_TSO6 (1ULL << 8)
#define VIRTIO_NET_F_GUEST_ECN (1ULL << 9)
#define VIRTIO_NET_F_HOST_TSO4 (1ULL << 11)
#define VIRTIO_NET_F_HOST_TSO6 (1ULL << 12)
#define VIRTIO_NET_F_HOST_ECN (1ULL << 13)
#define VIRTIO_NET_F_STATUS (1ULL << 16)

#define VIRTIO_NET_S_LINK_UP 1
#define CONFIG_SIZE 10 /* mac, status, max_virtqueue_pairs */
#define NUM_BUFFERS_OFFSET 10
#define MAX_ERRORS_LOGGED 10

static struct virtio_net *net_of(struct virtio_pci *vp)
{
	return vp->opaque;
}

/* A stable address per VM and NIC, in the range QEMU and libvirt use (locally administered). */
static void default_mac(const char *vm_name, unsigned index, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *c = vm_name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	h = (h ^ index) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

int virtio_net_open(struct virtio_net *net, const struct net_config *config, const char *vm_name,
		    unsigned index, const struct guest_memory *mem)
{
	int r;

	memset(net, 0, sizeof(*net));
	net->config = config;
	net->tap_fd = -1;
	net->vhost.fd = -1;
	net->tap_watch.fd = -1;
	if (config->fd >= 0) {
		r = tap_adopt(config->fd, net->ifname);
		if (r < 0)
			return r;
		net->tap_fd = config->fd;
	} else {
		r = tap_open(config->tap);
		if (r < 0)
			return r;
		net->tap_fd = r;
		snprintf(net->ifname, sizeof(net->ifname), "%s", config->tap);
	}
	if (config->mac_set)
		memcpy(net->mac, config->mac, 6);
	else
		default_mac(vm_name, index, net->mac);

	if (config->vhost != VHOST_OFF) {
		r = vhost_open(&net->vhost, "/dev/vhost-net", config->vhost_fd, mem);
		if (r == 0) {
			net->use_vhost = true;
		} else {
			vhost_close(&net->vhost);
			if (config->vhost == VHOST_ON || config->vhost_fd >= 0)
				return log_error_errno(
				    r, "NIC %s: vhost=on, but /dev/vhost-net cannot be used: %m",
				    net->ifname);
			log_info("NIC %s: /dev/vhost-net cannot be used (%s); packets go through "
				 "the device thread",
				 net->ifname, strerror(-r));
		}
	}
	log_info("NIC %u: tap %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s", index, net->ifname,
		 net->mac[0], net->mac[1], net->mac[2], net->mac[3], net->mac[4], net->mac[5],
		 net->use_vhost ? "vhost-net" : "device thread");
	return 0;
}

/* ---- the device thread's data path ---- */

static void log_tap_error(struct virtio_net *net, const char *what, int err)
{
	if (net->errors_logged == MAX_ERRORS_LOGGED)
		return;
	log_warning("NIC %s: %s: %s", net->ifname, what, strerror(err));
	if (++net->errors_logged == MAX_ERRORS_LOGGED)
		log_warning("NIC %s: further errors are not logged", net->ifname);
}

static unsigned to_iovec(const struct virtqueue_request *req, bool writable, struct iovec *iov)
{
	unsigned n = 0;

	for (unsigned i = 0; i < req->count; i++)
		if (req->buf[i].writable == writable && req->buf[i].len)
			iov[n++] = (struct iovec){ .iov_base = req->buf[i].host,
						   .iov_len = req->buf[i].len };
	return n;
}

/* The guest's frames, each with its virtio net header, go to the tap as they are. */
static void transmit(struct virtio_net *net)
{
	struct virtqueue *vq = &net->vp.queues[TX_QUEUE];
	struct virtqueue_request req;
	struct iovec iov[VIRTQUEUE_MAX_SEGMENTS];
	bool used = false;
	int r;

	while ((r = virtqueue_pop(vq, &req)) > 0) {
		unsigned n = to_iovec(&req, false, iov);

		/* A full tap drops the frame, as a cable would. */
		if (n && writev(net->tap_fd, iov, (int)n) < 0 && errno != EAGAIN)
			log_tap_error(net, "sending a frame to the tap", errno);
		virtqueue_push(vq, &req, 0);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(&net->vp, TX_QUEUE);
	if (r < 0) {
		log_warning(
		    "NIC %s: the guest's transmit queue is broken; the device needs a reset",
		    net->ifname);
		virtio_pci_needs_reset(&net->vp);
	}
}

static void set_num_buffers(struct iovec *iov, unsigned n)
{
	uint8_t one[2] = { 1, 0 };
	size_t skip = NUM_BUFFERS_OFFSET;

	/* Without mergeable buffers every frame is one buffer; the field is still there in
	 * virtio 1.x. */
	for (unsigned i = 0, k = 0; i < n && k < 2; i++) {
		for (size_t j = skip; j < iov[i].iov_len && k < 2; j++)
			((uint8_t *)iov[i].iov_base)[j] = one[k++];
		skip = skip > iov[i].iov_len ? skip - iov[i].iov_len : 0;
	}
}

/* Frames from the tap into the guest's receive buffers, until either runs out. */
static void receive(struct virtio_net *net)
{
	struct virtqueue *vq = &net->vp.queues[RX_QUEUE];
	struct iovec iov[VIRTQUEUE_MAX_SEGMENTS];
	bool used = false;

	net->rx_stalled = false;
	while (net->tap_readable) {
		ssize_t len;
		unsigned n;

		if (!net->rx_req_held) {
			int r = virtqueue_pop(vq, &net->rx_req);

			if (r < 0) {
				log_warning("NIC %s: the guest's receive queue is broken; the "
					    "device needs a reset",
					    net->ifname);
				virtio_pci_needs_reset(&net->vp);
				break;
			}
			if (r == 0) {
				net->rx_stalled = true;
				break;
			}
			net->rx_req_held = true;
		}
		n = to_iovec(&net->rx_req, true, iov);
		len = n ? readv(net->tap_fd, iov, (int)n) : -1;
		if (len < 0) {
			if (n && errno == EAGAIN) {
				net->tap_readable = false;
				break;
			}
			if (n)
				log_tap_error(net, "receiving from the tap", errno);
			/* A buffer with no room (or a tap error): give it back empty. */
			virtqueue_push(vq, &net->rx_req, 0);
			net->rx_req_held = false;
			used = true;
			continue;
		}
		set_num_buffers(iov, n);
		virtqueue_push(vq, &net->rx_req, (uint32_t)len);
		net->rx_req_held = false;
		used = true;
	}
	if (used)
		virtio_pci_queue_done(&net->vp, RX_QUEUE);
}

static void tap_ready(struct watch *w, uint32_t events)
{
	struct virtio_net *net = container_of(w, struct virtio_net, tap_watch);
	struct pci_bus *bus = net->vp.pci.bus;

	pthread_mutex_lock(&bus->lock);
	net->tap_readable = true;
	if ((net->vp.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(net->vp.status & VIRTIO_STATUS_NEEDS_RESET) && net->vp.queues[RX_QUEUE].enabled)
		receive(net);
	pthread_mutex_unlock(&bus->lock);
}

static void net_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_net *net = net_of(vp);

	if (q == TX_QUEUE)
		transmit(net);
	else if (q == RX_QUEUE && net->tap_readable)
		receive(net); /* new receive buffers for frames that waited */
}

/* ---- the device ---- */

static int net_driver_ok(struct virtio_pci *vp)
{
	struct virtio_net *net = net_of(vp);
	uint64_t f = vp->driver_features;
	unsigned offload = 0;
	int r;

	/* The tap may hand the guest only what it said it takes. */
	if (f & VIRTIO_NET_F_GUEST_CSUM) {
		offload |= TUN_F_CSUM;
		if (f & VIRTIO_NET_F_GUEST_TSO4)
			offload |= TUN_F_TSO4;
		if (f & VIRTIO_NET_F_GUEST_TSO6)
			offload |= TUN_F_TSO6;
		if (f & VIRTIO_NET_F_GUEST_ECN)
			offload |= TUN_F_TSO_ECN;
	}
	r = tap_set_offload(net->tap_fd, offload);
	if (r < 0)
		return log_error_errno(r, "NIC %s: cannot set the tap's offloads: %m", net->ifname);
	if (!net->use_vhost)
		return 0;
	r = vhost_start(&net->vhost, vp, RX_QUEUE, 2);
	if (r < 0)
		return r;
	for (unsigned q = 0; q < 2; q++) {
		struct vhost_vring_file backend = { .index = q, .fd = net->tap_fd };

		if (ioctl(net->vhost.fd, VHOST_NET_SET_BACKEND, &backend) < 0)
			return log_error_errno(errno, "NIC %s: VHOST_NET_SET_BACKEND: %m",
					       net->ifname);
	}
	net->vhost_running = true;
	return 0;
}

static void net_reset(struct virtio_pci *vp)
{
	struct virtio_net *net = net_of(vp);

	if (!net)
		return; /* virtio_pci_init() resets before we are set up */
	if (net->vhost_running) {
		for (unsigned q = 0; q < 2; q++) {
			struct vhost_vring_file backend = { .index = q, .fd = -1 };
			(void)ioctl(net->vhost.fd, VHOST_NET_SET_BACKEND, &backend);
		}
		vhost_stop(&net->vhost, RX_QUEUE, 2);
		net->vhost_running = false;
	}
	net->rx_req_held = false;
	net->rx_stalled = false;
}

static void net_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_net *net = net_of(vp);
	uint8_t c[CONFIG_SIZE] = {};

	memcpy(c, net->mac, 6);
	put_le16(c + 6, VIRTIO_NET_S_LINK_UP);
	put_le16(c + 8, 1);
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
}

static const struct virtio_device_ops net_ops = {
	.device_type = VIRTIO_ID_NET,
	.pci_class = PCI_CLASS_NETWORK_ETHERNET,
	.features = VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_MAC |
		    VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_GUEST_ECN |
		    VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 | VIRTIO_NET_F_HOST_ECN |
		    VIRTIO_NET_F_STATUS,
	.num_queues = 2,
	.queue_max_size = NET_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = net_config_read,
	.queue_notify = net_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
};

int virtio_net_init(struct virtio_net *net, const struct virtio_host *host)
{
	int r;

	if (net->use_vhost)
		return virtio_pci_init_vhost(&net->vp, "virtio-net", &net_ops, net, host);
	r = virtio_pci_init(&net->vp, "virtio-net", &net_ops, net, host);
	if (r < 0)
		return r;
	net->tap_watch = (struct watch){ .fd = net->tap_fd, .ready = tap_ready };
	r = event_loop_add(&host->io->loop, &net->tap_watch, EPOLLIN | EPOLLET);
	if (r < 0)
		return log_error_errno(r, "NIC %s: cannot watch the tap: %m", net->ifname);
	return 0;
}

void virtio_net_done(struct virtio_net *net)
{
	/* Closing vhost's fd stops its rings; nothing to undo one by one. */
	if (net->vp.ops)
		virtio_pci_done(&net->vp);
	vhost_close(&net->vhost);
	if (net->tap_fd >= 0)
		close(net->tap_fd);
	net->tap_fd = -1;
}

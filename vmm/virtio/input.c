/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/input.h"

#include <linux/input-event-codes.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define VIRTIO_ID_INPUT 18
#define PCI_CLASS_INPUT_OTHER 0x098000
#define INPUT_QUEUE_SIZE 64
#define EVENT_QUEUE 0
#define STATUS_QUEUE 1

/* The config space (5.8.4): select, subsel, size, 5 reserved bytes, then 128 of payload. */
#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_PAYLOAD 8
#define CFG_PAYLOAD_SIZE 128
#define CONFIG_SIZE (CFG_PAYLOAD + CFG_PAYLOAD_SIZE)

enum {
	CFG_UNSET = 0x00,
	CFG_ID_NAME = 0x01,
	CFG_ID_SERIAL = 0x02,
	CFG_ID_DEVIDS = 0x03,
	CFG_PROP_BITS = 0x10,
	CFG_EV_BITS = 0x11,
	CFG_ABS_INFO = 0x12,
};

#define EVENT_SIZE 8
#define BUS_VIRTUAL 0x06
#define VENDOR_PHYLLOME 0x0627 /* as QEMU's virtual input devices: no vendor owns it */

/* A keyboard sends every key code up to this; the tablet its buttons. */
#define KEYBOARD_LAST_KEY 0xff

static bool tablet_button(uint16_t code)
{
	return code >= BTN_LEFT && code <= BTN_EXTRA;
}

bool virtio_input_has_key(const struct virtio_input *in, uint16_t code)
{
	if (in->kind == VIRTIO_INPUT_KEYBOARD)
		return code >= 1 && code <= KEYBOARD_LAST_KEY;
	return tablet_button(code);
}

static void set_bit(uint8_t *bitmap, unsigned bit)
{
	bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* Fills payload for the current select/subsel; returns its size (0: nothing there). */
static uint8_t config_payload(const struct virtio_input *in, uint8_t *payload)
{
	bool keyboard = in->kind == VIRTIO_INPUT_KEYBOARD;
	const char *name = keyboard ? "Phyllome Keyboard" : "Phyllome Tablet";
	uint8_t size = 0;

	memset(payload, 0, CFG_PAYLOAD_SIZE);
	switch (in->select) {
	case CFG_ID_NAME:
		size = (uint8_t)strlen(name);
		memcpy(payload, name, size);
		break;
	case CFG_ID_DEVIDS:
		put_le16(payload + 0, BUS_VIRTUAL);
		put_le16(payload + 2, VENDOR_PHYLLOME);
		put_le16(payload + 4, keyboard ? 0x0001 : 0x0003);
		put_le16(payload + 6, 0x0001);
		size = 8;
		break;
	case CFG_EV_BITS:
		switch (in->subsel) {
		case EV_KEY:
			for (unsigned code = 0; code < KEY_CNT; code++)
				if (virtio_input_has_key(in, (uint16_t)code))
					set_bit(payload, code);
			size =
			    (uint8_t)(keyboard ? (KEYBOARD_LAST_KEY + 8) / 8 : (BTN_EXTRA + 8) / 8);
			break;
		case EV_REP: /* the guest repeats held keys itself: clients send no repeats */
		case EV_LED:
			if (!keyboard)
				break;
			set_bit(payload, LED_NUML);
			set_bit(payload, LED_CAPSL);
			set_bit(payload, LED_SCROLLL);
			size = 1;
			break;
		case EV_REL:
			if (keyboard)
				break;
			set_bit(payload, REL_HWHEEL);
			set_bit(payload, REL_WHEEL);
			size = (REL_WHEEL + 8) / 8;
			break;
		case EV_ABS:
			if (keyboard)
				break;
			set_bit(payload, ABS_X);
			set_bit(payload, ABS_Y);
			size = 1;
			break;
		}
		break;
	case CFG_ABS_INFO:
		if (keyboard || (in->subsel != ABS_X && in->subsel != ABS_Y))
			break;
		put_le32(payload + 0, 0); /* min */
		put_le32(payload + 4, VIRTIO_INPUT_ABS_MAX);
		size = 20; /* min, max, fuzz, flat, res */
		break;
	default: /* UNSET, no serial, no properties */
		break;
	}
	return size;
}

static void input_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_input *in = vp->opaque;
	uint8_t c[CONFIG_SIZE] = {};

	c[CFG_SELECT] = in->select;
	c[CFG_SUBSEL] = in->subsel;
	c[CFG_SIZE] = config_payload(in, c + CFG_PAYLOAD);
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
	else
		memset(data, 0, size);
}

static void input_config_write(struct virtio_pci *vp, uint32_t offset, const uint8_t *data,
			       unsigned size)
{
	struct virtio_input *in = vp->opaque;

	/* Only the two selectors are the driver's; the rest of the window is read-only. */
	for (unsigned i = 0; i < size; i++) {
		if (offset + i == CFG_SELECT)
			in->select = data[i];
		else if (offset + i == CFG_SUBSEL)
			in->subsel = data[i];
	}
}

static bool ready(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & VIRTIO_STATUS_NEEDS_RESET) && vp->queues[EVENT_QUEUE].enabled;
}

static void broken(struct virtio_pci *vp, const char *which)
{
	log_warning("virtio-input: the guest's %s queue is broken; the device needs a reset",
		    which);
	virtio_pci_needs_reset(vp);
}

/* Under the bus lock: hands waiting events to the guest's buffers, one event a buffer. */
static void flush_events(struct virtio_input *in)
{
	struct virtio_pci *vp = &in->vp;
	struct virtqueue *vq = &vp->queues[EVENT_QUEUE];
	struct virtqueue_request req;
	bool used = false;

	while (in->pending_count && ready(vp)) {
		const struct virtio_input_event *e = &in->pending[in->pending_head];
		uint32_t written = 0;
		int r = virtqueue_pop(vq, &req);

		if (r < 0)
			broken(vp, "event");
		if (r <= 0)
			break;
		for (unsigned i = 0; i < req.count; i++) {
			if (!req.buf[i].writable || req.buf[i].len < EVENT_SIZE)
				continue;
			put_le16(req.buf[i].host + 0, e->type);
			put_le16(req.buf[i].host + 2, e->code);
			put_le32(req.buf[i].host + 4, (uint32_t)e->value);
			written = EVENT_SIZE;
			break;
		}
		virtqueue_push(vq, &req, written);
		used = true;
		/* A buffer too small for an event still takes it: the guest's mistake, not a
		 * reason to stall the queue. */
		in->pending_head = (in->pending_head + 1) % VIRTIO_INPUT_PENDING;
		in->pending_count--;
	}
	if (used)
		virtio_pci_queue_done(vp, EVENT_QUEUE);
}

static void enqueue(struct virtio_input *in, struct virtio_input_event e)
{
	if (in->pending_count == VIRTIO_INPUT_PENDING) {
		in->pending_head = (in->pending_head + 1) % VIRTIO_INPUT_PENDING;
		in->pending_count--;
	}
	in->pending[(in->pending_head + in->pending_count) % VIRTIO_INPUT_PENDING] = e;
	in->pending_count++;
}

void virtio_input_send(struct virtio_input *in, const struct virtio_input_event *events,
		       unsigned count)
{
	struct pci_bus *bus = in->vp.pci.bus;

	pthread_mutex_lock(&bus->lock);
	/* Before the driver is there, input means nothing to the guest that comes. */
	if (ready(&in->vp)) {
		for (unsigned i = 0; i < count; i++)
			enqueue(in, events[i]);
		enqueue(in, (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 });
		flush_events(in);
	}
	pthread_mutex_unlock(&bus->lock);
}

/* The guest tells the device its LEDs; nothing else arrives there. */
static void read_status(struct virtio_input *in)
{
	struct virtio_pci *vp = &in->vp;
	struct virtqueue *vq = &vp->queues[STATUS_QUEUE];
	struct virtqueue_request req;
	bool used = false;
	int r;

	while ((r = virtqueue_pop(vq, &req)) > 0) {
		for (unsigned i = 0; i < req.count; i++) {
			const uint8_t *p = req.buf[i].host;

			if (req.buf[i].writable || req.buf[i].len < EVENT_SIZE)
				continue;
			if (get_le16(p) == EV_LED && get_le16(p + 2) <= LED_SCROLLL) {
				uint8_t bit = (uint8_t)(1u << get_le16(p + 2));

				in->leds = get_le32(p + 4) ? in->leds | bit : in->leds & ~bit;
			}
		}
		virtqueue_push(vq, &req, 0);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(vp, STATUS_QUEUE);
	if (r < 0)
		broken(vp, "status");
}

static void input_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_input *in = vp->opaque;

	if (q == EVENT_QUEUE)
		flush_events(in); /* new buffers: events that waited for them go */
	else if (q == STATUS_QUEUE)
		read_status(in);
}

static void input_reset(struct virtio_pci *vp)
{
	struct virtio_input *in = vp->opaque;

	in->pending_head = in->pending_count = 0;
	in->select = in->subsel = 0;
	in->leds = 0;
}

static const struct virtio_device_ops input_ops = {
	.device_type = VIRTIO_ID_INPUT,
	.pci_class = PCI_CLASS_INPUT_OTHER,
	.num_queues = 2,
	.queue_max_size = INPUT_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = input_config_read,
	.config_write = input_config_write,
	.queue_notify = input_notify,
	.reset = input_reset,
};

int virtio_input_init(struct virtio_input *in, enum virtio_input_kind kind,
		      const struct virtio_host *host)
{
	in->kind = kind;
	return virtio_pci_init(&in->vp,
			       kind == VIRTIO_INPUT_KEYBOARD ? "virtio-input keyboard"
							     : "virtio-input tablet",
			       &input_ops, in, host);
}

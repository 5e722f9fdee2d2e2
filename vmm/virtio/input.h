/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "virtio/pci.h"

/*
 * virtio-input (5.8): a keyboard or an absolute tablet, fed by the display
 * channel's clients on the main thread. Events travel as Linux evdev events
 * (type, code, value); the driver learns what the device sends from the
 * config space (select/subsel: name, IDs, event bits, axis ranges). Events
 * the guest has no buffers for wait in a small queue; past that, the oldest
 * are dropped (a guest that stopped reading its input loses input, never
 * host memory).
 */
enum virtio_input_kind {
	VIRTIO_INPUT_KEYBOARD,
	VIRTIO_INPUT_TABLET,
};

/* The tablet's axes run 0..VIRTIO_INPUT_ABS_MAX whatever the screen's size. */
#define VIRTIO_INPUT_ABS_MAX 32767
#define VIRTIO_INPUT_PENDING 256

struct virtio_input_event {
	uint16_t type, code;
	int32_t value;
};

struct virtio_input {
	struct virtio_pci vp;
	enum virtio_input_kind kind;
	uint8_t select, subsel; /* the config window the driver chose */
	uint8_t leds;		/* LED_NUML.. bits the driver last set (keyboard) */
	struct virtio_input_event pending[VIRTIO_INPUT_PENDING];
	unsigned pending_head, pending_count;
};

int virtio_input_init(struct virtio_input *in, enum virtio_input_kind kind,
		      const struct virtio_host *host);
/* Whether the device sends this key or button code (EV_KEY). */
bool virtio_input_has_key(const struct virtio_input *in, uint16_t code);
/*
 * Queues events and ends them with a SYN_REPORT, on the main thread; what
 * the guest has buffers for goes now.
 */
void virtio_input_send(struct virtio_input *in, const struct virtio_input_event *events,
		       unsigned count);

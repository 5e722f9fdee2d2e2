/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "event.h"
#include "virtio/input.h"

/*
 * The display channel (org.phyllome.VMM1.Display, dbus/org.phyllome.VMM1.Display.xml):
 * served beside org.phyllome.VMM1 on control connections, and alone on the
 * connections phyllomed hands to viewers. A client registers a listener on
 * a socket of its own; the monitor connects to it as a D-Bus client and
 * calls its org.phyllome.VMM1.DisplayListener: Scanout with a sealed memfd
 * holding the pixels, Update with the rectangles that changed in it,
 * Disable when the guest turns its display off. One call at a time per
 * listener: damage gathers while the listener is busy, so a slow viewer
 * drops frames, never the monitor's loop. The guest's drawing is looked
 * for every 4 ms while it draws (at most that much latency added to a
 * frame) and every 32 ms once it has not for a second. Input comes back as evdev codes
 * for the virtio-input keyboard and tablet.
 */
#define DISPLAY_MAX_LISTENERS 4
/* How often the guest's drawing is looked for: often while it draws, seldom while it does not. */
#define DISPLAY_REFRESH_BUSY_MS 4
#define DISPLAY_REFRESH_IDLE_MS 32
#define DISPLAY_BUSY_TICKS 250 /* a second of busy ticks without damage: idle */

/* DRM fourcc codes: what Scanout says the pixels are. */
#define DISPLAY_FORMAT_XRGB8888 0x34325258 /* 'XR24': B, G, R, X bytes */
#define DISPLAY_FORMAT_RGB888 0x34324752   /* 'RG24': B, G, R bytes */
#define DISPLAY_FORMAT_RGB565 0x36314752   /* 'RG16' */
#define DISPLAY_FORMAT_XRGB1555 0x35315258 /* 'XR15' */

struct display_scanout {
	int fd; /* a memfd sealed against shrinking and writing; the source's, not a copy */
	uint64_t offset;
	unsigned width, height, stride;
	uint32_t format;
};

/* A pointer image the guest defined (virtio-gpu's cursor plane): B, G, R, A premultiplied. */
#define DISPLAY_CURSOR_MAX 64
struct display_cursor {
	unsigned width, height, hot_x, hot_y;
	bool visible;
	int x, y; /* where the guest put it, in scanout pixels */
	uint8_t pixels[DISPLAY_CURSOR_MAX * DISPLAY_CURSOR_MAX * 4];
};

struct display_rect {
	unsigned x, y, width, height; /* height 0: nothing */
};

/* A device that shows something: the bochs display, later virtio-gpu. */
struct display_source_ops {
	/* The scanout now: 0, -ENODATA (nothing shown) or another -errno (a mode that cannot
	 * be shown). *generation changes whenever the scanout does. */
	int (*scanout)(void *opaque, struct display_scanout *ret, uint64_t *generation);
	/* What the guest changed in the scanout since the last call. */
	void (*damage)(void *opaque, const struct display_scanout *s, struct display_rect *ret);
	/* The scanout as a PNG file written to fd. */
	int (*screenshot)(void *opaque, int fd);
	/* The viewer's window size, for a device that can tell the guest. */
	void (*size_hint)(void *opaque, unsigned width, unsigned height);
	/* The guest's pointer image and position (ret NULL: only whether they changed), for a
	 * device with a cursor plane (NULL: none, the guest draws its pointer into the picture).
	 * *generation changes with the image, *moved with the position. */
	void (*cursor)(void *opaque, struct display_cursor *ret, uint64_t *generation,
		       uint64_t *moved);
};

struct display_channel;

struct display_listener {
	struct display_channel *channel;
	sd_bus *bus;
	struct watch watch;
	sd_bus_slot *call;			  /* the call in flight; NULL: idle */
	bool shown;				  /* a Scanout (not Disable) was the last word */
	uint64_t generation;			  /* of the scanout it was last told of */
	bool told;				  /* told of anything yet */
	uint64_t cursor_generation, cursor_moved; /* of the pointer it was last told of */
	bool failed;				  /* answered a call with an error: to be dropped */
	struct display_rect damage;		  /* gathered while a call was in flight */
};

struct display_channel {
	struct event_loop *loop;
	const struct display_source_ops *ops; /* NULL: the VM has no display */
	void *opaque;
	struct virtio_input *keyboard, *tablet; /* NULL: none */
	struct watch timer;
	unsigned timer_ms;    /* the period armed; 0: not armed */
	unsigned quiet_ticks; /* busy ticks since the last damage */
	unsigned hint_width, hint_height;
	struct display_listener listeners[DISPLAY_MAX_LISTENERS];
	struct display_cursor cursor; /* the device's pointer, read for the listeners */
	uint64_t updates_sent;	      /* for the log at exit */
};

void display_channel_init(struct display_channel *ch, struct event_loop *loop);
/* The device it shows (ops NULL: none); listeners of the one before are dropped. */
int display_channel_set_source(struct display_channel *ch, const struct display_source_ops *ops,
			       void *opaque);
void display_channel_set_input(struct display_channel *ch, struct virtio_input *keyboard,
			       struct virtio_input *tablet);
void display_channel_done(struct display_channel *ch);
/* Serves org.phyllome.VMM1.Display on bus (a control connection). */
int display_channel_serve(struct display_channel *ch, sd_bus *bus);
/* Screenshot(h, a{sv}), for org.phyllome.VMM1's method of the same name too. */
int display_channel_method_screenshot(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Whether a rectangle is empty, and the smallest one holding both. */
bool display_rect_empty(const struct display_rect *r);
void display_rect_union(struct display_rect *into, const struct display_rect *r);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "display/channel.h"
#include "event.h"
#include "phyllome-vmm1.h"

#define CONTROL_MAX_CONNECTIONS 4
/* Connections phyllomed hands to viewers, which reach the display channel alone. */
#define CONTROL_MAX_DISPLAY_CONNECTIONS 4

struct control;

/* What the control channel asks of the VM it controls (opaque: the VM). */
struct control_ops {
	/* "running", "paused" or "shutting-down". */
	const char *(*state)(void *opaque);
	bool (*stopping)(void *opaque);
	bool (*paused)(void *opaque);
	int (*pause)(void *opaque);
	int (*resume)(void *opaque);
	void (*power_button)(void *opaque);
	void (*reset)(void *opaque);
	void (*quit)(void *opaque);
	bool (*panicked)(void *opaque);
	/* The device names the Devices property lists, in order; NULL past the last. */
	const char *(*device_name)(void *opaque, unsigned index);
	struct display_channel *display;
	unsigned vcpus;
	uint64_t memory;
};

struct control_connection {
	struct control *control;
	sd_bus *bus;
	struct watch watch;
	bool display_only;
};

/*
 * The VMM's control channel: peer-to-peer D-Bus (org.phyllome.VMM1, see
 * dbus/org.phyllome.VMM1.xml) on a unix socket, served from the main loop.
 */
struct control {
	const struct control_ops *ops;
	void *opaque;
	struct event_loop *loop;
	struct watch listen_watch;
	char *socket_path; /* removed at close when we created it */
	struct control_connection
	    connections[CONTROL_MAX_CONNECTIONS + CONTROL_MAX_DISPLAY_CONNECTIONS];
};

/* path: a socket to create; fd: an inherited listening or connected socket (-1: none). */
int control_open(struct control *c, const struct control_ops *ops, void *opaque,
		 struct event_loop *loop, const char *path, int fd);
void control_close(struct control *c);
/* Emits StateChanged with the VM's current state to every peer. */
void control_state_changed(struct control *c);
void control_guest_panicked(struct control *c, bool crash_kernel_loaded);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "bus-watch.h"
#include "cleanup.h"
#include "log.h"
#include "unix-socket.h"

static void connection_close(struct control_connection *conn)
{
	if (!conn->bus)
		return;
	event_loop_remove(conn->control->loop, &conn->watch);
	/* sd-bus owns the fd: flushing and closing it is its job. Not for a viewer's
	 * connection: one that stopped reading would hold the monitor's exit. */
	conn->bus = conn->display_only ? sd_bus_close_unref(conn->bus)
				       : sd_bus_flush_close_unref(conn->bus);
	conn->watch.fd = -1;
}

/* Runs everything sd-bus has to do on a connection; false when the peer is gone. */
static bool connection_process(struct control_connection *conn)
{
	return bus_watch_process(conn->bus, conn->control->loop, &conn->watch,
				 "Control connection");
}

static void connection_ready(struct watch *w, uint32_t events)
{
	struct control_connection *conn = container_of(w, struct control_connection, watch);

	if (!connection_process(conn))
		connection_close(conn);
}

/* ---- org.phyllome.VMM1 ---- */

static int method_pause(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;
	int r;

	if (c->ops->stopping(c->opaque))
		return sd_bus_error_set(error, PHYLLOME_VMM1_ERROR_SHUTTING_DOWN,
					"The VM is stopping");
	r = c->ops->pause(c->opaque);
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Cannot pause: %s", strerror(-r));
	control_state_changed(c);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_resume(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;
	int r = c->ops->resume(c->opaque);

	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Cannot resume: %s", strerror(-r));
	control_state_changed(c);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_power_button(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;

	if (c->ops->paused(c->opaque))
		return sd_bus_error_set(
		    error, PHYLLOME_VMM1_ERROR_PAUSED,
		    "The VM is paused: a paused guest cannot see the power button");
	c->ops->power_button(c->opaque);
	control_state_changed(c);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_reset(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;

	log_notice("Resetting the VM (control channel)");
	c->ops->reset(c->opaque);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_quit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;

	log_notice("Stopping the VM at once (control channel)");
	c->ops->quit(c->opaque);
	return sd_bus_reply_method_return(m, NULL);
}

static int connection_add(struct control *c, int fd, bool display_only);

/* Kept on org.phyllome.VMM1 for the callers that knew it there first (phyllomed). */
static int method_screenshot(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;

	return display_channel_method_screenshot(m, c->ops->display, error);
}

static int method_serve_display(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct control *c = userdata;
	int fd, owned, r;

	r = sd_bus_message_read(m, "h", &fd);
	if (r < 0)
		return r;
	owned = unix_socket_take_passed(fd);
	if (owned == -ENOTSOCK)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"ServeDisplay takes a connected socket");
	if (owned < 0)
		return sd_bus_error_set_errnof(error, -owned, "Cannot take the socket: %s",
					       strerror(-owned));
	r = connection_add(c, owned, true);
	if (r == -EBUSY)
		return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					"Too many display connections");
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Cannot serve the display: %s",
					       strerror(-r));
	return sd_bus_reply_method_return(m, NULL);
}

static int property_state(sd_bus *bus, const char *path, const char *interface,
			  const char *property, sd_bus_message *reply, void *userdata,
			  sd_bus_error *error)
{
	struct control *c = userdata;

	return sd_bus_message_append(reply, "s", c->ops->state(c->opaque));
}

static int property_vcpus(sd_bus *bus, const char *path, const char *interface,
			  const char *property, sd_bus_message *reply, void *userdata,
			  sd_bus_error *error)
{
	struct control *c = userdata;

	return sd_bus_message_append(reply, "u", c->ops->vcpus);
}

static int property_memory(sd_bus *bus, const char *path, const char *interface,
			   const char *property, sd_bus_message *reply, void *userdata,
			   sd_bus_error *error)
{
	struct control *c = userdata;

	return sd_bus_message_append(reply, "t", c->ops->memory);
}

static int property_devices(sd_bus *bus, const char *path, const char *interface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error)
{
	struct control *c = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "s");
	const char *name;

	for (unsigned i = 0; r >= 0 && (name = c->ops->device_name(c->opaque, i)); i++)
		r = sd_bus_message_append(reply, "s", name);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_panicked(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	struct control *c = userdata;

	return sd_bus_message_append(reply, "b", (int)c->ops->panicked(c->opaque));
}

static const sd_bus_vtable vmm_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("VCPUs", "u", property_vcpus, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MemoryBytes", "t", property_memory, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Devices", "as", property_devices, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Panicked", "b", property_panicked, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("Pause", "", "", method_pause, 0),
	SD_BUS_METHOD("Resume", "", "", method_resume, 0),
	SD_BUS_METHOD("PowerButton", "", "", method_power_button, 0),
	SD_BUS_METHOD("Reset", "", "", method_reset, 0),
	SD_BUS_METHOD("Quit", "", "", method_quit, 0),
	SD_BUS_METHOD("Screenshot", "ha{sv}", "", method_screenshot, 0),
	SD_BUS_METHOD("ServeDisplay", "h", "", method_serve_display, 0),
	SD_BUS_SIGNAL("StateChanged", "s", 0),
	SD_BUS_SIGNAL_WITH_NAMES("GuestPanicked", "b", SD_BUS_PARAM(crash_kernel_loaded), 0),
	SD_BUS_VTABLE_END,
};

void control_state_changed(struct control *c)
{
	for (unsigned i = 0; i < ARRAY_SIZE(c->connections); i++) {
		struct control_connection *conn = &c->connections[i];

		if (!conn->bus)
			continue;
		(void)sd_bus_emit_signal(conn->bus, PHYLLOME_VMM1_PATH, PHYLLOME_VMM1_INTERFACE,
					 "StateChanged", "s", c->ops->state(c->opaque));
		(void)sd_bus_emit_properties_changed(conn->bus, PHYLLOME_VMM1_PATH,
						     PHYLLOME_VMM1_INTERFACE, "State", NULL);
		(void)event_loop_modify(c->loop, &conn->watch, bus_watch_events(conn->bus));
	}
}

void control_guest_panicked(struct control *c, bool crash_kernel_loaded)
{
	for (unsigned i = 0; i < ARRAY_SIZE(c->connections); i++) {
		struct control_connection *conn = &c->connections[i];

		if (!conn->bus)
			continue;
		(void)sd_bus_emit_signal(conn->bus, PHYLLOME_VMM1_PATH, PHYLLOME_VMM1_INTERFACE,
					 "GuestPanicked", "b", (int)crash_kernel_loaded);
		(void)sd_bus_emit_properties_changed(conn->bus, PHYLLOME_VMM1_PATH,
						     PHYLLOME_VMM1_INTERFACE, "Panicked", NULL);
		(void)event_loop_modify(c->loop, &conn->watch, bus_watch_events(conn->bus));
	}
}

/*
 * Takes ownership of fd. A display-only connection (ServeDisplay's, for a
 * viewer) serves org.phyllome.VMM1.Display and nothing else: its peer may
 * see and drive the guest, not stop it.
 */
static int connection_add(struct control *c, int fd, bool display_only)
{
	struct control_connection *conn = NULL;
	_cleanup_close_ int owned = fd;
	unsigned first = display_only ? CONTROL_MAX_CONNECTIONS : 0;
	unsigned end = display_only ? ARRAY_SIZE(c->connections) : CONTROL_MAX_CONNECTIONS;
	sd_id128_t id;
	sd_bus *bus = NULL;
	int r;

	for (unsigned i = first; i < end && !conn; i++)
		if (!c->connections[i].bus)
			conn = &c->connections[i];
	if (!conn) {
		log_warning("Refusing a %s connection: %u are open already",
			    display_only ? "display" : "control", end - first);
		return -EBUSY;
	}
	r = sd_id128_randomize(&id);
	if (r >= 0)
		r = sd_bus_new(&bus);
	if (r < 0)
		return log_error_errno(-r, "Cannot set up a control connection: %m");
	r = sd_bus_set_fd(bus, owned, owned);
	if (r >= 0)
		owned = -1;
	if (r >= 0)
		r = sd_bus_set_server(bus, 1, id);
	/* A viewer's socket came from phyllomed, whose credentials it carries: holding it is
	 * the authorization, and the viewer's EXTERNAL uid would not match them. */
	if (r >= 0 && display_only)
		r = sd_bus_set_anonymous(bus, 1);
	/* Screenshot takes the file to write to as a descriptor. */
	if (r >= 0)
		r = sd_bus_negotiate_fds(bus, 1);
	if (r >= 0 && !display_only)
		r = sd_bus_add_object_vtable(bus, NULL, PHYLLOME_VMM1_PATH, PHYLLOME_VMM1_INTERFACE,
					     vmm_vtable, c);
	if (r >= 0)
		r = display_channel_serve(c->ops->display, bus);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return log_error_errno(-r, "Cannot start a control connection: %m");
	}
	*conn = (struct control_connection){
		.control = c,
		.bus = bus,
		.watch = { .fd = sd_bus_get_fd(bus), .ready = connection_ready },
		.display_only = display_only,
	};
	r = event_loop_add(c->loop, &conn->watch, bus_watch_events(bus));
	if (r < 0) {
		conn->bus = sd_bus_flush_close_unref(bus);
		return log_error_errno(-r, "Cannot watch a control connection: %m");
	}
	return 0;
}

static void listen_ready(struct watch *w, uint32_t events)
{
	struct control *c = container_of(w, struct control, listen_watch);
	int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warning_errno(errno, "accept on the control socket: %m");
		return;
	}
	(void)connection_add(c, fd, false);
}

static int listen_on(struct control *c, int fd)
{
	c->listen_watch = (struct watch){ .fd = fd, .ready = listen_ready };
	return event_loop_add(c->loop, &c->listen_watch, EPOLLIN);
}

int control_open(struct control *c, const struct control_ops *ops, void *opaque,
		 struct event_loop *loop, const char *path, int fd)
{
	bool listening = true;
	int r;

	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->opaque = opaque;
	c->loop = loop;
	c->listen_watch.fd = -1;
	for (unsigned i = 0; i < ARRAY_SIZE(c->connections); i++)
		c->connections[i].watch.fd = -1;

	if (fd >= 0) {
		r = unix_socket_adopt("control", fd, &listening);
		if (r < 0)
			return r;
		if (!listening)
			return connection_add(c, fd, false);
	} else if (path) {
		fd = unix_socket_listen("control", path, CONTROL_MAX_CONNECTIONS, &c->socket_path);
		if (fd < 0)
			return fd;
	} else {
		return 0;
	}
	/* From here on the listening fd is listen_watch's: control_close() closes it. */
	r = listen_on(c, fd);
	return r < 0 ? log_error_errno(-r, "Cannot watch the control socket: %m") : 0;
}

void control_close(struct control *c)
{
	for (unsigned i = 0; i < ARRAY_SIZE(c->connections); i++)
		connection_close(&c->connections[i]);
	if (c->listen_watch.fd >= 0) {
		event_loop_remove(c->loop, &c->listen_watch);
		close(c->listen_watch.fd);
		c->listen_watch.fd = -1;
	}
	unix_socket_remove(&c->socket_path);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bus-watch.h"
#include "cleanup.h"
#include "log.h"
#include "phyllome-vmm1.h"
#include "unix-socket.h"

#define MAX_HINT 8192
#define MAX_SCROLL 100

/* ---- listeners ---- */

static void listener_close(struct display_listener *l)
{
	if (!l->bus)
		return;
	l->call = sd_bus_slot_unref(l->call);
	event_loop_remove(l->channel->loop, &l->watch);
	/* No flush: a listener that stopped reading must not hold the loop. */
	l->bus = sd_bus_close_unref(l->bus);
	l->watch.fd = -1;
}

static unsigned listener_count(const struct display_channel *ch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < DISPLAY_MAX_LISTENERS; i++)
		n += ch->listeners[i].bus != NULL;
	return n;
}

/* The refresh timer runs while someone listens, fast while the guest draws. */
static void timer_set(struct display_channel *ch, unsigned ms)
{
	struct itimerspec its = {};

	if (ms == ch->timer_ms || ch->timer.fd < 0)
		return;
	its.it_interval.tv_nsec = (long)ms * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(ch->timer.fd, 0, &its, NULL) == 0)
		ch->timer_ms = ms;
}

static void timer_update(struct display_channel *ch)
{
	if (listener_count(ch) == 0 || !ch->ops)
		timer_set(ch, 0);
	else if (!ch->timer_ms)
		timer_set(ch, DISPLAY_REFRESH_BUSY_MS);
}

static int listener_replied(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

static int listener_call(struct display_listener *l, const char *method, const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(l->bus, &m, NULL, PHYLLOME_VMM1_LISTENER_PATH,
					   PHYLLOME_VMM1_LISTENER_INTERFACE, method);
	if (r < 0)
		return r;
	va_start(ap, types);
	r = sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return sd_bus_call_async(l->bus, &l->call, m, listener_replied, l, 0);
}

/* CursorDefine(i width, i height, i hot_x, i hot_y, ay pixels), as QEMU's listeners take it. */
static int listener_call_cursor(struct display_listener *l, const struct display_cursor *c)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(l->bus, &m, NULL, PHYLLOME_VMM1_LISTENER_PATH,
					       PHYLLOME_VMM1_LISTENER_INTERFACE, "CursorDefine");

	if (r >= 0)
		r = sd_bus_message_append(m, "iiii", (int32_t)c->width, (int32_t)c->height,
					  (int32_t)c->hot_x, (int32_t)c->hot_y);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', c->pixels,
						(size_t)c->width * c->height * 4);
	return r < 0 ? r : sd_bus_call_async(l->bus, &l->call, m, listener_replied, l, 0);
}

/*
 * Tells an idle listener what changed, most urgent first: the scanout
 * itself, the pointer's image, the damage, the pointer's position (a guest
 * that moves its pointer all the time must not starve the picture).
 */
static void listener_flush(struct display_listener *l)
{
	struct display_channel *ch = l->channel;
	struct display_scanout s;
	uint64_t generation = 0, image = 0, moved = 0;
	int r;

	/*
	 * Not before the listener authenticated: sd-bus would wait for that
	 * inside the call that passes the memfd (whether the peer takes
	 * descriptors), and the client may itself be waiting for us.
	 */
	if (!l->bus || l->call || !ch->ops || sd_bus_is_ready(l->bus) <= 0)
		return;
	if (ch->ops->cursor)
		ch->ops->cursor(ch->opaque, NULL, &image, &moved);
	r = ch->ops->scanout(ch->opaque, &s, &generation);
	if (r < 0) {
		if (l->told && !l->shown)
			return;
		r = listener_call(l, "Disable", "");
		l->shown = false;
	} else if (!l->told || !l->shown || generation != l->generation) {
		r = listener_call(l, "Scanout", "htuuuu", s.fd, s.offset, s.width, s.height,
				  s.stride, s.format);
		l->shown = true;
		l->generation = generation;
		l->damage = (struct display_rect){};
	} else if (image != l->cursor_generation) {
		ch->ops->cursor(ch->opaque, &ch->cursor, &image, &moved);
		r = listener_call_cursor(l, &ch->cursor);
		l->cursor_generation = image;
	} else if (!display_rect_empty(&l->damage)) {
		struct display_rect d = l->damage;

		/* Damage gathered under an older mode may reach past this one. */
		l->damage = (struct display_rect){};
		if (d.x >= s.width || d.y >= s.height)
			return;
		if (d.width > s.width - d.x)
			d.width = s.width - d.x;
		if (d.height > s.height - d.y)
			d.height = s.height - d.y;
		r = listener_call(l, "Update", "iiii", (int32_t)d.x, (int32_t)d.y, (int32_t)d.width,
				  (int32_t)d.height);
		ch->updates_sent++;
	} else if (moved != l->cursor_moved) {
		ch->ops->cursor(ch->opaque, &ch->cursor, &image, &moved);
		r = listener_call(l, "MouseSet", "iii", (int32_t)ch->cursor.x,
				  (int32_t)ch->cursor.y, (int32_t)ch->cursor.visible);
		l->cursor_moved = moved;
	} else {
		return;
	}
	l->told = true;
	if (r < 0) {
		log_info("Display listener: cannot call it: %s; dropping it", strerror(-r));
		listener_close(l);
		timer_update(ch);
		return;
	}
	bus_watch_rearm(l->bus, ch->loop, &l->watch);
}

static int listener_replied(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct display_listener *l = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	l->call = sd_bus_slot_unref(l->call);
	if (e) {
		/* Closed by listener_ready once sd-bus is done with the connection. */
		log_info("Display listener: %s; dropping it", e->message ? e->message : e->name);
		l->failed = true;
		return 0;
	}
	listener_flush(l);
	return 0;
}

static void listener_ready(struct watch *w, uint32_t events)
{
	struct display_listener *l = container_of(w, struct display_listener, watch);

	if (!bus_watch_process(l->bus, l->channel->loop, &l->watch, "Display listener") ||
	    l->failed) {
		listener_close(l);
		timer_update(l->channel);
		return;
	}
	listener_flush(l); /* it may have just authenticated */
}

static int add_listener(struct display_channel *ch, int fd, sd_bus_error *error)
{
	struct display_listener *l = NULL;
	_cleanup_close_ int owned = -1;
	sd_bus *bus = NULL;
	int r;

	for (unsigned i = 0; i < DISPLAY_MAX_LISTENERS && !l; i++)
		if (!ch->listeners[i].bus)
			l = &ch->listeners[i];
	if (!l)
		return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					"Too many display listeners");
	owned = unix_socket_take_passed(fd);
	if (owned == -ENOTSOCK)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"A listener is a connected socket");
	if (owned < 0)
		return sd_bus_error_set_errnof(error, -owned, "Cannot take the listener: %s",
					       strerror(-owned));
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, owned, owned);
	if (r >= 0)
		owned = -1;
	/* Scanout passes the pixels' memfd. */
	if (r >= 0)
		r = sd_bus_negotiate_fds(bus, 1);
	/* The viewer made the socket: its peer credentials are its own, not ours, and an
	 * EXTERNAL uid of ours would not match them. */
	if (r >= 0)
		r = sd_bus_set_anonymous(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return sd_bus_error_set_errnof(error, -r, "Cannot connect to the listener: %s",
					       strerror(-r));
	}
	*l = (struct display_listener){
		.channel = ch,
		.bus = bus,
		.watch = { .fd = sd_bus_get_fd(bus), .ready = listener_ready },
	};
	r = event_loop_add(ch->loop, &l->watch, bus_watch_events(bus));
	if (r < 0) {
		l->bus = sd_bus_close_unref(bus);
		return sd_bus_error_set_errnof(error, -r, "Cannot watch the listener: %s",
					       strerror(-r));
	}
	listener_flush(l);
	timer_update(ch);
	return 0;
}

static void timer_ready(struct watch *w, uint32_t events)
{
	struct display_channel *ch = container_of(w, struct display_channel, timer);
	struct display_scanout s;
	struct display_rect damage = {};
	uint64_t expirations, generation;

	if (read(w->fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (ch->ops->scanout(ch->opaque, &s, &generation) == 0)
		ch->ops->damage(ch->opaque, &s, &damage);
	if (!display_rect_empty(&damage)) {
		ch->quiet_ticks = 0;
		timer_set(ch, DISPLAY_REFRESH_BUSY_MS);
	} else if (ch->timer_ms == DISPLAY_REFRESH_BUSY_MS &&
		   ++ch->quiet_ticks >= DISPLAY_BUSY_TICKS) {
		timer_set(ch, DISPLAY_REFRESH_IDLE_MS);
	}
	for (unsigned i = 0; i < DISPLAY_MAX_LISTENERS; i++) {
		struct display_listener *l = &ch->listeners[i];

		if (!l->bus)
			continue;
		display_rect_union(&l->damage, &damage);
		listener_flush(l);
	}
}

/* ---- org.phyllome.VMM1.Display ---- */

static int method_register_listener(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	int fd, r;

	r = sd_bus_message_read(m, "h", &fd);
	if (r < 0)
		return r;
	if (!ch->ops)
		return sd_bus_error_set(error, PHYLLOME_VMM1_ERROR_NO_DISPLAY,
					"The VM has no display");
	r = add_listener(ch, fd, error);
	return r < 0 ? r : sd_bus_reply_method_return(m, NULL);
}

static int send_input(sd_bus_message *m, struct virtio_input *in, const char *what,
		      const struct virtio_input_event *events, unsigned count, sd_bus_error *error)
{
	if (!in)
		return sd_bus_error_setf(error, PHYLLOME_VMM1_ERROR_NO_INPUT, "The VM has no %s",
					 what);
	virtio_input_send(in, events, count);
	return sd_bus_reply_method_return(m, NULL);
}

static int key(sd_bus_message *m, struct display_channel *ch, int32_t value, sd_bus_error *error)
{
	uint32_t code;
	int r = sd_bus_message_read(m, "u", &code);

	if (r < 0)
		return r;
	if (ch->keyboard &&
	    (code > UINT16_MAX || !virtio_input_has_key(ch->keyboard, (uint16_t)code)))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "%u is not a key the keyboard has", code);
	return send_input(m, ch->keyboard, "keyboard",
			  &(struct virtio_input_event){ EV_KEY, (uint16_t)code, value }, 1, error);
}

static int method_key_press(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return key(m, userdata, 1, error);
}

static int method_key_release(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return key(m, userdata, 0, error);
}

static int32_t scale(uint32_t v, unsigned size)
{
	if (size < 2)
		return 0;
	if (v >= size)
		v = size - 1;
	return (int32_t)((uint64_t)v * VIRTIO_INPUT_ABS_MAX / (size - 1));
}

static int method_pointer_move(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	struct display_scanout s;
	uint64_t generation;
	uint32_t x, y;
	int r = sd_bus_message_read(m, "uu", &x, &y);

	if (r < 0)
		return r;
	/* Positions are in the scanout's pixels; beyond its edge means at its edge. */
	if (!ch->ops || ch->ops->scanout(ch->opaque, &s, &generation) < 0)
		return sd_bus_error_set(error, PHYLLOME_VMM1_ERROR_NO_DISPLAY,
					"The guest shows nothing to point at");
	return send_input(m, ch->tablet, "pointer",
			  (struct virtio_input_event[]){ { EV_ABS, ABS_X, scale(x, s.width) },
							 { EV_ABS, ABS_Y, scale(y, s.height) } },
			  2, error);
}

static int button(sd_bus_message *m, struct display_channel *ch, int32_t value, sd_bus_error *error)
{
	uint32_t code;
	int r = sd_bus_message_read(m, "u", &code);

	if (r < 0)
		return r;
	if (ch->tablet && (code > UINT16_MAX || !virtio_input_has_key(ch->tablet, (uint16_t)code)))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "%u is not a button the pointer has", code);
	return send_input(m, ch->tablet, "pointer",
			  &(struct virtio_input_event){ EV_KEY, (uint16_t)code, value }, 1, error);
}

static int method_pointer_press(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return button(m, userdata, 1, error);
}

static int method_pointer_release(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return button(m, userdata, 0, error);
}

static int32_t clamp_scroll(int32_t v)
{
	return v > MAX_SCROLL ? MAX_SCROLL : v < -MAX_SCROLL ? -MAX_SCROLL : v;
}

static int method_pointer_scroll(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	struct virtio_input_event events[2];
	unsigned n = 0;
	int32_t dx, dy;
	int r = sd_bus_message_read(m, "ii", &dx, &dy);

	if (r < 0)
		return r;
	/* Down and right are positive here, as in GTK; evdev's wheel counts away from the user. */
	if (dy)
		events[n++] = (struct virtio_input_event){ EV_REL, REL_WHEEL, -clamp_scroll(dy) };
	if (dx)
		events[n++] = (struct virtio_input_event){ EV_REL, REL_HWHEEL, clamp_scroll(dx) };
	if (!n)
		return sd_bus_reply_method_return(m, NULL);
	return send_input(m, ch->tablet, "pointer", events, n, error);
}

static int method_set_size_hint(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	uint32_t width, height;
	int r = sd_bus_message_read(m, "uu", &width, &height);

	if (r < 0)
		return r;
	if (!width || !height || width > MAX_HINT || height > MAX_HINT)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "%ux%u is not a size (1 to %u pixels each way)", width,
					 height, MAX_HINT);
	ch->hint_width = width;
	ch->hint_height = height;
	if (ch->ops && ch->ops->size_hint)
		ch->ops->size_hint(ch->opaque, width, height);
	return sd_bus_reply_method_return(m, NULL);
}

int display_channel_method_screenshot(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	struct stat st;
	int fd, r;

	r = sd_bus_message_read(m, "h", &fd);
	if (r < 0)
		return r;
	/*
	 * A regular file only: the PNG is written here, on the main loop, and a
	 * pipe or socket whose reader stops reading would hold the loop (the
	 * control channel, signals) for as long as it pleased. (Options come
	 * later: a scanout, a format; none is taken yet.)
	 */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"Screenshot writes to a regular file");
	r = ch->ops ? ch->ops->screenshot(ch->opaque, fd) : -ENODEV;
	if (r == -ENODEV)
		return sd_bus_error_set(error, PHYLLOME_VMM1_ERROR_NO_DISPLAY,
					"The VM has no display");
	if (r == -ENODATA)
		return sd_bus_error_set(error, PHYLLOME_VMM1_ERROR_NO_DISPLAY,
					"The guest has not turned its display on");
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "Cannot take the screenshot: %s",
					       strerror(-r));
	return sd_bus_reply_method_return(m, NULL);
}

static int property_has(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct display_channel *ch = userdata;
	bool has = strcmp(property, "Keyboard") == 0  ? ch->keyboard != NULL
		   : strcmp(property, "Pointer") == 0 ? ch->tablet != NULL
						      : ch->ops != NULL;

	return sd_bus_message_append(reply, "b", (int)has);
}

static const sd_bus_vtable display_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Display", "b", property_has, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Keyboard", "b", property_has, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Pointer", "b", property_has, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("RegisterListener", "h", "", method_register_listener, 0),
	SD_BUS_METHOD("KeyPress", "u", "", method_key_press, 0),
	SD_BUS_METHOD("KeyRelease", "u", "", method_key_release, 0),
	SD_BUS_METHOD("PointerMove", "uu", "", method_pointer_move, 0),
	SD_BUS_METHOD("PointerPress", "u", "", method_pointer_press, 0),
	SD_BUS_METHOD("PointerRelease", "u", "", method_pointer_release, 0),
	SD_BUS_METHOD("PointerScroll", "ii", "", method_pointer_scroll, 0),
	SD_BUS_METHOD("SetSizeHint", "uu", "", method_set_size_hint, 0),
	SD_BUS_METHOD("Screenshot", "ha{sv}", "", display_channel_method_screenshot, 0),
	SD_BUS_VTABLE_END,
};

int display_channel_serve(struct display_channel *ch, sd_bus *bus)
{
	return sd_bus_add_object_vtable(bus, NULL, PHYLLOME_VMM1_PATH,
					PHYLLOME_VMM1_DISPLAY_INTERFACE, display_vtable, ch);
}

void display_channel_init(struct display_channel *ch, struct event_loop *loop)
{
	*ch = (struct display_channel){
		.loop = loop,
		.timer = { .fd = -1, .ready = timer_ready },
	};
	for (unsigned i = 0; i < DISPLAY_MAX_LISTENERS; i++)
		ch->listeners[i].watch.fd = -1;
}

int display_channel_set_source(struct display_channel *ch, const struct display_source_ops *ops,
			       void *opaque)
{
	int r;

	for (unsigned i = 0; i < DISPLAY_MAX_LISTENERS; i++)
		listener_close(&ch->listeners[i]);
	if (ch->timer.fd >= 0) {
		event_loop_remove(ch->loop, &ch->timer);
		close(ch->timer.fd);
		ch->timer.fd = -1;
	}
	ch->timer_ms = 0;
	ch->quiet_ticks = 0;
	ch->ops = ops;
	ch->opaque = opaque;
	if (!ops)
		return 0;
	ch->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ch->timer.fd < 0)
		return log_error_errno(errno, "Cannot create the display's refresh timer: %m");
	r = event_loop_add(ch->loop, &ch->timer, EPOLLIN);
	if (r < 0) {
		close(ch->timer.fd);
		ch->timer.fd = -1;
		return log_error_errno(-r, "Cannot watch the display's refresh timer: %m");
	}
	return 0;
}

void display_channel_set_input(struct display_channel *ch, struct virtio_input *keyboard,
			       struct virtio_input *tablet)
{
	ch->keyboard = keyboard;
	ch->tablet = tablet;
}

void display_channel_done(struct display_channel *ch)
{
	if (ch->updates_sent)
		log_debug("Display: %llu updates sent to listeners",
			  (unsigned long long)ch->updates_sent);
	(void)display_channel_set_source(ch, NULL, NULL);
	display_channel_set_input(ch, NULL, NULL);
}

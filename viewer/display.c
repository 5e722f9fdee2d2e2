/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phyllome-vmm1.h"

#define FORMAT_XRGB8888 0x34325258
#define FORMAT_RGB888 0x34324752
#define FORMAT_RGB565 0x36314752
#define FORMAT_XRGB1555 0x35315258
#define MAX_SIDE 16384

static const char listener_xml[] =
    "<node><interface name='" PHYLLOME_VMM1_LISTENER_INTERFACE "'>"
    "<method name='Scanout'><arg type='h' direction='in'/><arg type='t' direction='in'/>"
    "<arg type='u' direction='in'/><arg type='u' direction='in'/><arg type='u' direction='in'/>"
    "<arg type='u' direction='in'/></method>"
    "<method name='Update'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/><arg type='i' direction='in'/></method>"
    "<method name='Disable'/>"
    "<method name='CursorDefine'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/><arg type='i' direction='in'/><arg type='ay' direction='in'/>"
    "</method>"
    "<method name='MouseSet'><arg type='i' direction='in'/><arg type='i' direction='in'/>"
    "<arg type='i' direction='in'/></method>"
    "</interface></node>";

struct ViewerDisplay {
	ViewerDisplayCallbacks callbacks;
	gpointer user;
	GDBusConnection *channel;  /* to the monitor's display interface */
	GDBusConnection *listener; /* the monitor calls us here */
	GCancellable *cancellable;
	gulong closed_handler;
	guint registration;
	/* The scanout: the monitor's memfd, mapped read-only. */
	const guint8 *map;
	gsize map_size;
	guint64 offset;
	guint width, height, stride, format;
	/* What we show: B, G, R, A (opaque), width * 4 a row. */
	guint8 *pixels;
	gboolean cursor_image; /* the guest defined a pointer image we show */
};

static void unmap(ViewerDisplay *d)
{
	if (d->map)
		munmap((void *)d->map, d->map_size);
	d->map = NULL;
	g_clear_pointer(&d->pixels, g_free);
}

static guint bytes_per_pixel(guint format)
{
	switch (format) {
	case FORMAT_XRGB8888:
		return 4;
	case FORMAT_RGB888:
		return 3;
	case FORMAT_RGB565:
	case FORMAT_XRGB1555:
		return 2;
	default:
		return 0;
	}
}

/* The rectangle's pixels, from the guest's format into ours. */
static void convert(ViewerDisplay *d, guint x, guint y, guint w, guint h)
{
	for (guint row = y; row < y + h; row++) {
		const guint8 *src = d->map + d->offset + (guint64)row * d->stride;
		guint8 *dst = d->pixels + ((gsize)row * d->width + x) * 4;

		for (guint col = x; col < x + w; col++, dst += 4) {
			guint16 v;

			switch (d->format) {
			case FORMAT_XRGB8888:
				memcpy(dst, src + col * 4, 3);
				break;
			case FORMAT_RGB888:
				memcpy(dst, src + col * 3, 3);
				break;
			case FORMAT_RGB565:
				v = (guint16)(src[col * 2] | src[col * 2 + 1] << 8);
				dst[0] = (guint8)((v & 0x1f) << 3);
				dst[1] = (guint8)(((v >> 5) & 0x3f) << 2);
				dst[2] = (guint8)((v >> 11) << 3);
				break;
			default: /* XRGB1555 */
				v = (guint16)(src[col * 2] | src[col * 2 + 1] << 8);
				dst[0] = (guint8)((v & 0x1f) << 3);
				dst[1] = (guint8)(((v >> 5) & 0x1f) << 3);
				dst[2] = (guint8)(((v >> 10) & 0x1f) << 3);
				break;
			}
			dst[3] = 0xff;
		}
	}
}

static void show(ViewerDisplay *d)
{
	g_autoptr(GBytes) bytes = g_bytes_new(d->pixels, (gsize)d->width * d->height * 4);
	g_autoptr(GdkTexture) texture = gdk_memory_texture_new(
	    (int)d->width, (int)d->height, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes, d->width * 4);

	d->callbacks.frame(d->user, texture);
}

/*
 * The monitor is not trusted with our memory: the descriptor must be a
 * memfd sealed against shrinking (else it could shrink under our mapping
 * and fault us), big enough for what it claims, in a format we know.
 */
static gboolean take_scanout(ViewerDisplay *d, int fd, guint64 offset, guint width, guint height,
			     guint stride, guint format, GError **error)
{
	guint bpp = bytes_per_pixel(format);
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *map;

	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "The scanout is not a sealed memfd");
		return FALSE;
	}
	if (!bpp || !width || !height || width > MAX_SIDE || height > MAX_SIDE ||
	    stride < (guint64)width * bpp || offset > (guint64)st.st_size ||
	    (guint64)stride * (height - 1) + (guint64)width * bpp > (guint64)st.st_size - offset) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "The scanout (%ux%u, stride %u, format %08x) does not fit its memfd",
			    width, height, stride, format);
		return FALSE;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "Cannot map the scanout: %s", g_strerror(errno));
		return FALSE;
	}
	unmap(d);
	d->map = map;
	d->map_size = (gsize)st.st_size;
	d->offset = offset;
	d->width = width;
	d->height = height;
	d->stride = stride;
	d->format = format;
	d->pixels = g_malloc((gsize)width * height * 4);
	convert(d, 0, 0, width, height);
	show(d);
	return TRUE;
}

static void listener_method(GDBusConnection *connection, const char *sender, const char *path,
			    const char *interface, const char *method, GVariant *params,
			    GDBusMethodInvocation *invocation, gpointer user)
{
	ViewerDisplay *d = user;
	g_autoptr(GError) error = NULL;

	if (g_str_equal(method, "Scanout")) {
		GUnixFDList *fds = g_dbus_message_get_unix_fd_list(
		    g_dbus_method_invocation_get_message(invocation));
		gint32 handle;
		guint64 offset;
		guint32 width, height, stride, format;
		int fd;

		g_variant_get(params, "(htuuuu)", &handle, &offset, &width, &height, &stride,
			      &format);
		fd = fds ? g_unix_fd_list_get(fds, handle, &error) : -1;
		if (fd < 0 || !take_scanout(d, fd, offset, width, height, stride, format, &error)) {
			if (fd >= 0)
				close(fd);
			g_dbus_method_invocation_return_error(
			    invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s",
			    error ? error->message : "Scanout without a descriptor");
			return;
		}
		close(fd);
	} else if (g_str_equal(method, "Update")) {
		gint32 x, y, w, h;

		g_variant_get(params, "(iiii)", &x, &y, &w, &h);
		if (!d->map || x < 0 || y < 0 || w <= 0 || h <= 0 || (guint)x >= d->width ||
		    (guint)y >= d->height || (guint)w > d->width - (guint)x ||
		    (guint)h > d->height - (guint)y) {
			g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR,
							      G_DBUS_ERROR_INVALID_ARGS,
							      "Update outside the scanout");
			return;
		}
		convert(d, (guint)x, (guint)y, (guint)w, (guint)h);
		show(d);
	} else if (g_str_equal(method, "CursorDefine")) {
		g_autoptr(GVariant) pixels = NULL;
		gint32 w, h, hot_x, hot_y;
		gsize size;

		g_variant_get(params, "(iiii@ay)", &w, &h, &hot_x, &hot_y, &pixels);
		size = g_variant_get_size(pixels);
		if (w <= 0 || h <= 0 || w > 256 || h > 256 || size != (gsize)w * h * 4) {
			g_dbus_method_invocation_return_error(
			    invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
			    "A cursor of %dx%d in %zu bytes", w, h, size);
			return;
		}
		{
			g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(pixels);
			g_autoptr(GdkTexture) image = gdk_memory_texture_new(
			    w, h, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes, (gsize)w * 4);

			d->cursor_image = TRUE;
			d->callbacks.cursor(d->user, image, hot_x, hot_y);
		}
	} else if (g_str_equal(method, "MouseSet")) {
		gint32 x, y, on;

		/* The host's pointer is the guest's (an absolute tablet): only whether it shows. */
		g_variant_get(params, "(iii)", &x, &y, &on);
		if (!on && d->cursor_image) {
			d->cursor_image = FALSE;
			d->callbacks.cursor(d->user, NULL, 0, 0);
		}
	} else {
		unmap(d);
		d->callbacks.disabled(d->user);
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static const GDBusInterfaceVTable listener_vtable = { .method_call = listener_method };

static void channel_closed(GDBusConnection *connection, gboolean remote_peer_vanished,
			   GError *error, gpointer user)
{
	ViewerDisplay *d = user;

	(void)error;
	d->callbacks.closed(d->user, NULL);
}

/*
 * What an asynchronous call started by a display comes back to: the display,
 * unless it was freed meanwhile (its cancellable, which we hold, says so; a
 * call that finished before the cancel can still bring a result).
 */
typedef struct {
	ViewerDisplay *d;
	GCancellable *cancellable;
} Pending;

static Pending *pending_new(ViewerDisplay *d)
{
	Pending *p = g_new(Pending, 1);

	*p = (Pending){ d, g_object_ref(d->cancellable) };
	return p;
}

/* The display, or NULL when it is gone; frees p. */
static ViewerDisplay *pending_end(Pending *p)
{
	ViewerDisplay *d = g_cancellable_is_cancelled(p->cancellable) ? NULL : p->d;

	g_object_unref(p->cancellable);
	g_free(p);
	return d;
}

static void listener_connected(GObject *source, GAsyncResult *result, gpointer user)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusNodeInfo) info = NULL;
	g_autoptr(GDBusConnection) connection = g_dbus_connection_new_finish(result, &error);
	ViewerDisplay *d = pending_end(user);

	if (!d)
		return;
	if (!connection) {
		g_warning("The monitor did not connect to our listener: %s", error->message);
		return;
	}
	d->listener = g_object_ref(connection);
	info = g_dbus_node_info_new_for_xml(listener_xml, NULL);
	d->registration = g_dbus_connection_register_object(connection, PHYLLOME_VMM1_LISTENER_PATH,
							    info->interfaces[0], &listener_vtable,
							    d, NULL, &error);
	if (!d->registration)
		g_warning("Cannot serve the listener: %s", error->message);
	/* The monitor may have called already: its Scanout waited for the object. */
	g_dbus_connection_start_message_processing(connection);
}

static void registered(GObject *source, GAsyncResult *result, gpointer user)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish(
	    G_DBUS_CONNECTION(source), NULL, result, &error);
	ViewerDisplay *d = pending_end(user);

	if (d && !reply) {
		g_dbus_error_strip_remote_error(error);
		d->callbacks.closed(d->user, error->message);
	}
}

static GIOStream *stream_from_fd(int fd, GError **error)
{
	g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, error);

	if (!socket) {
		close(fd);
		return NULL;
	}
	return G_IO_STREAM(g_socket_connection_factory_create_connection(socket));
}

ViewerDisplay *viewer_display_open(int fd, const ViewerDisplayCallbacks *callbacks, gpointer user,
				   GError **error)
{
	g_autoptr(ViewerDisplay) d = g_new0(ViewerDisplay, 1);
	g_autoptr(GIOStream) stream = stream_from_fd(fd, error);
	g_autoptr(GIOStream) listener_stream = NULL;
	g_autoptr(GUnixFDList) passed = NULL;
	g_autofree char *guid = g_dbus_generate_guid();
	int sv[2];

	d->callbacks = *callbacks;
	d->user = user;
	d->cancellable = g_cancellable_new();
	if (!stream)
		return NULL;
	d->channel = g_dbus_connection_new_sync(
	    stream, NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, error);
	if (!d->channel)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socketpair: %s",
			    g_strerror(errno));
		return NULL;
	}
	listener_stream = stream_from_fd(sv[0], error);
	if (!listener_stream) {
		close(sv[1]);
		return NULL;
	}
	/* The monitor authenticates anonymously: the socket is its credential. Its calls wait
	 * until the listener object is there. */
	g_dbus_connection_new(listener_stream, guid,
			      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
				  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS |
				  G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
			      NULL, d->cancellable, listener_connected, pending_new(d));
	passed = g_unix_fd_list_new_from_array(&sv[1], 1);
	g_dbus_connection_call_with_unix_fd_list(
	    d->channel, NULL, PHYLLOME_VMM1_PATH, PHYLLOME_VMM1_DISPLAY_INTERFACE,
	    "RegisterListener", g_variant_new("(h)", 0), NULL, G_DBUS_CALL_FLAGS_NONE, -1, passed,
	    d->cancellable, registered, pending_new(d));
	d->closed_handler = g_signal_connect(d->channel, "closed", G_CALLBACK(channel_closed), d);
	return g_steal_pointer(&d);
}

void viewer_display_free(ViewerDisplay *d)
{
	if (!d)
		return;
	g_cancellable_cancel(d->cancellable);
	g_clear_object(&d->cancellable);
	if (d->channel) {
		g_clear_signal_handler(&d->closed_handler, d->channel);
		(void)g_dbus_connection_close_sync(d->channel, NULL, NULL);
		g_clear_object(&d->channel);
	}
	if (d->listener) {
		if (d->registration)
			g_dbus_connection_unregister_object(d->listener, d->registration);
		(void)g_dbus_connection_close_sync(d->listener, NULL, NULL);
		g_clear_object(&d->listener);
	}
	unmap(d);
	g_free(d);
}

static void call(ViewerDisplay *d, const char *method, GVariant *params)
{
	if (!d->channel || g_dbus_connection_is_closed(d->channel)) {
		g_variant_unref(g_variant_ref_sink(params));
		return;
	}
	/* In order, unanswered: a refused key (none on this VM) is nothing to stop for. */
	g_dbus_connection_call(d->channel, NULL, PHYLLOME_VMM1_PATH,
			       PHYLLOME_VMM1_DISPLAY_INTERFACE, method, params, NULL,
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

void viewer_display_key(ViewerDisplay *d, guint code, gboolean pressed)
{
	call(d, pressed ? "KeyPress" : "KeyRelease", g_variant_new("(u)", code));
}

void viewer_display_pointer_move(ViewerDisplay *d, guint x, guint y)
{
	call(d, "PointerMove", g_variant_new("(uu)", x, y));
}

void viewer_display_button(ViewerDisplay *d, guint code, gboolean pressed)
{
	call(d, pressed ? "PointerPress" : "PointerRelease", g_variant_new("(u)", code));
}

void viewer_display_scroll(ViewerDisplay *d, int dx, int dy)
{
	call(d, "PointerScroll", g_variant_new("(ii)", dx, dy));
}

void viewer_display_size_hint(ViewerDisplay *d, guint width, guint height)
{
	call(d, "SetSizeHint", g_variant_new("(uu)", width, height));
}

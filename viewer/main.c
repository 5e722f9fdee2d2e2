/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllome-viewer NAME: a machine's screen in a window, the keyboard and
 * pointer forwarded to it. The display comes from phyllomed's
 * Machine.OpenDisplay (after polkit) as a connected socket; --socket PATH
 * talks to a monitor's control socket instead (tests, debugging). The
 * window follows the machine: a message while it is stopped, the picture
 * again when it runs.
 */
#include <gio/gunixfdlist.h>
#include <gtk/gtk.h>
#include <linux/input-event-codes.h>
#include <locale.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "display.h"
#include "phyllome-dbus-generated.h"
#include "phyllome-names.h"
#include "screen.h"

#define KEY_CODES 256
#define HINT_DELAY_MS 250
#define RETRY_MS 1000

typedef struct {
	char *name;	   /* the machine's, or the socket's path */
	char *socket_path; /* --socket */
	gboolean fullscreen_at_start;
	GDBusConnection *bus;
	PhyllomeMachine *machine;
	ViewerDisplay *display;
	GtkWindow *window;
	ViewerScreen *screen;
	GtkLabel *message;
	GtkLabel *subtitle;
	GtkWidget *grab_hint;
	GtkToggleButton *grab_button;
	gboolean grabbed;
	gboolean pressed[KEY_CODES];
	guint hint_source, retry_source;
	guint retries; /* OpenDisplay refused while the machine runs: tried again a few times */
	int hint_width, hint_height;
} Viewer;

static void set_message(Viewer *v, const char *text)
{
	gtk_label_set_text(v->message, text ? text : "");
	gtk_widget_set_visible(GTK_WIDGET(v->message), text != NULL);
}

static void release_all_keys(Viewer *v)
{
	for (guint code = 0; code < KEY_CODES; code++)
		if (v->pressed[code]) {
			v->pressed[code] = FALSE;
			if (v->display)
				viewer_display_key(v->display, code, FALSE);
		}
}

/* ---- the display channel ---- */

static void on_frame(gpointer user, GdkTexture *texture)
{
	Viewer *v = user;
	g_autofree char *size = g_strdup_printf("%d×%d", gdk_texture_get_width(texture),
						gdk_texture_get_height(texture));

	viewer_screen_set_texture(v->screen, texture);
	gtk_label_set_text(v->subtitle, size);
	set_message(v, NULL);
}

static void on_disabled(gpointer user)
{
	Viewer *v = user;

	viewer_screen_set_texture(v->screen, NULL);
	set_message(v, "The guest shows nothing on its display");
}

static gboolean reconnect(gpointer user);

static void schedule_retry(Viewer *v)
{
	if (!v->retry_source)
		v->retry_source = g_timeout_add(RETRY_MS, reconnect, v);
}

static void on_closed(gpointer user, const char *why)
{
	Viewer *v = user;
	g_autofree char *text = NULL;

	g_clear_pointer(&v->display, viewer_display_free);
	memset(v->pressed, 0, sizeof(v->pressed));
	/* A refusal says why; a channel that just went means the VM did. */
	text = why ? g_strdup_printf("%s: %s", v->name, why)
		   : g_strdup_printf("%s is not running", v->name);
	set_message(v, text);
	gtk_label_set_text(v->subtitle, why ? "" : "stopped");
	/* A monitor's socket comes back when its VM runs again; a machine says so itself. */
	if (v->socket_path)
		schedule_retry(v);
}

/* A device with a cursor plane shows the guest's pointer image as ours; without one
 * (bochs), the guest draws its pointer into the picture and ours is hidden. */
static void on_cursor(gpointer user, GdkTexture *image, int hot_x, int hot_y)
{
	Viewer *v = user;
	g_autoptr(GdkCursor) cursor = NULL;

	if (image)
		cursor = gdk_cursor_new_from_texture(image, hot_x, hot_y, NULL);
	else
		cursor = gdk_cursor_new_from_name("none", NULL);
	gtk_widget_set_cursor(GTK_WIDGET(v->screen), cursor);
}

static const ViewerDisplayCallbacks callbacks = {
	.frame = on_frame,
	.disabled = on_disabled,
	.cursor = on_cursor,
	.closed = on_closed,
};

static int connect_socket(const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: path too long",
			    path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", path,
			    g_strerror(err));
		return -1;
	}
	return fd;
}

static int open_machine_display(Viewer *v, GError **error)
{
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) handle = NULL;
	GVariantBuilder options;

	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&options, "{sv}", PHYLLOME_OPTION_INTERACTIVE,
			      g_variant_new_boolean(TRUE));
	if (!phyllome_machine_call_open_display_sync(v->machine, g_variant_builder_end(&options),
						     NULL, &handle, &fds, NULL, error))
		return -1;
	return g_unix_fd_list_get(fds, g_variant_get_handle(handle), error);
}

static gboolean open_display(Viewer *v, GError **error)
{
	int fd =
	    v->socket_path ? connect_socket(v->socket_path, error) : open_machine_display(v, error);

	if (fd < 0)
		return FALSE;
	v->display = viewer_display_open(fd, &callbacks, v, error);
	if (!v->display)
		return FALSE;
	set_message(v, "Waiting for the guest's picture…");
	if (v->hint_width > 0)
		viewer_display_size_hint(v->display, (guint)v->hint_width, (guint)v->hint_height);
	return TRUE;
}

static gboolean reconnect(gpointer user)
{
	Viewer *v = user;
	g_autoptr(GError) error = NULL;

	v->retry_source = 0;
	if (v->display)
		return G_SOURCE_REMOVE;
	if (!open_display(v, &error)) {
		g_dbus_error_strip_remote_error(error);
		set_message(v, error->message);
		/* A monitor's socket comes back with its VM; a machine that runs may need a moment.
		 */
		if (v->socket_path || v->retries++ < 10)
			schedule_retry(v);
		return G_SOURCE_REMOVE;
	}
	v->retries = 0;
	return G_SOURCE_REMOVE;
}

static void machine_state_changed(Viewer *v)
{
	const char *state = phyllome_machine_get_state(v->machine);
	g_autofree char *text = NULL;

	gtk_label_set_text(v->subtitle, state ? state : "");
	if (g_strcmp0(state, "running") == 0 || g_strcmp0(state, "paused") == 0) {
		/* The monitor's control channel is up once phyllomed says "running". */
		if (!v->display) {
			v->retries = 0;
			schedule_retry(v);
		}
		return;
	}
	if (!v->display) {
		text = g_strdup_printf("%s is %s", v->name, state ? state : "unknown");
		set_message(v, text);
	}
}

/* ---- input ---- */

static guint evdev_button(guint gtk_button)
{
	switch (gtk_button) {
	case GDK_BUTTON_PRIMARY:
		return BTN_LEFT;
	case GDK_BUTTON_MIDDLE:
		return BTN_MIDDLE;
	case GDK_BUTTON_SECONDARY:
		return BTN_RIGHT;
	case 8:
		return BTN_SIDE;
	case 9:
		return BTN_EXTRA;
	default:
		return 0;
	}
}

static void set_grab(Viewer *v, gboolean grab)
{
	GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(v->window));

	if (grab == v->grabbed || !GDK_IS_TOPLEVEL(surface))
		return;
	v->grabbed = grab;
	/* The desktop's own shortcuts (Alt+Tab, Super) go to the guest while grabbed. */
	if (grab)
		gdk_toplevel_inhibit_system_shortcuts(GDK_TOPLEVEL(surface), NULL);
	else
		gdk_toplevel_restore_system_shortcuts(GDK_TOPLEVEL(surface));
	gtk_widget_set_visible(v->grab_hint, grab);
	gtk_toggle_button_set_active(v->grab_button, grab);
}

static void toggle_fullscreen(Viewer *v)
{
	if (gtk_window_is_fullscreen(v->window))
		gtk_window_unfullscreen(v->window);
	else
		gtk_window_fullscreen(v->window);
}

static gboolean key_pressed(GtkEventControllerKey *controller, guint keyval, guint keycode,
			    GdkModifierType state, gpointer user)
{
	Viewer *v = user;
	guint code = keycode - 8; /* XKB keycodes are evdev's plus 8, on X11 and Wayland alike */
	GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask();

	if (keyval == GDK_KEY_F11 && !mods) {
		toggle_fullscreen(v);
		return TRUE;
	}
	if ((keyval == GDK_KEY_g || keyval == GDK_KEY_G) &&
	    mods == (GDK_CONTROL_MASK | GDK_ALT_MASK)) {
		release_all_keys(v);
		set_grab(v, !v->grabbed);
		return TRUE;
	}
	if (keycode < 8 || code >= KEY_CODES || !v->display)
		return TRUE;
	/* A held key: the guest repeats it itself. */
	if (!v->pressed[code]) {
		v->pressed[code] = TRUE;
		viewer_display_key(v->display, code, TRUE);
	}
	return TRUE;
}

static void key_released(GtkEventControllerKey *controller, guint keyval, guint keycode,
			 GdkModifierType state, gpointer user)
{
	Viewer *v = user;
	guint code = keycode - 8;

	if (keycode < 8 || code >= KEY_CODES || !v->pressed[code])
		return;
	v->pressed[code] = FALSE;
	if (v->display)
		viewer_display_key(v->display, code, FALSE);
}

static void pointer_moved(GtkEventControllerMotion *controller, double x, double y, gpointer user)
{
	Viewer *v = user;
	guint gx, gy;

	if (v->display && viewer_screen_to_guest(v->screen, x, y, &gx, &gy))
		viewer_display_pointer_move(v->display, gx, gy);
}

static void button_event(GtkGestureClick *gesture, double x, double y, gboolean pressed, Viewer *v)
{
	guint button =
	    evdev_button(gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(gesture)));
	guint gx, gy;

	gtk_widget_grab_focus(GTK_WIDGET(v->screen));
	if (!v->display || !button)
		return;
	if (viewer_screen_to_guest(v->screen, x, y, &gx, &gy))
		viewer_display_pointer_move(v->display, gx, gy);
	viewer_display_button(v->display, button, pressed);
}

static void button_pressed(GtkGestureClick *gesture, int n_press, double x, double y, gpointer user)
{
	button_event(gesture, x, y, TRUE, user);
}

static void button_released(GtkGestureClick *gesture, int n_press, double x, double y,
			    gpointer user)
{
	button_event(gesture, x, y, FALSE, user);
}

static gboolean scrolled(GtkEventControllerScroll *controller, double dx, double dy, gpointer user)
{
	Viewer *v = user;

	if (v->display && (dx || dy))
		viewer_display_scroll(v->display, (int)dx, (int)dy);
	return TRUE;
}

/* The guest may follow the window's size (virtio-gpu does; the bochs display keeps its mode). */
static gboolean send_size_hint(gpointer user)
{
	Viewer *v = user;

	v->hint_source = 0;
	if (v->display && v->hint_width > 0)
		viewer_display_size_hint(v->display, (guint)v->hint_width, (guint)v->hint_height);
	return G_SOURCE_REMOVE;
}

static void screen_resized(GtkWidget *widget, GParamSpec *pspec, gpointer user)
{
	Viewer *v = user;
	int scale = gtk_widget_get_scale_factor(widget);
	int w = gtk_widget_get_width(widget) * scale, h = gtk_widget_get_height(widget) * scale;

	if (w <= 0 || h <= 0 || (w == v->hint_width && h == v->hint_height))
		return;
	v->hint_width = w;
	v->hint_height = h;
	if (!v->hint_source)
		v->hint_source = g_timeout_add(HINT_DELAY_MS, send_size_hint, v);
}

static void window_active_changed(GtkWindow *window, GParamSpec *pspec, gpointer user)
{
	Viewer *v = user;

	/* Keys held when the window lost the keyboard would stay down in the guest. */
	if (!gtk_window_is_active(window)) {
		release_all_keys(v);
		set_grab(v, FALSE);
	}
}

static void send_ctrl_alt_del(GtkButton *button, gpointer user)
{
	Viewer *v = user;
	static const guint keys[] = { KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE };

	if (!v->display)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		viewer_display_key(v->display, keys[i], TRUE);
	for (guint i = G_N_ELEMENTS(keys); i-- > 0;)
		viewer_display_key(v->display, keys[i], FALSE);
	gtk_widget_grab_focus(GTK_WIDGET(v->screen));
}

static void grab_toggled(GtkToggleButton *button, gpointer user)
{
	Viewer *v = user;

	set_grab(v, gtk_toggle_button_get_active(button));
	gtk_widget_grab_focus(GTK_WIDGET(v->screen));
}

static void fullscreen_clicked(GtkButton *button, gpointer user)
{
	toggle_fullscreen(user);
}

/* ---- the window ---- */

static GtkWidget *header_bar(Viewer *v)
{
	GtkWidget *bar = gtk_header_bar_new();
	GtkWidget *titles = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *title = gtk_label_new(v->name);
	GtkWidget *cad = gtk_button_new_with_label("Ctrl+Alt+Del");
	GtkWidget *grab = gtk_toggle_button_new();
	GtkWidget *full = gtk_button_new_from_icon_name("view-fullscreen-symbolic");

	gtk_widget_add_css_class(title, "title");
	v->subtitle = GTK_LABEL(gtk_label_new(""));
	gtk_widget_add_css_class(GTK_WIDGET(v->subtitle), "subtitle");
	gtk_box_append(GTK_BOX(titles), title);
	gtk_box_append(GTK_BOX(titles), GTK_WIDGET(v->subtitle));
	gtk_widget_set_valign(titles, GTK_ALIGN_CENTER);
	gtk_header_bar_set_title_widget(GTK_HEADER_BAR(bar), titles);

	gtk_widget_set_tooltip_text(cad, "Send Ctrl+Alt+Del to the guest");
	g_signal_connect(cad, "clicked", G_CALLBACK(send_ctrl_alt_del), v);
	gtk_button_set_icon_name(GTK_BUTTON(grab), "input-keyboard-symbolic");
	gtk_widget_set_tooltip_text(grab, "Send the desktop's shortcuts to the guest (Ctrl+Alt+G)");
	v->grab_button = GTK_TOGGLE_BUTTON(grab);
	g_signal_connect(grab, "toggled", G_CALLBACK(grab_toggled), v);
	gtk_widget_set_tooltip_text(full, "Fullscreen (F11)");
	g_signal_connect(full, "clicked", G_CALLBACK(fullscreen_clicked), v);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(bar), cad);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), full);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), grab);
	return bar;
}

static void activate(GtkApplication *app, gpointer user)
{
	Viewer *v = user;
	GtkWidget *overlay = gtk_overlay_new();
	GtkEventController *keys = gtk_event_controller_key_new();
	GtkEventController *motion = gtk_event_controller_motion_new();
	GtkEventController *scroll = gtk_event_controller_scroll_new(
	    GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
	GtkGesture *click = gtk_gesture_click_new();
	g_autoptr(GError) error = NULL;

	v->window = GTK_WINDOW(gtk_application_window_new(app));
	gtk_window_set_title(v->window, v->name);
	gtk_window_set_titlebar(v->window, header_bar(v));
	v->screen = VIEWER_SCREEN(viewer_screen_new());
	/* The guest draws its own pointer. */
	gtk_widget_set_cursor_from_name(GTK_WIDGET(v->screen), "none");
	gtk_overlay_set_child(GTK_OVERLAY(overlay), GTK_WIDGET(v->screen));

	v->message = GTK_LABEL(gtk_label_new(""));
	gtk_widget_add_css_class(GTK_WIDGET(v->message), "osd");
	gtk_widget_set_halign(GTK_WIDGET(v->message), GTK_ALIGN_CENTER);
	gtk_widget_set_valign(GTK_WIDGET(v->message), GTK_ALIGN_CENTER);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), GTK_WIDGET(v->message));
	v->grab_hint = gtk_label_new("Keyboard grabbed: Ctrl+Alt+G releases it");
	gtk_widget_add_css_class(v->grab_hint, "osd");
	gtk_widget_set_halign(v->grab_hint, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(v->grab_hint, GTK_ALIGN_START);
	gtk_widget_set_visible(v->grab_hint, FALSE);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), v->grab_hint);
	gtk_window_set_child(v->window, overlay);

	/* Every key goes to the guest, before the window's own bindings see it. */
	gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
	g_signal_connect(keys, "key-pressed", G_CALLBACK(key_pressed), v);
	g_signal_connect(keys, "key-released", G_CALLBACK(key_released), v);
	gtk_widget_add_controller(GTK_WIDGET(v->window), keys);
	g_signal_connect(motion, "motion", G_CALLBACK(pointer_moved), v);
	gtk_widget_add_controller(GTK_WIDGET(v->screen), motion);
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), 0);
	g_signal_connect(click, "pressed", G_CALLBACK(button_pressed), v);
	g_signal_connect(click, "released", G_CALLBACK(button_released), v);
	gtk_widget_add_controller(GTK_WIDGET(v->screen), GTK_EVENT_CONTROLLER(click));
	g_signal_connect(scroll, "scroll", G_CALLBACK(scrolled), v);
	gtk_widget_add_controller(GTK_WIDGET(v->screen), scroll);
	g_signal_connect(v->screen, "notify::width", G_CALLBACK(screen_resized), v);
	g_signal_connect(v->screen, "notify::height", G_CALLBACK(screen_resized), v);
	g_signal_connect(v->window, "notify::is-active", G_CALLBACK(window_active_changed), v);

	gtk_window_set_default_size(v->window, 1024, 768);
	if (v->fullscreen_at_start)
		gtk_window_fullscreen(v->window);
	gtk_window_present(v->window);
	gtk_widget_grab_focus(GTK_WIDGET(v->screen));

	if (v->machine) {
		g_signal_connect_swapped(v->machine, "notify::state",
					 G_CALLBACK(machine_state_changed), v);
		machine_state_changed(v);
	} else if (!open_display(v, &error)) {
		set_message(v, error->message);
		schedule_retry(v);
	}
}

static PhyllomeMachine *find_machine(Viewer *v, GError **error)
{
	g_autoptr(PhyllomeManager) manager = NULL;
	g_autofree char *path = NULL;

	v->bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
	if (!v->bus)
		return NULL;
	manager =
	    phyllome_manager_proxy_new_sync(v->bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
					    PHYLLOME_BUS_NAME, PHYLLOME_MANAGER_PATH, NULL, error);
	if (!manager ||
	    !phyllome_manager_call_get_machine_sync(manager, v->name, &path, NULL, error))
		return NULL;
	return phyllome_machine_proxy_new_sync(v->bus, G_DBUS_PROXY_FLAGS_NONE, PHYLLOME_BUS_NAME,
					       path, NULL, error);
}

int main(int argc, char **argv)
{
	Viewer v = { 0 };
	g_autoptr(GtkApplication) app = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) rest = NULL;
	gboolean version = FALSE;
	GOptionEntry entries[] = {
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &v.socket_path,
		  "A monitor's control socket to show, instead of a machine of phyllomed's",
		  "PATH" },
		{ "fullscreen", 'f', 0, G_OPTION_ARG_NONE, &v.fullscreen_at_start,
		  "Start in fullscreen (F11 leaves it)", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version", NULL },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, "NAME" },
		{ NULL },
	};
	int status;

	setlocale(LC_ALL, "");
	context = g_option_context_new("NAME");
	g_option_context_set_summary(
	    context, "Shows a Phyllome machine's screen and drives its keyboard and "
		     "pointer.\nF11: fullscreen. Ctrl+Alt+G: send the desktop's "
		     "shortcuts to the guest, or stop.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("phyllome-viewer: %s\n", error->message);
		return 2;
	}
	if (version) {
		g_print("phyllome-viewer %s\n", PHYLLOME_VERSION);
		return 0;
	}
	if ((!rest || g_strv_length(rest) != 1) && !v.socket_path) {
		g_printerr("phyllome-viewer: which machine? Try 'phyllome-viewer --help'.\n");
		return 2;
	}
	v.name = g_strdup(rest && rest[0] ? rest[0] : v.socket_path);
	if (!v.socket_path) {
		v.machine = find_machine(&v, &error);
		if (!v.machine) {
			g_dbus_error_strip_remote_error(error);
			g_printerr("phyllome-viewer: %s: %s\n", v.name, error->message);
			return 1;
		}
	}
	app = gtk_application_new("org.phyllome.Viewer", G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(activate), &v);
	status = g_application_run(G_APPLICATION(app), 1, argv);
	g_clear_handle_id(&v.hint_source, g_source_remove);
	g_clear_handle_id(&v.retry_source, g_source_remove);
	g_clear_pointer(&v.display, viewer_display_free);
	g_clear_object(&v.machine);
	g_clear_object(&v.bus);
	g_free(v.name);
	g_free(v.socket_path);
	return status;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "methods.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config-variant.h"
#include "console-relay.h"
#include "firmware.h"
#include "machine-private.h"
#include "passthrough.h"
#include "phyllome-error.h"
#include "phyllome-names.h"

/* One call on its way through its row. */
typedef struct {
	Machine *machine;
	GDBusMethodInvocation *invocation;
	const MethodRow *row;
	GVariant *options; /* the call's a{sv}, its last argument */
	char *device;	   /* host device methods: the normalized PCI address */
	gboolean owner_may;
	gint64 received; /* monotonic µs */
} MethodCall;

struct MethodRow {
	const char *interface;
	const char *method;
	const char *const *options; /* accepted keys and their types: key, type, ..., NULL */
	/* Before polkit: arguments and state. FALSE when it answered the call. */
	gboolean (*check)(MethodCall *call);
	const char *action; /* the polkit action */
	gboolean owner_may; /* the owner's manage-own suffices (a check may take it back) */
	const char *verb;   /* the "verb" detail polkit rules see */
	/* After polkit: checks again what may have changed meanwhile, acts, and answers the call.
	 */
	void (*run)(MethodCall *call);
};

static gboolean return_error(GDBusMethodInvocation *invocation, int code, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
static gboolean return_error(GDBusMethodInvocation *invocation, int code, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_dbus_method_invocation_return_error_literal(invocation, PHYLLOME_ERROR, code, message);
	return FALSE;
}

gboolean methods_check_entry(const char *key, GVariant *value, const char *const *allowed,
			     const char *noun, GError **error)
{
	const char *type = NULL;

	for (const char *const *a = allowed; *a; a += 2)
		if (g_str_equal(*a, key))
			type = a[1];
	if (!type) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT,
			    "Unknown %s '%s'", noun, key);
		return FALSE;
	}
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE(type))) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT,
			    "%c%s '%s' must be of type %s, not %s", g_ascii_toupper(noun[0]),
			    noun + 1, key, type, g_variant_get_type_string(value));
		return FALSE;
	}
	return TRUE;
}

gboolean methods_check_options(GVariant *options, const char *const *allowed, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) v = value;

		if (!methods_check_entry(key, v, allowed, "option", error))
			return FALSE;
	}
	return TRUE;
}

static guint option_timeout(Machine *m, GVariant *options)
{
	guint32 timeout = m->daemon->options.stop_timeout;

	g_variant_lookup(options, PHYLLOME_OPTION_TIMEOUT, "u", &timeout);
	return timeout;
}

static gboolean option_force(GVariant *options)
{
	gboolean force = FALSE;

	g_variant_lookup(options, PHYLLOME_OPTION_FORCE, "b", &force);
	return force;
}

/* ---- the checks, before polkit and again after ---- */

static gboolean check_config(MethodCall *call)
{
	Machine *m = call->machine;

	if (!m->config)
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_CONFIG, "%s",
				    m->config_error);
	return TRUE;
}

static gboolean check_startable(MethodCall *call)
{
	Machine *m = call->machine;

	if (!check_config(call))
		return FALSE;
	if (machine_state_is_active(m->state))
		return return_error(call->invocation, PHYLLOME_ERROR_ALREADY_RUNNING,
				    "Machine '%s' is %s already", m->name,
				    machine_state_to_string(m->state));
	return TRUE;
}

static gboolean check_stoppable(MethodCall *call)
{
	Machine *m = call->machine;

	if (m->state == MACHINE_STARTING)
		return return_error(call->invocation, PHYLLOME_ERROR_BUSY,
				    "Machine '%s' is starting; stop it once it runs", m->name);
	if (!machine_state_is_active(m->state))
		return return_error(call->invocation, PHYLLOME_ERROR_NOT_RUNNING,
				    "Machine '%s' is not running", m->name);
	return TRUE;
}

static gboolean check_stop(MethodCall *call)
{
	if (option_timeout(call->machine, call->options) > 24 * 3600)
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "A timeout must be at most 86400 s");
	return check_stoppable(call);
}

static gboolean check_has_monitor(MethodCall *call)
{
	Machine *m = call->machine;

	if (!m->pid)
		return return_error(call->invocation, PHYLLOME_ERROR_NOT_RUNNING,
				    "Machine '%s' is not running", m->name);
	return TRUE;
}

/* Pause and Resume: the same checks, then the monitor's method of the same name. */
static gboolean check_pausable(MethodCall *call)
{
	Machine *m = call->machine;
	gboolean pausing = g_str_equal(call->row->method, "Pause");

	if (m->state == MACHINE_RUNNING || m->state == MACHINE_PAUSED)
		return TRUE;
	return return_error(call->invocation, PHYLLOME_ERROR_NOT_RUNNING,
			    "Machine '%s' is %s, not %s", m->name,
			    machine_state_to_string(m->state), pausing ? "running" : "paused");
}

static gboolean check_live(MethodCall *call)
{
	Machine *m = call->machine;

	if (m->state != MACHINE_RUNNING && m->state != MACHINE_PAUSED)
		return return_error(call->invocation, PHYLLOME_ERROR_NOT_RUNNING,
				    "Machine '%s' is not running", m->name);
	return TRUE;
}

static gboolean check_deletable(MethodCall *call)
{
	Machine *m = call->machine;

	if (machine_state_is_active(m->state))
		return return_error(call->invocation, PHYLLOME_ERROR_ALREADY_RUNNING,
				    "Machine '%s' is %s; stop it first", m->name,
				    machine_state_to_string(m->state));
	return TRUE;
}

static gboolean check_set_autostart(MethodCall *call)
{
	const char *when;
	Autostart autostart;
	guint32 delay;

	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation), "(&s@a{sv})",
		      &when, NULL);
	if (!autostart_from_string(when, &autostart))
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "Autostart must be no, boot or login, not '%s'", when);
	if (g_variant_lookup(call->options, PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY, "u", &delay) &&
	    delay > MACHINE_MAX_LOGOUT_DELAY)
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "stop-on-logout-delay must be at most %u seconds",
				    MACHINE_MAX_LOGOUT_DELAY);
	if (!check_config(call))
		return FALSE;
	/* A machine that starts at boot runs with nobody logged in: the administrator's to decide.
	 */
	if (autostart == AUTOSTART_BOOT)
		call->owner_may = FALSE;
	return TRUE;
}

static gboolean check_grant(MethodCall *call)
{
	Machine *m = call->machine;
	const char *device;
	g_autoptr(HostDevice) host = NULL;
	Machine *holder;

	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation), "(&s@a{sv})",
		      &device, NULL);
	call->device = pci_address_normalize(device);
	if (!call->device)
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "'%s' is not a PCI address such as 0000:01:00.0", device);
	host = host_device_get(m->daemon->options.sysfs_root, call->device);
	if (!host)
		return return_error(
		    call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
		    "There is no PCI device %s on this host (phyllomectl devices lists them)",
		    call->device);
	holder = m->ops->device_holder(m, call->device);
	if (holder)
		return return_error(call->invocation, PHYLLOME_ERROR_BUSY,
				    "Device %s is granted to machine '%s'; revoke it there first",
				    call->device, machine_get_name(holder));
	return TRUE;
}

/* RevokeDevice(device) on the machine, or Revoke() on the grant's own object. */
static gboolean check_revoke(MethodCall *call)
{
	Machine *m = call->machine;
	GVariant *params = g_dbus_method_invocation_get_parameters(call->invocation);
	const char *device = NULL;

	if (g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv})"))) {
		g_variant_get(params, "(&s@a{sv})", &device, NULL);
		call->device = pci_address_normalize(device);
	} else {
		Grant *grant = machine_grant_find_by_path(
		    m, g_dbus_method_invocation_get_object_path(call->invocation));

		device = g_dbus_method_invocation_get_object_path(call->invocation);
		call->device = grant ? g_strdup(grant_get_device(grant)) : NULL;
	}
	if (!call->device || !machine_grant_find(m, call->device))
		return return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "Device %s is not granted to '%s'", device, m->name);
	if (machine_state_is_active(m->state) && !option_force(call->options))
		return return_error(
		    call->invocation, PHYLLOME_ERROR_ALREADY_RUNNING,
		    "Machine '%s' is %s and holds %s: stop it first, or force the revocation "
		    "(it then keeps the device until it stops)",
		    m->name, machine_state_to_string(m->state), call->device);
	return TRUE;
}

/* ---- the actions, after polkit ---- */

static void run_start(MethodCall *call)
{
	if (check_startable(call))
		machine_begin_start(call->machine, call->invocation, call->received);
}

static void run_stop(MethodCall *call)
{
	Machine *m = call->machine;
	gboolean force = option_force(call->options);

	if (!check_stoppable(call))
		return;
	g_queue_push_tail(&m->stop_waiters, g_object_ref(call->invocation));
	/* A second Stop joins the first, unless it asks for more force. */
	if (m->state == MACHINE_STOPPING && (m->killing || !force))
		return;
	machine_begin_stop(m, force, option_timeout(m, call->options));
}

static void run_kill(MethodCall *call)
{
	Machine *m = call->machine;

	if (!check_has_monitor(call))
		return;
	g_queue_push_tail(&m->stop_waiters, g_object_ref(call->invocation));
	if (m->state == MACHINE_STARTING) {
		machine_start_failed(m, g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
						    "Killed while starting"));
		return;
	}
	machine_begin_stop(m, TRUE, 0);
}

static void run_restart(MethodCall *call)
{
	Machine *m = call->machine;

	if (m->state == MACHINE_STARTING || m->restart_invocation) {
		return_error(call->invocation, PHYLLOME_ERROR_BUSY,
			     "Machine '%s' is starting already", m->name);
		return;
	}
	if (!machine_state_is_active(m->state)) {
		machine_begin_start(m, call->invocation, call->received);
		return;
	}
	m->restart_invocation = g_object_ref(call->invocation);
	if (m->state != MACHINE_STOPPING)
		machine_begin_stop(m, option_force(call->options),
				   option_timeout(m, call->options));
}

static void paused_or_resumed(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GDBusMethodInvocation) invocation = data;
	gboolean pausing =
	    g_str_equal(g_dbus_method_invocation_get_method_name(invocation), "Pause");

	(void)reply;
	if (error) {
		machine_log(m, LOG_WARNING, "Cannot %s: %s", pausing ? "pause" : "resume",
			    error->message);
		g_dbus_method_invocation_return_error(
		    invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_FAILED, "Cannot %s '%s': %s",
		    pausing ? "pause" : "resume", m->name, error->message);
		return;
	}
	machine_paused_or_resumed(m, pausing);
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void run_pause_or_resume(MethodCall *call)
{
	if (check_pausable(call))
		machine_control_call(call->machine, call->row->method, paused_or_resumed,
				     g_object_ref(call->invocation));
}

static void run_open_console(MethodCall *call)
{
	Machine *m = call->machine;
	g_autofree char *path = machine_runtime_path(m, "console");
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GError) error = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (!check_live(call))
		return;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "The console path %s is too long", path);
		return;
	}
	/* (The runtime directory is root's alone: the path is the socket phyllomed made.) */
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "Cannot connect to the console of '%s': %s", m->name, g_strerror(err));
		return;
	}
	/* The caller gets bytes relayed, never the monitor's socket (console-relay.h). */
	fd = console_relay_start(fd, &error);
	if (fd < 0) {
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "Cannot open the console of '%s': %s", m->name, error->message);
		return;
	}
	fds = g_unix_fd_list_new_from_array(&fd, 1);
	g_dbus_method_invocation_return_value_with_unix_fd_list(call->invocation,
								g_variant_new("(h)", 0), fds);
}

static void screenshot_written(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GDBusMethodInvocation) invocation = data;

	(void)reply;
	if (error) {
		return_error(invocation, PHYLLOME_ERROR_FAILED, "No screenshot of '%s': %s",
			     m->name, error->message);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

/*
 * The caller's file goes on to the monitor, which writes the PNG into it:
 * only a regular file (what the monitor takes) open for writing alone, so that
 * the monitor (which phyllomed does not trust) reads nothing of the caller's
 * through it.
 */
static void run_screenshot(MethodCall *call)
{
	GDBusMessage *message = g_dbus_method_invocation_get_message(call->invocation);
	GUnixFDList *fds = g_dbus_message_get_unix_fd_list(message);
	GVariant *params = g_dbus_method_invocation_get_parameters(call->invocation);
	g_autoptr(GUnixFDList) passed = NULL;
	gint32 handle;
	struct stat st;
	int fd, flags;

	if (!check_live(call))
		return;
	g_variant_get_child(params, 0, "h", &handle);
	fd = fds ? g_unix_fd_list_get(fds, handle, NULL) : -1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (flags = fcntl(fd, F_GETFL)) < 0 || (flags & O_ACCMODE) != O_WRONLY) {
		if (fd >= 0)
			close(fd);
		return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
			     "Screenshot writes to a regular file open for writing only");
		return;
	}
	passed = g_unix_fd_list_new_from_array(&fd, 1);
	machine_control_call_with_fds(
	    call->machine, "Screenshot",
	    g_variant_new("(h@a{sv})", 0, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
	    passed, screenshot_written, g_object_ref(call->invocation));
}

static void display_served(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GDBusMethodInvocation) invocation = data;
	g_autoptr(GUnixFDList) fds = NULL;
	int fd = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(invocation), "phyllome-display-fd"));

	(void)reply;
	if (error) {
		close(fd);
		return_error(invocation, PHYLLOME_ERROR_FAILED,
			     "Cannot open the display of '%s': %s", m->name, error->message);
		return;
	}
	fds = g_unix_fd_list_new_from_array(&fd, 1);
	g_dbus_method_invocation_return_value_with_unix_fd_list(invocation, g_variant_new("(h)", 0),
								fds);
}

/*
 * A socket pair: one end to the monitor, which serves its display channel
 * alone on it (ServeDisplay), the other to the caller. Nobody connects by
 * path, and the caller never reaches the monitor's full control channel.
 */
static void run_open_display(MethodCall *call)
{
	Machine *m = call->machine;
	g_autoptr(GUnixFDList) passed = NULL;
	int sv[2];

	if (!check_live(call))
		return;
	if (machine_config_display(m->config) == DISPLAY_NONE) {
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "'%s' has no display (its definition says Display=none)", m->name);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "Cannot open the display of '%s': %s", m->name, g_strerror(errno));
		return;
	}
	/* The monitor's end goes with the call (the list owns it now); the caller's waits. */
	passed = g_unix_fd_list_new_from_array(&sv[1], 1);
	g_object_set_data(G_OBJECT(call->invocation), "phyllome-display-fd",
			  GINT_TO_POINTER(sv[0]));
	machine_control_call_with_fds(m, "ServeDisplay", g_variant_new("(h)", 0), passed,
				      display_served, g_object_ref(call->invocation));
}

static void run_delete(MethodCall *call)
{
	Machine *m = call->machine;
	g_autoptr(GError) error = NULL;

	if (!check_deletable(call))
		return;
	if (!m->ops->remove(m, &error)) {
		g_dbus_method_invocation_return_gerror(call->invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

/* The changed definition, checked whole; NULL when the call was answered with why not. */
static MachineConfig *changed_config(MethodCall *call)
{
	Machine *m = call->machine;
	g_autoptr(GVariant) changes = NULL, autostart = NULL;
	g_autoptr(MachineConfig) c = machine_config_copy(m->config);
	g_autoptr(GError) error = NULL;

	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation), "(@a{sv}@a{sv})",
		      &changes, NULL);
	autostart = g_variant_lookup_value(changes, "autostart", NULL);
	if (autostart) {
		return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
			     "Autostart is SetAutostart's to change");
		return NULL;
	}
	if (!c || !machine_config_apply_variant(c, changes, &error) ||
	    !m->ops->check_unshared(m, c, &error)) {
		if (error)
			g_dbus_method_invocation_return_gerror(call->invocation, error);
		else
			return_error(call->invocation, PHYLLOME_ERROR_FAILED,
				     "Cannot copy the definition of '%s'", m->name);
		return NULL;
	}
	return g_steal_pointer(&c);
}

/* The changed definition if the machine may be changed now; NULL when the call was answered. */
static MachineConfig *configurable(MethodCall *call)
{
	if (!check_config(call) || !check_deletable(call))
		return NULL;
	return changed_config(call);
}

static gboolean check_configurable(MethodCall *call)
{
	g_autoptr(MachineConfig) c = configurable(call);

	return c != NULL;
}

static void run_configure(MethodCall *call)
{
	Machine *m = call->machine;
	g_autoptr(MachineConfig) c = NULL;
	g_autoptr(GError) error = NULL;

	/* Checked again: the machine may have started, or another changed, while polkit asked. */
	c = configurable(call);
	if (!c)
		return;
	if (!machine_config_save(c, m->daemon->options.config_dir, &error)) {
		return_error(call->invocation, PHYLLOME_ERROR_FAILED,
			     "Cannot save the definition of '%s': %s", m->name, error->message);
		return;
	}
	/* The store was made for the other firmware or keys: the next start makes the right one. */
	if (machine_config_firmware(c) != machine_config_firmware(m->config) ||
	    c->secure_boot != m->config->secure_boot) {
		if (firmware_remove_store(m->name, &error))
			machine_log(
			    m, LOG_NOTICE,
			    "Firmware or SecureBoot changed: its UEFI variable store (if it "
			    "had one) was discarded");
		else
			machine_log(m, LOG_WARNING, "%s", error->message);
	}
	machine_config_free(m->config);
	m->config = g_steal_pointer(&c);
	machine_publish_config(m);
	machine_log(m, LOG_NOTICE, "Its definition was changed");
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

static void run_set_autostart(MethodCall *call)
{
	Machine *m = call->machine;
	g_autoptr(GError) error = NULL;
	MachineConfig *c = m->config;
	MachineConfig old;
	const char *when;
	guint32 delay;

	if (!check_config(call))
		return;
	old = *c;
	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation), "(&s@a{sv})",
		      &when, NULL);
	/* Checked before polkit already. */
	(void)autostart_from_string(when, &c->autostart);
	(void)g_variant_lookup(call->options, PHYLLOME_OPTION_STOP_ON_LOGOUT, "b",
			       &c->stop_on_logout);
	if (g_variant_lookup(call->options, PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY, "u", &delay))
		c->stop_on_logout_delay = delay;
	if (!machine_config_save(c, m->daemon->options.config_dir, &error)) {
		*c = old;
		g_dbus_method_invocation_return_error(
		    call->invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_FAILED,
		    "Cannot save the definition of '%s': %s", m->name, error->message);
		return;
	}
	machine_publish_config(m);
	if (c->autostart == AUTOSTART_LOGIN)
		machine_log(m, LOG_NOTICE, "Autostart: at its owner's login; %s",
			    c->stop_on_logout ? "stopped at logout" : "kept running after logout");
	else
		machine_log(m, LOG_NOTICE, "Autostart: %s", autostart_to_string(c->autostart));
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

static void run_grant(MethodCall *call)
{
	Machine *m = call->machine;
	const char *device = call->device;
	g_autoptr(GError) error = NULL;
	gboolean persistent = FALSE;
	Machine *holder = m->ops->device_holder(m, device);
	Grant *grant = machine_grant_find(m, device);

	g_variant_lookup(call->options, PHYLLOME_OPTION_PERSISTENT, "b", &persistent);
	/* Checked again: another grant may have been made while polkit asked. */
	if (holder) {
		return_error(call->invocation, PHYLLOME_ERROR_BUSY,
			     "Device %s is granted to machine '%s'", device,
			     machine_get_name(holder));
		return;
	}
	if (persistent && !(grant && grant_get_persistent(grant))) {
		if (!m->config) {
			return_error(
			    call->invocation, PHYLLOME_ERROR_INVALID_CONFIG,
			    "Machine '%s' has a broken definition: it cannot record a grant",
			    m->name);
			return;
		}
		if (!machine_grants_save(m, device, NULL, &error)) {
			g_dbus_method_invocation_return_gerror(call->invocation, error);
			return;
		}
	}
	if (grant)
		grant_set_persistent(grant, grant_get_persistent(grant) || persistent);
	else
		grant = machine_grant_add(m, device, persistent);
	machine_log(m, LOG_NOTICE, "Host device %s granted%s", device,
		    persistent ? " (persistent)" : "");
	g_dbus_method_invocation_return_value(call->invocation,
					      g_variant_new("(o)", grant_get_path(grant)));
}

static void run_revoke(MethodCall *call)
{
	Machine *m = call->machine;
	const char *device = call->device;
	g_autoptr(GError) error = NULL;
	Grant *grant = machine_grant_find(m, device);

	if (!grant) {
		return_error(call->invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
			     "Device %s is not granted to '%s'", device, m->name);
		return;
	}
	if (grant_get_persistent(grant) && m->config &&
	    !machine_grants_save(m, NULL, device, &error)) {
		g_dbus_method_invocation_return_gerror(call->invocation, error);
		return;
	}
	machine_log(m, LOG_NOTICE, "Host device %s revoked%s", device,
		    machine_state_is_active(m->state)
			? "; the running machine keeps it until it stops"
			: "");
	machine_grant_remove(m, grant);
	g_dbus_method_invocation_return_value(call->invocation, NULL);
}

/* ---- the table ---- */

static const char *const interactive_only[] = { PHYLLOME_OPTION_INTERACTIVE, "b", NULL };
static const char *const stop_options[] = { PHYLLOME_OPTION_INTERACTIVE,
					    "b",
					    PHYLLOME_OPTION_FORCE,
					    "b",
					    PHYLLOME_OPTION_TIMEOUT,
					    "u",
					    NULL };
static const char *const autostart_options[] = { PHYLLOME_OPTION_INTERACTIVE,
						 "b",
						 PHYLLOME_OPTION_STOP_ON_LOGOUT,
						 "b",
						 PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY,
						 "u",
						 NULL };
static const char *const grant_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b",
					     PHYLLOME_OPTION_PERSISTENT, "b", NULL };
static const char *const revoke_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b",
					      PHYLLOME_OPTION_FORCE, "b", NULL };

#define MACHINE PHYLLOME_MACHINE_INTERFACE
#define GRANT "org.phyllome.VM1.Grant"
#define MANAGE PHYLLOME_POLKIT_MANAGE
/* Host hardware is the administrator's to give, whoever owns the machine: no owner shortcut. */
#define PASSTHROUGH PHYLLOME_POLKIT_PASSTHROUGH

static const MethodRow method_table[] = {
	{ MACHINE, "Start", interactive_only, check_startable, MANAGE, TRUE, "start", run_start },
	{ MACHINE, "Stop", stop_options, check_stop, MANAGE, TRUE, "stop", run_stop },
	{ MACHINE, "Kill", interactive_only, check_has_monitor, MANAGE, TRUE, "kill", run_kill },
	{ MACHINE, "Restart", stop_options, check_config, MANAGE, TRUE, "restart", run_restart },
	{ MACHINE, "Pause", interactive_only, check_pausable, MANAGE, TRUE, "pause",
	  run_pause_or_resume },
	{ MACHINE, "Resume", interactive_only, check_pausable, MANAGE, TRUE, "resume",
	  run_pause_or_resume },
	{ MACHINE, "OpenConsole", interactive_only, check_live, MANAGE, TRUE, "console",
	  run_open_console },
	{ MACHINE, "Screenshot", interactive_only, check_live, MANAGE, TRUE, "screenshot",
	  run_screenshot },
	{ MACHINE, "OpenDisplay", interactive_only, check_live, MANAGE, TRUE, "display",
	  run_open_display },
	/* A definition may hold an administrator's grants and Autostart=boot: removing it is
	   theirs. */
	{ MACHINE, "Delete", interactive_only, check_deletable, PHYLLOME_POLKIT_CREATE, FALSE,
	  "delete", run_delete },
	/* What the machine is (its kernel, disks, owner) is the administrator's, as at create. */
	{ MACHINE, "Configure", interactive_only, check_configurable, PHYLLOME_POLKIT_CREATE, FALSE,
	  "configure", run_configure },
	{ MACHINE, "SetAutostart", autostart_options, check_set_autostart, MANAGE, TRUE,
	  "set-autostart", run_set_autostart },
	{ MACHINE, "GrantDevice", grant_options, check_grant, PASSTHROUGH, FALSE, "grant",
	  run_grant },
	{ MACHINE, "RevokeDevice", revoke_options, check_revoke, PASSTHROUGH, FALSE, "revoke",
	  run_revoke },
	{ GRANT, "Revoke", revoke_options, check_revoke, PASSTHROUGH, FALSE, "revoke", run_revoke },
};

const MethodRow *methods_find(const char *interface, const char *method)
{
	for (gsize i = 0; i < G_N_ELEMENTS(method_table); i++)
		if (g_str_equal(method_table[i].interface, interface) &&
		    g_str_equal(method_table[i].method, method))
			return &method_table[i];
	return NULL;
}

/* ---- the dispatcher ---- */

static void method_call_free(MethodCall *call)
{
	machine_unref(call->machine);
	g_object_unref(call->invocation);
	g_variant_unref(call->options);
	g_free(call->device);
	g_free(call);
}

static void authorized(GDBusMethodInvocation *invocation, uid_t caller, const GError *denied,
		       gpointer data)
{
	MethodCall *call = data;

	(void)caller;
	if (denied)
		g_dbus_method_invocation_return_gerror(invocation, denied);
	else if (!call->machine->exported)
		g_dbus_method_invocation_return_error(
		    invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_NO_SUCH_MACHINE,
		    "Machine '%s' was deleted", call->machine->name);
	else
		call->row->run(call);
	method_call_free(call);
}

static void ask_polkit(MethodCall *call)
{
	Machine *m = call->machine;
	Daemon *d = m->daemon;
	/* A broken definition has no owner we can trust: only the action itself applies. */
	gboolean owner_may = call->owner_may && m->config;
	g_autofree char *vendor = NULL, *product = NULL;

	if (call->device) {
		host_device_names(daemon_pci_names(d), d->options.sysfs_root, call->device, &vendor,
				  &product);
		/* key and value pairs */
		/* clang-format off */
		const char *details[] = { "machine", m->name, "device", call->device,
					  "vendor", vendor, "product", product, NULL };
		/* clang-format on */
		bouncer_check(d->bouncer, call->invocation, call->row->action, NULL, (uid_t)-1,
			      options_interactive(call->options), details, authorized, call);
		return;
	}
	const char *details[] = { "machine", m->name, "verb", call->row->verb, NULL };
	bouncer_check(d->bouncer, call->invocation, call->row->action,
		      owner_may ? PHYLLOME_POLKIT_MANAGE_OWN : NULL,
		      owner_may ? m->config->owner : (uid_t)-1, options_interactive(call->options),
		      details, authorized, call);
}

gboolean methods_dispatch_table(const MethodRow *table, gsize n_rows,
				GDBusMethodInvocation *invocation, gpointer machine)
{
	const char *interface = g_dbus_method_invocation_get_interface_name(invocation);
	const char *method = g_dbus_method_invocation_get_method_name(invocation);
	GVariant *params = g_dbus_method_invocation_get_parameters(invocation);
	g_autoptr(GError) error = NULL;
	const MethodRow *row = NULL;
	MethodCall *call;

	/* Reading properties needs no authorization; every property is read-only. */
	if (g_str_equal(interface, "org.freedesktop.DBus.Properties"))
		return TRUE;
	for (gsize i = 0; i < n_rows && !row; i++)
		if (g_str_equal(table[i].interface, interface) &&
		    g_str_equal(table[i].method, method))
			row = &table[i];
	g_object_ref(invocation);
	if (!row || g_variant_n_children(params) < 1) {
		g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR,
						      G_DBUS_ERROR_ACCESS_DENIED,
						      "%s.%s is not allowed", interface, method);
		g_object_unref(invocation);
		return FALSE;
	}
	call = g_new0(MethodCall, 1);
	call->received = g_get_monotonic_time();
	call->machine = machine_ref(machine);
	call->invocation = invocation;
	call->row = row;
	call->owner_may = row->owner_may;
	/* Every method's last argument is its a{sv} options (the bus checked the signature). */
	call->options = g_variant_get_child_value(params, g_variant_n_children(params) - 1);
	if (!g_variant_is_of_type(call->options, G_VARIANT_TYPE_VARDICT)) {
		g_dbus_method_invocation_return_error(
		    invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
		    "%s.%s takes its options last", interface, method);
		method_call_free(call);
		return FALSE;
	}
	if (!methods_check_options(call->options, row->options, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		method_call_free(call);
		return FALSE;
	}
	if (!row->check(call)) {
		method_call_free(call);
		return FALSE;
	}
	ask_polkit(call);
	return FALSE;
}

gboolean methods_dispatch(GDBusInterfaceSkeleton *iface, GDBusMethodInvocation *invocation,
			  gpointer machine)
{
	(void)iface;
	return methods_dispatch_table(method_table, G_N_ELEMENTS(method_table), invocation,
				      machine);
}

/* ---- the Manager ---- */

static const struct {
	const char *method;
	const char *action; /* "": reading state needs no authorization */
} manager_methods[] = {
	{ "ListMachines", "" },
	{ "GetMachine", "" },
	{ "ListHostDevices", "" },
	{ "CreateMachine", PHYLLOME_POLKIT_CREATE },
};

const char *methods_manager_action(const char *method)
{
	for (gsize i = 0; i < G_N_ELEMENTS(manager_methods); i++)
		if (g_str_equal(manager_methods[i].method, method))
			return manager_methods[i].action;
	return NULL;
}

gboolean methods_manager_authorize(GDBusInterfaceSkeleton *iface, GDBusMethodInvocation *invocation,
				   gpointer data)
{
	const char *interface = g_dbus_method_invocation_get_interface_name(invocation);
	const char *method = g_dbus_method_invocation_get_method_name(invocation);

	(void)iface, (void)data;
	if (g_str_equal(interface, "org.freedesktop.DBus.Properties") ||
	    (g_str_equal(interface, PHYLLOME_MANAGER_INTERFACE) && methods_manager_action(method)))
		return TRUE;
	g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
					      "%s.%s is not allowed", interface, method);
	return FALSE;
}

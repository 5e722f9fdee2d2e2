/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "machine.h"

#include "devices.h"
#include "grant.h"
#include "inhibit.h"
#include "passthrough.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "manager.h"
#include "phyllome-error.h"
#include "phyllome-names.h"
#include "supervisor.h"

/* After the guest's time to power off, a monitor that is still there gets this long before SIGKILL. */
#define KILL_GRACE_SECONDS 5

struct Machine {
	gint ref;
	Daemon *daemon;
	char *name;
	char *path;
	MachineConfig *config; /* NULL when the definition is broken */
	char *config_error;
	PhyllomeObjectSkeleton *object;
	PhyllomeMachine *iface;
	gboolean exported;

	MachineState state;
	pid_t pid;
	int pidfd;
	guint child_watch_id; /* our own child: exit status known */
	guint pidfd_watch_id; /* adopted from an earlier phyllomed: status unknown */
	Spawn spawn;
	guint exec_watch_id;
	GError *start_error;     /* why the start being torn down failed */
	gboolean stop_requested; /* Stop, Kill or Restart asked for the end */
	gboolean killing;
	guint stop_timer_id;
	guint stop_timeout;
	GDBusMethodInvocation *start_invocation;
	GDBusMethodInvocation *restart_invocation; /* Restart: start again once stopped */
	GQueue stop_waiters;                       /* Stop/Kill calls answered once stopped */
	GDBusConnection *control;                  /* to the monitor's org.phyllome.VMM1, once needed */
	guint panic_subscription;
	gboolean panicked; /* the monitor said the guest kernel panicked */
	GPtrArray *grants;  /* Grant, one per host device granted, sorted by device */
	char **moved_devices; /* "ADDRESS=DRIVER": host devices this run took, to give back when it ends */
};

static void begin_start(Machine *m, GDBusMethodInvocation *invocation);

/* reply: the method's return values, NULL on error. */
static void control_detach(Machine *m);
typedef void (*ControlCallback)(Machine *m, GVariant *reply, const GError *error, gpointer data);
static void control_call_full(Machine *m, const char *interface, const char *method, GVariant *params,
			      ControlCallback callback, gpointer data);

static void log_machine(Machine *m, int priority, const char *format, ...) G_GNUC_PRINTF(3, 4);
static void log_machine(Machine *m, int priority, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	daemon_log(m->name, priority, "%s", message);
}

Machine *machine_ref(Machine *m)
{
	g_atomic_int_inc(&m->ref);
	return m;
}

void machine_unref(Machine *m)
{
	if (!m || !g_atomic_int_dec_and_test(&m->ref))
		return;
	g_ptr_array_unref(m->grants);
	g_strfreev(m->moved_devices);
	g_clear_object(&m->iface);
	g_clear_object(&m->object);
	machine_config_free(m->config);
	g_free(m->config_error);
	g_free(m->name);
	g_free(m->path);
	g_free(m);
}

const char *machine_get_name(Machine *m)
{
	return m->name;
}

const char *machine_get_path(Machine *m)
{
	return m->path;
}

MachineState machine_get_state(Machine *m)
{
	return m->state;
}

static char *runtime_path(Machine *m, const char *file)
{
	return g_build_filename(m->daemon->options.runtime_dir, m->name, file, NULL);
}

static void set_state(Machine *m, MachineState state)
{
	if (m->state == state)
		return;
	m->state = state;
	phyllome_machine_set_state(m->iface, machine_state_to_string(state));
	phyllome_machine_set_state_change_timestamp(m->iface, (guint64)g_get_real_time());
	inhibitor_update(m->daemon->inhibitor);
}

static void publish_config(Machine *m)
{
	static const char *const empty[] = { NULL };
	const MachineConfig *c = m->config;

	phyllome_machine_set_kernel(m->iface, c ? c->kernel : "");
	phyllome_machine_set_initrd(m->iface, c && c->initrd ? c->initrd : "");
	phyllome_machine_set_cmdline(m->iface, c && c->cmdline ? c->cmdline : "");
	phyllome_machine_set_vcpus(m->iface, c ? c->cpus : 0);
	phyllome_machine_set_memory_bytes(m->iface, c ? c->memory : 0);
	phyllome_machine_set_owner(m->iface, c ? (guint)c->owner : 0);
	phyllome_machine_set_autostart(m->iface, autostart_to_string(c ? c->autostart : AUTOSTART_NO));
	phyllome_machine_set_stop_on_logout(m->iface, c ? c->stop_on_logout : TRUE);
	phyllome_machine_set_stop_on_logout_delay(m->iface, c ? c->stop_on_logout_delay : MACHINE_DEFAULT_LOGOUT_DELAY);
	phyllome_machine_set_disks(m->iface, c && c->disks ? (const char *const *)c->disks : empty);
	phyllome_machine_set_networks(m->iface, c && c->networks ? (const char *const *)c->networks : empty);
	phyllome_machine_set_vsock_cid(m->iface, c ? c->vsock_cid : 0);
}

static void sync_persistent_grants(Machine *m);

void machine_set_config(Machine *m, MachineConfig *config, const char *config_error)
{
	machine_config_free(m->config);
	m->config = config;
	g_free(m->config_error);
	m->config_error = g_strdup(config_error);
	publish_config(m);
	sync_persistent_grants(m);
	if (!config) {
		log_machine(m, LOG_ERR, "Broken definition: %s", config_error);
		phyllome_machine_set_result(m->iface, "config");
		phyllome_machine_set_status_text(m->iface, config_error);
		if (!machine_state_is_active(m->state))
			set_state(m, MACHINE_FAILED);
	} else if (m->state == MACHINE_FAILED && g_strcmp0(phyllome_machine_get_result(m->iface), "config") == 0) {
		phyllome_machine_set_result(m->iface, "");
		phyllome_machine_set_status_text(m->iface, "");
		set_state(m, MACHINE_STOPPED);
	}
}

/* ---- the end of a monitor ---- */

static void remove_runtime_state(Machine *m)
{
	g_autofree char *state = runtime_path(m, "state");
	g_autofree char *console = runtime_path(m, "console");
	g_autofree char *control = runtime_path(m, "control");
	g_autofree char *dir = runtime_path(m, NULL);

	(void)g_unlink(state);
	(void)g_unlink(console);
	(void)g_unlink(control);
	(void)g_rmdir(dir);
}

static void reply_stop_waiters(Machine *m, const GError *error)
{
	GDBusMethodInvocation *invocation;

	while ((invocation = g_queue_pop_head(&m->stop_waiters))) {
		if (error)
			g_dbus_method_invocation_return_gerror(invocation, error);
		else
			g_dbus_method_invocation_return_value(invocation, NULL);
		g_object_unref(invocation);
	}
}

static void set_grants_active(Machine *m, gboolean active)
{
	for (guint i = 0; i < m->grants->len; i++)
		grant_set_active(m->grants->pdata[i], active);
}

/* The host devices the run took go back to their drivers (revoked ones too). */
static void give_back_devices(Machine *m)
{
	g_auto(GStrv) moved = g_steal_pointer(&m->moved_devices);

	set_grants_active(m, FALSE);
	if (moved && m->config && !m->config->return_devices)
		log_machine(m, LOG_INFO, "Its host devices stay on vfio-pci (ReturnDevices=false)");
	else if (moved)
		passthrough_give_back(m->daemon->options.sysfs_root, m->name, (const char *const *)moved);
}

static void monitor_gone(Machine *m, gboolean known, int wait_status)
{
	gboolean was_starting = m->state == MACHINE_STARTING;
	MachineOutcome o = machine_outcome(known, wait_status, m->stop_requested || m->killing, m->panicked);
	GDBusMethodInvocation *start_invocation = g_steal_pointer(&m->start_invocation);
	GDBusMethodInvocation *restart_invocation = g_steal_pointer(&m->restart_invocation);
	g_autoptr(GError) start_error = g_steal_pointer(&m->start_error);
	g_autofree char *status_text = NULL;

	if (m->stop_timer_id)
		g_source_remove(m->stop_timer_id);
	if (m->exec_watch_id)
		g_source_remove(m->exec_watch_id);
	m->stop_timer_id = m->exec_watch_id = 0;
	spawn_clear(&m->spawn);
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pidfd = -1;
	m->pid = 0;
	m->stop_requested = m->killing = FALSE;
	control_detach(m);
	remove_runtime_state(m);
	give_back_devices(m);
	phyllome_machine_set_leader(m->iface, 0);
	phyllome_machine_set_unit(m->iface, "");
	phyllome_machine_set_exit_status(m->iface, o.exit_status);

	if (was_starting && (start_error || !o.restart)) {
		/* It never got to run: the start failed. */
		if (!start_error)
			start_error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
						  "The monitor exited during start with status %d (%s)", o.exit_status,
						  vmm_exit_status_meaning(o.exit_status));
		log_machine(m, LOG_ERR, "Start failed: %s", start_error->message);
		phyllome_machine_set_result(m->iface, "start-failed");
		phyllome_machine_set_status_text(m->iface, start_error->message);
		set_state(m, MACHINE_FAILED);
		if (start_invocation)
			g_dbus_method_invocation_return_gerror(start_invocation, start_error);
		g_clear_object(&start_invocation);
		reply_stop_waiters(m, NULL);
		g_clear_object(&restart_invocation);
		return;
	}

	if (o.state == MACHINE_FAILED) {
		if (o.exit_status >= 0)
			status_text = g_strdup_printf("phyllome-vmm exited with status %d (%s)", o.exit_status,
						      vmm_exit_status_meaning(o.exit_status));
		else if (known)
			status_text = g_strdup_printf("phyllome-vmm was killed by signal %s",
						      g_strsignal(WTERMSIG(wait_status)));
		else
			status_text = g_strdup("phyllome-vmm ended; phyllomed was not its parent, so why is unknown");
		log_machine(m, LOG_ERR, "Failed: %s", status_text);
	} else if (o.restart) {
		log_machine(m, LOG_INFO, "The guest rebooted; starting it again");
	} else {
		log_machine(m, LOG_INFO, "Stopped (%s)", o.result);
	}
	phyllome_machine_set_result(m->iface, o.result);
	phyllome_machine_set_status_text(m->iface, status_text ? status_text : "");
	set_state(m, o.state == MACHINE_STARTING ? MACHINE_STOPPED : o.state);
	reply_stop_waiters(m, NULL);
	g_clear_object(&start_invocation);

	if (restart_invocation || o.restart)
		begin_start(m, restart_invocation);
	g_clear_object(&restart_invocation);
}

static void child_exited(GPid pid, int wait_status, gpointer data)
{
	Machine *m = data;

	(void)pid;
	m->child_watch_id = 0;
	monitor_gone(m, TRUE, wait_status);
}

static gboolean pidfd_ready(int fd, GIOCondition condition, gpointer data)
{
	Machine *m = data;

	(void)fd, (void)condition;
	m->pidfd_watch_id = 0;
	monitor_gone(m, FALSE, 0);
	return G_SOURCE_REMOVE;
}

static void send_signal(Machine *m, int sig)
{
	/* Through the pidfd: a PID that was reused meanwhile never gets the signal. */
	if (m->pidfd >= 0 && pidfd_send_signal(m->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		log_machine(m, LOG_WARNING, "Cannot send %s to the monitor: %s", g_strsignal(sig), g_strerror(errno));
}

/* ---- starting ---- */

static void start_failed(Machine *m, GError *error)
{
	/* The child waits for us; killing it ends the start in monitor_gone, which reports this. */
	if (!m->start_error)
		m->start_error = error;
	else
		g_error_free(error);
	send_signal(m, SIGKILL);
}

static void write_runtime_state(Machine *m)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *path = runtime_path(m, "state");
	g_autofree char *unit = scope_unit_name(m->name);
	g_autoptr(GError) error = NULL;

	g_key_file_set_int64(kf, "Monitor", "PID", m->pid);
	g_key_file_set_uint64(kf, "Monitor", "StartTime", process_start_time(m->pid));
	g_key_file_set_string(kf, "Monitor", "Unit", unit);
	if (m->moved_devices)
		g_key_file_set_string_list(kf, "Devices", "Moved", (const char *const *)m->moved_devices,
					   g_strv_length(m->moved_devices));
	if (!g_key_file_save_to_file(kf, path, &error))
		log_machine(m, LOG_WARNING, "Cannot record the runtime state (%s): a restarted phyllomed will not find this VM",
			    error->message);
}

/* The monitor answers on its control channel: its machine is set up, its console socket there. */
static void monitor_ready(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autofree char *unit = NULL;

	(void)data;
	if (m->state != MACHINE_STARTING || !m->pid || m->start_error)
		return;
	if (error) {
		start_failed(m, g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
					    "The monitor did not answer on its control socket: %s", error->message));
		return;
	}
	unit = scope_unit_name(m->name);
	phyllome_machine_set_unit(m->iface, unit);
	write_runtime_state(m);
	set_state(m, MACHINE_RUNNING);
	log_machine(m, LOG_INFO, "Running: phyllome-vmm PID %d in %s", (int)m->pid, unit);
	if (m->start_invocation)
		g_dbus_method_invocation_return_value(g_steal_pointer(&m->start_invocation), NULL);
}

static gboolean exec_done(int fd, GIOCondition condition, gpointer data)
{
	Machine *m = data;
	GError *error = NULL;

	(void)fd, (void)condition;
	m->exec_watch_id = 0;
	if (!spawn_exec_result(&m->spawn, &error)) {
		start_failed(m, error);
		return G_SOURCE_REMOVE;
	}
	/* The reply waits until the monitor serves its control socket (we made it, so connecting cannot race). */
	control_call_full(m, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", PHYLLOME_VMM1_INTERFACE, "State"),
			  monitor_ready, NULL);
	return G_SOURCE_REMOVE;
}

static void machine_registered(const GError *error, gpointer data)
{
	g_autoptr(Machine) m = data;
	GError *release_error = NULL;

	if (m->state != MACHINE_STARTING || !m->pid || m->start_error)
		return;
	/* The VM runs without machined (not installed?); machinectl will not list it. */
	if (error)
		log_machine(m, LOG_WARNING, "%s", error->message);
	if (!spawn_release(&m->spawn, &release_error)) {
		start_failed(m, release_error);
		return;
	}
	m->exec_watch_id = g_unix_fd_add(m->spawn.exec_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, exec_done, m);
}

static void scope_started(const GError *error, gpointer data)
{
	g_autoptr(Machine) m = data;

	if (m->state != MACHINE_STARTING || !m->pid || m->start_error)
		return;
	if (error) {
		start_failed(m, g_error_copy(error));
		return;
	}
	scopes_register_machine(m->daemon->scopes, m->name, m->pid, machine_registered, machine_ref(m));
}

static int open_input(const char *path, int flags, GError **error)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, "Cannot open %s: %s", path,
			    g_strerror(errno));
	return fd;
}

static gboolean prepare_runtime_dir(Machine *m, const struct passwd *pw, GError **error)
{
	g_autofree char *dir = runtime_path(m, NULL);
	g_autofree char *console = runtime_path(m, "console");
	g_autofree char *control = runtime_path(m, "control");

	if (g_mkdir_with_parents(dir, 0750) < 0 || chown(dir, pw->pw_uid, pw->pw_gid) < 0 || chmod(dir, 0750) < 0) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, "Cannot prepare %s: %s", dir,
			    g_strerror(errno));
		return FALSE;
	}
	(void)g_unlink(console);
	(void)g_unlink(control);
	return TRUE;
}

/* The control socket, made by us so that we can connect before the monitor serves it. */
/* The monitor's sockets are ours: made here, root's alone, and passed to it as listening fds. */
static int listen_socket(const char *what, const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, "The path %s is too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 4) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, "Cannot create the %s socket %s: %s",
			    what, path, g_strerror(err));
		return -1;
	}
	return fd;
}

/* fd (or -1 after a failure already in *error) becomes the monitor's fd 3 + its index, named after option. */
static gboolean pass_fd(GArray *fds, GPtrArray *argv, int fd, const char *option)
{
	if (fd < 0)
		return FALSE;
	g_array_append_val(fds, fd);
	g_ptr_array_add(argv, g_strdup_printf("%s%u", option, 3 + fds->len - 1));
	return TRUE;
}

static gboolean spawn_monitor(Machine *m, GError **error)
{
	const MachineConfig *c = m->config;
	const DaemonOptions *o = &m->daemon->options;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *console = runtime_path(m, "console");
	g_autofree char *control = runtime_path(m, "control");
	g_autofree char *identifier = NULL;
	g_autoptr(GPtrArray) granted = g_ptr_array_new();
	g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
	gboolean took_devices = FALSE;
	int output_fd;
	struct passwd *pw;
	SpawnParams params;
	gboolean ok = FALSE;

	pw = getpwnam(o->vm_user);
	if (!pw) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The user '%s' that monitors run as does not exist (see sysusers.d/phyllome.conf)",
			    o->vm_user);
		return FALSE;
	}
	if (!prepare_runtime_dir(m, pw, error))
		return FALSE;

	/* The monitor opens nothing itself: it runs unprivileged on what we open for it (fd 3 + index in fds). */
	g_ptr_array_add(argv, g_strdup(o->vmm_path));
	g_ptr_array_add(argv, g_strdup_printf("--name=%s", c->name));
	if (!pass_fd(fds, argv, open_input(c->kernel, O_RDONLY, error), "--kernel=fd:") ||
	    (c->initrd && !pass_fd(fds, argv, open_input(c->initrd, O_RDONLY, error), "--initrd=fd:")) ||
	    !pass_fd(fds, argv, open_input("/dev/kvm", O_RDWR, error), "--kvm-fd="))
		goto out;
	g_ptr_array_add(argv, g_strdup_printf("--cmdline=%s", c->cmdline ? c->cmdline : ""));
	g_ptr_array_add(argv, g_strdup_printf("--cpus=%u", c->cpus));
	g_ptr_array_add(argv, g_strdup_printf("--memory=%" G_GUINT64_FORMAT "B", c->memory));
	if (!pass_fd(fds, argv, listen_socket("console", console, error), "--serial=fd:") ||
	    !pass_fd(fds, argv, listen_socket("control", control, error), "--control-fd=") ||
	    !devices_open(c, fds, argv, error))
		goto out;
	for (guint i = 0; i < m->grants->len; i++)
		g_ptr_array_add(granted, (gpointer)grant_get_device(m->grants->pdata[i]));
	g_ptr_array_add(granted, NULL);
	if (!passthrough_take(o->sysfs_root, m->name, (const char *const *)granted->pdata, fds, argv, moved, error))
		goto out;
	took_devices = TRUE;
	/* phyllomed keeps the clock of a stop (m->stop_timeout); the monitor's own stays out of the way. */
	g_ptr_array_add(argv, g_strdup("--shutdown-timeout=86400"));
	/* Info lines too: the journal keeps priorities, and readers filter. */
	g_ptr_array_add(argv, g_strdup("--verbose"));
	g_ptr_array_add(argv, NULL);

	identifier = g_strdup_printf("phyllome-vmm@%s", m->name);
	output_fd = sd_journal_stream_fd(identifier, LOG_INFO, 1);
	if (output_fd < 0)
		output_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	params = (SpawnParams){ .path = o->vmm_path,
				.argv = (char **)argv->pdata,
				.fds = (int *)(void *)fds->data,
				.n_fds = fds->len,
				.output_fd = output_fd,
				.uid = pw->pw_uid,
				.gid = pw->pw_gid };
	ok = spawn_prepare(&params, &m->spawn, error);
	if (output_fd >= 0)
		close(output_fd);
out:
	g_ptr_array_add(moved, NULL);
	if (ok) {
		m->moved_devices = g_strdupv((char **)moved->pdata);
		set_grants_active(m, TRUE);
	} else if (took_devices) {
		passthrough_give_back(o->sysfs_root, m->name, (const char *const *)moved->pdata);
	}
	for (guint i = 0; i < fds->len; i++)
		close(g_array_index(fds, int, i));
	return ok;
}

static void begin_start(Machine *m, GDBusMethodInvocation *invocation)
{
	g_autoptr(GError) error = NULL;

	if (!m->config) {
		error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG, "%s", m->config_error);
		goto fail;
	}
	m->panicked = FALSE;
	phyllome_machine_set_result(m->iface, "");
	phyllome_machine_set_status_text(m->iface, "");
	if (!spawn_monitor(m, &error))
		goto fail;
	m->pid = m->spawn.pid;
	m->pidfd = pidfd_open(m->pid, 0);
	m->child_watch_id = g_child_watch_add_full(G_PRIORITY_DEFAULT, m->pid, child_exited, machine_ref(m),
						   (GDestroyNotify)machine_unref);
	m->start_invocation = invocation ? g_object_ref(invocation) : NULL;
	m->stop_timeout = m->daemon->options.stop_timeout;
	phyllome_machine_set_leader(m->iface, (guint)m->pid);
	set_state(m, MACHINE_STARTING);
	log_machine(m, LOG_INFO, "Starting: %u vCPUs, %" G_GUINT64_FORMAT " MiB", m->config->cpus,
		    m->config->memory >> 20);
	scopes_start(m->daemon->scopes, m->config, m->pid, scope_started, machine_ref(m));
	return;
fail:
	log_machine(m, LOG_ERR, "Cannot start: %s", error->message);
	phyllome_machine_set_result(m->iface, m->config ? "start-failed" : "config");
	phyllome_machine_set_status_text(m->iface, error->message);
	set_state(m, MACHINE_FAILED);
	if (invocation)
		g_dbus_method_invocation_return_gerror(invocation, error);
}

/* ---- the monitor's control channel (org.phyllome.VMM1) ---- */

typedef struct {
	Machine *machine;
	char *interface;
	char *method;
	GVariant *params;
	ControlCallback callback;
	gpointer data;
} ControlCall;

static void control_call_free(ControlCall *call)
{
	machine_unref(call->machine);
	g_free(call->interface);
	g_free(call->method);
	if (call->params)
		g_variant_unref(call->params);
	g_free(call);
}

static void control_reply(GObject *source, GAsyncResult *res, gpointer data)
{
	ControlCall *call = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (!reply)
		g_dbus_error_strip_remote_error(error);
	if (call->callback)
		call->callback(call->machine, reply, reply ? NULL : error, call->data);
	control_call_free(call);
}

static void control_send(ControlCall *call)
{
	/* Peer to peer: no destination name. A stuck monitor costs this call its timeout, nothing else. */
	g_dbus_connection_call(call->machine->control, NULL, PHYLLOME_VMM1_PATH, call->interface, call->method,
			       call->params ? g_variant_ref(call->params) : NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
			       NULL, control_reply, call);
}

static void guest_panicked(GDBusConnection *conn, const char *sender, const char *path, const char *interface,
			   const char *signal, GVariant *params, gpointer data)
{
	Machine *m = data;
	gboolean crash_kernel_loaded = FALSE;

	if (g_variant_is_of_type(params, G_VARIANT_TYPE("(b)")))
		g_variant_get(params, "(b)", &crash_kernel_loaded);
	m->panicked = TRUE;
	if (crash_kernel_loaded) {
		log_machine(m, LOG_ERR, "The guest kernel panicked; its crash kernel takes over");
		phyllome_machine_set_status_text(m->iface, "The guest kernel panicked; its crash kernel runs");
	} else {
		log_machine(m, LOG_ERR, "The guest kernel panicked; the monitor stops the VM");
	}
}

/* The connection to a monitor: ours until it ends, and told us of panics meanwhile. */
static void control_attach(Machine *m, GDBusConnection *conn)
{
	m->control = conn;
	/* Peer to peer: no sender to match; the subscription goes with control_detach(). */
	m->panic_subscription = g_dbus_connection_signal_subscribe(conn, NULL, PHYLLOME_VMM1_INTERFACE, "GuestPanicked",
								   PHYLLOME_VMM1_PATH, NULL,
								   G_DBUS_SIGNAL_FLAGS_NONE, guest_panicked, m, NULL);
}

static void control_detach(Machine *m)
{
	if (!m->control)
		return;
	if (m->panic_subscription)
		g_dbus_connection_signal_unsubscribe(m->control, m->panic_subscription);
	m->panic_subscription = 0;
	(void)g_dbus_connection_close(m->control, NULL, NULL, NULL);
	g_clear_object(&m->control);
}

static void control_connected(GObject *source, GAsyncResult *res, gpointer data)
{
	ControlCall *call = data;
	Machine *m = call->machine;
	g_autoptr(GError) error = NULL;
	GDBusConnection *conn = g_dbus_connection_new_for_address_finish(res, &error);

	(void)source;
	if (!conn) {
		g_prefix_error(&error, "Cannot reach the monitor's control socket: ");
		if (call->callback)
			call->callback(m, NULL, error, call->data);
		control_call_free(call);
		return;
	}
	if (!m->pid) {
		/* The monitor ended meanwhile. */
		g_object_unref(conn);
		error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' stopped", m->name);
		if (call->callback)
			call->callback(m, NULL, error, call->data);
		control_call_free(call);
		return;
	}
	if (!m->control)
		control_attach(m, conn);
	else
		g_object_unref(conn);
	control_send(call);
}

/* Calls a method of the monitor's control API (params: floating or NULL), connecting first if needed. */
static void control_call_full(Machine *m, const char *interface, const char *method, GVariant *params,
			      ControlCallback callback, gpointer data)
{
	ControlCall *call = g_new0(ControlCall, 1);
	g_autofree char *path = NULL;
	g_autofree char *address = NULL;

	call->machine = machine_ref(m);
	call->interface = g_strdup(interface);
	call->method = g_strdup(method);
	call->params = params ? g_variant_ref_sink(params) : NULL;
	call->callback = callback;
	call->data = data;
	if (m->control && !g_dbus_connection_is_closed(m->control)) {
		control_send(call);
		return;
	}
	control_detach(m);
	path = runtime_path(m, "control");
	address = g_strdup_printf("unix:path=%s", path);
	g_dbus_connection_new_for_address(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
					  control_connected, call);
}

static void control_call(Machine *m, const char *method, ControlCallback callback, gpointer data)
{
	control_call_full(m, PHYLLOME_VMM1_INTERFACE, method, NULL, callback, data);
}

static void paused_or_resumed(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GDBusMethodInvocation) invocation = data;
	gboolean pausing = g_str_equal(g_dbus_method_invocation_get_method_name(invocation), "Pause");

	if (error) {
		log_machine(m, LOG_WARNING, "Cannot %s: %s", pausing ? "pause" : "resume", error->message);
		g_dbus_method_invocation_return_error(invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_FAILED,
						      "Cannot %s '%s': %s", pausing ? "pause" : "resume", m->name,
						      error->message);
		return;
	}
	/* The state may have moved on meanwhile (stopped, killed): only a live monitor counts. */
	if (m->pid && (m->state == MACHINE_RUNNING || m->state == MACHINE_PAUSED)) {
		set_state(m, pausing ? MACHINE_PAUSED : MACHINE_RUNNING);
		log_machine(m, LOG_INFO, pausing ? "Paused" : "Resumed");
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

/* ---- stopping ---- */

/*
 * Stopping goes through the monitor's control channel; a signal stands in
 * only where the channel is gone. (The monitor reads SIGTERM as the power
 * button, and a second one, or one after the button, as a hard stop.)
 */
static void stop_step_done(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	const char *step = data;

	if (!error || !m->pid || m->state != MACHINE_STOPPING)
		return;
	log_machine(m, LOG_WARNING, "The monitor's control channel did not take %s (%s); sending SIGTERM instead", step,
		    error->message);
	send_signal(m, SIGTERM);
}

static void resumed_for_stop(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	if (!m->pid || m->state != MACHINE_STOPPING)
		return;
	if (error) {
		stop_step_done(m, NULL, error, (gpointer) "Resume");
		return;
	}
	control_call(m, "PowerButton", stop_step_done, (gpointer) "the power button");
}

static gboolean stop_timer_fired(gpointer data)
{
	Machine *m = data;

	if (!m->killing) {
		log_machine(m, LOG_WARNING, "The guest did not power off within %u s; stopping it hard", m->stop_timeout);
		/* The monitor stops the VM at once and exits by itself. */
		m->killing = TRUE;
		control_call(m, "Quit", stop_step_done, (gpointer) "Quit");
		return G_SOURCE_CONTINUE;
	}
	log_machine(m, LOG_WARNING, "The monitor did not exit; killing it");
	send_signal(m, SIGKILL);
	m->stop_timer_id = 0;
	return G_SOURCE_REMOVE;
}

static void begin_stop(Machine *m, gboolean force, guint timeout)
{
	gboolean was_paused = m->state == MACHINE_PAUSED;

	if (m->stop_timer_id)
		g_source_remove(m->stop_timer_id);
	m->stop_requested = TRUE;
	set_state(m, MACHINE_STOPPING);
	if (force) {
		log_machine(m, LOG_INFO, "Killing the monitor");
		m->killing = TRUE;
		send_signal(m, SIGKILL);
		m->stop_timer_id = 0;
		return;
	}
	m->stop_timeout = timeout;
	log_machine(m, LOG_INFO, "Pressing the power button; the guest has %u s to power off", timeout);
	/* A paused guest cannot see the button: let it run first. */
	if (was_paused)
		control_call(m, "Resume", resumed_for_stop, NULL);
	else
		control_call(m, "PowerButton", stop_step_done, (gpointer) "the power button");
	m->stop_timer_id = g_timeout_add_seconds(timeout ? timeout : 1, stop_timer_fired, m);
}

/* ---- D-Bus methods: validate, then polkit, then act ---- */

typedef void (*AuthorizedFunc)(Machine *m, GDBusMethodInvocation *invocation, GVariant *options);
/* The same, for methods about one host device. */
typedef void (*DeviceFunc)(Machine *m, GDBusMethodInvocation *invocation, GVariant *options, const char *device);

typedef struct {
	Machine *machine;
	AuthorizedFunc func;
	DeviceFunc device_func; /* instead of func, with device */
	char *device;
	GVariant *options;
} Pending;

static void authorized(GDBusMethodInvocation *invocation, uid_t caller, const GError *denied, gpointer data)
{
	Pending *p = data;

	(void)caller;
	if (denied)
		g_dbus_method_invocation_return_gerror(invocation, denied);
	else if (!p->machine->exported)
		g_dbus_method_invocation_return_error(invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_NO_SUCH_MACHINE,
						      "Machine '%s' was deleted", p->machine->name);
	else if (p->device_func)
		p->device_func(p->machine, invocation, p->options, p->device);
	else
		p->func(p->machine, invocation, p->options);
	machine_unref(p->machine);
	g_variant_unref(p->options);
	g_free(p->device);
	g_free(p);
}

/* owner_may: the owner's manage-own suffices (else only manage does). */
static gboolean authorize_full(Machine *m, GDBusMethodInvocation *invocation, GVariant *options, const char *verb,
			       gboolean owner_may, AuthorizedFunc func)
{
	const char *details[] = { "machine", m->name, "verb", verb, NULL };
	Pending *p = g_new0(Pending, 1);

	p->machine = machine_ref(m);
	p->func = func;
	p->options = g_variant_ref(options);
	/* A broken definition has no owner we can trust: only manage applies. */
	owner_may = owner_may && m->config;
	bouncer_check(m->daemon->bouncer, invocation, PHYLLOME_POLKIT_MANAGE,
		      owner_may ? PHYLLOME_POLKIT_MANAGE_OWN : NULL, owner_may ? m->config->owner : (uid_t)-1,
		      options_interactive(options), details, authorized, p);
	return TRUE;
}

static gboolean authorize(Machine *m, GDBusMethodInvocation *invocation, GVariant *options, const char *verb,
			  AuthorizedFunc func)
{
	return authorize_full(m, invocation, options, verb, TRUE, func);
}

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
	return TRUE;
}

/* Unknown option keys or wrong types are caller bugs worth a clear error. */
static gboolean check_options(GDBusMethodInvocation *invocation, GVariant *options, const char *const *allowed)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) v = value;
		const char *type = NULL;

		for (const char *const *a = allowed; *a; a += 2)
			if (g_str_equal(*a, key))
				type = a[1];
		if (!type) {
			return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT, "Unknown option '%s'", key);
			return FALSE;
		}
		if (!g_variant_is_of_type(v, G_VARIANT_TYPE(type))) {
			return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT, "Option '%s' must be of type %s, not %s",
				     key, type, g_variant_get_type_string(v));
			return FALSE;
		}
	}
	return TRUE;
}

static const char *const interactive_only[] = { PHYLLOME_OPTION_INTERACTIVE, "b", NULL };
static const char *const stop_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b", PHYLLOME_OPTION_FORCE, "b",
					    PHYLLOME_OPTION_TIMEOUT, "u", NULL };

static void do_start(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	(void)options;
	if (machine_state_is_active(m->state)) {
		return_error(invocation, PHYLLOME_ERROR_ALREADY_RUNNING, "Machine '%s' is %s already", m->name,
			     machine_state_to_string(m->state));
		return;
	}
	begin_start(m, invocation);
}

static gboolean handle_start(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, GVariant *options,
			     gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, interactive_only))
		return TRUE;
	if (!m->config)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_CONFIG, "%s", m->config_error);
	if (machine_state_is_active(m->state))
		return return_error(invocation, PHYLLOME_ERROR_ALREADY_RUNNING, "Machine '%s' is %s already", m->name,
				    machine_state_to_string(m->state));
	return authorize(m, invocation, options, "start", do_start);
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

static gboolean check_stoppable(Machine *m, GDBusMethodInvocation *invocation)
{
	if (m->state == MACHINE_STARTING) {
		return_error(invocation, PHYLLOME_ERROR_BUSY, "Machine '%s' is starting; stop it once it runs",
			     m->name);
		return FALSE;
	}
	if (!machine_state_is_active(m->state)) {
		return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is not running", m->name);
		return FALSE;
	}
	return TRUE;
}

static void do_stop(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	gboolean force = option_force(options);

	if (!check_stoppable(m, invocation))
		return;
	g_queue_push_tail(&m->stop_waiters, g_object_ref(invocation));
	/* A second Stop joins the first, unless it asks for more force. */
	if (m->state == MACHINE_STOPPING && (m->killing || !force))
		return;
	begin_stop(m, force, option_timeout(m, options));
}

static gboolean handle_stop(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, GVariant *options,
			    gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, stop_options))
		return TRUE;
	if (option_timeout(m, options) > 24 * 3600)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT, "A timeout must be at most 86400 s");
	if (!check_stoppable(m, invocation))
		return TRUE;
	return authorize(m, invocation, options, "stop", do_stop);
}

static void do_kill(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	(void)options;
	if (!m->pid) {
		return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is not running", m->name);
		return;
	}
	g_queue_push_tail(&m->stop_waiters, g_object_ref(invocation));
	if (m->state == MACHINE_STARTING) {
		start_failed(m, g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, "Killed while starting"));
		return;
	}
	begin_stop(m, TRUE, 0);
}

static gboolean handle_kill(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, GVariant *options,
			    gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, interactive_only))
		return TRUE;
	if (!m->pid)
		return return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is not running", m->name);
	return authorize(m, invocation, options, "kill", do_kill);
}

static void do_restart(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	if (m->state == MACHINE_STARTING || m->restart_invocation) {
		return_error(invocation, PHYLLOME_ERROR_BUSY, "Machine '%s' is starting already", m->name);
		return;
	}
	if (!machine_state_is_active(m->state)) {
		begin_start(m, invocation);
		return;
	}
	m->restart_invocation = g_object_ref(invocation);
	if (m->state != MACHINE_STOPPING)
		begin_stop(m, option_force(options), option_timeout(m, options));
}

static gboolean handle_restart(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, GVariant *options,
			       gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, stop_options))
		return TRUE;
	if (!m->config)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_CONFIG, "%s", m->config_error);
	return authorize(m, invocation, options, "restart", do_restart);
}

/* Pause and Resume: the same checks, then the monitor's method of the same name. */
static gboolean check_pausable(Machine *m, GDBusMethodInvocation *invocation)
{
	gboolean pausing = g_str_equal(g_dbus_method_invocation_get_method_name(invocation), "Pause");

	if (m->state == MACHINE_RUNNING || m->state == MACHINE_PAUSED)
		return TRUE;
	return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is %s, not %s", m->name,
		     machine_state_to_string(m->state), pausing ? "running" : "paused");
	return FALSE;
}

static void do_pause_or_resume(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	(void)options;
	if (check_pausable(m, invocation))
		control_call(m, g_dbus_method_invocation_get_method_name(invocation), paused_or_resumed,
			     g_object_ref(invocation));
}

static gboolean handle_pause_or_resume(PhyllomeMachine *iface, GDBusMethodInvocation *invocation,
				       GVariant *options, gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, interactive_only) || !check_pausable(m, invocation))
		return TRUE;
	return authorize(m, invocation, options,
			 g_str_equal(g_dbus_method_invocation_get_method_name(invocation), "Pause") ? "pause"
												     : "resume",
			 do_pause_or_resume);
}

static void do_open_console(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	g_autofree char *path = runtime_path(m, "console");
	g_autoptr(GUnixFDList) fds = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	(void)options;
	if (m->state != MACHINE_RUNNING && m->state != MACHINE_PAUSED) {
		return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is not running", m->name);
		return;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		return_error(invocation, PHYLLOME_ERROR_FAILED, "The console path %s is too long", path);
		return;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return_error(invocation, PHYLLOME_ERROR_FAILED, "Cannot connect to the console of '%s': %s", m->name,
			     g_strerror(err));
		return;
	}
	fds = g_unix_fd_list_new_from_array(&fd, 1);
	g_dbus_method_invocation_return_value_with_unix_fd_list(invocation, g_variant_new("(h)", 0), fds);
}

static gboolean handle_open_console(PhyllomeMachine *iface, GDBusMethodInvocation *invocation,
				    GUnixFDList *fd_list, GVariant *options, gpointer data)
{
	Machine *m = data;

	(void)iface, (void)fd_list;
	if (!check_options(invocation, options, interactive_only))
		return TRUE;
	if (m->state != MACHINE_RUNNING && m->state != MACHINE_PAUSED)
		return return_error(invocation, PHYLLOME_ERROR_NOT_RUNNING, "Machine '%s' is not running", m->name);
	return authorize(m, invocation, options, "console", do_open_console);
}

static void do_delete(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	g_autoptr(GError) error = NULL;

	(void)options;
	if (machine_state_is_active(m->state)) {
		return_error(invocation, PHYLLOME_ERROR_ALREADY_RUNNING, "Machine '%s' is %s; stop it first",
			     m->name, machine_state_to_string(m->state));
		return;
	}
	if (!manager_delete_machine(m->daemon, m, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean handle_delete(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, GVariant *options,
			      gpointer data)
{
	Machine *m = data;

	(void)iface;
	if (!check_options(invocation, options, interactive_only))
		return TRUE;
	if (machine_state_is_active(m->state))
		return return_error(invocation, PHYLLOME_ERROR_ALREADY_RUNNING, "Machine '%s' is %s; stop it first",
				    m->name, machine_state_to_string(m->state));
	return authorize(m, invocation, options, "delete", do_delete);
}

/* ---- when the machine starts by itself ---- */

static const char *const autostart_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b", PHYLLOME_OPTION_STOP_ON_LOGOUT, "b",
						 PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY, "u", NULL };

static void do_set_autostart(Machine *m, GDBusMethodInvocation *invocation, GVariant *options)
{
	g_autoptr(GError) error = NULL;
	MachineConfig *c = m->config;
	MachineConfig old;
	const char *when;
	guint32 delay;

	if (!c) {
		return_error(invocation, PHYLLOME_ERROR_INVALID_CONFIG, "%s", m->config_error);
		return;
	}
	old = *c;
	g_variant_get(g_dbus_method_invocation_get_parameters(invocation), "(&s@a{sv})", &when, NULL);
	/* Checked by the handler already. */
	(void)autostart_from_string(when, &c->autostart);
	(void)g_variant_lookup(options, PHYLLOME_OPTION_STOP_ON_LOGOUT, "b", &c->stop_on_logout);
	if (g_variant_lookup(options, PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY, "u", &delay))
		c->stop_on_logout_delay = delay;
	if (!machine_config_save(c, m->daemon->options.config_dir, &error)) {
		*c = old;
		g_dbus_method_invocation_return_error(invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_FAILED,
						      "Cannot save the definition of '%s': %s", m->name, error->message);
		return;
	}
	publish_config(m);
	if (c->autostart == AUTOSTART_LOGIN)
		log_machine(m, LOG_NOTICE, "Autostart: at its owner's login; %s",
			    c->stop_on_logout ? "stopped at logout" : "kept running after logout");
	else
		log_machine(m, LOG_NOTICE, "Autostart: %s", autostart_to_string(c->autostart));
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean handle_set_autostart(PhyllomeMachine *iface, GDBusMethodInvocation *invocation, const char *when,
				     GVariant *options, gpointer data)
{
	Machine *m = data;
	Autostart autostart;
	guint32 delay;

	(void)iface;
	if (!check_options(invocation, options, autostart_options))
		return TRUE;
	if (!autostart_from_string(when, &autostart))
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "Autostart must be no, boot or login, not '%s'", when);
	if (g_variant_lookup(options, PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY, "u", &delay) &&
	    delay > MACHINE_MAX_LOGOUT_DELAY)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "stop-on-logout-delay must be at most %u seconds", MACHINE_MAX_LOGOUT_DELAY);
	if (!m->config)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_CONFIG, "%s", m->config_error);
	/* A machine that starts at boot runs with nobody logged in: the administrator's to decide. */
	return authorize_full(m, invocation, options, "set-autostart", autostart != AUTOSTART_BOOT, do_set_autostart);
}

const MachineConfig *machine_get_config(Machine *m)
{
	return m->config;
}

void machine_start_by_daemon(Machine *m, const char *why)
{
	if (!m->config || machine_state_is_active(m->state))
		return;
	log_machine(m, LOG_NOTICE, "Starting: %s", why);
	begin_start(m, NULL);
}

void machine_stop_by_daemon(Machine *m, guint timeout, const char *why)
{
	/* A starting machine is stopped once it runs by whoever asked; one stopping already goes on. */
	if (!m->pid || (m->state != MACHINE_RUNNING && m->state != MACHINE_PAUSED))
		return;
	log_machine(m, LOG_NOTICE, "Stopping: %s", why);
	begin_stop(m, FALSE, timeout);
}

static void paused_or_resumed_by_daemon(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	gboolean pausing = GPOINTER_TO_INT(data);

	(void)reply;
	if (error) {
		log_machine(m, LOG_WARNING, "Cannot %s: %s", pausing ? "pause" : "resume", error->message);
		return;
	}
	if (m->pid && (m->state == MACHINE_RUNNING || m->state == MACHINE_PAUSED)) {
		set_state(m, pausing ? MACHINE_PAUSED : MACHINE_RUNNING);
		log_machine(m, LOG_INFO, pausing ? "Paused" : "Resumed");
	}
}

gboolean machine_pause_by_daemon(Machine *m, gboolean pause, const char *why)
{
	if (!m->pid || m->state != (pause ? MACHINE_RUNNING : MACHINE_PAUSED))
		return FALSE;
	log_machine(m, LOG_NOTICE, "%s: %s", pause ? "Pausing" : "Resuming", why);
	control_call(m, pause ? "Pause" : "Resume", paused_or_resumed_by_daemon, GINT_TO_POINTER(pause));
	return TRUE;
}

/* ---- host devices granted to the machine ---- */

static void publish_grants(Machine *m)
{
	g_autoptr(GPtrArray) devices = g_ptr_array_new();

	for (guint i = 0; i < m->grants->len; i++)
		g_ptr_array_add(devices, (gpointer)grant_get_device(m->grants->pdata[i]));
	g_ptr_array_add(devices, NULL);
	phyllome_machine_set_grants(m->iface, (const char *const *)devices->pdata);
}

static Grant *find_grant(Machine *m, const char *device)
{
	for (guint i = 0; i < m->grants->len; i++)
		if (g_str_equal(grant_get_device(m->grants->pdata[i]), device))
			return m->grants->pdata[i];
	return NULL;
}

gboolean machine_has_grant(Machine *m, const char *device)
{
	return find_grant(m, device) != NULL;
}

static gint by_device(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(grant_get_device(*(Grant *const *)a), grant_get_device(*(Grant *const *)b));
}

static gboolean handle_grant_revoke(PhyllomeGrant *iface, GDBusMethodInvocation *invocation, GVariant *options,
				    gpointer data);

static Grant *add_grant(Machine *m, const char *device, gboolean persistent)
{
	Daemon *d = m->daemon;
	g_autofree char *vendor = NULL, *product = NULL, *description = NULL;
	Grant *grant;

	host_device_names(manager_pci_names(d), d->options.sysfs_root, device, &vendor, &product);
	description = g_strstrip(g_strdup_printf("%s %s", vendor, product));
	grant = grant_new(d->object_manager, m->path, device, description, persistent, G_CALLBACK(handle_grant_revoke),
			  m);
	g_ptr_array_add(m->grants, grant);
	g_ptr_array_sort(m->grants, by_device);
	publish_grants(m);
	return grant;
}

static void remove_grant(Machine *m, Grant *grant)
{
	g_ptr_array_remove(m->grants, grant);
	publish_grants(m);
}

/* Persistent grants are the definition's Devices=; grants made for this run of phyllomed stay. */
static void sync_persistent_grants(Machine *m)
{
	const MachineConfig *c = m->config;

	if (!c || !m->grants)
		return;
	for (guint i = m->grants->len; i-- > 0;) {
		Grant *grant = m->grants->pdata[i];

		if (grant_get_persistent(grant) &&
		    !(c->devices && g_strv_contains((const char *const *)c->devices, grant_get_device(grant))))
			remove_grant(m, grant);
	}
	for (guint i = 0; c->devices && c->devices[i]; i++) {
		Grant *grant = find_grant(m, c->devices[i]);

		if (grant)
			grant_set_persistent(grant, TRUE);
		else
			add_grant(m, c->devices[i], TRUE);
	}
}

/* Writes the definition with Devices= changed; on failure nothing changed. */
static gboolean save_devices(Machine *m, const char *add, const char *remove, GError **error)
{
	g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func(g_free);
	char **old = m->config->devices;

	for (guint i = 0; old && old[i]; i++)
		if (!remove || !g_str_equal(old[i], remove))
			g_ptr_array_add(devices, g_strdup(old[i]));
	if (add)
		g_ptr_array_add(devices, g_strdup(add));
	g_ptr_array_add(devices, NULL);
	m->config->devices = (char **)devices->pdata;
	if (!machine_config_save(m->config, m->daemon->options.config_dir, error)) {
		m->config->devices = old;
		return FALSE;
	}
	m->config->devices = (char **)g_ptr_array_free(g_steal_pointer(&devices), FALSE);
	g_strfreev(old);
	return TRUE;
}

/* The machine that holds a grant for device, other than m; NULL when none does. */
static Machine *other_holder(Machine *m, const char *device)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, m->daemon->machines);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (value != m && machine_has_grant(value, device))
			return value;
	return NULL;
}

/* Host hardware is the administrator's to give, whoever owns the machine: no owner shortcut. */
static gboolean authorize_passthrough(Machine *m, GDBusMethodInvocation *invocation, GVariant *options,
				      const char *device, DeviceFunc func)
{
	Daemon *d = m->daemon;
	g_autofree char *vendor = NULL, *product = NULL;
	Pending *p = g_new0(Pending, 1);

	host_device_names(manager_pci_names(d), d->options.sysfs_root, device, &vendor, &product);
	const char *details[] = { "machine", m->name, "device", device, "vendor", vendor, "product", product, NULL };
	p->machine = machine_ref(m);
	p->device_func = func;
	p->options = g_variant_ref(options);
	p->device = g_strdup(device);
	bouncer_check(d->bouncer, invocation, PHYLLOME_POLKIT_PASSTHROUGH, NULL, (uid_t)-1,
		      options_interactive(options), details, authorized, p);
	return TRUE;
}

static const char *const grant_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b", PHYLLOME_OPTION_PERSISTENT, "b",
					     NULL };
static const char *const revoke_options[] = { PHYLLOME_OPTION_INTERACTIVE, "b", PHYLLOME_OPTION_FORCE, "b",
					      NULL };

static void do_grant(Machine *m, GDBusMethodInvocation *invocation, GVariant *options, const char *device)
{
	g_autoptr(GError) error = NULL;
	gboolean persistent = FALSE;
	Machine *holder = other_holder(m, device);
	Grant *grant = find_grant(m, device);

	g_variant_lookup(options, PHYLLOME_OPTION_PERSISTENT, "b", &persistent);
	/* Checked again: another grant may have been made while polkit asked. */
	if (holder) {
		return_error(invocation, PHYLLOME_ERROR_BUSY, "Device %s is granted to machine '%s'", device,
			     holder->name);
		return;
	}
	if (persistent && !(grant && grant_get_persistent(grant))) {
		if (!m->config) {
			return_error(invocation, PHYLLOME_ERROR_INVALID_CONFIG,
				     "Machine '%s' has a broken definition: it cannot record a grant", m->name);
			return;
		}
		if (!save_devices(m, device, NULL, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return;
		}
	}
	if (grant)
		grant_set_persistent(grant, grant_get_persistent(grant) || persistent);
	else
		grant = add_grant(m, device, persistent);
	log_machine(m, LOG_NOTICE, "Host device %s granted%s", device, persistent ? " (persistent)" : "");
	g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", grant_get_path(grant)));
}

static gboolean handle_grant_device(PhyllomeMachine *iface, GDBusMethodInvocation *invocation,
				    const char *device, GVariant *options, gpointer data)
{
	Machine *m = data;
	g_autofree char *address = pci_address_normalize(device);
	g_autoptr(HostDevice) host = NULL;
	Machine *holder;

	(void)iface;
	if (!check_options(invocation, options, grant_options))
		return TRUE;
	if (!address)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "'%s' is not a PCI address such as 0000:01:00.0", device);
	host = host_device_get(m->daemon->options.sysfs_root, address);
	if (!host)
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT,
				    "There is no PCI device %s on this host (phyllomectl devices lists them)", address);
	holder = other_holder(m, address);
	if (holder)
		return return_error(invocation, PHYLLOME_ERROR_BUSY,
				    "Device %s is granted to machine '%s'; revoke it there first", address,
				    holder->name);
	return authorize_passthrough(m, invocation, options, address, do_grant);
}

static void do_revoke(Machine *m, GDBusMethodInvocation *invocation, GVariant *options, const char *device)
{
	g_autoptr(GError) error = NULL;
	Grant *grant = find_grant(m, device);

	(void)options;
	if (!grant) {
		return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT, "Device %s is not granted to '%s'", device,
			     m->name);
		return;
	}
	if (grant_get_persistent(grant) && m->config && !save_devices(m, NULL, device, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	log_machine(m, LOG_NOTICE, "Host device %s revoked%s", device,
		    machine_state_is_active(m->state) ? "; the running machine keeps it until it stops" : "");
	remove_grant(m, grant);
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean begin_revoke(Machine *m, GDBusMethodInvocation *invocation, const char *device,
			     GVariant *options)
{
	g_autofree char *address = pci_address_normalize(device);

	if (!check_options(invocation, options, revoke_options))
		return TRUE;
	if (!address || !find_grant(m, address))
		return return_error(invocation, PHYLLOME_ERROR_INVALID_ARGUMENT, "Device %s is not granted to '%s'",
				    device, m->name);
	if (machine_state_is_active(m->state) && !option_force(options))
		return return_error(invocation, PHYLLOME_ERROR_ALREADY_RUNNING,
				    "Machine '%s' is %s and holds %s: stop it first, or force the revocation "
				    "(it then keeps the device until it stops)",
				    m->name, machine_state_to_string(m->state), address);
	return authorize_passthrough(m, invocation, options, address, do_revoke);
}

static gboolean handle_revoke_device(PhyllomeMachine *iface, GDBusMethodInvocation *invocation,
				     const char *device, GVariant *options, gpointer data)
{
	(void)iface;
	return begin_revoke(data, invocation, device, options);
}

static gboolean handle_grant_revoke(PhyllomeGrant *iface, GDBusMethodInvocation *invocation, GVariant *options,
				    gpointer data)
{
	return begin_revoke(data, invocation, phyllome_grant_get_device(iface), options);
}

/* ---- life cycle ---- */

char *machine_object_path(const char *name)
{
	g_autofree char *escaped = g_dbus_escape_object_path(name);

	return g_strdup_printf("%s/%s", PHYLLOME_MACHINE_PATH_PREFIX, escaped);
}

Machine *machine_new(Daemon *daemon, const char *name, MachineConfig *config, const char *config_error)
{
	Machine *m = g_new0(Machine, 1);

	m->ref = 1;
	m->daemon = daemon;
	m->name = g_strdup(name);
	m->path = machine_object_path(name);
	m->pidfd = -1;
	m->spawn.release_fd = m->spawn.exec_fd = -1;
	g_queue_init(&m->stop_waiters);
	m->grants = g_ptr_array_new_with_free_func((GDestroyNotify)grant_free);
	m->object = phyllome_object_skeleton_new(m->path);
	m->iface = phyllome_machine_skeleton_new();
	phyllome_machine_set_name(m->iface, name);
	phyllome_machine_set_state(m->iface, machine_state_to_string(MACHINE_STOPPED));
	phyllome_machine_set_result(m->iface, "");
	phyllome_machine_set_status_text(m->iface, "");
	phyllome_machine_set_exit_status(m->iface, -1);
	phyllome_machine_set_unit(m->iface, "");
	phyllome_machine_set_state_change_timestamp(m->iface, (guint64)g_get_real_time());
	machine_set_config(m, config, config_error);
	g_signal_connect(m->iface, "handle-start", G_CALLBACK(handle_start), m);
	g_signal_connect(m->iface, "handle-stop", G_CALLBACK(handle_stop), m);
	g_signal_connect(m->iface, "handle-kill", G_CALLBACK(handle_kill), m);
	g_signal_connect(m->iface, "handle-restart", G_CALLBACK(handle_restart), m);
	g_signal_connect(m->iface, "handle-open-console", G_CALLBACK(handle_open_console), m);
	g_signal_connect(m->iface, "handle-pause", G_CALLBACK(handle_pause_or_resume), m);
	g_signal_connect(m->iface, "handle-resume", G_CALLBACK(handle_pause_or_resume), m);
	g_signal_connect(m->iface, "handle-delete", G_CALLBACK(handle_delete), m);
	g_signal_connect(m->iface, "handle-grant-device", G_CALLBACK(handle_grant_device), m);
	g_signal_connect(m->iface, "handle-revoke-device", G_CALLBACK(handle_revoke_device), m);
	g_signal_connect(m->iface, "handle-set-autostart", G_CALLBACK(handle_set_autostart), m);
	phyllome_object_skeleton_set_machine(m->object, m->iface);
	g_dbus_object_manager_server_export(daemon->object_manager, G_DBUS_OBJECT_SKELETON(m->object));
	m->exported = TRUE;
	return m;
}

void machine_unexport(Machine *m)
{
	if (!m->exported)
		return;
	m->exported = FALSE;
	g_ptr_array_set_size(m->grants, 0);
	g_signal_handlers_disconnect_by_data(m->iface, m);
	g_dbus_object_manager_server_unexport(m->daemon->object_manager, m->path);
}

/* What the adopted monitor says of itself: paused, or its guest panicked while we were away. */
static void adopted_monitor_state(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GVariant) props = NULL;
	const char *state = NULL;
	gboolean panicked = FALSE;

	(void)data;
	if (error) {
		log_machine(m, LOG_WARNING, "The adopted monitor does not answer on its control socket: %s",
			    error->message);
		return;
	}
	if (m->state != MACHINE_RUNNING || !m->pid)
		return;
	props = g_variant_get_child_value(reply, 0);
	if (g_variant_lookup(props, "Panicked", "b", &panicked) && panicked)
		m->panicked = TRUE;
	if (g_variant_lookup(props, "State", "&s", &state) && g_str_equal(state, "paused")) {
		set_state(m, MACHINE_PAUSED);
		log_machine(m, LOG_INFO, "The adopted monitor is paused");
	}
}

void machine_adopt(Machine *m)
{
	g_autofree char *path = runtime_path(m, "state");
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *unit = NULL;
	gint64 pid;
	guint64 start_time;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
		remove_runtime_state(m);
		return;
	}
	pid = g_key_file_get_int64(kf, "Monitor", "PID", NULL);
	start_time = g_key_file_get_uint64(kf, "Monitor", "StartTime", NULL);
	unit = g_key_file_get_string(kf, "Monitor", "Unit", NULL);
	g_strfreev(m->moved_devices);
	m->moved_devices = g_key_file_get_string_list(kf, "Devices", "Moved", NULL, NULL);
	/* The same process (not a reused PID) and still in the machine's scope. */
	if (pid <= 0 || pid > G_MAXINT || !unit || process_start_time((pid_t)pid) != start_time ||
	    !process_in_unit((pid_t)pid, unit)) {
		log_machine(m, LOG_INFO, "The monitor of an earlier run is gone");
		remove_runtime_state(m);
		give_back_devices(m);
		return;
	}
	m->pidfd = pidfd_open((pid_t)pid, 0);
	if (m->pidfd < 0) {
		log_machine(m, LOG_WARNING, "Cannot watch monitor PID %" G_GINT64_FORMAT ": %s", pid, g_strerror(errno));
		return;
	}
	m->pid = (pid_t)pid;
	m->pidfd_watch_id = g_unix_fd_add(m->pidfd, G_IO_IN, pidfd_ready, m);
	m->stop_timeout = m->daemon->options.stop_timeout;
	phyllome_machine_set_leader(m->iface, (guint)m->pid);
	phyllome_machine_set_unit(m->iface, unit);
	set_state(m, MACHINE_RUNNING);
	set_grants_active(m, TRUE);
	log_machine(m, LOG_INFO, "Adopted the running monitor, PID %d in %s", (int)m->pid, unit);
	control_call_full(m, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", PHYLLOME_VMM1_INTERFACE),
			  adopted_monitor_state, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One machine: its object and properties, and its life cycle from start to the monitor's end. */
#include "machine-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passthrough.h"
#include "spawn.h"
#include "phyllome-error.h"
#include "phyllome-names.h"

void machine_log(Machine *m, int priority, const char *format, ...)
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
	vmm_client_free(m->control);
	machine_release_monitor_id(m);
	g_array_unref(m->reboots);
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

Daemon *machine_get_daemon(Machine *m)
{
	return m->daemon;
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

char *machine_runtime_path(Machine *m, const char *file)
{
	return g_build_filename(m->daemon->options.runtime_dir, m->name, file, NULL);
}

void machine_set_state(Machine *m, MachineState state)
{
	if (m->state == state)
		return;
	m->state = state;
	phyllome_machine_set_state(m->iface, machine_state_to_string(state));
	phyllome_machine_set_state_change_timestamp(m->iface, (guint64)g_get_real_time());
	m->ops->state_changed(m);
}

void machine_publish_config(Machine *m)
{
	static const char *const empty[] = { NULL };
	const MachineConfig *c = m->config;

	phyllome_machine_set_firmware(
	    m->iface, firmware_to_string(c ? machine_config_firmware(c) : FIRMWARE_NONE));
	phyllome_machine_set_secure_boot(m->iface, c && c->secure_boot);
	phyllome_machine_set_uuid(m->iface, c ? c->uuid : "");
	phyllome_machine_set_architecture(m->iface, MACHINE_HOST_ARCHITECTURE);
	phyllome_machine_set_display(
	    m->iface, display_to_string(c ? machine_config_display(c) : DISPLAY_NONE));
	{
		g_autofree char *resolution =
		    c && c->resolution_width
			? g_strdup_printf("%ux%u", c->resolution_width, c->resolution_height)
			: g_strdup("");

		phyllome_machine_set_resolution(m->iface, resolution);
	}
	phyllome_machine_set_kernel(m->iface, c && c->kernel ? c->kernel : "");
	phyllome_machine_set_initrd(m->iface, c && c->initrd ? c->initrd : "");
	phyllome_machine_set_cmdline(m->iface, c && c->cmdline ? c->cmdline : "");
	phyllome_machine_set_vcpus(m->iface, c ? c->cpus : 0);
	phyllome_machine_set_memory_bytes(m->iface, c ? c->memory : 0);
	phyllome_machine_set_owner(m->iface, c ? (guint)c->owner : 0);
	phyllome_machine_set_autostart(m->iface,
				       autostart_to_string(c ? c->autostart : AUTOSTART_NO));
	phyllome_machine_set_stop_on_logout(m->iface, c ? c->stop_on_logout : TRUE);
	phyllome_machine_set_stop_on_logout_delay(m->iface, c ? c->stop_on_logout_delay
							      : MACHINE_DEFAULT_LOGOUT_DELAY);
	phyllome_machine_set_disks(m->iface, c && c->disks ? (const char *const *)c->disks : empty);
	phyllome_machine_set_networks(m->iface,
				      c && c->networks ? (const char *const *)c->networks : empty);
	phyllome_machine_set_vsock_cid(m->iface, c ? c->vsock_cid : 0);
}

void machine_set_config(Machine *m, MachineConfig *config, const char *config_error)
{
	machine_config_free(m->config);
	m->config = config;
	g_free(m->config_error);
	m->config_error = g_strdup(config_error);
	machine_publish_config(m);
	machine_grants_sync(m);
	if (!config) {
		machine_log(m, LOG_ERR, "Broken definition: %s", config_error);
		phyllome_machine_set_result(m->iface, "config");
		phyllome_machine_set_status_text(m->iface, config_error);
		if (!machine_state_is_active(m->state))
			machine_set_state(m, MACHINE_FAILED);
	} else if (m->state == MACHINE_FAILED &&
		   g_strcmp0(phyllome_machine_get_result(m->iface), "config") == 0) {
		phyllome_machine_set_result(m->iface, "");
		phyllome_machine_set_status_text(m->iface, "");
		machine_set_state(m, MACHINE_STOPPED);
	}
}

static void control_detach(Machine *m)
{
	g_clear_pointer(&m->control, vmm_client_free);
}

/* ---- the end of a monitor ---- */

/*
 * A guest that reboots in a loop (a broken boot, a crash at start) is started
 * again at most this often, as systemd's StartLimitBurst/IntervalSec limit a
 * service; after that the machine fails with Result start-limit.
 */
#define REBOOT_LIMIT_BURST 5
#define REBOOT_LIMIT_INTERVAL_S 60

static void begin_start(Machine *m, GDBusMethodInvocation *invocation, gboolean guest_rebooted);

/* Notes a reboot of the guest; TRUE when it is one too many. */
static gboolean reboot_limit_hit(Machine *m)
{
	gint64 now = g_get_monotonic_time();
	guint recent = 0;

	g_array_append_val(m->reboots, now);
	/* Only the last few matter. */
	if (m->reboots->len > REBOOT_LIMIT_BURST)
		g_array_remove_index(m->reboots, 0);
	for (guint i = 0; i < m->reboots->len; i++)
		if (now - g_array_index(m->reboots, gint64, i) <
		    (gint64)REBOOT_LIMIT_INTERVAL_S * G_USEC_PER_SEC)
			recent++;
	return recent >= REBOOT_LIMIT_BURST;
}

void machine_remove_runtime_state(Machine *m)
{
	g_autofree char *state = machine_runtime_path(m, "state");
	g_autofree char *console = machine_runtime_path(m, "console");
	g_autofree char *control = machine_runtime_path(m, "control");
	g_autofree char *dir = machine_runtime_path(m, NULL);

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

void machine_give_back_devices(Machine *m)
{
	g_auto(GStrv) moved = g_steal_pointer(&m->moved_devices);

	machine_grants_set_active(m, FALSE);
	if (moved && m->config && !m->config->return_devices)
		machine_log(m, LOG_INFO, "Its host devices stay on vfio-pci (ReturnDevices=false)");
	else if (moved)
		passthrough_give_back(m->daemon->options.sysfs_root, m->name,
				      (const char *const *)moved);
}

void machine_hold_monitor_id(Machine *m, uid_t id)
{
	m->monitor_id = id;
	g_hash_table_add(m->daemon->monitor_ids_taken, GUINT_TO_POINTER((guint)id));
}

void machine_release_monitor_id(Machine *m)
{
	if (m->monitor_id)
		g_hash_table_remove(m->daemon->monitor_ids_taken,
				    GUINT_TO_POINTER((guint)m->monitor_id));
	m->monitor_id = 0;
}

static void monitor_gone(Machine *m, gboolean known, int wait_status)
{
	gboolean was_starting = m->state == MACHINE_STARTING;
	MachineOutcome o =
	    machine_outcome(known, wait_status, m->stop_requested || m->killing, m->panicked);
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
	machine_release_monitor_id(m);
	m->stop_requested = m->killing = FALSE;
	control_detach(m);
	machine_remove_runtime_state(m);
	/* Given back below, unless the machine starts again at once (passthrough.h). */
	machine_grants_set_active(m, FALSE);
	phyllome_machine_set_leader(m->iface, 0);
	phyllome_machine_set_unit(m->iface, "");
	phyllome_machine_set_exit_status(m->iface, o.exit_status);

	if (was_starting && (start_error || !o.restart)) {
		/* It never got to run: the start failed. */
		if (!start_error && known && WIFSIGNALED(wait_status))
			start_error =
			    g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
					"The monitor was killed by signal %s during start",
					g_strsignal(WTERMSIG(wait_status)));
		else if (!start_error)
			start_error =
			    g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
					"The monitor exited during start with status %d (%s)",
					o.exit_status, vmm_exit_status_meaning(o.exit_status));
		machine_give_back_devices(m);
		machine_log(m, LOG_ERR, "Start failed: %s", start_error->message);
		phyllome_machine_set_result(m->iface, "start-failed");
		phyllome_machine_set_status_text(m->iface, start_error->message);
		machine_set_state(m, MACHINE_FAILED);
		if (start_invocation)
			g_dbus_method_invocation_return_gerror(start_invocation, start_error);
		g_clear_object(&start_invocation);
		reply_stop_waiters(m, NULL);
		g_clear_object(&restart_invocation);
		return;
	}

	if (o.state == MACHINE_FAILED) {
		if (o.exit_status >= 0)
			status_text =
			    g_strdup_printf("phyllome-vmm exited with status %d (%s)",
					    o.exit_status, vmm_exit_status_meaning(o.exit_status));
		else if (known)
			status_text = g_strdup_printf("phyllome-vmm was killed by signal %s",
						      g_strsignal(WTERMSIG(wait_status)));
		else
			status_text = g_strdup(
			    "phyllome-vmm ended; phyllomed was not its parent, so why is unknown");
		machine_log(m, LOG_ERR, "Failed: %s", status_text);
	} else if (o.restart && !restart_invocation && reboot_limit_hit(m)) {
		status_text = g_strdup_printf(
		    "The guest rebooted %u times within %u s; it is not started again (Start does)",
		    REBOOT_LIMIT_BURST, REBOOT_LIMIT_INTERVAL_S);
		machine_log(m, LOG_ERR, "Failed: %s", status_text);
		o.state = MACHINE_FAILED;
		o.result = "start-limit";
		o.restart = FALSE;
		if (start_invocation)
			g_dbus_method_invocation_return_error(start_invocation, PHYLLOME_ERROR,
							      PHYLLOME_ERROR_START_FAILED, "%s",
							      status_text);
		g_clear_object(&start_invocation);
	} else if (o.restart) {
		machine_log(m, LOG_INFO, "The guest rebooted; starting it again");
	} else {
		machine_log(m, LOG_INFO, "Stopped (%s)", o.result);
	}
	if (!restart_invocation && !o.restart)
		machine_give_back_devices(m);
	phyllome_machine_set_result(m->iface, o.result);
	phyllome_machine_set_status_text(m->iface, status_text ? status_text : "");
	machine_set_state(m, o.state == MACHINE_STARTING ? MACHINE_STOPPED : o.state);
	reply_stop_waiters(m, NULL);

	/* A Start still waiting (the guest rebooted before it ran) is answered by the next run. */
	if (restart_invocation || o.restart)
		begin_start(m, restart_invocation ? restart_invocation : start_invocation,
			    !restart_invocation);
	g_clear_object(&restart_invocation);
	g_clear_object(&start_invocation);
}

static void child_exited(GPid pid, int wait_status, gpointer data)
{
	Machine *m = data;

	(void)pid;
	m->child_watch_id = 0;
	monitor_gone(m, TRUE, wait_status);
}

gboolean machine_pidfd_ready(int fd, GIOCondition condition, gpointer data)
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
		machine_log(m, LOG_WARNING, "Cannot send %s to the monitor: %s", g_strsignal(sig),
			    g_strerror(errno));
}

/* ---- starting ---- */

void machine_start_failed(Machine *m, GError *error)
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
	g_autofree char *path = machine_runtime_path(m, "state");
	g_autofree char *unit = scope_unit_name(m->name);
	g_autoptr(GError) error = NULL;

	g_key_file_set_int64(kf, "Monitor", "PID", m->pid);
	g_key_file_set_uint64(kf, "Monitor", "StartTime", process_start_time(m->pid));
	g_key_file_set_string(kf, "Monitor", "Unit", unit);
	if (m->moved_devices)
		g_key_file_set_string_list(kf, "Devices", "Moved",
					   (const char *const *)m->moved_devices,
					   g_strv_length(m->moved_devices));
	if (!g_key_file_save_to_file(kf, path, &error))
		machine_log(m, LOG_WARNING,
			    "Cannot record the runtime state (%s): a restarted phyllomed will not "
			    "find this VM",
			    error->message);
}

static double ms_between(gint64 from, gint64 to)
{
	return (double)(to - from) / 1000.0;
}

static void start_done(Machine *m)
{
	g_autofree char *unit = scope_unit_name(m->name);
	gint64 now = g_get_monotonic_time();
	const typeof(m->start_times) *t = &m->start_times;
	gint64 from = t->requested ? t->requested : t->begun;

	phyllome_machine_set_unit(m->iface, unit);
	write_runtime_state(m);
	machine_set_state(m, MACHINE_RUNNING);
	/* Where a start's time went, in the terms of bench/daemon (which reads this line). */
	machine_log(m, LOG_INFO,
		    "Running: phyllome-vmm PID %d in %s, %.1f ms after the %s (authorization %.1f, "
		    "preparation %.1f, scope %.1f, exec %.1f, monitor %.1f; machined %.1f beside "
		    "them)",
		    (int)m->pid, unit, ms_between(from, now), t->requested ? "call" : "start",
		    ms_between(from, t->begun), ms_between(t->begun, t->forked),
		    ms_between(t->forked, t->in_scope), ms_between(t->in_scope, t->executed),
		    ms_between(t->executed, now), ms_between(t->in_scope, t->registered));
	if (m->start_invocation)
		g_dbus_method_invocation_return_value(g_steal_pointer(&m->start_invocation), NULL);
}

/* The monitor answers on its control channel: its machine is set up, its console socket there. */
static void monitor_ready(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	(void)reply, (void)data;
	if (m->state != MACHINE_STARTING || !m->pid || m->start_error)
		return;
	if (error) {
		machine_start_failed(
		    m, g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
				   "The monitor did not answer on its control socket: %s",
				   error->message));
		return;
	}
	m->monitor_answered = TRUE;
	if (!m->registering)
		start_done(m);
}

static gboolean exec_done(int fd, GIOCondition condition, gpointer data)
{
	Machine *m = data;
	GError *error = NULL;

	(void)fd, (void)condition;
	m->exec_watch_id = 0;
	if (!spawn_exec_result(&m->spawn, &error)) {
		machine_start_failed(m, error);
		return G_SOURCE_REMOVE;
	}
	m->start_times.executed = g_get_monotonic_time();
	/* The reply waits until the monitor serves its control socket (we made it, so connecting
	 * cannot race). */
	machine_control_call_full(m, "org.freedesktop.DBus.Properties", "Get",
				  g_variant_new("(ss)", PHYLLOME_VMM1_INTERFACE, "State"),
				  monitor_ready, NULL);
	return G_SOURCE_REMOVE;
}

typedef struct {
	Machine *machine;
	pid_t leader; /* the start it was for */
} Registration;

static void machine_registered(const GError *error, gpointer data)
{
	g_autofree Registration *r = data;
	g_autoptr(Machine) m = r->machine;

	if (m->state != MACHINE_STARTING || m->pid != r->leader || m->start_error)
		return;
	/* The VM runs without machined (not installed?); machinectl will not list it. */
	if (error)
		machine_log(m, LOG_WARNING, "%s", error->message);
	m->registering = FALSE;
	m->start_times.registered = g_get_monotonic_time();
	if (m->monitor_answered)
		start_done(m);
}

/*
 * The child is in its scope: it may run. machined learns of it meanwhile, which
 * takes a round trip as long as the monitor's own start; Start answers once both
 * are done, so that machinectl lists a machine that Start said runs.
 */
static void scope_started(const GError *error, gpointer data)
{
	g_autoptr(Machine) m = data;
	GError *release_error = NULL;
	Registration *registration;

	if (m->state != MACHINE_STARTING || !m->pid || m->start_error)
		return;
	if (error) {
		machine_start_failed(m, g_error_copy(error));
		return;
	}
	m->start_times.in_scope = g_get_monotonic_time();
	if (!spawn_release(&m->spawn, &release_error)) {
		machine_start_failed(m, release_error);
		return;
	}
	m->exec_watch_id =
	    g_unix_fd_add(m->spawn.exec_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, exec_done, m);
	registration = g_new(Registration, 1);
	*registration = (Registration){ .machine = machine_ref(m), .leader = m->pid };
	m->registering = TRUE;
	scopes_register_machine(m->daemon->scopes, m->name, m->config->uuid, m->pid,
				machine_registered, registration);
}

static void start_refused(Machine *m, GDBusMethodInvocation *invocation, const GError *error)
{
	/* (Devices a reboot left on vfio-pci, when the next run did not get to take them.) */
	machine_give_back_devices(m);
	machine_log(m, LOG_ERR, "Cannot start: %s", error->message);
	phyllome_machine_set_result(m->iface, m->config ? "start-failed" : "config");
	phyllome_machine_set_status_text(m->iface, error->message);
	machine_set_state(m, MACHINE_FAILED);
	if (invocation)
		g_dbus_method_invocation_return_gerror(invocation, error);
}

/* Forks the monitor with everything it runs on; the granted devices are its own from here on. */
static gboolean spawn_monitor(Machine *m, GError **error)
{
	g_autofree char *runtime_dir = machine_runtime_path(m, NULL);
	g_autoptr(GPtrArray) granted = g_ptr_array_new();
	/* What the previous run left on vfio-pci, when the guest rebooted. */
	g_auto(GStrv) kept = g_steal_pointer(&m->moved_devices);
	MonitorLaunch launch;
	uid_t monitor_id;

	for (guint i = 0; i < m->grants->len; i++)
		g_ptr_array_add(granted, (gpointer)grant_get_device(m->grants->pdata[i]));
	g_ptr_array_add(granted, NULL);
	if (!monitor_ids_allocate(&m->daemon->options.monitor_ids, m->daemon->monitor_ids_taken,
				  m->daemon->monitor_ids_left_behind, &monitor_id, error)) {
		passthrough_give_back(m->daemon->options.sysfs_root, m->name,
				      (const char *const *)kept);
		return FALSE;
	}
	launch = (MonitorLaunch){ .config = m->config,
				  .options = &m->daemon->options,
				  .runtime_dir = runtime_dir,
				  .granted = (const char *const *)granted->pdata,
				  .monitor_id = monitor_id,
				  .kept = (const char *const *)kept };
	if (!monitor_spawn(&launch, &m->spawn, &m->moved_devices, error))
		return FALSE;
	machine_hold_monitor_id(m, monitor_id);
	machine_grants_set_active(m, TRUE);
	return TRUE;
}

void machine_begin_start(Machine *m, GDBusMethodInvocation *invocation, gint64 requested)
{
	begin_start(m, invocation, FALSE);
	m->start_times.requested = requested;
}

static void begin_start(Machine *m, GDBusMethodInvocation *invocation, gboolean guest_rebooted)
{
	g_autoptr(GError) error = NULL;

	/* A start that is not the guest's own reboot begins the count of reboots anew. */
	if (!guest_rebooted)
		g_array_set_size(m->reboots, 0);

	if (!m->config) {
		error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG, "%s",
				    m->config_error);
		start_refused(m, invocation, error);
		return;
	}
	m->panicked = FALSE;
	m->registering = m->monitor_answered = FALSE;
	m->start_times = (typeof(m->start_times)){ .begun = g_get_monotonic_time() };
	phyllome_machine_set_result(m->iface, "");
	phyllome_machine_set_status_text(m->iface, "");
	if (!spawn_monitor(m, &error)) {
		start_refused(m, invocation, error);
		return;
	}
	m->pid = m->spawn.pid;
	m->pidfd = pidfd_open(m->pid, 0);
	m->child_watch_id = g_child_watch_add_full(G_PRIORITY_DEFAULT, m->pid, child_exited,
						   machine_ref(m), (GDestroyNotify)machine_unref);
	m->start_invocation = invocation ? g_object_ref(invocation) : NULL;
	m->stop_timeout = m->daemon->options.stop_timeout;
	phyllome_machine_set_leader(m->iface, (guint)m->pid);
	machine_set_state(m, MACHINE_STARTING);
	machine_log(m, LOG_INFO, "Starting: %u vCPUs, %" G_GUINT64_FORMAT " MiB", m->config->cpus,
		    m->config->memory >> 20);
	m->start_times.forked = g_get_monotonic_time();
	scopes_start(m->daemon->scopes, m->config, m->pid, scope_started, machine_ref(m));
}

/* ---- the monitor's control channel (org.phyllome.VMM1) ---- */

typedef struct {
	Machine *machine;
	MachineControlCallback callback;
	gpointer data;
} ControlCall;

static void control_replied(GVariant *reply, const GError *error, gpointer data)
{
	ControlCall *call = data;
	Machine *m = call->machine;
	g_autoptr(GError) stopped = NULL;

	/* The channel closed because the monitor ended meanwhile. */
	if (error && !m->pid && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
		stopped = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_NOT_RUNNING,
				      "Machine '%s' stopped", m->name);
		error = stopped;
	}
	if (call->callback)
		call->callback(m, reply, error, call->data);
	machine_unref(m);
	g_free(call);
}

static void guest_panicked(gboolean crash_kernel_loaded, gpointer data)
{
	Machine *m = data;

	m->panicked = TRUE;
	if (crash_kernel_loaded) {
		machine_log(m, LOG_ERR, "The guest kernel panicked; its crash kernel takes over");
		phyllome_machine_set_status_text(
		    m->iface, "The guest kernel panicked; its crash kernel runs");
	} else {
		machine_log(m, LOG_ERR, "The guest kernel panicked; the monitor stops the VM");
	}
}

static const VmmClientOps control_ops = { .guest_panicked = guest_panicked };

static void control_call(Machine *m, const char *interface, const char *method, GVariant *params,
			 GUnixFDList *fds, MachineControlCallback callback, gpointer data)
{
	ControlCall *call = g_new0(ControlCall, 1);

	call->machine = machine_ref(m);
	call->callback = callback;
	call->data = data;
	if (!m->control) {
		g_autofree char *path = machine_runtime_path(m, "control");

		m->control = vmm_client_new(path, &control_ops, m);
	}
	vmm_client_call_with_fds(m->control, interface, method, params, fds, control_replied, call);
}

void machine_control_call_full(Machine *m, const char *interface, const char *method,
			       GVariant *params, MachineControlCallback callback, gpointer data)
{
	control_call(m, interface, method, params, NULL, callback, data);
}

void machine_control_call_with_fds(Machine *m, const char *method, GVariant *params,
				   GUnixFDList *fds, MachineControlCallback callback, gpointer data)
{
	control_call(m, PHYLLOME_VMM1_INTERFACE, method, params, fds, callback, data);
}

void machine_control_call(Machine *m, const char *method, MachineControlCallback callback,
			  gpointer data)
{
	machine_control_call_full(m, PHYLLOME_VMM1_INTERFACE, method, NULL, callback, data);
}

void machine_paused_or_resumed(Machine *m, gboolean pausing)
{
	/* The state may have moved on meanwhile (stopped, killed): only a live monitor counts. */
	if (m->pid && (m->state == MACHINE_RUNNING || m->state == MACHINE_PAUSED)) {
		machine_set_state(m, pausing ? MACHINE_PAUSED : MACHINE_RUNNING);
		machine_log(m, LOG_INFO, pausing ? "Paused" : "Resumed");
	}
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
	machine_log(m, LOG_WARNING,
		    "The monitor's control channel did not take %s (%s); sending SIGTERM instead",
		    step, error->message);
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
	machine_control_call(m, "PowerButton", stop_step_done, (gpointer) "the power button");
}

static gboolean stop_timer_fired(gpointer data)
{
	Machine *m = data;

	if (!m->killing) {
		machine_log(m, LOG_WARNING,
			    "The guest did not power off within %u s; stopping it hard",
			    m->stop_timeout);
		/* The monitor stops the VM at once and exits by itself. */
		m->killing = TRUE;
		machine_control_call(m, "Quit", stop_step_done, (gpointer) "Quit");
		return G_SOURCE_CONTINUE;
	}
	machine_log(m, LOG_WARNING, "The monitor did not exit; killing it");
	send_signal(m, SIGKILL);
	m->stop_timer_id = 0;
	return G_SOURCE_REMOVE;
}

void machine_begin_stop(Machine *m, gboolean force, guint timeout)
{
	gboolean was_paused = m->state == MACHINE_PAUSED;

	if (m->stop_timer_id)
		g_source_remove(m->stop_timer_id);
	m->stop_requested = TRUE;
	machine_set_state(m, MACHINE_STOPPING);
	if (force) {
		machine_log(m, LOG_INFO, "Killing the monitor");
		m->killing = TRUE;
		send_signal(m, SIGKILL);
		m->stop_timer_id = 0;
		return;
	}
	m->stop_timeout = timeout;
	machine_log(m, LOG_INFO, "Pressing the power button; the guest has %u s to power off",
		    timeout);
	/* A paused guest cannot see the button: let it run first. */
	if (was_paused)
		machine_control_call(m, "Resume", resumed_for_stop, NULL);
	else
		machine_control_call(m, "PowerButton", stop_step_done,
				     (gpointer) "the power button");
	m->stop_timer_id = g_timeout_add_seconds(timeout ? timeout : 1, stop_timer_fired, m);
}

/* ---- what phyllomed does by itself ---- */

const MachineConfig *machine_get_config(Machine *m)
{
	return m->config;
}

void machine_start_by_daemon(Machine *m, const char *why)
{
	if (!m->config || machine_state_is_active(m->state))
		return;
	machine_log(m, LOG_NOTICE, "Starting: %s", why);
	machine_begin_start(m, NULL, 0);
}

void machine_stop_by_daemon(Machine *m, guint timeout, const char *why)
{
	/* A starting machine is stopped once it runs by whoever asked; one stopping already goes
	 * on. */
	if (!m->pid || (m->state != MACHINE_RUNNING && m->state != MACHINE_PAUSED))
		return;
	machine_log(m, LOG_NOTICE, "Stopping: %s", why);
	machine_begin_stop(m, FALSE, timeout);
}

static void paused_or_resumed_by_daemon(Machine *m, GVariant *reply, const GError *error,
					gpointer data)
{
	gboolean pausing = GPOINTER_TO_INT(data);

	(void)reply;
	if (error)
		machine_log(m, LOG_WARNING, "Cannot %s: %s", pausing ? "pause" : "resume",
			    error->message);
	else
		machine_paused_or_resumed(m, pausing);
}

gboolean machine_pause_by_daemon(Machine *m, gboolean pause, const char *why)
{
	if (!m->pid || m->state != (pause ? MACHINE_RUNNING : MACHINE_PAUSED))
		return FALSE;
	machine_log(m, LOG_NOTICE, "%s: %s", pause ? "Pausing" : "Resuming", why);
	machine_control_call(m, pause ? "Pause" : "Resume", paused_or_resumed_by_daemon,
			     GINT_TO_POINTER(pause));
	return TRUE;
}

/* ---- life cycle ---- */

char *machine_object_path(const char *name)
{
	g_autofree char *escaped = g_dbus_escape_object_path(name);

	return g_strdup_printf("%s/%s", PHYLLOME_MACHINE_PATH_PREFIX, escaped);
}

Machine *machine_new(Daemon *daemon, const MachineOps *ops, const char *name, MachineConfig *config,
		     const char *config_error)
{
	Machine *m = g_new0(Machine, 1);

	m->ref = 1;
	m->daemon = daemon;
	m->ops = ops;
	m->name = g_strdup(name);
	m->path = machine_object_path(name);
	m->pidfd = -1;
	m->spawn.release_fd = m->spawn.exec_fd = -1;
	g_queue_init(&m->stop_waiters);
	m->grants = g_ptr_array_new_with_free_func((GDestroyNotify)grant_free);
	m->reboots = g_array_new(FALSE, FALSE, sizeof(gint64));
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
	/* Every method call goes through the method table (methods.c), which answers it. */
	g_signal_connect(m->iface, "g-authorize-method", m->ops->authorize_method, m);
	phyllome_object_skeleton_set_machine(m->object, m->iface);
	g_dbus_object_manager_server_export(daemon->object_manager,
					    G_DBUS_OBJECT_SKELETON(m->object));
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inhibit.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "logind.h"
#include "machine.h"
#include "manager.h"

/* logind's own default for InhibitDelayMaxSec=, when it cannot be read. */
#define DEFAULT_DELAY_MAX_SECONDS 5

struct Inhibitor {
	Daemon *daemon;
	GCancellable *cancellable;
	guint subscription;
	guint settle_id;
	int fd;		 /* the delay lock; -1 when not held */
	gboolean taking; /* an Inhibit call is on its way */
	gboolean warned; /* that logind refused: said once */
	gboolean sleeping;
	gboolean shutting_down;
	GPtrArray *paused_for_sleep; /* names of the machines to resume after sleep */
	GHook *state_hook;	     /* in the daemon's machine_state_hooks */
	guint delay_max;	     /* logind's InhibitDelayMaxUSec, in seconds */
};

typedef struct {
	Inhibitor *inhibitor;
	gboolean wanted;
	guint stop_timeout;
	const char *stop_why;
} Survey;

/* While the host prepares to sleep, paused machines need no more time; otherwise any live monitor
 * does. */
static void survey_wanted(Machine *m, gpointer data)
{
	Survey *s = data;
	MachineState state = machine_get_state(m);

	if (s->inhibitor->sleeping
		? state == MACHINE_STARTING || state == MACHINE_RUNNING || state == MACHINE_STOPPING
		: machine_state_is_active(state))
		s->wanted = TRUE;
}

static gboolean wanted(Inhibitor *i)
{
	Survey s = { .inhibitor = i };

	manager_foreach_machine(i->daemon, survey_wanted, &s);
	return s.wanted;
}

static void release(Inhibitor *i, const char *why)
{
	if (i->fd < 0)
		return;
	close(i->fd);
	i->fd = -1;
	daemon_log(NULL, LOG_INFO, "Released the sleep and shutdown delay inhibitor: %s", why);
}

static void settle(Inhibitor *i);

static void inhibit_done(GObject *source, GAsyncResult *res, gpointer data)
{
	Inhibitor *i = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish(
	    G_DBUS_CONNECTION(source), &fds, res, &error);
	int fd;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	i->taking = FALSE;
	if (!reply) {
		if (!i->warned)
			daemon_log(NULL, LOG_WARNING,
				   "Cannot take logind's sleep and shutdown delay inhibitor (%s): "
				   "machines will not be "
				   "paused before the host sleeps nor stopped before it shuts down",
				   error->message);
		i->warned = TRUE;
		return;
	}
	fd = g_unix_fd_list_get(fds, 0, &error);
	if (fd < 0) {
		daemon_log(NULL, LOG_WARNING,
			   "logind's inhibitor came without its file descriptor: %s",
			   error->message);
		return;
	}
	i->fd = fd;
	i->warned = FALSE;
	daemon_log(NULL, LOG_INFO,
		   "Holding a sleep and shutdown delay inhibitor while machines run");
	settle(i);
}

static void take(Inhibitor *i)
{
	i->taking = TRUE;
	g_dbus_connection_call_with_unix_fd_list(
	    i->daemon->bus, LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER, "Inhibit",
	    g_variant_new("(ssss)", "sleep:shutdown", "Phyllome",
			  "Virtual machines are running: they are paused before sleep and shut "
			  "down before power-off",
			  "delay"),
	    G_VARIANT_TYPE("(h)"), G_DBUS_CALL_FLAGS_NONE, LOGIND_CALL_TIMEOUT_MS, NULL,
	    i->cancellable, inhibit_done, i);
}

/*
 * Brings the machines in line with the host's plans (a machine that came up
 * meanwhile is paused or stopped too), then holds the inhibitor exactly while
 * it is wanted.
 */
static void settle_machine(Machine *m, gpointer data)
{
	Survey *s = data;
	Inhibitor *i = s->inhibitor;

	if (i->shutting_down)
		machine_stop_by_daemon(m, s->stop_timeout, s->stop_why);
	else if (i->sleeping &&
		 !g_ptr_array_find_with_equal_func(i->paused_for_sleep, machine_get_name(m),
						   g_str_equal, NULL) &&
		 machine_pause_by_daemon(m, TRUE, "the host is going to sleep"))
		g_ptr_array_add(i->paused_for_sleep, g_strdup(machine_get_name(m)));
}

static void settle(Inhibitor *i)
{
	/* The same time for every machine: logind's delay, less a second for phyllomed to let go.
	 */
	guint timeout =
	    MIN(i->daemon->options.stop_timeout, i->delay_max > 1 ? i->delay_max - 1 : 1);
	g_autofree char *why = g_strdup_printf(
	    "the host is shutting down (the guest has %u s: logind's InhibitDelayMaxSec less 1)",
	    timeout);
	Survey s = { .inhibitor = i, .stop_timeout = timeout, .stop_why = why };

	manager_foreach_machine(i->daemon, settle_machine, &s);
	if (wanted(i)) {
		if (i->fd < 0 && !i->taking && !i->shutting_down)
			take(i);
	} else {
		release(i, i->sleeping	      ? "the machines are paused; the host may sleep"
			   : i->shutting_down ? "the machines are stopped; the host may shut down"
					      : "no machine runs");
	}
}

static gboolean settle_idle(gpointer data)
{
	Inhibitor *i = data;

	i->settle_id = 0;
	settle(i);
	return G_SOURCE_REMOVE;
}

void inhibitor_update(Inhibitor *i)
{
	/* Later, not inside the state change that called: settling may change other states. */
	if (i && !i->settle_id)
		i->settle_id = g_idle_add(settle_idle, i);
}

gboolean inhibitor_shutting_down(Inhibitor *i)
{
	return i && i->shutting_down;
}

static void woke_up(Inhibitor *i)
{
	i->sleeping = FALSE;
	daemon_log(NULL, LOG_NOTICE,
		   "The host woke up: resuming the machines paused for its sleep (%u)",
		   i->paused_for_sleep->len);
	for (guint k = 0; k < i->paused_for_sleep->len; k++) {
		Machine *m = manager_find_machine(i->daemon, i->paused_for_sleep->pdata[k]);

		if (m)
			(void)machine_pause_by_daemon(m, FALSE, "the host woke up");
	}
	g_ptr_array_set_size(i->paused_for_sleep, 0);
}

static void logind_signal(GDBusConnection *bus, const char *sender, const char *path,
			  const char *interface, const char *signal, GVariant *params,
			  gpointer data)
{
	Inhibitor *i = data;
	gboolean start;

	(void)bus, (void)sender, (void)path, (void)interface;
	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(b)")))
		return;
	g_variant_get(params, "(b)", &start);
	if (g_str_equal(signal, "PrepareForSleep")) {
		if (start && !i->sleeping) {
			daemon_log(NULL, LOG_NOTICE,
				   "The host is going to sleep: pausing the running machines");
			i->sleeping = TRUE;
		} else if (!start && i->sleeping) {
			woke_up(i);
		}
	} else if (g_str_equal(signal, "PrepareForShutdown")) {
		if (start != i->shutting_down)
			daemon_log(NULL, LOG_NOTICE,
				   start ? "The host is shutting down: stopping the machines"
					 : "The host's shutdown was cancelled");
		i->shutting_down = start;
	} else {
		return;
	}
	settle(i);
}

static void delay_max_read(GVariant *value, const GError *error, gpointer data)
{
	Inhibitor *i = data;

	/* The inhibitor is gone: nothing of it may be touched. */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!value) {
		daemon_log(NULL, LOG_WARNING,
			   "Cannot read logind's InhibitDelayMaxUSec (%s); assuming %u s",
			   error->message, DEFAULT_DELAY_MAX_SECONDS);
		return;
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		i->delay_max = (guint)MIN(g_variant_get_uint64(value) / G_USEC_PER_SEC, G_MAXUINT);
}

Inhibitor *inhibitor_new(Daemon *daemon)
{
	Inhibitor *i = g_new0(Inhibitor, 1);

	i->daemon = daemon;
	i->fd = -1;
	i->cancellable = g_cancellable_new();
	i->paused_for_sleep = g_ptr_array_new_with_free_func(g_free);
	i->subscription = g_dbus_connection_signal_subscribe(
	    daemon->bus, LOGIND_NAME, LOGIND_MANAGER, NULL, LOGIND_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, logind_signal, i, NULL);
	/* Until logind answers (a shutdown that early is unlikely), its default. */
	i->delay_max = DEFAULT_DELAY_MAX_SECONDS;
	logind_get_property(daemon->bus, LOGIND_PATH, LOGIND_MANAGER, "InhibitDelayMaxUSec",
			    i->cancellable, delay_max_read, i);
	/* It follows the machines' states, whoever changes them. */
	i->state_hook = g_hook_alloc(&daemon->machine_state_hooks);
	i->state_hook->func = (gpointer)inhibitor_update;
	i->state_hook->data = i;
	g_hook_append(&daemon->machine_state_hooks, i->state_hook);
	inhibitor_update(i);
	return i;
}

void inhibitor_free(Inhibitor *i)
{
	if (!i)
		return;
	g_hook_destroy_link(&i->daemon->machine_state_hooks, i->state_hook);
	g_cancellable_cancel(i->cancellable);
	g_object_unref(i->cancellable);
	g_dbus_connection_signal_unsubscribe(i->daemon->bus, i->subscription);
	if (i->settle_id)
		g_source_remove(i->settle_id);
	if (i->fd >= 0)
		close(i->fd);
	g_ptr_array_unref(i->paused_for_sleep);
	g_free(i);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "logins.h"

#include <errno.h>
#include <pwd.h>

#include "inhibit.h"
#include "logind.h"
#include "machine.h"
#include "manager.h"

/* In the runtime directory (a tmpfs, empty at boot): boot autostart was done in this boot. */
#define BOOTED_MARKER ".booted"

struct Logins {
	Daemon *daemon;
	guint subscription;
	guint refresh_id;
	GHashTable *present; /* uid + 1 of every user with a session (opening, online or active) */
	GHashTable
	    *stop_timers; /* machine name -> source id of its stop after the owner's logout */
	gboolean warned;  /* that logind could not be asked: said once */
	GCancellable *cancellable;
	gboolean asking;      /* a question to logind is under way */
	gboolean ask_again;   /* and logind signalled more changes meanwhile */
	gboolean noting_only; /* the first answer only notes who is there (a restarted phyllomed) */
};

static char *user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? g_strdup(pw->pw_name) : g_strdup_printf("uid %u", (unsigned)uid);
}

static void cancel_stop(Logins *l, Machine *m)
{
	guint id = GPOINTER_TO_UINT(g_hash_table_lookup(l->stop_timers, machine_get_name(m)));

	if (!id)
		return;
	g_source_remove(id);
	g_hash_table_remove(l->stop_timers, machine_get_name(m));
	daemon_log(machine_get_name(m), LOG_INFO, "Keeps running: its owner logged in again");
}

typedef struct {
	Logins *logins;
	char *name;
} StopTimer;

static void stop_timer_free(StopTimer *t)
{
	g_free(t->name);
	g_free(t);
}

static gboolean stop_after_logout(gpointer data)
{
	StopTimer *t = data;
	Logins *l = t->logins;
	Machine *m = manager_find_machine(l->daemon, t->name);
	const MachineConfig *c = m ? machine_get_config(m) : NULL;

	/* The entry holds no reference to the source: it goes when this returns. */
	g_hash_table_remove(l->stop_timers, t->name);
	if (c && c->autostart == AUTOSTART_LOGIN && c->stop_on_logout &&
	    !g_hash_table_contains(l->present, LOGIND_UID_KEY(c->owner))) {
		g_autofree char *owner = user_name(c->owner);
		g_autofree char *why =
		    g_strdup_printf("%s's last login session ended %u s ago (StopOnLogout)", owner,
				    c->stop_on_logout_delay);

		machine_stop_by_daemon(m, l->daemon->options.stop_timeout, why);
	}
	return G_SOURCE_REMOVE;
}

static void owner_left(Logins *l, Machine *m, const MachineConfig *c)
{
	g_autofree char *owner = user_name(c->owner);
	StopTimer *t;
	guint id;

	if (!machine_state_is_active(machine_get_state(m)) ||
	    g_hash_table_contains(l->stop_timers, machine_get_name(m)))
		return;
	if (!c->stop_on_logout) {
		daemon_log(machine_get_name(m), LOG_INFO,
			   "%s's last login session ended; keeps running (StopOnLogout=false)",
			   owner);
		return;
	}
	daemon_log(machine_get_name(m), LOG_INFO,
		   "%s's last login session ended; stopping in %u s unless %s logs in again", owner,
		   c->stop_on_logout_delay, owner);
	t = g_new0(StopTimer, 1);
	t->logins = l;
	t->name = g_strdup(machine_get_name(m));
	id = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, c->stop_on_logout_delay,
					stop_after_logout, t, (GDestroyNotify)stop_timer_free);
	g_hash_table_insert(l->stop_timers, g_strdup(t->name), GUINT_TO_POINTER(id));
}

/* Compares who is logged in now with before, and acts for each machine that follows its owner. */
typedef struct {
	Logins *logins;
	GHashTable *before, *now; /* uids logged in */
} Change;

static void follow_owner(Machine *m, gpointer data)
{
	Change *change = data;
	Logins *l = change->logins;
	const MachineConfig *c = machine_get_config(m);
	gboolean here, was;

	if (!c || c->autostart != AUTOSTART_LOGIN)
		return;
	here = g_hash_table_contains(change->now, LOGIND_UID_KEY(c->owner));
	was = g_hash_table_contains(change->before, LOGIND_UID_KEY(c->owner));
	if (here && !was) {
		g_autofree char *owner = user_name(c->owner);
		g_autofree char *why = g_strdup_printf("%s logged in (Autostart=login)", owner);

		cancel_stop(l, m);
		if (!inhibitor_shutting_down(l->daemon->inhibitor))
			machine_start_by_daemon(m, why);
	} else if (!here && was) {
		owner_left(l, m, c);
	}
}

static void ask_logind(Logins *l);

static void logind_answered(GHashTable *now, const GError *error, gpointer data)
{
	Logins *l = data;
	Change change = { .logins = l, .now = now };

	/* Logins is gone: nothing of it may be touched. */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	l->asking = FALSE;
	if (!now) {
		if (!l->warned)
			daemon_log(
			    NULL, LOG_WARNING,
			    "Cannot ask logind for login sessions (%s): Autostart=login waits",
			    error->message);
		l->warned = TRUE;
	} else {
		l->warned = FALSE;
		change.before = l->present;
		if (!l->noting_only)
			manager_foreach_machine(l->daemon, follow_owner, &change);
		l->noting_only = FALSE;
		g_hash_table_unref(l->present);
		l->present = g_hash_table_ref(now);
	}
	if (l->ask_again) {
		l->ask_again = FALSE;
		ask_logind(l);
	}
}

/* One question at a time; changes signalled meanwhile make one more. */
static void ask_logind(Logins *l)
{
	if (l->asking) {
		l->ask_again = TRUE;
		return;
	}
	l->asking = TRUE;
	logind_get_logged_in(l->daemon->bus, l->cancellable, logind_answered, l);
}

static gboolean refresh_idle(gpointer data)
{
	Logins *l = data;

	l->refresh_id = 0;
	ask_logind(l);
	return G_SOURCE_REMOVE;
}

static void logind_signal(GDBusConnection *bus, const char *sender, const char *path,
			  const char *interface, const char *signal, GVariant *params,
			  gpointer data)
{
	Logins *l = data;
	static const char *const triggers[] = { "UserNew", "UserRemoved", "SessionNew",
						"SessionRemoved", NULL };

	(void)bus, (void)sender, (void)path, (void)interface, (void)params;
	/* A burst of signals (a login brings UserNew and SessionNew) makes one look at logind. */
	if (g_strv_contains(triggers, signal) && !l->refresh_id)
		l->refresh_id = g_idle_add(refresh_idle, l);
}

/* Whether this is phyllomed's first start since the host booted (and notes that it ran). */
static gboolean first_start_in_boot(Daemon *d)
{
	g_autofree char *marker = g_build_filename(d->options.runtime_dir, BOOTED_MARKER, NULL);
	g_autoptr(GError) error = NULL;

	if (g_file_test(marker, G_FILE_TEST_EXISTS))
		return FALSE;
	if (g_mkdir_with_parents(d->options.runtime_dir, 0755) < 0 ||
	    !g_file_set_contents(marker, "", 0, &error))
		daemon_log(NULL, LOG_WARNING,
			   "Cannot write %s (%s): Autostart=boot machines would start again at "
			   "phyllomed's next start",
			   marker, error ? error->message : g_strerror(errno));
	return TRUE;
}

static void start_at_boot(Machine *m, gpointer data)
{
	const MachineConfig *c = machine_get_config(m);

	(void)data;
	if (c && c->autostart == AUTOSTART_BOOT)
		machine_start_by_daemon(m, "the host booted (Autostart=boot)");
}

Logins *logins_new(Daemon *d)
{
	Logins *l = g_new0(Logins, 1);

	l->daemon = d;
	l->present = g_hash_table_new(g_direct_hash, g_direct_equal);
	l->stop_timers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	l->cancellable = g_cancellable_new();
	l->subscription = g_dbus_connection_signal_subscribe(
	    d->bus, LOGIND_NAME, LOGIND_MANAGER, NULL, LOGIND_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
	    logind_signal, l, NULL);
	/*
	 * Only the first start in a boot starts machines: a phyllomed restarted
	 * later (an update, a crash) must not start again what a user stopped.
	 * It only notes who is logged in, to follow the changes from there.
	 */
	if (first_start_in_boot(d))
		manager_foreach_machine(d, start_at_boot, NULL);
	else
		l->noting_only = TRUE;
	/* From nobody: at the first start, whoever is logged in already gets their machines. */
	ask_logind(l);
	return l;
}

void logins_free(Logins *l)
{
	GHashTableIter iter;
	gpointer value;

	if (!l)
		return;
	g_dbus_connection_signal_unsubscribe(l->daemon->bus, l->subscription);
	g_cancellable_cancel(l->cancellable);
	g_object_unref(l->cancellable);
	if (l->refresh_id)
		g_source_remove(l->refresh_id);
	g_hash_table_iter_init(&iter, l->stop_timers);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_source_remove(GPOINTER_TO_UINT(value));
	g_hash_table_unref(l->stop_timers);
	g_hash_table_unref(l->present);
	g_free(l);
}

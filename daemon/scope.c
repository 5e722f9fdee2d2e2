/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "scope.h"

#include <systemd/sd-id128.h>

#include "phyllome-error.h"

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
#define JOB_TIMEOUT_MS 30000

struct Scopes {
	GDBusConnection *bus;
	char *slice;
	guint job_removed_id;
	GHashTable *pending; /* unit name -> PendingJob */
};

typedef struct {
	Scopes *scopes;
	char *unit;
	ScopeCallback callback;
	gpointer user_data;
	guint timeout_id;
	gboolean replied; /* StartTransientUnit answered */
	GVariant *params; /* StartTransientUnit's, for another try */
	guint tries;
	guint retry_id;
} PendingJob;

/*
 * A machine started again right after its monitor ended (the guest rebooted)
 * may find systemd still collecting the last run's scope of that name: it is
 * asked again, a while later, this many times.
 */
#define UNIT_EXISTS_TRIES 20
#define UNIT_EXISTS_RETRY_MS 250

static void start_transient(PendingJob *job);

static void pending_finish(PendingJob *job, const GError *error)
{
	ScopeCallback callback = job->callback;
	gpointer user_data = job->user_data;

	/* Frees job, and its timers. */
	g_hash_table_remove(job->scopes->pending, job->unit);
	callback(error, user_data);
}

static void pending_free(gpointer data)
{
	PendingJob *job = data;

	if (job->timeout_id)
		g_source_remove(job->timeout_id);
	if (job->retry_id)
		g_source_remove(job->retry_id);
	if (job->params)
		g_variant_unref(job->params);
	g_free(job->unit);
	g_free(job);
}

static void job_removed(GDBusConnection *bus, const char *sender, const char *path,
			const char *iface, const char *signal, GVariant *params, gpointer data)
{
	Scopes *scopes = data;
	const char *unit, *result;
	PendingJob *job;
	guint32 id;
	g_autoptr(GError) error = NULL;

	(void)bus, (void)sender, (void)path, (void)iface, (void)signal;
	g_variant_get(params, "(u&o&s&s)", &id, NULL, &unit, &result);
	job = g_hash_table_lookup(scopes->pending, unit);
	if (!job)
		return;
	if (g_strcmp0(result, "done") != 0)
		error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
				    "systemd could not start %s: job %s", unit, result);
	pending_finish(job, error);
}

static gboolean job_timeout(gpointer data)
{
	PendingJob *job = data;
	g_autoptr(GError) error =
	    g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_TIMEOUT,
			"systemd did not start %s within %d s", job->unit, JOB_TIMEOUT_MS / 1000);

	job->timeout_id = 0;
	pending_finish(job, error);
	return G_SOURCE_REMOVE;
}

static gboolean retry_start(gpointer data)
{
	PendingJob *job = data;

	job->retry_id = 0;
	start_transient(job);
	return G_SOURCE_REMOVE;
}

static void start_transient_done(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autofree char *unit = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	g_autofree char *remote = NULL;
	Scopes *scopes;
	PendingJob *job;

	/* The job may have finished already, or been timed out: look it up by unit. */
	scopes = g_object_get_data(source, "phyllome-scopes");
	job = scopes ? g_hash_table_lookup(scopes->pending, unit) : NULL;
	if (!job)
		return;
	remote = reply ? NULL : g_dbus_error_get_remote_error(error);
	if (g_strcmp0(remote, "org.freedesktop.systemd1.UnitExists") == 0 &&
	    ++job->tries < UNIT_EXISTS_TRIES) {
		job->retry_id = g_timeout_add(UNIT_EXISTS_RETRY_MS, retry_start, job);
		return;
	}
	if (!reply) {
		g_autoptr(GError) start_error = NULL;

		g_dbus_error_strip_remote_error(error);
		start_error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
					  "systemd refused %s: %s", unit, error->message);
		pending_finish(job, start_error);
		return;
	}
	job->replied = TRUE;
}

static void start_transient(PendingJob *job)
{
	g_dbus_connection_call(job->scopes->bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER,
			       "StartTransientUnit", g_variant_ref(job->params),
			       G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL,
			       start_transient_done, g_strdup(job->unit));
}

char *scope_unit_name(const char *machine_name)
{
	return g_strdup_printf("phyllome-%s.scope", machine_name);
}

void scopes_start(Scopes *scopes, const MachineConfig *c, pid_t pid, ScopeCallback callback,
		  gpointer user_data)
{
	g_autofree char *unit = scope_unit_name(c->name);
	g_autofree char *description = g_strdup_printf("Phyllome virtual machine %s", c->name);
	GVariantBuilder props;
	guint32 pids[] = { (guint32)pid };
	PendingJob *job;

	if (g_hash_table_contains(scopes->pending, unit)) {
		g_autoptr(GError) error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_BUSY,
						      "%s is being started already", unit);
		callback(error, user_data);
		return;
	}
	g_variant_builder_init(&props, G_VARIANT_TYPE("a(sv)"));
	g_variant_builder_add(&props, "(sv)", "Description", g_variant_new_string(description));
	g_variant_builder_add(&props, "(sv)", "Slice", g_variant_new_string(scopes->slice));
	g_variant_builder_add(
	    &props, "(sv)", "PIDs",
	    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, pids, 1, sizeof(guint32)));
	/* Nothing of a failed VM should linger: its Result lives on in phyllomed. */
	g_variant_builder_add(&props, "(sv)", "CollectMode",
			      g_variant_new_string("inactive-or-failed"));
	if (c->memory_max)
		g_variant_builder_add(&props, "(sv)", "MemoryMax",
				      g_variant_new_uint64(c->memory_max));
	if (c->cpu_weight)
		g_variant_builder_add(&props, "(sv)", "CPUWeight",
				      g_variant_new_uint64(c->cpu_weight));
	if (c->tasks_max)
		g_variant_builder_add(&props, "(sv)", "TasksMax",
				      g_variant_new_uint64(c->tasks_max));

	job = g_new0(PendingJob, 1);
	job->scopes = scopes;
	job->unit = g_strdup(unit);
	job->callback = callback;
	job->user_data = user_data;
	job->timeout_id = g_timeout_add(JOB_TIMEOUT_MS, job_timeout, job);
	g_hash_table_insert(scopes->pending, job->unit, job);

	job->params =
	    g_variant_ref_sink(g_variant_new("(ssa(sv)a(sa(sv)))", unit, "fail", &props, NULL));
	start_transient(job);
}

typedef struct {
	ScopeCallback callback;
	gpointer user_data;
	char *name;
} RegisterCall;

static void register_done(GObject *source, GAsyncResult *res, gpointer data)
{
	RegisterCall *call = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	g_autoptr(GError) register_error = NULL;

	if (!reply) {
		g_dbus_error_strip_remote_error(error);
		register_error = g_error_new(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
					     "systemd-machined did not register %s: %s", call->name,
					     error->message);
	}
	call->callback(register_error, call->user_data);
	g_free(call->name);
	g_free(call);
}

void scopes_register_machine(Scopes *scopes, const char *name, const char *uuid, pid_t leader,
			     ScopeCallback callback, gpointer user_data)
{
	RegisterCall *call = g_new0(RegisterCall, 1);
	sd_id128_t id;
	/* (sd_id128_from_string takes a UUID with its dashes too.) */
	gsize id_len = uuid && sd_id128_from_string(uuid, &id) >= 0 ? sizeof(id.bytes) : 0;

	call->callback = callback;
	call->user_data = user_data;
	call->name = g_strdup(name);
	/* The id is what the guest's SMBIOS says (machinectl shows both the same); root_directory
	 * empty: a VM has no host root. */
	g_dbus_connection_call(
	    scopes->bus, MACHINED_NAME, MACHINED_PATH, MACHINED_MANAGER, "RegisterMachine",
	    g_variant_new("(s@ayssus)", name,
			  g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, id.bytes, id_len, 1),
			  "phyllome", "vm", (guint32)leader, ""),
	    G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_MS, NULL, register_done,
	    call);
}

static void subscribe_done(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

	(void)data;
	if (!reply)
		g_warning("Cannot subscribe to systemd's signals: %s", error->message);
}

Scopes *scopes_new(GDBusConnection *bus, const char *slice)
{
	Scopes *scopes = g_new0(Scopes, 1);

	scopes->bus = g_object_ref(bus);
	scopes->slice = g_strdup(slice);
	scopes->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pending_free);
	g_object_set_data(G_OBJECT(bus), "phyllome-scopes", scopes);
	scopes->job_removed_id = g_dbus_connection_signal_subscribe(
	    bus, SYSTEMD_NAME, SYSTEMD_MANAGER, "JobRemoved", SYSTEMD_PATH, NULL,
	    G_DBUS_SIGNAL_FLAGS_NONE, job_removed, scopes, NULL);
	/* systemd sends JobRemoved only while someone is subscribed. */
	g_dbus_connection_call(bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", NULL,
			       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, subscribe_done, NULL);
	return scopes;
}

void scopes_free(Scopes *scopes)
{
	if (!scopes)
		return;
	g_dbus_connection_signal_unsubscribe(scopes->bus, scopes->job_removed_id);
	g_object_set_data(G_OBJECT(scopes->bus), "phyllome-scopes", NULL);
	g_hash_table_destroy(scopes->pending);
	g_object_unref(scopes->bus);
	g_free(scopes->slice);
	g_free(scopes);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scope.c's handling of systemd's jobs, against a stand-in for systemd's
 * Manager on a private dbus-daemon (GTestDBus): the job's result, a refusal,
 * a JobRemoved that comes before StartTransientUnit's reply, a second start
 * of the same unit, JobRemoved of other units. (The daemon suite runs the real
 * systemd.)
 */
#include <gio/gio.h>

#include "phyllome-error.h"
#include "scope.h"

static const char systemd_xml[] =
    "<node><interface name='org.freedesktop.systemd1.Manager'>"
    "<method name='Subscribe'/>"
    "<method name='StartTransientUnit'><arg type='s' direction='in'/><arg type='s' "
    "direction='in'/><arg type='a(sv)' direction='in'/><arg type='a(sa(sv))' "
    "direction='in'/><arg type='o' direction='out'/></method>"
    "<signal name='JobRemoved'><arg type='u'/><arg type='o'/><arg type='s'/><arg "
    "type='s'/></signal>"
    "</interface></node>";

/* How the stand-in answers the next StartTransientUnit. */
typedef enum {
	JOB_DONE,	  /* reply, then JobRemoved "done" */
	JOB_FAILED,	  /* reply, then JobRemoved "failed" */
	JOB_REFUSED,	  /* an error reply */
	JOB_DONE_EARLY,	  /* JobRemoved "done" before the reply */
	JOB_OTHER_UNIT,	  /* reply, JobRemoved of another unit, then of this one */
	JOB_EXISTS_TWICE, /* UnitExists twice (the last run's scope still there), then done */
} Behaviour;

typedef struct {
	GDBusConnection *conn;
	Behaviour behaviour;
	guint32 next_job;
	GVariant *last_properties;
	int exists_left;
} Systemd;

static void job_removed(Systemd *s, guint32 id, const char *unit, const char *result)
{
	g_autofree char *path = g_strdup_printf("/org/freedesktop/systemd1/job/%u", id);

	g_assert_true(g_dbus_connection_emit_signal(
	    s->conn, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
	    "JobRemoved", g_variant_new("(uoss)", id, path, unit, result), NULL));
}

static void systemd_method(GDBusConnection *conn, const char *sender, const char *path,
			   const char *interface, const char *method, GVariant *params,
			   GDBusMethodInvocation *invocation, gpointer data)
{
	Systemd *s = data;
	const char *unit;
	guint32 id = ++s->next_job;
	g_autofree char *job = g_strdup_printf("/org/freedesktop/systemd1/job/%u", id);

	if (g_str_equal(method, "Subscribe")) {
		g_dbus_method_invocation_return_value(invocation, NULL);
		return;
	}
	g_variant_get(params, "(&s&s@a(sv)@a(sa(sv)))", &unit, NULL, &s->last_properties, NULL);
	switch (s->behaviour) {
	case JOB_REFUSED:
		g_dbus_method_invocation_return_dbus_error(
		    invocation, "org.freedesktop.DBus.Error.AccessDenied", "Access denied.");
		return;
	case JOB_EXISTS_TWICE:
		if (s->exists_left > 0) {
			s->exists_left--;
			g_dbus_method_invocation_return_dbus_error(
			    invocation, "org.freedesktop.systemd1.UnitExists",
			    "Unit already exists.");
			return;
		}
		break;
	case JOB_DONE_EARLY:
		job_removed(s, id, unit, "done");
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", job));
		return;
	default:
		break;
	}
	g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", job));
	if (s->behaviour == JOB_OTHER_UNIT)
		job_removed(s, id + 1000, "other.scope", "failed");
	job_removed(s, id, unit, s->behaviour == JOB_FAILED ? "failed" : "done");
}

static const GDBusInterfaceVTable systemd_vtable = { .method_call = systemd_method };

typedef struct {
	gboolean done;
	GError *error;
} Outcome;

static void finished(const GError *error, gpointer data)
{
	Outcome *o = data;

	g_assert_false(o->done);
	o->done = TRUE;
	o->error = error ? g_error_copy(error) : NULL;
}

static void wait_for(Outcome *o)
{
	while (!o->done)
		g_main_context_iteration(NULL, TRUE);
}

/* A property of StartTransientUnit's a(sv). */
static GVariant *property(GVariant *properties, const char *name)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, properties);
	while (g_variant_iter_next(&iter, "(&sv)", &key, &value)) {
		if (g_str_equal(key, name))
			return value;
		g_variant_unref(value);
	}
	g_assert_not_reached();
}

static void name_acquired(GDBusConnection *conn, const char *name, gpointer data)
{
	*(gboolean *)data = TRUE;
}

static MachineConfig *config_named(const char *name)
{
	MachineConfig *c = machine_config_new(name);

	c->memory_max = 1 << 30;
	return c;
}

static void test_jobs(void)
{
	g_autoptr(GTestDBus) bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_autoptr(GDBusConnection) systemd_conn = NULL, client = NULL;
	g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml(systemd_xml, NULL);
	g_autoptr(MachineConfig) t1 = config_named("t1"), t2 = config_named("t2");
	Systemd s = { 0 };
	Scopes *scopes;
	Outcome o = { 0 }, busy = { 0 };
	gboolean named = FALSE;
	GVariant *value;

	g_test_dbus_up(bus);
	systemd_conn = g_dbus_connection_new_for_address_sync(
	    g_test_dbus_get_bus_address(bus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, NULL);
	client = g_dbus_connection_new_for_address_sync(
	    g_test_dbus_get_bus_address(bus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL, NULL, NULL);
	g_assert_nonnull(systemd_conn);
	g_assert_nonnull(client);
	s.conn = systemd_conn;
	g_assert_cmpuint(
	    g_dbus_connection_register_object(systemd_conn, "/org/freedesktop/systemd1",
					      info->interfaces[0], &systemd_vtable, &s, NULL, NULL),
	    >, 0);
	g_bus_own_name_on_connection(systemd_conn, "org.freedesktop.systemd1",
				     G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired, NULL, &named,
				     NULL);
	while (!named)
		g_main_context_iteration(NULL, TRUE);

	scopes = scopes_new(client, "phyllome.slice");

	/* Done: no error; the scope has the slice, the pid and the limits. */
	s.behaviour = JOB_DONE;
	scopes_start(scopes, t1, 4242, finished, &o);
	wait_for(&o);
	g_assert_no_error(o.error);
	value = property(s.last_properties, "Slice");
	g_assert_cmpstr(g_variant_get_string(value, NULL), ==, "phyllome.slice");
	g_variant_unref(value);
	value = property(s.last_properties, "MemoryMax");
	g_assert_cmpuint(g_variant_get_uint64(value), ==, 1 << 30);
	g_variant_unref(value);
	value = property(s.last_properties, "PIDs");
	g_assert_cmpuint(g_variant_n_children(value), ==, 1);
	g_variant_unref(value);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	/* The job failed: systemd's result in the error. */
	o = (Outcome){ 0 };
	s.behaviour = JOB_FAILED;
	scopes_start(scopes, t1, 4242, finished, &o);
	wait_for(&o);
	g_assert_error(o.error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED);
	g_assert_cmpstr(o.error->message, ==,
			"systemd could not start phyllome-t1.scope: job failed");
	g_clear_error(&o.error);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	/* Refused outright: systemd's message, not its error name. */
	o = (Outcome){ 0 };
	s.behaviour = JOB_REFUSED;
	scopes_start(scopes, t1, 4242, finished, &o);
	wait_for(&o);
	g_assert_error(o.error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED);
	g_assert_cmpstr(o.error->message, ==, "systemd refused phyllome-t1.scope: Access denied.");
	g_clear_error(&o.error);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	/* The job ends before StartTransientUnit's reply arrives. */
	o = (Outcome){ 0 };
	s.behaviour = JOB_DONE_EARLY;
	scopes_start(scopes, t1, 4242, finished, &o);
	wait_for(&o);
	g_assert_no_error(o.error);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	/* Another unit's job is not ours; a second start of a unit under way is busy. */
	o = (Outcome){ 0 };
	s.behaviour = JOB_OTHER_UNIT;
	scopes_start(scopes, t2, 4243, finished, &o);
	scopes_start(scopes, t2, 4243, finished, &busy);
	g_assert_true(busy.done);
	g_assert_error(busy.error, PHYLLOME_ERROR, PHYLLOME_ERROR_BUSY);
	g_clear_error(&busy.error);
	wait_for(&o);
	g_assert_no_error(o.error);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	/* The last run's scope of that name still there: asked again, until it is gone. */
	o = (Outcome){ 0 };
	s.behaviour = JOB_EXISTS_TWICE;
	s.exists_left = 2;
	scopes_start(scopes, t1, 4244, finished, &o);
	wait_for(&o);
	g_assert_no_error(o.error);
	g_assert_cmpint(s.exists_left, ==, 0);
	g_clear_pointer(&s.last_properties, g_variant_unref);

	scopes_free(scopes);
	g_dbus_connection_close_sync(systemd_conn, NULL, NULL);
	g_dbus_connection_close_sync(client, NULL, NULL);
	g_test_dbus_down(bus);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scope/jobs", test_jobs);
	return g_test_run();
}

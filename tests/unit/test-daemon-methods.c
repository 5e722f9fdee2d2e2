/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomed's method table: every exported method has a row, a method without one is denied,
 * options are checked. */
#include <gio/gio.h>
#include <sys/socket.h>

#include "methods.h"
#include "phyllome-dbus-generated.h"
#include "phyllome-error.h"

static void each_method_has_a_row(GDBusInterfaceInfo *info)
{
	g_assert_nonnull(info->methods[0]);
	for (guint i = 0; info->methods[i]; i++) {
		g_test_message("%s.%s", info->name, info->methods[i]->name);
		g_assert_nonnull(methods_find(info->name, info->methods[i]->name));
	}
}

static void test_every_method_has_a_row(void)
{
	each_method_has_a_row(phyllome_machine_interface_info());
	each_method_has_a_row(phyllome_grant_interface_info());
	for (GDBusMethodInfo **mi = phyllome_manager_interface_info()->methods; *mi; mi++) {
		g_test_message("%s.%s", phyllome_manager_interface_info()->name, (*mi)->name);
		g_assert_nonnull(methods_manager_action((*mi)->name));
	}
	g_assert_cmpstr(methods_manager_action("CreateMachine"), ==, "org.phyllome.vm1.create");
	g_assert_null(methods_manager_action("Frobnicate"));
	/* And a name that is no method has none. */
	g_assert_null(methods_find(phyllome_machine_interface_info()->name, "Frobnicate"));
	g_assert_null(methods_find(phyllome_grant_interface_info()->name, "Start"));
}

/* A peer-to-peer bus connection pair over a socketpair, the skeleton exported on one end. */
typedef struct {
	GDBusConnection *server, *client;
} Pair;

static void server_ready(GObject *source, GAsyncResult *res, gpointer data)
{
	Pair *p = data;

	(void)source;
	p->server = g_dbus_connection_new_finish(res, NULL);
	g_assert_nonnull(p->server);
}

static void make_pair(Pair *p)
{
	int sv[2];
	g_autoptr(GSocket) s0 = NULL, s1 = NULL;
	g_autoptr(GSocketConnection) c0 = NULL, c1 = NULL;
	g_autofree char *guid = g_dbus_generate_guid();

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	s0 = g_socket_new_from_fd(sv[0], NULL);
	s1 = g_socket_new_from_fd(sv[1], NULL);
	c0 = g_socket_connection_factory_create_connection(s0);
	c1 = g_socket_connection_factory_create_connection(s1);
	g_dbus_connection_new(G_IO_STREAM(c0), guid,
			      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
				  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS,
			      NULL, NULL, server_ready, p);
	p->client = g_dbus_connection_new_sync(
	    G_IO_STREAM(c1), NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, NULL);
	g_assert_nonnull(p->client);
	while (!p->server)
		g_main_context_iteration(NULL, TRUE);
}

static gboolean dispatch_with_no_rows(GDBusInterfaceSkeleton *iface,
				      GDBusMethodInvocation *invocation, gpointer data)
{
	(void)iface, (void)data;
	return methods_dispatch_table(NULL, 0, invocation, NULL);
}

typedef struct {
	GVariant *reply;
	GError *error;
	gboolean done;
} Result;

static void replied(GObject *source, GAsyncResult *res, gpointer data)
{
	Result *r = data;

	r->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &r->error);
	r->done = TRUE;
}

static void call(Pair *p, const char *interface, const char *method, GVariant *params, Result *r)
{
	*r = (Result){ 0 };
	g_dbus_connection_call(p->client, NULL, "/org/phyllome/VM1/machine/t", interface, method,
			       params, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, replied, r);
	while (!r->done)
		g_main_context_iteration(NULL, TRUE);
}

static void test_method_without_row_is_denied(void)
{
	Pair p = { 0 };
	g_autoptr(PhyllomeMachine) skeleton = phyllome_machine_skeleton_new();
	const char *machine = phyllome_machine_interface_info()->name;
	Result r;

	make_pair(&p);
	phyllome_machine_set_name(skeleton, "t");
	g_signal_connect(skeleton, "g-authorize-method", G_CALLBACK(dispatch_with_no_rows), NULL);
	g_assert_true(g_dbus_interface_skeleton_export(
	    G_DBUS_INTERFACE_SKELETON(skeleton), p.server, "/org/phyllome/VM1/machine/t", NULL));

	/* Every method of the interface, with the arguments its signature asks for. */
	for (GDBusMethodInfo **mi = phyllome_machine_interface_info()->methods; *mi; mi++) {
		g_autoptr(GVariantBuilder) args = g_variant_builder_new(G_VARIANT_TYPE_TUPLE);

		for (GDBusArgInfo **a = (*mi)->in_args; a && *a; a++) {
			if (g_str_equal((*a)->signature, "s"))
				g_variant_builder_add(args, "s", "0000:00:04.0");
			else if (g_str_equal((*a)->signature, "h"))
				g_variant_builder_add(args, "h", 0);
			else
				g_variant_builder_add_value(
				    args, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
		}
		call(&p, machine, (*mi)->name, g_variant_builder_end(args), &r);
		g_test_message("%s: %s", (*mi)->name, r.error ? r.error->message : "allowed");
		g_assert_error(r.error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED);
		g_clear_error(&r.error);
		g_assert_null(r.reply);
	}

	/* Reading a property is not a method: it needs no row. */
	call(&p, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", machine, "Name"),
	     &r);
	g_assert_no_error(r.error);
	g_variant_unref(r.reply);

	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(skeleton));
	g_object_unref(p.client);
	g_object_unref(p.server);
}

static void test_options(void)
{
	static const char *const allowed[] = { "interactive", "b", "timeout", "u", NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) good = g_variant_ref_sink(
	    g_variant_new_parsed("{'timeout': <uint32 5>, 'interactive': <true>}"));
	g_autoptr(GVariant) empty = g_variant_ref_sink(g_variant_new_parsed("@a{sv} {}"));
	g_autoptr(GVariant) unknown = g_variant_ref_sink(g_variant_new_parsed("{'force': <true>}"));
	g_autoptr(GVariant) wrong = g_variant_ref_sink(g_variant_new_parsed("{'timeout': <'5'>}"));

	g_assert_true(methods_check_options(good, allowed, &error));
	g_assert_no_error(error);
	g_assert_true(methods_check_options(empty, allowed, &error));
	g_assert_false(methods_check_options(unknown, allowed, &error));
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "Unknown option 'force'");
	g_clear_error(&error);
	g_assert_false(methods_check_options(wrong, allowed, &error));
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, "Option 'timeout' must be of type u, not s");
	g_clear_error(&error);
	/* CreateMachine's keys go through the same check, as "key"s. */
	{
		g_autoptr(GVariant) s_value = g_variant_ref_sink(g_variant_new_string("2"));

		g_assert_false(methods_check_entry("timeout", s_value, allowed, "key", &error));
		g_assert_cmpstr(error->message, ==, "Key 'timeout' must be of type u, not s");
		g_clear_error(&error);
		g_assert_false(methods_check_entry("color", s_value, allowed, "key", &error));
		g_assert_cmpstr(error->message, ==, "Unknown key 'color'");
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/methods/every-method-has-a-row", test_every_method_has_a_row);
	g_test_add_func("/methods/without-row-denied", test_method_without_row_is_denied);
	g_test_add_func("/methods/options", test_options);
	return g_test_run();
}

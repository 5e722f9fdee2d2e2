/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "logind.h"

typedef struct {
	LogindPropertyCallback callback;
	gpointer data;
} PropertyCall;

static void property_replied(GObject *source, GAsyncResult *res, gpointer data)
{
	PropertyCall *call = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	g_autoptr(GVariant) value = NULL;

	if (reply)
		g_variant_get(reply, "(v)", &value);
	call->callback(value, value ? NULL : error, call->data);
	g_free(call);
}

void logind_get_property(GDBusConnection *bus, const char *path, const char *interface,
			 const char *name, GCancellable *cancellable,
			 LogindPropertyCallback callback, gpointer data)
{
	PropertyCall *call = g_new0(PropertyCall, 1);

	call->callback = callback;
	call->data = data;
	g_dbus_connection_call(bus, LOGIND_NAME, path, "org.freedesktop.DBus.Properties", "Get",
			       g_variant_new("(ss)", interface, name), G_VARIANT_TYPE("(v)"),
			       G_DBUS_CALL_FLAGS_NONE, LOGIND_CALL_TIMEOUT_MS, cancellable,
			       property_replied, call);
}

/* One ListUsers, then every user's State at once; the answer when the last one is in. */
typedef struct {
	GDBusConnection *bus;
	GCancellable *cancellable;
	LogindUsersCallback callback;
	gpointer data;
	GHashTable *logged_in;
	guint pending;
} UsersQuery;

typedef struct {
	UsersQuery *query;
	guint32 uid;
} UserState;

static void users_query_finish(UsersQuery *q, const GError *error)
{
	g_autoptr(GError) cancelled = NULL;

	if (!error && g_cancellable_set_error_if_cancelled(q->cancellable, &cancelled))
		error = cancelled;
	q->callback(error ? NULL : q->logged_in, error, q->data);
	g_object_unref(q->bus);
	g_clear_object(&q->cancellable);
	g_hash_table_unref(q->logged_in);
	g_free(q);
}

static void user_state_read(GVariant *value, const GError *error, gpointer data)
{
	UserState *u = data;
	UsersQuery *q = u->query;

	/* A user that went away between the two calls has no session. */
	if (value && g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		const char *s = g_variant_get_string(value, NULL);

		if (g_str_equal(s, "opening") || g_str_equal(s, "online") ||
		    g_str_equal(s, "active"))
			g_hash_table_add(q->logged_in, LOGIND_UID_KEY(u->uid));
	}
	g_free(u);
	if (--q->pending == 0)
		users_query_finish(q, NULL);
}

static void users_listed(GObject *source, GAsyncResult *res, gpointer data)
{
	UsersQuery *q = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) users =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	g_autoptr(GVariantIter) iter = NULL;
	const char *path;
	guint32 uid;

	if (!users) {
		users_query_finish(q, error);
		return;
	}
	/* One more than the users until all are asked, so that no early answer ends the query. */
	q->pending = 1;
	g_variant_get(users, "(a(uso))", &iter);
	while (g_variant_iter_next(iter, "(u&s&o)", &uid, NULL, &path)) {
		UserState *u = g_new0(UserState, 1);

		u->query = q;
		u->uid = uid;
		q->pending++;
		logind_get_property(q->bus, path, LOGIND_USER, "State", q->cancellable,
				    user_state_read, u);
	}
	if (--q->pending == 0)
		users_query_finish(q, NULL);
}

void logind_get_logged_in(GDBusConnection *bus, GCancellable *cancellable,
			  LogindUsersCallback callback, gpointer data)
{
	UsersQuery *q = g_new0(UsersQuery, 1);

	q->bus = g_object_ref(bus);
	q->cancellable = cancellable ? g_object_ref(cancellable) : NULL;
	q->callback = callback;
	q->data = data;
	q->logged_in = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_dbus_connection_call(bus, LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER, "ListUsers", NULL,
			       G_VARIANT_TYPE("(a(uso))"), G_DBUS_CALL_FLAGS_NONE,
			       LOGIND_CALL_TIMEOUT_MS, cancellable, users_listed, q);
}

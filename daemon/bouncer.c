/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bouncer.h"

#include <polkit/polkit.h>

#include "phyllome-error.h"
#include "phyllome-names.h"

struct Bouncer {
	PolkitAuthority *authority;
	GError *connect_error;
	GQueue waiting; /* Checks that arrived before polkit answered */
};

typedef struct {
	Bouncer *bouncer;
	GDBusMethodInvocation *invocation;
	char *action;
	char *owner_action;
	uid_t owner;
	uid_t caller;
	gboolean interactive;
	char **details;
	BouncerCallback callback;
	gpointer user_data;
} Check;

static void check_free(Check *check)
{
	g_object_unref(check->invocation);
	g_free(check->action);
	g_free(check->owner_action);
	g_strfreev(check->details);
	g_free(check);
}

static void check_finish(Check *check, const GError *denied)
{
	check->callback(check->invocation, check->caller, denied, check->user_data);
	check_free(check);
}

static void check_deny(Check *check, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void check_deny(Check *check, const char *fmt, ...)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	error = g_error_new_literal(PHYLLOME_ERROR, PHYLLOME_ERROR_NOT_AUTHORIZED, message);
	check_finish(check, error);
}

static void authorization_done(GObject *source, GAsyncResult *res, gpointer data)
{
	Check *check = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) result =
	    polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);

	if (!result) {
		check_deny(check, "Cannot check authorization: %s", error->message);
		return;
	}
	if (polkit_authorization_result_get_is_authorized(result)) {
		check_finish(check, NULL);
		return;
	}
	if (polkit_authorization_result_get_is_challenge(result))
		check_deny(check,
			   "Authentication is required (try again with interactive authorization)");
	else
		check_deny(check, "Not authorized");
}

static void ask_polkit(Check *check)
{
	Bouncer *b = check->bouncer;
	const char *action = check->action;
	g_autoptr(PolkitSubject) subject = NULL;
	g_autoptr(PolkitDetails) details = polkit_details_new();
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;

	if (!b->authority) {
		check_deny(check, "Cannot check authorization: %s",
			   b->connect_error ? b->connect_error->message : "no polkit authority");
		return;
	}
	if (check->owner_action && check->caller == check->owner)
		action = check->owner_action;
	for (char **d = check->details; d && d[0] && d[1]; d += 2)
		polkit_details_insert(details, d[0], d[1]);
	if (check->interactive)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	subject =
	    polkit_system_bus_name_new(g_dbus_method_invocation_get_sender(check->invocation));
	polkit_authority_check_authorization(b->authority, subject, action, details, flags, NULL,
					     authorization_done, check);
}

static void caller_uid_done(GObject *source, GAsyncResult *res, gpointer data)
{
	Check *check = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
	    g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

	if (!reply) {
		check_deny(check, "Cannot identify the caller: %s", error->message);
		return;
	}
	g_variant_get(reply, "(u)", &check->caller);
	if (check->caller == 0) {
		check_finish(check, NULL);
		return;
	}
	if (!check->bouncer->authority && !check->bouncer->connect_error) {
		g_queue_push_tail(&check->bouncer->waiting, check);
		return;
	}
	ask_polkit(check);
}

static void authority_ready(GObject *source, GAsyncResult *res, gpointer data)
{
	Bouncer *b = data;
	Check *check;

	(void)source;
	b->authority = polkit_authority_get_finish(res, &b->connect_error);
	if (!b->authority)
		g_warning("Cannot connect to polkit: %s; non-root callers are denied",
			  b->connect_error->message);
	while ((check = g_queue_pop_head(&b->waiting)))
		ask_polkit(check);
}

Bouncer *bouncer_new(void)
{
	Bouncer *b = g_new0(Bouncer, 1);

	g_queue_init(&b->waiting);
	polkit_authority_get_async(NULL, authority_ready, b);
	return b;
}

void bouncer_free(Bouncer *b)
{
	if (!b)
		return;
	g_clear_object(&b->authority);
	g_clear_error(&b->connect_error);
	g_free(b);
}

void bouncer_check(Bouncer *b, GDBusMethodInvocation *invocation, const char *action,
		   const char *owner_action, uid_t owner, gboolean interactive,
		   const char *const *details, BouncerCallback callback, gpointer user_data)
{
	Check *check = g_new0(Check, 1);

	check->bouncer = b;
	check->invocation = g_object_ref(invocation);
	check->action = g_strdup(action);
	check->owner_action = g_strdup(owner_action);
	check->owner = owner;
	check->caller = (uid_t)-1;
	check->interactive = interactive;
	check->details = g_strdupv((char **)details);
	check->callback = callback;
	check->user_data = user_data;
	g_dbus_connection_call(
	    g_dbus_method_invocation_get_connection(invocation), "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixUser",
	    g_variant_new("(s)", g_dbus_method_invocation_get_sender(invocation)),
	    G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, caller_uid_done, check);
}

gboolean options_interactive(GVariant *options)
{
	gboolean interactive = FALSE;

	if (options)
		g_variant_lookup(options, PHYLLOME_OPTION_INTERACTIVE, "b", &interactive);
	return interactive;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

/*
 * Every method of a machine's objects (org.phyllome.VM1.Machine and
 * org.phyllome.VM1.Grant) goes through one table: the options it accepts,
 * what it checks before polkit, the polkit action, whether the owner's
 * manage-own suffices, and what it does. One dispatcher runs each row in that
 * order; a method without a row is denied.
 */
typedef struct MethodRow MethodRow;

/* The row of a method, or NULL. */
const MethodRow *methods_find(const char *interface, const char *method);

/*
 * One key of an a{sv} and its value against allowed (key, type, ..., NULL): an
 * unknown key or a wrong type is a caller's bug worth a clear error
 * (InvalidArgument, "Unknown NOUN 'KEY'", "NOUN 'KEY' must be of type T, not U").
 */
gboolean methods_check_entry(const char *key, GVariant *value, const char *const *allowed,
			     const char *noun, GError **error);
/* Every key of a method's options, as "option"s. */
gboolean methods_check_options(GVariant *options, const char *const *allowed, GError **error);

/*
 * The dispatcher, a "g-authorize-method" handler of the machine's interface
 * skeletons (data: the Machine). It answers every call itself, later or now,
 * and so returns FALSE: the generated handle-* signals never run. Exported for
 * the unit tests, which call it with a table of their own (NULL: the real one).
 */
gboolean methods_dispatch(GDBusInterfaceSkeleton *iface, GDBusMethodInvocation *invocation,
			  gpointer machine);
gboolean methods_dispatch_table(const MethodRow *table, gsize n_rows,
				GDBusMethodInvocation *invocation, gpointer machine);

/*
 * The Manager's methods: each names what it needs, reading state none (NULL);
 * the handler of one that needs an action asks polkit for it. A method not
 * listed is denied. Returns the action, "" for none, NULL when not listed.
 */
const char *methods_manager_action(const char *method);
/* A "g-authorize-method" handler for the Manager's skeleton: denies methods it does not list. */
gboolean methods_manager_authorize(GDBusInterfaceSkeleton *iface, GDBusMethodInvocation *invocation,
				   gpointer data);

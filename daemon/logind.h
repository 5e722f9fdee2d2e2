/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

/* systemd-logind on the system bus, asked without blocking the main loop. */
#define LOGIND_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define LOGIND_USER "org.freedesktop.login1.User"
#define LOGIND_CALL_TIMEOUT_MS 5000

/*
 * The value of one property of a logind object (NULL and error when it cannot
 * be read). Cancelled: the callback gets G_IO_ERROR_CANCELLED and must not
 * touch data's owner, which may be gone.
 */
typedef void (*LogindPropertyCallback)(GVariant *value, const GError *error, gpointer data);
void logind_get_property(GDBusConnection *bus, const char *path, const char *interface,
			 const char *name, GCancellable *cancellable,
			 LogindPropertyCallback callback, gpointer data);

/*
 * The users with a live login (a set of uid + 1: their State is opening,
 * online or active; closing, lingering and offline are no login). NULL and
 * error when logind cannot be asked; cancelled as above.
 */
typedef void (*LogindUsersCallback)(GHashTable *logged_in, const GError *error, gpointer data);
void logind_get_logged_in(GDBusConnection *bus, GCancellable *cancellable,
			  LogindUsersCallback callback, gpointer data);

#define LOGIND_UID_KEY(uid) GUINT_TO_POINTER((guint)(uid) + 1)

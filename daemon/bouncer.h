/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

/*
 * Asks polkit whether the caller of a method may go on, without blocking the
 * main loop. Denies by default: any failure to get an answer is a denial.
 */
typedef struct Bouncer Bouncer;

/* Called with the caller's uid and NULL, or with the reason it was denied
 * (PHYLLOME_ERROR_NOT_AUTHORIZED). */
typedef void (*BouncerCallback)(GDBusMethodInvocation *invocation, uid_t caller,
				const GError *denied, gpointer user_data);

/* Connects to polkit asynchronously; until then checks wait for it. */
Bouncer *bouncer_new(void);
void bouncer_free(Bouncer *bouncer);

/*
 * Checks the caller of invocation. When owner_action is not NULL and the caller's
 * uid equals owner, that action is checked instead of action. details: key/value
 * pairs, NULL-terminated. Root is always allowed.
 */
void bouncer_check(Bouncer *bouncer, GDBusMethodInvocation *invocation, const char *action,
		   const char *owner_action, uid_t owner, gboolean interactive,
		   const char *const *details, BouncerCallback callback, gpointer user_data);

/* Reads the "interactive" option of a method's a{sv} options. */
gboolean options_interactive(GVariant *options);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

/*
 * Each running monitor has a uid and gid of its own (the same number), so
 * that a compromised monitor is no one else's: not another VM's monitor, not
 * a user, not a file's owner. They come from a range that phyllomed alone
 * hands out, as systemd's DynamicUser= does from its own: by default
 * 2046820352-2046885887 (0x7A000000, 65536 ids), inside what systemd's
 * UIDS-GIDS document leaves unused (1879048192-2147352575). The ids have no
 * user database entry and own no file; one is given out only when no running
 * machine of phyllomed holds it, no user or group in the user database has it
 * (an administrator who put users there gets them skipped) and no process
 * runs as it (a monitor left behind by an earlier phyllomed).
 */
typedef struct {
	guint32 first, last;
} MonitorIds;

#define MONITOR_IDS_DEFAULT "2046820352-2046885887"

/* "FIRST-LAST", both above 65535 (the ids of users and system users) and below 2^31 - 1. */
gboolean monitor_ids_parse(const char *text, MonitorIds *ret, GError **error);

/* taken: the ids running monitors hold (GUINT_TO_POINTER keys). */
gboolean monitor_ids_allocate(const MonitorIds *ids, GHashTable *taken, uid_t *ret, GError **error);

/* The real uid of a process, from /proc/PID/status; -1 when it cannot be read. */
uid_t process_uid(pid_t pid);

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
 * ran as it when phyllomed started (a monitor left behind by an earlier
 * phyllomed). The processes are looked at once, at the start, not at each
 * machine's: reading every process's status took 40 ms of a Start in the
 * emulated test host, and from then on only this phyllomed's monitors run as
 * the range's ids.
 */
typedef struct {
	guint32 first, last;
} MonitorIds;

#define MONITOR_IDS_DEFAULT "2046820352-2046885887"

/* "FIRST-LAST", both above 65535 (the ids of users and system users) and below 2^31 - 1. */
gboolean monitor_ids_parse(const char *text, MonitorIds *ret, GError **error);

/* The ids of the range that processes run as now (real or effective uid; GUINT_TO_POINTER keys). */
GHashTable *monitor_ids_run_by_processes(const MonitorIds *ids);

/* taken: the ids running monitors hold; left_behind: monitor_ids_run_by_processes() at the start.
 */
gboolean monitor_ids_allocate(const MonitorIds *ids, GHashTable *taken, GHashTable *left_behind,
			      uid_t *ret, GError **error);

/* The real uid of a process, from /proc/PID/status; -1 when it cannot be read. */
uid_t process_uid(pid_t pid);

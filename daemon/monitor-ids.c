/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "monitor-ids.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "phyllome-error.h"

gboolean monitor_ids_parse(const char *text, MonitorIds *ret, GError **error)
{
	guint64 first, last;
	char *end;

	first = g_ascii_strtoull(text, &end, 10);
	if (end != text && *end == '-') {
		const char *second = end + 1;

		last = g_ascii_strtoull(second, &end, 10);
		if (end != second && *end == '\0' && first > 65535 && first <= last &&
		    last < G_MAXINT32) {
			*ret = (MonitorIds){ .first = (guint32)first, .last = (guint32)last };
			return TRUE;
		}
	}
	g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT,
		    "Invalid id range '%s': expected FIRST-LAST, from 65536 to 2147483646", text);
	return FALSE;
}

/* The real and effective uids of the process /proc/PID (pid as a string); FALSE when it is gone. */
static gboolean status_uids(const char *pid, unsigned long *real, unsigned long *effective)
{
	g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
	g_autofree char *status = NULL;
	const char *line;

	return g_file_get_contents(path, &status, NULL, NULL) &&
	       (line = strstr(status, "\nUid:")) &&
	       sscanf(line + 5, "%lu %lu", real, effective) == 2;
}

uid_t process_uid(pid_t pid)
{
	g_autofree char *name = g_strdup_printf("%d", (int)pid);
	unsigned long real, effective;

	return status_uids(name, &real, &effective) ? (uid_t)real : (uid_t)-1;
}

static void add_if_in_range(GHashTable *set, const MonitorIds *ids, unsigned long id)
{
	if (id >= ids->first && id <= ids->last)
		g_hash_table_add(set, GUINT_TO_POINTER((guint)id));
}

GHashTable *monitor_ids_run_by_processes(const MonitorIds *ids)
{
	GHashTable *uids = g_hash_table_new(NULL, NULL);
	g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
	const char *name;

	while (proc && (name = g_dir_read_name(proc))) {
		unsigned long real, effective;

		if (!g_ascii_isdigit(name[0]) || !status_uids(name, &real, &effective))
			continue;
		add_if_in_range(uids, ids, real);
		add_if_in_range(uids, ids, effective);
	}
	return uids;
}

gboolean monitor_ids_allocate(const MonitorIds *ids, GHashTable *taken, GHashTable *left_behind,
			      uid_t *ret, GError **error)
{
	for (guint64 id = ids->first; id <= ids->last; id++) {
		gpointer key = GUINT_TO_POINTER((guint)id);

		if (g_hash_table_contains(taken, key) || g_hash_table_contains(left_behind, key) ||
		    getpwuid((uid_t)id) || getgrgid((gid_t)id))
			continue;
		*ret = (uid_t)id;
		return TRUE;
	}
	g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
		    "No monitor id is free in %u-%u: as many machines run as the range holds, or "
		    "its ids are in use",
		    ids->first, ids->last);
	return FALSE;
}

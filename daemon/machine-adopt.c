/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A monitor that runs from an earlier phyllomed, taken over from the runtime state it left. */
#include "machine-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/pidfd.h>

#include "phyllome-error.h"
#include "phyllome-names.h"

/* What the adopted monitor says of itself: paused, or its guest panicked while we were away. */
static void adopted_monitor_state(Machine *m, GVariant *reply, const GError *error, gpointer data)
{
	g_autoptr(GVariant) props = NULL;
	const char *state = NULL;
	gboolean panicked = FALSE;

	(void)data;
	if (error) {
		machine_log(m, LOG_WARNING,
			    "The adopted monitor does not answer on its control socket: %s",
			    error->message);
		return;
	}
	if (m->state != MACHINE_RUNNING || !m->pid)
		return;
	props = g_variant_get_child_value(reply, 0);
	if (g_variant_lookup(props, "Panicked", "b", &panicked) && panicked)
		m->panicked = TRUE;
	if (g_variant_lookup(props, "State", "&s", &state) && g_str_equal(state, "paused")) {
		machine_set_state(m, MACHINE_PAUSED);
		machine_log(m, LOG_INFO, "The adopted monitor is paused");
	}
}

/*
 * The host devices an earlier run moved to vfio-pci, from the runtime state:
 * each must be a PCI address (so no path can come of it) granted to this
 * machine, with a plain driver name. Anything else is left alone, and said.
 */
static char **trusted_moved_devices(Machine *m, GKeyFile *kf)
{
	g_auto(GStrv) listed = g_key_file_get_string_list(kf, "Devices", "Moved", NULL, NULL);
	g_autoptr(GPtrArray) trusted = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; listed && listed[i]; i++) {
		g_auto(GStrv) parts = g_strsplit(listed[i], "=", 2);
		g_autofree char *address = parts[0] ? pci_address_normalize(parts[0]) : NULL;

		if (!address || !g_str_equal(address, parts[0]) || !parts[1] ||
		    strchr(parts[1], '/') || !machine_grant_find(m, address)) {
			machine_log(
			    m, LOG_WARNING,
			    "Ignoring '%s' in its runtime state: not a device granted to it",
			    listed[i]);
			continue;
		}
		g_ptr_array_add(trusted, g_strdup(listed[i]));
	}
	if (trusted->len == 0)
		return NULL;
	g_ptr_array_add(trusted, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&trusted), FALSE);
}

/* Its id stays taken while it runs (one outside the range is an older phyllomed's shared user). */
static void adopt_monitor_id(Machine *m)
{
	const MonitorIds *ids = &m->daemon->options.monitor_ids;
	uid_t id = process_uid(m->pid);

	if (id >= ids->first && id <= ids->last)
		machine_hold_monitor_id(m, id);
	else
		machine_log(m, LOG_INFO, "The adopted monitor runs as uid %d, outside %u-%u",
			    (int)id, ids->first, ids->last);
}

void machine_adopt(Machine *m)
{
	g_autofree char *path = machine_runtime_path(m, "state");
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *unit = NULL;
	g_autofree char *expected_unit = scope_unit_name(m->name);
	gint64 pid;
	guint64 start_time;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
		machine_remove_runtime_state(m);
		return;
	}
	pid = g_key_file_get_int64(kf, "Monitor", "PID", NULL);
	start_time = g_key_file_get_uint64(kf, "Monitor", "StartTime", NULL);
	unit = g_key_file_get_string(kf, "Monitor", "Unit", NULL);
	g_strfreev(m->moved_devices);
	m->moved_devices = trusted_moved_devices(m, kf);
	/* Only this machine's own scope: the file must not make us adopt (and later kill) another.
	 */
	if (unit && !g_str_equal(unit, expected_unit)) {
		machine_log(m, LOG_WARNING,
			    "Its runtime state names the unit %s, not %s: not adopting PID "
			    "%" G_GINT64_FORMAT,
			    unit, expected_unit, pid);
		g_clear_pointer(&unit, g_free);
	}
	/* The same process (not a reused PID) and still in the machine's scope. */
	if (pid <= 0 || pid > G_MAXINT || !unit || process_start_time((pid_t)pid) != start_time ||
	    !process_in_unit((pid_t)pid, unit)) {
		machine_log(m, LOG_INFO, "The monitor of an earlier run is gone");
		machine_remove_runtime_state(m);
		machine_give_back_devices(m);
		return;
	}
	m->pidfd = pidfd_open((pid_t)pid, 0);
	if (m->pidfd < 0) {
		machine_log(m, LOG_WARNING, "Cannot watch monitor PID %" G_GINT64_FORMAT ": %s",
			    pid, g_strerror(errno));
		return;
	}
	m->pid = (pid_t)pid;
	adopt_monitor_id(m);
	m->pidfd_watch_id = g_unix_fd_add(m->pidfd, G_IO_IN, machine_pidfd_ready, m);
	m->stop_timeout = m->daemon->options.stop_timeout;
	phyllome_machine_set_leader(m->iface, (guint)m->pid);
	phyllome_machine_set_unit(m->iface, unit);
	machine_set_state(m, MACHINE_RUNNING);
	machine_grants_set_active(m, TRUE);
	machine_log(m, LOG_INFO, "Adopted the running monitor, PID %d in %s", (int)m->pid, unit);
	machine_control_call_full(m, "org.freedesktop.DBus.Properties", "GetAll",
				  g_variant_new("(s)", PHYLLOME_VMM1_INTERFACE),
				  adopted_monitor_state, NULL);
}

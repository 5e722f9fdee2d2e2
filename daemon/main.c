/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "firmware.h"
#include "inhibit.h"
#include "logins.h"
#include "manager.h"
#include "phyllome-error.h"
#include "phyllome-names.h"

static GMainLoop *main_loop;
static int exit_status = EXIT_SUCCESS;

static gboolean quit_on_signal(gpointer data)
{
	(void)data;
	/* The VMs keep running: their monitors live in their own scopes. */
	daemon_log(NULL, LOG_INFO, "Exiting; running machines keep running");
	g_main_loop_quit(main_loop);
	return G_SOURCE_REMOVE;
}

static void bus_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	Daemon *d = data;
	g_autoptr(GError) error = NULL;

	(void)name;
	d->bus = g_object_ref(bus);
	g_hook_list_init(&d->machine_state_hooks, sizeof(GHook));
	d->scopes = scopes_new(bus, d->options.slice);
	if (!manager_start(d, &error)) {
		daemon_log(NULL, LOG_ERR, "Cannot export the API: %s", error->message);
		exit_status = EXIT_FAILURE;
		g_main_loop_quit(main_loop);
		return;
	}
	d->inhibitor = inhibitor_new(d);
	d->logins = logins_new(d);
}

static void name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
	Daemon *d = data;

	(void)bus;
	daemon_log(NULL, LOG_INFO, "Serving %s with %u machines", name,
		   g_hash_table_size(d->machines));
	(void)sd_notify(0, "READY=1");
}

static void name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	(void)data;
	daemon_log(NULL, LOG_ERR,
		   bus ? "Lost or could not own the name %s (another phyllomed? the bus policy?)"
		       : "Cannot connect to the system bus for %s",
		   name);
	exit_status = EXIT_FAILURE;
	g_main_loop_quit(main_loop);
}

int main(int argc, char **argv)
{
	Daemon d = { 0 };
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	gint stop_timeout = 30;
	gboolean version = FALSE;
	g_autofree char *monitor_ids = NULL;
	guint owner_id;
	const GOptionEntry entries[] = {
		{ "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &d.options.config_dir,
		  "Machine definitions (default " PHYLLOME_CONFIG_DIR ")", "DIR" },
		{ "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &d.options.runtime_dir,
		  "Runtime state and console sockets (default " PHYLLOME_RUNTIME_DIR ")", "DIR" },
		{ "vmm", 0, 0, G_OPTION_ARG_FILENAME, &d.options.vmm_path,
		  "The monitor program (default " PHYLLOME_VMM_PATH ")", "PATH" },
		{ "monitor-ids", 0, 0, G_OPTION_ARG_STRING, &monitor_ids,
		  "The uids and gids monitors run as, one each (default " MONITOR_IDS_DEFAULT ")",
		  "FIRST-LAST" },
		{ "slice", 0, 0, G_OPTION_ARG_STRING, &d.options.slice,
		  "The slice of the machines' scopes (default phyllome.slice)", "SLICE" },
		{ "stop-timeout", 0, 0, G_OPTION_ARG_INT, &stop_timeout,
		  "Seconds a guest has to power off on Stop before it is stopped hard (default 30)",
		  "SEC" },
		{ "sysfs", 0, 0, G_OPTION_ARG_FILENAME, &d.options.sysfs_root,
		  "Where host PCI devices are read (default /sys; tests point it at a fixture)",
		  "DIR" },
		{ "firmware-dir", 0, 0, G_OPTION_ARG_FILENAME, &d.options.firmware_dir,
		  "The UEFI firmware of Firmware=uefi machines: " FIRMWARE_CODE_FILE
		  ", " FIRMWARE_VARS_FILE ", " FIRMWARE_VARS_SECURE_BOOT_FILE
		  " (default " PHYLLOME_FIRMWARE_DIR ")",
		  "DIR" },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version", NULL },
		{ NULL },
	};

	setlocale(LC_ALL, "");
	context = g_option_context_new("- the Phyllome VM session manager (D-Bus system service)");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("phyllomed: %s\n", error->message);
		return 2;
	}
	if (version) {
		g_print("phyllomed %s\n", PHYLLOME_VERSION);
		return 0;
	}
	if (stop_timeout < 0 || stop_timeout > 24 * 3600) {
		g_printerr("phyllomed: --stop-timeout must be 0 to 86400\n");
		return 2;
	}
	d.options.stop_timeout = (guint)stop_timeout;
	if (!d.options.config_dir)
		d.options.config_dir = g_strdup(PHYLLOME_CONFIG_DIR);
	if (!d.options.runtime_dir)
		d.options.runtime_dir = g_strdup(PHYLLOME_RUNTIME_DIR);
	if (!d.options.vmm_path)
		d.options.vmm_path = g_strdup(PHYLLOME_VMM_PATH);
	if (!monitor_ids_parse(monitor_ids ? monitor_ids : MONITOR_IDS_DEFAULT,
			       &d.options.monitor_ids, &error)) {
		g_printerr("phyllomed: --monitor-ids: %s\n", error->message);
		return 2;
	}
	d.monitor_ids_taken = g_hash_table_new(NULL, NULL);
	d.monitor_ids_left_behind = monitor_ids_run_by_processes(&d.options.monitor_ids);
	if (!d.options.slice)
		d.options.slice = g_strdup("phyllome.slice");
	if (!d.options.sysfs_root)
		d.options.sysfs_root = g_strdup("/sys");
	if (!d.options.firmware_dir)
		d.options.firmware_dir = g_strdup(PHYLLOME_FIRMWARE_DIR);
	/* Registers the error domain, so callers see org.phyllome.VM1.Error.* names. */
	(void)PHYLLOME_ERROR;

	main_loop = g_main_loop_new(NULL, FALSE);
	d.bouncer = bouncer_new();
	g_unix_signal_add(SIGTERM, quit_on_signal, NULL);
	g_unix_signal_add(SIGINT, quit_on_signal, NULL);
	owner_id = g_bus_own_name(G_BUS_TYPE_SYSTEM, PHYLLOME_BUS_NAME,
				  G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, bus_acquired, name_acquired,
				  name_lost, &d, NULL);
	g_main_loop_run(main_loop);

	g_bus_unown_name(owner_id);
	logins_free(d.logins);
	inhibitor_free(d.inhibitor);
	if (d.machines)
		manager_stop(&d);
	if (d.machine_state_hooks.is_setup)
		g_hook_list_clear(&d.machine_state_hooks);
	scopes_free(d.scopes);
	bouncer_free(d.bouncer);
	g_clear_object(&d.bus);
	g_main_loop_unref(main_loop);
	g_free(d.options.config_dir);
	g_free(d.options.runtime_dir);
	g_free(d.options.vmm_path);
	g_hash_table_unref(d.monitor_ids_taken);
	g_hash_table_unref(d.monitor_ids_left_behind);
	g_free(d.options.slice);
	g_free(d.options.sysfs_root);
	g_free(d.options.firmware_dir);
	pci_names_free(d.pci_names);
	return exit_status;
}

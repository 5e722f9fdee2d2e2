/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verbs that read: list, status, monitor. */
#include <pwd.h>
#include <stdio.h>

#include "phyllome-names.h"
#include "phyllomectl.h"

static GDBusObjectManager *object_manager(Ctl *ctl, int *ret_status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PhyllomeManager) manager = ctl_manager(ctl, &error);
	g_autoptr(GVariant) machines = NULL;
	g_autofree char *owner = NULL;
	GDBusObjectManager *om = NULL;

	/* A method call starts phyllomed by D-Bus activation; the object manager client does not.
	 */
	if (manager && phyllome_manager_call_list_machines_sync(manager, &machines, NULL, &error))
		om = phyllome_object_manager_client_new_sync(
		    ctl->bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, PHYLLOME_BUS_NAME,
		    PHYLLOME_MANAGER_PATH, NULL, &error);
	if (!om) {
		*ret_status = ctl_error("cannot list machines", error);
		return NULL;
	}
	owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(om));
	if (!owner) {
		g_printerr("phyllomectl: phyllomed is not running\n");
		g_object_unref(om);
		*ret_status = EXIT_FAILED;
		return NULL;
	}
	return om;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(phyllome_machine_get_name(*(PhyllomeMachine *const *)a),
			 phyllome_machine_get_name(*(PhyllomeMachine *const *)b));
}

/* Every machine proxy, sorted by name. */
static GPtrArray *all_machines(GDBusObjectManager *om)
{
	GPtrArray *machines = g_ptr_array_new_with_free_func(g_object_unref);
	GList *objects = g_dbus_object_manager_get_objects(om);

	for (GList *l = objects; l; l = l->next) {
		PhyllomeMachine *m = phyllome_object_get_machine(PHYLLOME_OBJECT(l->data));

		if (m)
			g_ptr_array_add(machines, m);
	}
	g_list_free_full(objects, g_object_unref);
	g_ptr_array_sort(machines, by_name);
	return machines;
}

static char *owner_name(guint uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? g_strdup(pw->pw_name) : g_strdup_printf("%u", uid);
}

static void machine_json(GString *out, PhyllomeMachine *m)
{
	g_string_append(out, "{\"name\":");
	json_string(out, phyllome_machine_get_name(m));
	g_string_append(out, ",\"state\":");
	json_string(out, phyllome_machine_get_state(m));
	g_string_append(out, ",\"result\":");
	json_string(out, phyllome_machine_get_result(m));
	g_string_append(out, ",\"status_text\":");
	json_string(out, phyllome_machine_get_status_text(m));
	g_string_append_printf(
	    out,
	    ",\"exit_status\":%d,\"vcpus\":%u,\"memory_bytes\":%" G_GUINT64_FORMAT
	    ",\"owner\":%u,\"leader\":%u,\"unit\":",
	    phyllome_machine_get_exit_status(m), phyllome_machine_get_vcpus(m),
	    phyllome_machine_get_memory_bytes(m), phyllome_machine_get_owner(m),
	    phyllome_machine_get_leader(m));
	json_string(out, phyllome_machine_get_unit(m));
	g_string_append(out, ",\"firmware\":");
	json_string(out, phyllome_machine_get_firmware(m));
	g_string_append(out, ",\"display\":");
	json_string(out, phyllome_machine_get_display(m));
	g_string_append(out, ",\"architecture\":");
	json_string(out, phyllome_machine_get_architecture(m));
	g_string_append(out, ",\"resolution\":");
	json_string(out, phyllome_machine_get_resolution(m));
	g_string_append_printf(out, ",\"secure_boot\":%s,\"uuid\":",
			       phyllome_machine_get_secure_boot(m) ? "true" : "false");
	json_string(out, phyllome_machine_get_uuid(m));
	g_string_append(out, ",\"kernel\":");
	json_string(out, phyllome_machine_get_kernel(m));
	g_string_append(out, ",\"initrd\":");
	json_string(out, phyllome_machine_get_initrd(m));
	g_string_append(out, ",\"cmdline\":");
	json_string(out, phyllome_machine_get_cmdline(m));
	g_string_append(out, ",\"autostart\":");
	json_string(out, phyllome_machine_get_autostart(m));
	g_string_append_printf(out, ",\"stop_on_logout\":%s,\"stop_on_logout_delay\":%u",
			       phyllome_machine_get_stop_on_logout(m) ? "true" : "false",
			       phyllome_machine_get_stop_on_logout_delay(m));
	g_string_append(out, ",\"grants\":[");
	for (const char *const *g = phyllome_machine_get_grants(m); g && *g; g++) {
		if (g != phyllome_machine_get_grants(m))
			g_string_append_c(out, ',');
		json_string(out, *g);
	}
	g_string_append_c(out, ']');
	g_string_append_printf(out, ",\"state_change_timestamp\":%" G_GUINT64_FORMAT "}",
			       phyllome_machine_get_state_change_timestamp(m));
}

int cmd_list(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(GDBusObjectManager) om = NULL;
	g_autoptr(GPtrArray) machines = NULL;
	int status = EXIT_OK;
	int name_width = 4;

	(void)argv;
	if (argc != 1) {
		g_printerr("phyllomectl: list takes no arguments\n");
		return EXIT_USAGE;
	}
	om = object_manager(ctl, &status);
	if (!om)
		return status;
	machines = all_machines(om);
	if (ctl->json) {
		g_autoptr(GString) out = g_string_new("[");

		for (guint i = 0; i < machines->len; i++) {
			if (i)
				g_string_append_c(out, ',');
			machine_json(out, machines->pdata[i]);
		}
		g_string_append(out, "]\n");
		fputs(out->str, stdout);
		return EXIT_OK;
	}
	for (guint i = 0; i < machines->len; i++)
		name_width =
		    MAX(name_width, (int)strlen(phyllome_machine_get_name(machines->pdata[i])));
	if (!ctl->no_legend)
		printf("%-*s %-8s %5s %7s %-10s %s\n", name_width, "NAME", "STATE", "CPUS",
		       "MEMORY", "OWNER", "AUTOSTART");
	for (guint i = 0; i < machines->len; i++) {
		PhyllomeMachine *m = machines->pdata[i];
		g_autofree char *memory = format_bytes(phyllome_machine_get_memory_bytes(m));
		g_autofree char *owner = owner_name(phyllome_machine_get_owner(m));

		printf("%-*s %-8s %5u %7s %-10s %s\n", name_width, phyllome_machine_get_name(m),
		       phyllome_machine_get_state(m), phyllome_machine_get_vcpus(m), memory, owner,
		       phyllome_machine_get_autostart(m));
	}
	if (!ctl->no_legend)
		printf("\n%u machines listed.\n", machines->len);
	return EXIT_OK;
}

int cmd_status(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) m = NULL;
	g_autofree char *memory = NULL, *owner = NULL, *since = NULL;
	g_autoptr(GDateTime) changed = NULL;
	int status = EXIT_OK;
	const char *state, *result;

	if (argc != 2) {
		g_printerr("phyllomectl: status takes one machine name\n");
		return EXIT_USAGE;
	}
	m = ctl_machine(ctl, argv[1], &status);
	if (!m)
		return status;
	state = phyllome_machine_get_state(m);
	if (ctl->json) {
		g_autoptr(GString) out = g_string_new(NULL);

		machine_json(out, m);
		puts(out->str);
	} else {
		memory = format_bytes(phyllome_machine_get_memory_bytes(m));
		owner = owner_name(phyllome_machine_get_owner(m));
		changed = g_date_time_new_from_unix_local(
		    (gint64)(phyllome_machine_get_state_change_timestamp(m) / G_USEC_PER_SEC));
		since =
		    changed ? g_date_time_format(changed, "%Y-%m-%d %H:%M:%S %Z") : g_strdup("?");
		result = phyllome_machine_get_result(m);
		printf("● %s\n", phyllome_machine_get_name(m));
		printf("      State: %s since %s%s%s%s\n", state, since,
		       *result ? " (result: " : "", result, *result ? ")" : "");
		if (*phyllome_machine_get_status_text(m))
			printf("     Status: %s\n", phyllome_machine_get_status_text(m));
		if (phyllome_machine_get_leader(m))
			printf("     Leader: %u (phyllome-vmm)\n", phyllome_machine_get_leader(m));
		if (*phyllome_machine_get_unit(m))
			printf("       Unit: %s\n", phyllome_machine_get_unit(m));
		printf("      VCPUs: %u\n     Memory: %s\n      Owner: %s\n  Autostart: %s",
		       phyllome_machine_get_vcpus(m), memory, owner,
		       phyllome_machine_get_autostart(m));
		if (g_str_equal(phyllome_machine_get_autostart(m), "login") &&
		    phyllome_machine_get_stop_on_logout(m))
			printf(" (stopped %u s after the owner's last session ends)\n",
			       phyllome_machine_get_stop_on_logout_delay(m));
		else if (g_str_equal(phyllome_machine_get_autostart(m), "login"))
			printf(" (keeps running after the owner's last session ends)\n");
		else
			printf("\n");
		if (g_str_equal(phyllome_machine_get_firmware(m), "uefi")) {
			printf("   Firmware: UEFI, Secure Boot %s\n",
			       phyllome_machine_get_secure_boot(m) ? "on" : "off");
		} else {
			printf("     Kernel: %s\n", phyllome_machine_get_kernel(m));
			if (*phyllome_machine_get_initrd(m))
				printf("     Initrd: %s\n", phyllome_machine_get_initrd(m));
			printf("    Cmdline: %s\n", phyllome_machine_get_cmdline(m));
		}
		printf("       Arch: %s\n", phyllome_machine_get_architecture(m));
		printf("       UUID: %s\n", phyllome_machine_get_uuid(m));
		if (!g_str_equal(phyllome_machine_get_display(m), "none"))
			printf("    Display: %s%s%s\n", phyllome_machine_get_display(m),
			       *phyllome_machine_get_resolution(m) ? ", " : "",
			       phyllome_machine_get_resolution(m));
		for (const char *const *d = phyllome_machine_get_disks(m); d && *d; d++)
			printf("       Disk: %s\n", *d);
		for (const char *const *n = phyllome_machine_get_networks(m); n && *n; n++)
			printf("    Network: %s\n", *n);
		if (phyllome_machine_get_vsock_cid(m))
			printf("  vsock CID: %u\n", phyllome_machine_get_vsock_cid(m));
		for (const char *const *g = phyllome_machine_get_grants(m); g && *g; g++)
			printf("Host device: %s\n", *g);
	}
	return g_str_equal(state, "running") ? EXIT_OK : EXIT_INACTIVE;
}

static void print_event(const char *what, const char *name, const char *detail)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");

	printf("%s %-8s %s%s%s\n", stamp, what, name, detail ? " " : "", detail ? detail : "");
	fflush(stdout);
}

static void properties_changed(GDBusObjectManagerClient *om, GDBusObjectProxy *object,
			       GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
			       gpointer data)
{
	const char *state = NULL;
	g_autofree char *detail = NULL;

	(void)om, (void)object, (void)invalidated, (void)data;
	if (!PHYLLOME_IS_MACHINE(proxy) || !g_variant_lookup(changed, "State", "&s", &state))
		return;
	detail = *phyllome_machine_get_result(PHYLLOME_MACHINE(proxy))
		     ? g_strdup_printf("%s (%s)", state,
				       phyllome_machine_get_result(PHYLLOME_MACHINE(proxy)))
		     : g_strdup(state);
	print_event("state", phyllome_machine_get_name(PHYLLOME_MACHINE(proxy)), detail);
}

static void object_added(GDBusObjectManager *om, GDBusObject *object, gpointer data)
{
	g_autoptr(PhyllomeMachine) m = phyllome_object_get_machine(PHYLLOME_OBJECT(object));

	(void)om, (void)data;
	if (m)
		print_event("new", phyllome_machine_get_name(m), phyllome_machine_get_state(m));
}

static void object_removed(GDBusObjectManager *om, GDBusObject *object, gpointer data)
{
	g_autoptr(PhyllomeMachine) m = phyllome_object_get_machine(PHYLLOME_OBJECT(object));

	(void)om, (void)data;
	if (m)
		print_event("removed", phyllome_machine_get_name(m), NULL);
}

int cmd_monitor(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(GDBusObjectManager) om = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	int status = EXIT_OK;

	(void)argv;
	if (argc != 1) {
		g_printerr("phyllomectl: monitor takes no arguments\n");
		return EXIT_USAGE;
	}
	om = object_manager(ctl, &status);
	if (!om)
		return status;
	g_signal_connect(om, "interface-proxy-properties-changed", G_CALLBACK(properties_changed),
			 NULL);
	g_signal_connect(om, "object-added", G_CALLBACK(object_added), NULL);
	g_signal_connect(om, "object-removed", G_CALLBACK(object_removed), NULL);
	printf("Monitoring phyllomed (Ctrl-C to stop)\n");
	fflush(stdout);
	loop = g_main_loop_new(NULL, FALSE);
	g_main_loop_run(loop);
	return EXIT_OK;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's PCI devices, as an administrator chooses what to grant: devices. */
#include <stdio.h>

#include "phyllomectl.h"

static const char *lookup_string(GVariant *dict, const char *key)
{
	const char *s = "";

	g_variant_lookup(dict, key, "&s", &s);
	return s;
}

static void device_json(GString *out, GVariant *d)
{
	guint16 vendor_id = 0, device_id = 0;
	guint32 class_code = 0;
	g_autofree const char **members = NULL;

	g_variant_lookup(d, "vendor-id", "q", &vendor_id);
	g_variant_lookup(d, "device-id", "q", &device_id);
	g_variant_lookup(d, "class", "u", &class_code);
	g_variant_lookup(d, "group-members", "^a&s", &members);
	g_string_append(out, "{\"address\":");
	json_string(out, lookup_string(d, "address"));
	g_string_append_printf(out, ",\"vendor_id\":%u,\"device_id\":%u,\"class\":%u,\"vendor\":",
			       vendor_id, device_id, class_code);
	json_string(out, lookup_string(d, "vendor"));
	g_string_append(out, ",\"product\":");
	json_string(out, lookup_string(d, "product"));
	g_string_append(out, ",\"iommu_group\":");
	json_string(out, lookup_string(d, "iommu-group"));
	g_string_append(out, ",\"group_members\":[");
	for (guint i = 0; members && members[i]; i++) {
		if (i)
			g_string_append_c(out, ',');
		json_string(out, members[i]);
	}
	g_string_append(out, "],\"driver\":");
	json_string(out, lookup_string(d, "driver"));
	g_string_append(out, ",\"granted_to\":");
	json_string(out, lookup_string(d, "granted-to"));
	g_string_append_c(out, '}');
}

static void device_line(GVariant *d)
{
	guint16 vendor_id = 0, device_id = 0;
	g_autofree const char **members = NULL;
	const char *group = lookup_string(d, "iommu-group");
	g_autofree char *group_text = NULL;

	g_variant_lookup(d, "vendor-id", "q", &vendor_id);
	g_variant_lookup(d, "device-id", "q", &device_id);
	g_variant_lookup(d, "group-members", "^a&s", &members);
	/* A group with company: they can only go to a machine together. */
	group_text =
	    !*group ? g_strdup("-")
		    : g_strdup_printf("%s%s", group,
				      members && g_strv_length((char **)members) > 1 ? "+" : "");
	printf("%-12s %04x:%04x %-6s %-12s %-10s %s%s%s\n", lookup_string(d, "address"), vendor_id,
	       device_id, group_text,
	       *lookup_string(d, "driver") ? lookup_string(d, "driver") : "-",
	       *lookup_string(d, "granted-to") ? lookup_string(d, "granted-to") : "-",
	       lookup_string(d, "vendor"), *lookup_string(d, "product") ? " " : "",
	       lookup_string(d, "product"));
}

int cmd_devices(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PhyllomeManager) manager = NULL;
	g_autoptr(GVariant) devices = NULL;
	gsize n;

	(void)argv;
	if (argc != 1) {
		g_printerr("phyllomectl: devices takes no arguments\n");
		return EXIT_USAGE;
	}
	manager = ctl_manager(ctl, &error);
	if (!manager ||
	    !phyllome_manager_call_list_host_devices_sync(manager, &devices, NULL, &error))
		return ctl_error("cannot list host devices", error);
	n = g_variant_n_children(devices);
	if (ctl->json) {
		g_autoptr(GString) out = g_string_new("[");

		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) d = g_variant_get_child_value(devices, i);

			if (i)
				g_string_append_c(out, ',');
			device_json(out, d);
		}
		g_string_append(out, "]\n");
		fputs(out->str, stdout);
		return EXIT_OK;
	}
	if (!ctl->no_legend)
		printf("%-12s %-9s %-6s %-12s %-10s %s\n", "ADDRESS", "ID", "GROUP", "DRIVER",
		       "GRANTED", "NAME");
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) d = g_variant_get_child_value(devices, i);

		device_line(d);
	}
	if (!ctl->no_legend)
		printf("\n%zu devices listed. GROUP: the IOMMU group (+: it has other members, "
		       "which go to a "
		       "machine along).\n",
		       n);
	return EXIT_OK;
}

/* NAME DEVICE [FLAG]: the machine, the device and whether the one flag this verb takes was given.
 */
static int device_args(const char *verb, const char *flag, int argc, char **argv,
		       const char **ret_name, const char **ret_device, gboolean *ret_flag)
{
	const char *positional[2] = { NULL, NULL };
	int n = 0;

	*ret_flag = FALSE;
	for (int i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], flag))
			*ret_flag = TRUE;
		else if (argv[i][0] == '-' || n == 2) {
			g_printerr("phyllomectl: %s NAME DEVICE [%s]: unexpected '%s'\n", verb,
				   flag, argv[i]);
			return EXIT_USAGE;
		} else
			positional[n++] = argv[i];
	}
	if (n != 2) {
		g_printerr("phyllomectl: %s takes a machine name and a device address (phyllomectl "
			   "devices lists "
			   "them)\n",
			   verb);
		return EXIT_USAGE;
	}
	*ret_name = positional[0];
	*ret_device = positional[1];
	return EXIT_OK;
}

typedef gboolean (*DeviceCall)(PhyllomeMachine *m, const char *device, GVariant *options,
			       GError **error);

static gboolean call_grant(PhyllomeMachine *m, const char *device, GVariant *options,
			   GError **error)
{
	g_autofree char *path = NULL;

	return phyllome_machine_call_grant_device_sync(m, device, options, &path, NULL, error);
}

static gboolean call_revoke(PhyllomeMachine *m, const char *device, GVariant *options,
			    GError **error)
{
	return phyllome_machine_call_revoke_device_sync(m, device, options, NULL, error);
}

/* VERB NAME DEVICE [FLAG]: FLAG sets the boolean option of that name. */
static int device_verb(Ctl *ctl, int argc, char **argv, const char *verb, const char *flag,
		       DeviceCall call)
{
	g_autoptr(PhyllomeMachine) m = NULL;
	g_autoptr(GError) error = NULL;
	const char *name, *device;
	gboolean flag_set;
	GVariantBuilder options;
	int status = device_args(verb, flag, argc, argv, &name, &device, &flag_set);

	if (status != EXIT_OK)
		return status;
	m = ctl_machine(ctl, name, &status);
	if (!m)
		return status;
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	if (flag_set)
		g_variant_builder_add(&options, "{sv}", flag + 2, g_variant_new_boolean(TRUE));
	if (!call(m, device, ctl_options(ctl, &options), &error))
		return ctl_error(name, error);
	if (call == call_grant)
		printf("%s granted to %s%s\n", device, name,
		       flag_set ? " (persistent)" : " (until phyllomed stops)");
	return EXIT_OK;
}

int cmd_grant(Ctl *ctl, int argc, char **argv)
{
	return device_verb(ctl, argc, argv, "grant", "--persistent", call_grant);
}

int cmd_revoke(Ctl *ctl, int argc, char **argv)
{
	return device_verb(ctl, argc, argv, "revoke", "--force", call_revoke);
}

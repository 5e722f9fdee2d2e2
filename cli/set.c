/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllomectl set NAME KEY=VALUE...: a stopped machine's definition changed
 * through phyllomed (Machine.Configure), which checks the whole before it
 * writes it, and asks polkit as for create. Chosen over an `edit` that opens
 * the file in $EDITOR: each change is named on the command line (scripts,
 * completion), the daemon validates keys it knows rather than a file a user
 * typed, and nothing of the user's editor runs near a root daemon's files.
 */
#include <stdio.h>
#include <string.h>

#include "phyllomectl.h"
#include "size.h"

typedef enum {
	VALUE_STRING,
	VALUE_U32,
	VALUE_SIZE,
	VALUE_U64,
	VALUE_LIST,
	VALUE_USER,
	VALUE_BOOLEAN,
} ValueKind;

/* The definition's keys (phyllome.conf(5)) and what Configure calls them. */
static const struct {
	const char *key;
	const char *name;
	ValueKind kind;
} keys[] = {
	{ "Firmware", "firmware", VALUE_STRING },
	{ "SecureBoot", "secure-boot", VALUE_BOOLEAN },
	{ "UUID", "uuid", VALUE_STRING },
	{ "Display", "display", VALUE_STRING },
	{ "Resolution", "resolution", VALUE_STRING },
	{ "Kernel", "kernel", VALUE_STRING },
	{ "Initrd", "initrd", VALUE_STRING },
	{ "Cmdline", "cmdline", VALUE_STRING },
	{ "CPUs", "cpus", VALUE_U32 },
	{ "Memory", "memory", VALUE_SIZE },
	{ "Owner", "owner", VALUE_USER },
	{ "MemoryMax", "memory-max", VALUE_SIZE },
	{ "CPUWeight", "cpu-weight", VALUE_U32 },
	{ "TasksMax", "tasks-max", VALUE_U64 },
	{ "Disks", "disks", VALUE_LIST },
	{ "Networks", "networks", VALUE_LIST },
	{ "VSockCID", "vsock-cid", VALUE_U32 },
};

/* KEY=VALUE as a{sv} entry; FALSE (after saying why) when it is none. */
static gboolean add_change(GVariantBuilder *changes, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	g_autofree char *key = eq ? g_strndup(assignment, (gsize)(eq - assignment)) : NULL;
	const char *value = eq ? eq + 1 : NULL;
	guint64 n;
	guint32 uid;

	for (gsize i = 0; key && i < G_N_ELEMENTS(keys); i++) {
		GVariant *v = NULL;

		if (g_ascii_strcasecmp(key, keys[i].key) != 0)
			continue;
		switch (keys[i].kind) {
		case VALUE_STRING:
			v = g_variant_new_string(value);
			break;
		case VALUE_U32:
			if (g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT32, &n, NULL))
				v = g_variant_new_uint32((guint32)n);
			break;
		case VALUE_U64:
			if (g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &n, NULL))
				v = g_variant_new_uint64(n);
			break;
		case VALUE_SIZE:
			/* As in a definition: a bare number is bytes. */
			if (size_parse(value, 1, &n) == 0)
				v = g_variant_new_uint64(n);
			break;
		case VALUE_BOOLEAN:
			/* As a definition takes them. */
			if (!g_ascii_strcasecmp(value, "yes") ||
			    !g_ascii_strcasecmp(value, "true") || g_str_equal(value, "1"))
				v = g_variant_new_boolean(TRUE);
			else if (!g_ascii_strcasecmp(value, "no") ||
				 !g_ascii_strcasecmp(value, "false") || g_str_equal(value, "0"))
				v = g_variant_new_boolean(FALSE);
			break;
		case VALUE_USER:
			if (ctl_parse_user(value, &uid))
				v = g_variant_new_uint32(uid);
			break;
		case VALUE_LIST: {
			g_auto(GStrv) items = g_strsplit(value, ";", -1);
			g_autoptr(GPtrArray) kept = g_ptr_array_new();

			for (guint j = 0; items[j]; j++)
				if (*items[j])
					g_ptr_array_add(kept, items[j]);
			v = g_variant_new_strv((const char *const *)kept->pdata, kept->len);
			break;
		}
		}
		if (!v) {
			g_printerr("phyllomectl: set: invalid %s '%s'\n", keys[i].key, value);
			return FALSE;
		}
		g_variant_builder_add(changes, "{sv}", keys[i].name, v);
		return TRUE;
	}
	g_printerr("phyllomectl: set: '%s' is no KEY=VALUE of a definition (Firmware, "
		   "SecureBoot, UUID, Display, Resolution, Kernel, Initrd, Cmdline, CPUs, Memory, "
		   "Owner, MemoryMax, "
		   "CPUWeight, TasksMax, Disks, Networks, "
		   "VSockCID; Autostart is enable's and disable's)\n",
		   assignment);
	return FALSE;
}

int cmd_set(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) machine = NULL;
	g_autoptr(GError) error = NULL;
	GVariantBuilder changes;
	int status = EXIT_OK;

	if (argc < 3) {
		g_printerr("phyllomectl: set takes a machine name and KEY=VALUE...\n");
		return EXIT_USAGE;
	}
	g_variant_builder_init(&changes, G_VARIANT_TYPE_VARDICT);
	for (int i = 2; i < argc; i++)
		if (!add_change(&changes, argv[i])) {
			g_variant_builder_clear(&changes);
			return EXIT_USAGE;
		}
	machine = ctl_machine(ctl, argv[1], &status);
	if (!machine) {
		g_variant_builder_clear(&changes);
		return status;
	}
	if (!phyllome_machine_call_configure_sync(machine, g_variant_builder_end(&changes),
						  ctl_options(ctl, NULL), NULL, &error))
		return ctl_error(argv[1], error);
	return EXIT_OK;
}

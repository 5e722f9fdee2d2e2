/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A definition's keys as the D-Bus API carries them: CreateMachine's and Configure's a{sv}. */
#include "config-variant.h"

#include "methods.h"
#include "phyllome-error.h"
#include "phyllome-names.h"

static void set_string(char **field, const char *value)
{
	g_free(*field);
	*field = g_strdup(value);
}

/* A string key whose value is none of those it takes: FALSE, and error says which it takes. */
static gboolean bad_value(GError **error, const char *key, const char *expected, GVariant *v)
{
	g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG, "%s must be %s, not '%s'",
		    key, expected, g_variant_get_string(v, NULL));
	return FALSE;
}

gboolean machine_config_apply_variant(MachineConfig *c, GVariant *dict, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) v = value;
		/* key and type pairs, one a line */
		/* clang-format off */
		static const char *const types[] = {
			"kernel", "s",
			"initrd", "s",
			"cmdline", "s",
			"cpus", "u",
			"memory", "t",
			"owner", "u",
			"autostart", "s",
			"memory-max", "t",
			"cpu-weight", "u",
			"tasks-max", "t",
			"disks", "as",
			"networks", "as",
			"vsock-cid", "u",
			"firmware", "s",
			"secure-boot", "b",
			"uuid", "s",
			"display", "s",
			"resolution", "s",
			"architecture", "s",
			PHYLLOME_OPTION_INTERACTIVE, "b",
			NULL,
		};
		/* clang-format on */

		if (!methods_check_entry(key, v, types, "key", error))
			return FALSE;
		/* An empty Kernel= or Initrd= is none. */
		if (g_str_equal(key, "kernel"))
			set_string(&c->kernel, *g_variant_get_string(v, NULL)
						   ? g_variant_get_string(v, NULL)
						   : NULL);
		else if (g_str_equal(key, "initrd"))
			set_string(&c->initrd, *g_variant_get_string(v, NULL)
						   ? g_variant_get_string(v, NULL)
						   : NULL);
		else if (g_str_equal(key, "cmdline"))
			set_string(&c->cmdline, g_variant_get_string(v, NULL));
		else if (g_str_equal(key, "cpus"))
			c->cpus = g_variant_get_uint32(v);
		else if (g_str_equal(key, "memory"))
			c->memory = g_variant_get_uint64(v);
		else if (g_str_equal(key, "owner"))
			c->owner = g_variant_get_uint32(v);
		else if (g_str_equal(key, "autostart") &&
			 !autostart_from_string(g_variant_get_string(v, NULL), &c->autostart))
			return bad_value(error, key, "no, boot or login", v);
		else if (g_str_equal(key, "memory-max"))
			c->memory_max = g_variant_get_uint64(v);
		else if (g_str_equal(key, "cpu-weight"))
			c->cpu_weight = g_variant_get_uint32(v);
		else if (g_str_equal(key, "tasks-max"))
			c->tasks_max = g_variant_get_uint64(v);
		else if (g_str_equal(key, "disks")) {
			g_strfreev(c->disks);
			c->disks = g_variant_dup_strv(v, NULL);
		} else if (g_str_equal(key, "networks")) {
			g_strfreev(c->networks);
			c->networks = g_variant_dup_strv(v, NULL);
		} else if (g_str_equal(key, "vsock-cid"))
			c->vsock_cid = g_variant_get_uint32(v);
		else if (g_str_equal(key, "firmware") &&
			 !firmware_from_string(g_variant_get_string(v, NULL), &c->firmware))
			return bad_value(error, key, "uefi or none", v);
		else if (g_str_equal(key, "display") &&
			 !display_from_string(g_variant_get_string(v, NULL), &c->display))
			return bad_value(error, key, "virtio-gpu, bochs or none", v);
		else if (g_str_equal(key, "resolution")) {
			const char *s = g_variant_get_string(v, NULL);

			if (!*s)
				c->resolution_width = c->resolution_height = 0;
			else if (!resolution_from_string(s, &c->resolution_width,
							 &c->resolution_height))
				return bad_value(error, key, "WIDTHxHEIGHT, each 16 to 4095", v);
		} else if (g_str_equal(key, "architecture")) {
			const char *architecture =
			    architecture_normalize(g_variant_get_string(v, NULL));

			if (!architecture)
				return bad_value(error, key, "x86_64 or aarch64", v);
			set_string(&c->architecture, architecture);
		} else if (g_str_equal(key, "secure-boot"))
			c->secure_boot = g_variant_get_boolean(v);
		else if (g_str_equal(key, "uuid")) {
			g_autofree char *uuid = uuid_normalize(g_variant_get_string(v, NULL));

			if (!uuid)
				return bad_value(
				    error, key,
				    "a UUID such as 0b6e5c1a-4d2f-4f4e-9a57-3c2d1e0f9a8b", v);
			set_string(&c->uuid, uuid);
		}
	}
	return machine_config_check(c, error);
}

MachineConfig *machine_config_copy(const MachineConfig *c)
{
	g_autoptr(GKeyFile) kf = machine_config_to_keyfile(c);

	/* What was checked once parses again; NULL would be a bug in one of the two. */
	return machine_config_from_keyfile(kf, c->name, NULL);
}

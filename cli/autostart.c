/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "phyllomectl.h"

#include "phyllome-names.h"

static int set_autostart(Ctl *ctl, const char *name, const char *when, GVariantBuilder *options)
{
	g_autoptr(PhyllomeMachine) m = NULL;
	g_autoptr(GError) error = NULL;
	int status = EXIT_OK;

	m = ctl_machine(ctl, name, &status);
	if (!m)
		return status;
	if (!phyllome_machine_call_set_autostart_sync(m, when, ctl_options(ctl, options), NULL,
						      &error))
		return ctl_error(name, error);
	return EXIT_OK;
}

int cmd_enable(Ctl *ctl, int argc, char **argv)
{
	g_autofree char *at = NULL, *stop_on_logout = NULL;
	gint delay = -1;
	g_autoptr(GOptionContext) context =
	    g_option_context_new("NAME - start a machine by itself");
	g_autoptr(GError) error = NULL;
	GVariantBuilder options;
	const GOptionEntry entries[] = {
		{ "at", 0, 0, G_OPTION_ARG_STRING, &at,
		  "login: when its owner's first session begins (default); boot: when phyllomed "
		  "starts "
		  "at boot",
		  "WHEN" },
		{ "stop-on-logout", 0, 0, G_OPTION_ARG_STRING, &stop_on_logout,
		  "With --at=login: stop it when the owner's last session ends (default yes)",
		  "yes|no" },
		{ "logout-delay", 0, 0, G_OPTION_ARG_INT, &delay,
		  "Seconds to wait before that stop, in case the owner logs in again (default 10)",
		  "SEC" },
		{ NULL },
	};

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("phyllomectl: enable: %s\n", error->message);
		return EXIT_USAGE;
	}
	if (argc != 2) {
		g_printerr("phyllomectl: enable needs one machine NAME\n");
		return EXIT_USAGE;
	}
	if (at && !g_str_equal(at, "login") && !g_str_equal(at, "boot")) {
		g_printerr("phyllomectl: enable: --at must be login or boot, not '%s'\n", at);
		return EXIT_USAGE;
	}
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	if (stop_on_logout) {
		gboolean yes =
		    g_str_equal(stop_on_logout, "yes") || g_str_equal(stop_on_logout, "true");

		if (!yes && !g_str_equal(stop_on_logout, "no") &&
		    !g_str_equal(stop_on_logout, "false")) {
			g_printerr(
			    "phyllomectl: enable: --stop-on-logout must be yes or no, not '%s'\n",
			    stop_on_logout);
			g_variant_builder_clear(&options);
			return EXIT_USAGE;
		}
		g_variant_builder_add(&options, "{sv}", PHYLLOME_OPTION_STOP_ON_LOGOUT,
				      g_variant_new_boolean(yes));
	}
	if (delay >= 0)
		g_variant_builder_add(&options, "{sv}", PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY,
				      g_variant_new_uint32((guint32)delay));
	else if (delay != -1) {
		g_printerr("phyllomectl: enable: --logout-delay must be 0 or more seconds\n");
		g_variant_builder_clear(&options);
		return EXIT_USAGE;
	}
	return set_autostart(ctl, argv[1], at ? at : "login", &options);
}

int cmd_disable(Ctl *ctl, int argc, char **argv)
{
	GVariantBuilder options;

	if (argc != 2 || argv[1][0] == '-') {
		g_printerr("phyllomectl: disable needs one machine NAME\n");
		return EXIT_USAGE;
	}
	g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
	return set_autostart(ctl, argv[1], "no", &options);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomectl logs: a machine's journal, the daemon's lines about it and its monitor's own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "phyllome-vmm1.h"
#include "phyllomectl.h"

int cmd_logs(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) machine = NULL;
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	const char *name = NULL, *lines = NULL;
	gboolean follow = FALSE;
	int status = EXIT_OK;
	guint64 n;

	for (int i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--follow") || g_str_equal(argv[i], "-f"))
			follow = TRUE;
		else if ((g_str_equal(argv[i], "--lines") || g_str_equal(argv[i], "-n")) &&
			 i + 1 < argc)
			lines = argv[++i];
		else if (g_str_has_prefix(argv[i], "--lines="))
			lines = argv[i] + strlen("--lines=");
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			g_printerr("phyllomectl: logs: unexpected '%s' (logs NAME [--follow] "
				   "[--lines N])\n",
				   argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		g_printerr("phyllomectl: logs takes a machine name\n");
		return EXIT_USAGE;
	}
	if (lines && !g_ascii_string_to_unsigned(lines, 10, 0, G_MAXINT, &n, NULL)) {
		g_printerr("phyllomectl: logs: --lines takes a number, not '%s'\n", lines);
		return EXIT_USAGE;
	}
	/* The machine's name, checked: what is not a machine gets "no such machine" (4). */
	machine = ctl_machine(ctl, name, &status);
	if (!machine)
		return status;

	g_ptr_array_add(args, g_strdup("journalctl"));
	if (ctl->no_legend)
		g_ptr_array_add(args, g_strdup("--quiet"));
	if (follow)
		g_ptr_array_add(args, g_strdup("--follow"));
	if (lines)
		g_ptr_array_add(args, g_strdup_printf("--lines=%s", lines));
	if (ctl->json)
		g_ptr_array_add(args, g_strdup("--output=json"));
	/* phyllomed's lines about it, or (+) the monitor's own. */
	g_ptr_array_add(args, g_strdup_printf(PHYLLOME_JOURNAL_FIELD_MACHINE "=%s", name));
	g_ptr_array_add(args, g_strdup("+"));
	g_ptr_array_add(args, g_strdup_printf("SYSLOG_IDENTIFIER=phyllome-vmm@%s", name));
	g_ptr_array_add(args, NULL);
	fflush(stdout);
	execvp("journalctl", (char **)args->pdata);
	g_printerr("phyllomectl: logs: cannot run journalctl: %s\n", g_strerror(errno));
	return EXIT_FAILED;
}

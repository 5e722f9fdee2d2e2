/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomectl view NAME: the machine's screen in phyllome-viewer. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "phyllomectl.h"

int cmd_view(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) machine = NULL;
	const char *viewer = g_getenv("PHYLLOME_VIEWER");
	gboolean fullscreen = FALSE;
	const char *name = NULL;
	int status = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--fullscreen") || g_str_equal(argv[i], "-f"))
			fullscreen = TRUE;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else {
			g_printerr("phyllomectl: view takes a machine name and --fullscreen\n");
			return EXIT_USAGE;
		}
	}
	if (!name) {
		g_printerr("phyllomectl: view: which machine?\n");
		return EXIT_USAGE;
	}
	/* Here, not in the window: a name that does not exist is a terminal's error. */
	machine = ctl_machine(ctl, name, &status);
	if (!machine)
		return status;
	if (!viewer)
		viewer = PHYLLOME_BINDIR "/phyllome-viewer";
	if (fullscreen)
		execl(viewer, "phyllome-viewer", "--fullscreen", "--", name, (char *)NULL);
	else
		execl(viewer, "phyllome-viewer", "--", name, (char *)NULL);
	if (errno == ENOENT)
		g_printerr("phyllomectl: view: %s is not installed (it needs GTK 4)\n", viewer);
	else
		g_printerr("phyllomectl: view: cannot run %s: %s\n", viewer, g_strerror(errno));
	return EXIT_FAILED;
}

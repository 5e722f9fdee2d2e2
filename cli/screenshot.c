/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomectl screenshot NAME FILE: what a machine's display shows, as a PNG file. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "phyllomectl.h"

int cmd_screenshot(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) machine = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GError) error = NULL;
	int status = EXIT_OK, fd;

	if (argc != 3) {
		g_printerr(
		    "phyllomectl: screenshot takes a machine name and a file (PNG) to write\n");
		return EXIT_USAGE;
	}
	machine = ctl_machine(ctl, argv[1], &status);
	if (!machine)
		return status;
	/* Write-only: phyllomed passes it on to the monitor, which should read nothing of ours. */
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		g_printerr("phyllomectl: screenshot: cannot write %s: %s\n", argv[2],
			   g_strerror(errno));
		return EXIT_FAILED;
	}
	fds = g_unix_fd_list_new_from_array(&fd, 1);
	if (!phyllome_machine_call_screenshot_sync(machine, g_variant_new_handle(0),
						   ctl_options(ctl, NULL), fds, NULL, NULL,
						   &error)) {
		/* Nothing half written stays behind. */
		(void)g_unlink(argv[2]);
		return ctl_error(argv[1], error);
	}
	return EXIT_OK;
}

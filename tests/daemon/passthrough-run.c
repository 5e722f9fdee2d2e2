/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllomed's passthrough code on a real host, without the rest of phyllomed:
 * takes the devices as a start would (group checked, moved to vfio-pci, the
 * container and groups opened), runs the monitor on those descriptors as fd
 * 3 and up, and gives the devices back when it ends, as a stop would.
 *
 *   passthrough-run SYSFS DEVICE... -- VMM [ARGS...]
 *
 * Prints "PASSTHROUGH ..." lines for the test; exits with the monitor's status.
 */
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passthrough.h"

/* The descriptors go to 3, 4, ... in the child, as phyllomed's spawn puts them. */
static void place_fds(GArray *fds)
{
	int high[64];

	for (guint i = 0; i < fds->len && i < G_N_ELEMENTS(high); i++)
		high[i] = fcntl(g_array_index(fds, int, i), F_DUPFD, 100);
	for (guint i = 0; i < fds->len && i < G_N_ELEMENTS(high); i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			_exit(127);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) granted = g_ptr_array_new();
	g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
	int sep = 0, status = 0;
	pid_t pid;

	for (int i = 2; i < argc && !sep; i++)
		if (g_str_equal(argv[i], "--"))
			sep = i;
	if (argc < 4 || !sep || sep + 1 >= argc) {
		fprintf(stderr, "usage: passthrough-run SYSFS DEVICE... -- VMM [ARGS...]\n");
		return 2;
	}
	for (int i = 2; i < sep; i++)
		g_ptr_array_add(granted, argv[i]);
	g_ptr_array_add(granted, NULL);
	for (int i = sep + 1; i < argc; i++)
		g_ptr_array_add(args, g_strdup(argv[i]));
	if (!passthrough_take(argv[1], "test", (const char *const *)granted->pdata, fds, args,
			      moved, &error)) {
		printf("PASSTHROUGH take-failed: %s\n", error->message);
		return 1;
	}
	g_ptr_array_add(moved, NULL);
	for (guint i = 0; moved->pdata[i]; i++)
		printf("PASSTHROUGH moved %s\n", (char *)moved->pdata[i]);
	for (guint i = (guint)(argc - sep - 1); i < args->len; i++)
		printf("PASSTHROUGH arg %s\n", (char *)args->pdata[i]);
	fflush(stdout);
	g_ptr_array_add(args, NULL);
	pid = fork();
	if (pid == 0) {
		place_fds(fds);
		execv((char *)args->pdata[0], (char **)args->pdata);
		_exit(127);
	}
	for (guint i = 0; i < fds->len; i++)
		close(g_array_index(fds, int, i));
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = 127 << 8;
	passthrough_give_back(argv[1], "test", (const char *const *)moved->pdata);
	printf("PASSTHROUGH monitor-status %d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

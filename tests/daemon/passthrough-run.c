/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllomed's passthrough code on a real host, without the rest of phyllomed:
 * takes the devices as a start would (group checked, moved to vfio-pci, the
 * container and groups opened), runs the monitor on those descriptors as fd
 * 3 and up, and gives the devices back when it ends, as a stop would.
 *
 *   passthrough-run [--runs=N] SYSFS DEVICE... -- VMM [ARGS...]
 *
 * With --runs, the monitor runs N times, as a guest that reboots N - 1 times
 * does under phyllomed: the devices stay on vfio-pci in between.
 *
 * Prints "PASSTHROUGH ..." lines for the test; exits with the monitor's status.
 */
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostdev.h"
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

/* One run of the monitor: takes the devices (carrying kept over), runs it, and returns its status.
 */
static int run_once(const char *sysfs, const char *const *granted, char **kept, GPtrArray *moved,
		    char **vmm_argv, int vmm_argc)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	int status = 0;
	pid_t pid;

	for (int i = 0; i < vmm_argc; i++)
		g_ptr_array_add(args, g_strdup(vmm_argv[i]));
	if (!passthrough_take(sysfs, "test", granted, (const char *const *)kept, fds, args, moved,
			      &error)) {
		printf("PASSTHROUGH take-failed: %s\n", error->message);
		return -1;
	}
	for (guint i = 0; i < moved->len; i++)
		printf("PASSTHROUGH moved %s\n", (char *)moved->pdata[i]);
	for (guint i = (guint)vmm_argc; i < args->len; i++)
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
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	g_autoptr(GPtrArray) granted = g_ptr_array_new();
	g_auto(GStrv) kept = NULL;
	int first = 1, sep = 0, runs = 1, status = 0;

	if (argc > 1 && g_str_has_prefix(argv[1], "--runs=")) {
		runs = atoi(argv[1] + 7);
		first = 2;
	}
	for (int i = first + 1; i < argc && !sep; i++)
		if (g_str_equal(argv[i], "--"))
			sep = i;
	if (argc < first + 3 || !sep || sep + 1 >= argc || runs < 1) {
		fprintf(stderr,
			"usage: passthrough-run [--runs=N] SYSFS DEVICE... -- VMM [ARGS...]\n");
		return 2;
	}
	for (int i = first + 1; i < sep; i++)
		g_ptr_array_add(granted, argv[i]);
	g_ptr_array_add(granted, NULL);
	for (int run = 1; run <= runs; run++) {
		g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);

		printf("PASSTHROUGH run %d\n", run);
		status = run_once(argv[first], (const char *const *)granted->pdata, kept, moved,
				  argv + sep + 1, argc - sep - 1);
		g_clear_pointer(&kept, g_strfreev);
		g_ptr_array_add(moved, NULL);
		if (status < 0)
			return 1;
		printf("PASSTHROUGH monitor-status %d\n", status);
		if (run < runs) {
			/* As phyllomed does when the guest rebooted: nothing goes back in between.
			 */
			for (guint i = 0; granted->pdata[i]; i++) {
				g_autofree char *driver =
				    host_device_driver(argv[first], granted->pdata[i]);

				printf("PASSTHROUGH between-runs %s %s\n",
				       (char *)granted->pdata[i], *driver ? driver : "none");
			}
			kept = (char **)g_ptr_array_free(g_steal_pointer(&moved), FALSE);
			continue;
		}
		passthrough_give_back(argv[first], "test", (const char *const *)moved->pdata);
	}
	return status;
}

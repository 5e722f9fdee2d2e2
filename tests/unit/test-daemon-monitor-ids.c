/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ids monitors run as (daemon/monitor-ids.c): one each, never one in use. */
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor-ids.h"

static void test_parse(void)
{
	static const char *const bad[] = { "",	  "5",		 "100-200",	"70000-",
					   "-5",  "9-8",	 "70000-60000", "70000-2147483647",
					   "a-b", "70000-70001x" };
	MonitorIds ids;

	g_assert_true(monitor_ids_parse(MONITOR_IDS_DEFAULT, &ids, NULL));
	g_assert_cmpuint(ids.first, ==, 0x7A000000);
	g_assert_cmpuint(ids.last - ids.first, ==, 65535);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(monitor_ids_parse(bad[i], &ids, &error));
		g_assert_nonnull(strstr(error->message, "expected FIRST-LAST"));
	}
}

/* An id a running monitor holds, and one a process ran as at the start (a monitor left behind),
 * are skipped. */
static void test_allocate_skips_ids_in_use(void)
{
	const MonitorIds ids = { .first = 2046885000, .last = 2046885003 };
	g_autoptr(GHashTable) taken = g_hash_table_new(NULL, NULL);
	g_autoptr(GHashTable) left_behind = NULL;
	g_autoptr(GError) error = NULL;
	int ready[2];
	uid_t id = 0;
	pid_t child;
	char byte;

	if (geteuid() != 0) {
		g_test_skip("needs root, to run a process as an id of the range");
		return;
	}
	g_assert_no_errno(pipe(ready));
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		if (setresgid(ids.first + 1, ids.first + 1, ids.first + 1) < 0 ||
		    setresuid(ids.first + 1, ids.first + 1, ids.first + 1) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	g_assert_cmpint(read(ready[0], &byte, 1), ==, 1);
	close(ready[0]);

	left_behind = monitor_ids_run_by_processes(&ids);
	g_assert_cmpuint(g_hash_table_size(left_behind), ==, 1);
	g_hash_table_add(taken, GUINT_TO_POINTER(ids.first));
	g_assert_true(monitor_ids_allocate(&ids, taken, left_behind, &id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(id, ==, ids.first + 2);
	g_assert_cmpuint(process_uid(child), ==, ids.first + 1);

	g_hash_table_add(taken, GUINT_TO_POINTER(ids.first + 2));
	g_hash_table_add(taken, GUINT_TO_POINTER(ids.first + 3));
	g_assert_false(monitor_ids_allocate(&ids, taken, left_behind, &id, &error));
	g_assert_nonnull(strstr(error->message, "No monitor id is free"));

	kill(child, SIGKILL);
	g_assert_cmpint(waitpid(child, NULL, 0), ==, child);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/monitor-ids/parse", test_parse);
	g_test_add_func("/monitor-ids/allocate-skips-ids-in-use", test_allocate_skips_ids_in_use);
	return g_test_run();
}

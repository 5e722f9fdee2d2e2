/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllomed's sysfs writes stay below the sysfs root: a device address that
 * leads out of it (as an unchecked runtime state could give) writes nothing,
 * with openat2 and without it (phyllomed's unit makes openat2 ENOSYS; the
 * second case runs under a seccomp filter that does the same).
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passthrough.h"

static char *make_tree(void)
{
	char *top = g_dir_make_tmp("phyllome-sysfs-XXXXXX", NULL);
	g_autofree char *devices =
	    g_build_filename(top, "sysfs/bus/pci/devices/0000:00:04.0", NULL);
	g_autofree char *vfio = g_build_filename(top, "sysfs/bus/pci/drivers/vfio-pci", NULL);
	g_autofree char *victim = g_build_filename(top, "victim", NULL);
	g_autofree char *file = NULL;

	g_assert_cmpint(g_mkdir_with_parents(devices, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(vfio, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(victim, 0755), ==, 0);
	file = g_build_filename(victim, "driver_override", NULL);
	g_assert_true(g_file_set_contents(file, "keep", -1, NULL));
	g_free(file);
	file = g_build_filename(devices, "driver_override", NULL);
	g_assert_true(g_file_set_contents(file, "vfio-pci\n", -1, NULL));
	g_free(file);
	file = g_build_filename(vfio, "unbind", NULL);
	g_assert_true(g_file_set_contents(file, "", -1, NULL));
	g_free(file);
	file = g_build_filename(top, "sysfs/bus/pci/drivers_probe", NULL);
	g_assert_true(g_file_set_contents(file, "", -1, NULL));
	return top;
}

static void check_writes(const char *top)
{
	g_autofree char *root = g_build_filename(top, "sysfs", NULL);
	g_autofree char *victim = g_build_filename(top, "victim/driver_override", NULL);
	g_autofree char *override =
	    g_build_filename(root, "bus/pci/devices/0000:00:04.0/driver_override", NULL);
	g_autofree char *content = NULL;
	const char *escape[] = { "../../../../victim=x", NULL };
	const char *device[] = { "0000:00:04.0=", NULL };

	passthrough_give_back(root, "t", escape);
	g_assert_true(g_file_get_contents(victim, &content, NULL, NULL));
	g_assert_cmpstr(content, ==, "keep");
	g_free(g_steal_pointer(&content));
	/* A real device's attribute is written. */
	passthrough_give_back(root, "t", device);
	g_assert_true(g_file_get_contents(override, &content, NULL, NULL));
	g_assert_cmpstr(content, ==, "\n");
}

static void remove_tree(const char *top)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", top);

	g_assert_cmpint(system(cmd), ==, 0);
}

static void test_with_openat2(void)
{
	g_autofree char *top = make_tree();

	check_writes(top);
	remove_tree(top);
}

static void test_without_openat2(void)
{
	g_autofree char *top = make_tree();
	pid_t pid = fork();
	int status;

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

		if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 ||
		    seccomp_load(ctx) < 0)
			_exit(2);
		check_writes(top);
		_exit(0);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	remove_tree(top);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sysfs/with-openat2", test_with_openat2);
	g_test_add_func("/sysfs/without-openat2", test_without_openat2);
	return g_test_run();
}

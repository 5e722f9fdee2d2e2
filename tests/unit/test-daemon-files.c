/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files phyllomed opens for a machine: as its owner, regular files only,
 * writable images only below the images root. Needs root (it acts as another
 * user, as phyllomed does); the owner is "nobody".
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "phyllome-error.h"

typedef struct {
	char *dir;
	MachineConfig *config;
} Fixture;

static char *file_in(Fixture *f, const char *name, const char *content, mode_t mode)
{
	char *path = g_build_filename(f->dir, name, NULL);

	g_assert_true(g_file_set_contents(path, content, -1, NULL));
	g_assert_cmpint(chmod(path, mode), ==, 0);
	return path;
}

static void setup(Fixture *f, gconstpointer data)
{
	struct passwd *nobody = getpwnam("nobody");

	(void)data;
	f->dir = g_dir_make_tmp("phyllome-files-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
	f->config = machine_config_new("t");
	f->config->owner = nobody ? nobody->pw_uid : 65534;
}

static void teardown(Fixture *f, gconstpointer data)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	(void)data;
	g_assert_cmpint(system(cmd), ==, 0);
	machine_config_free(f->config);
	g_free(f->dir);
}

static void test_as_owner(Fixture *f, gconstpointer data)
{
	g_autofree char *open_file = file_in(f, "kernel", "k", 0644);
	g_autofree char *secret = file_in(f, "secret", "s", 0600);
	g_autofree char *link = g_build_filename(f->dir, "innocent.img", NULL);
	g_autoptr(GError) error = NULL;
	int fd;

	(void)data;
	fd = machine_file_open(f->config, MACHINE_FILE_BOOT, open_file, FALSE, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	close(fd);
	/* root's file: not the owner's to hand to her guest, directly or through a link */
	fd = machine_file_open(f->config, MACHINE_FILE_BOOT, secret, FALSE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED);
	g_assert_nonnull(strstr(error->message, "as the machine's owner: Permission denied"));
	g_clear_error(&error);
	g_assert_cmpint(symlink(secret, link), ==, 0);
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, link, FALSE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED);
	g_clear_error(&error);
	/* and phyllomed is root again: a machine without an owner gets the file */
	f->config->owner = 0;
	fd = machine_file_open(f->config, MACHINE_FILE_BOOT, secret, FALSE, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	close(fd);
}

static void test_only_regular_files(Fixture *f, gconstpointer data)
{
	g_autofree char *fifo = g_build_filename(f->dir, "fifo", NULL);
	g_autoptr(GError) error = NULL;
	gint64 t0;
	int fd;

	(void)data;
	g_assert_cmpint(mkfifo(fifo, 0666), ==, 0);
	/* At once, not blocked until a writer comes. */
	t0 = g_get_monotonic_time();
	fd = machine_file_open(f->config, MACHINE_FILE_BOOT, fifo, FALSE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED);
	g_assert_nonnull(strstr(error->message, "it is a FIFO, not a regular file"));
	g_clear_error(&error);
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, f->dir, FALSE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_nonnull(strstr(error->message, "it is a directory"));
	g_clear_error(&error);
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, "/dev/null", FALSE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_nonnull(strstr(error->message, "it is a character device"));
}

static void test_writable_below_root(Fixture *f, gconstpointer data)
{
	g_autofree char *image = file_in(f, "disk.img", "", 0666);
	g_autofree char *elsewhere = g_dir_make_tmp("phyllome-files-other-XXXXXX", NULL);
	g_autofree char *outside = g_build_filename(elsewhere, "disk.img", NULL);
	g_autofree char *link = g_build_filename(f->dir, "link.img", NULL);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", elsewhere);
	g_autoptr(GError) error = NULL;
	int fd;

	(void)data;
	f->config->owner = 0;
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, image, TRUE, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
	close(fd);
	g_assert_true(g_file_set_contents(outside, "", -1, NULL));
	g_assert_cmpint(symlink(outside, link), ==, 0);
	/* A link below the root to an image elsewhere is elsewhere. */
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, link, TRUE, f->dir, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_nonnull(strstr(error->message, "is not below"));
	g_clear_error(&error);
	/* Read-only, it may be anywhere. */
	fd = machine_file_open(f->config, MACHINE_FILE_DISK, link, FALSE, f->dir, &error);
	g_assert_no_error(error);
	close(fd);
	g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* tests/run.sh runs as root, as phyllomed does. */
	g_assert_cmpint(geteuid(), ==, 0);
	g_test_add("/files/as-owner", Fixture, NULL, setup, test_as_owner, teardown);
	g_test_add("/files/only-regular-files", Fixture, NULL, setup, test_only_regular_files,
		   teardown);
	g_test_add("/files/writable-below-root", Fixture, NULL, setup, test_writable_below_root,
		   teardown);
	return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phyllome-error.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}
#define auto_fd __attribute__((cleanup(close_fd))) int

int firmware_open_code(const char *firmware_dir, GError **error)
{
	g_autofree char *path = g_build_filename(firmware_dir, FIRMWARE_CODE_FILE, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		daemon_errno_error(
		    error, PHYLLOME_ERROR_START_FAILED, errno,
		    "Cannot open the UEFI firmware %s (Debian's ovmf package has it)", path);
	return fd;
}

/*
 * The store's directory, made if missing; refused unless it is root's alone,
 * as everything phyllomed then opens in it by name must be its own.
 */
static int open_store_dir(GError **error)
{
	struct stat st;
	int fd;

	if (mkdir(PHYLLOME_NVRAM_DIR, 0700) < 0 && errno != EEXIST)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot make %s", PHYLLOME_NVRAM_DIR),
		       -1;
	fd = open(PHYLLOME_NVRAM_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot open %s", PHYLLOME_NVRAM_DIR),
		       -1;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0077)) {
		(void)close(fd);
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "%s must be a directory of root's alone (mode 0700)",
			    PHYLLOME_NVRAM_DIR);
		return -1;
	}
	return fd;
}

/*
 * Written as definitions are (machine_config_save): to a temporary file,
 * fsynced and renamed into place, so a store is whole or absent, whatever
 * stops phyllomed halfway. The directory is root's alone (open_store_dir), so
 * the path is ours to write.
 */
static gboolean make_store(const char *firmware_dir, const MachineConfig *c, const char *path,
			   GError **error)
{
	g_autofree char *template = g_build_filename(
	    firmware_dir, c->secure_boot ? FIRMWARE_VARS_SECURE_BOOT_FILE : FIRMWARE_VARS_FILE,
	    NULL);
	auto_fd from = open(template, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	g_autoptr(GMappedFile) contents = NULL;
	g_autoptr(GError) local = NULL;
	struct stat st;

	if (from < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot open the UEFI variable store template %s",
					  template);
	if (fstat(from, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The UEFI variable store template %s is not a regular file", template);
		return FALSE;
	}
	contents = g_mapped_file_new_from_fd(from, FALSE, &local);
	if (!contents || !g_file_set_contents_full(path, g_mapped_file_get_contents(contents),
						   (gssize)g_mapped_file_get_length(contents),
						   G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "Cannot make the variable store %s from %s: %s", path, template,
			    local->message);
		return FALSE;
	}
	daemon_log(c->name, LOG_INFO, "Made its UEFI variable store %s from %s", path, template);
	return TRUE;
}

int firmware_open_store(const char *firmware_dir, const MachineConfig *c, GError **error)
{
	g_autofree char *file = g_strdup_printf("%s.fd", c->name);
	g_autofree char *path = g_build_filename(PHYLLOME_NVRAM_DIR, file, NULL);
	auto_fd dir_fd = open_store_dir(error);
	struct stat st;
	int fd;

	if (dir_fd < 0)
		return -1;
	fd = openat(dir_fd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		if (!make_store(firmware_dir, c, path, error))
			return -1;
		fd = openat(dir_fd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot open the variable store %s", path),
		       -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The variable store %s is not a regular file", path);
		return -1;
	}
	return fd;
}

gboolean firmware_remove_store(const char *name, GError **error)
{
	g_autofree char *path = g_strdup_printf("%s/%s.fd", PHYLLOME_NVRAM_DIR, name);

	if (unlink(path) < 0 && errno != ENOENT)
		return daemon_errno_error(error, PHYLLOME_ERROR_FAILED, errno, "Cannot remove %s",
					  path);
	return TRUE;
}

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

static gboolean copy_all(int from, int to)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(to, buf + done, (size_t)(n - done));

			if (w < 0 && errno != EINTR)
				return FALSE;
			done += w > 0 ? w : 0;
		}
	}
	return TRUE;
}

/*
 * Copies the template in under a temporary name and renames it into place
 * once it is on disk: a store is whole or absent, whatever stops phyllomed
 * halfway.
 */
static gboolean make_store(int dir_fd, const char *firmware_dir, const MachineConfig *c,
			   const char *file, GError **error)
{
	g_autofree char *template = g_build_filename(
	    firmware_dir, c->secure_boot ? FIRMWARE_VARS_SECURE_BOOT_FILE : FIRMWARE_VARS_FILE,
	    NULL);
	g_autofree char *temporary = g_strdup_printf(".%s.new", file);
	auto_fd from = open(template, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	auto_fd to = -1;
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
	to = openat(dir_fd, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (to < 0 || fchown(to, 0, 0) < 0 || fchmod(to, 0600) < 0 || !copy_all(from, to) ||
	    fsync(to) < 0 || renameat(dir_fd, temporary, dir_fd, file) < 0 || fsync(dir_fd) < 0) {
		int err = errno;

		(void)unlinkat(dir_fd, temporary, 0);
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err,
					  "Cannot make the variable store %s/%s from %s",
					  PHYLLOME_NVRAM_DIR, file, template);
	}
	daemon_log(c->name, LOG_INFO, "Made its UEFI variable store %s/%s from %s",
		   PHYLLOME_NVRAM_DIR, file, template);
	return TRUE;
}

int firmware_open_store(const char *firmware_dir, const MachineConfig *c, GError **error)
{
	g_autofree char *file = g_strdup_printf("%s.fd", c->name);
	auto_fd dir_fd = open_store_dir(error);
	struct stat st;
	int fd;

	if (dir_fd < 0)
		return -1;
	fd = openat(dir_fd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		if (!make_store(dir_fd, firmware_dir, c, file, error))
			return -1;
		fd = openat(dir_fd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot open the variable store %s/%s",
					  PHYLLOME_NVRAM_DIR, file),
		       -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The variable store %s/%s is not a regular file", PHYLLOME_NVRAM_DIR,
			    file);
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

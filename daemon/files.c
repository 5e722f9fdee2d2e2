/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "phyllome-error.h"

#define MAX_GROUPS 256

/*
 * The calling thread's file-system credentials. Raw system calls on purpose:
 * glibc's setgroups changes every thread's, and only this thread, for this
 * open, may act as the owner.
 */
typedef struct {
	gid_t groups[MAX_GROUPS];
	int n_groups;
} Credentials;

static gboolean become_owner(uid_t owner, Credentials *saved, GError **error)
{
	struct passwd *pw = getpwuid(owner);
	gid_t groups[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (!pw) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The machine's owner, uid %u, is no user of this host",
			    (unsigned)owner);
		return FALSE;
	}
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The machine's owner %s is in more than %d groups", pw->pw_name,
			    MAX_GROUPS);
		return FALSE;
	}
	saved->n_groups = (int)syscall(SYS_getgroups, MAX_GROUPS, saved->groups);
	if (saved->n_groups < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot read phyllomed's groups");
	if (syscall(SYS_setgroups, (size_t)n, groups) < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot take the groups of %s", pw->pw_name);
	(void)syscall(SYS_setfsgid, pw->pw_gid);
	(void)syscall(SYS_setfsuid, owner);
	/* setfsuid says nothing of failure: ask what it is now (an invalid id changes nothing). */
	if ((uid_t)syscall(SYS_setfsuid, (uid_t)-1) != owner ||
	    (gid_t)syscall(SYS_setfsgid, (gid_t)-1) != pw->pw_gid) {
		(void)syscall(SYS_setfsuid, 0);
		(void)syscall(SYS_setfsgid, 0);
		(void)syscall(SYS_setgroups, (size_t)saved->n_groups, saved->groups);
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "Cannot act as %s to open the machine's files", pw->pw_name);
		return FALSE;
	}
	return TRUE;
}

static void become_root_again(const Credentials *saved)
{
	/* Back to 0: the kernel gives the file capabilities back with it. */
	(void)syscall(SYS_setfsuid, 0);
	(void)syscall(SYS_setfsgid, 0);
	if (syscall(SYS_setgroups, (size_t)saved->n_groups, saved->groups) < 0)
		daemon_log(NULL, LOG_ERR, "Cannot restore phyllomed's groups: %s",
			   g_strerror(errno));
}

static const char *file_type(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
				: "not a regular file";
}

int machine_file_open(const MachineConfig *c, MachineFileKind kind, const char *path,
		      gboolean writable, const char *images_root, GError **error)
{
	const char *what = kind == MACHINE_FILE_DISK ? "disk image " : "";
	gboolean as_owner = c->owner != 0;
	Credentials saved;
	struct stat st;
	int fd, err;

	if (as_owner && !become_owner(c->owner, &saved, error))
		return -1;
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	err = errno;
	if (as_owner)
		become_root_again(&saved);
	if (fd < 0 && err == EROFS && writable) {
		g_set_error(
		    error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
		    "Cannot open disk image %s for writing: phyllomed may write disk images "
		    "only below %s (a drop-in with ReadWritePaths= adds places), or add "
		    ",readonly",
		    path, images_root);
		return -1;
	}
	if (fd < 0) {
		daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err, "Cannot open %s%s%s",
				   what, path, as_owner ? " as the machine's owner" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err, "Cannot use %s%s", what,
				   path);
		return -1;
	}
	if (!(S_ISREG(st.st_mode) || (kind == MACHINE_FILE_DISK && S_ISBLK(st.st_mode)))) {
		close(fd);
		g_set_error(
		    error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
		    "Cannot use %s%s: it is %s, not a %s", what, path, file_type(st.st_mode),
		    kind == MACHINE_FILE_DISK ? "regular file or block device" : "regular file");
		return -1;
	}
	if (writable && !daemon_fd_below(fd, images_root)) {
		close(fd);
		g_set_error(
		    error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
		    "Cannot open disk image %s for writing: it is not below %s (add ,readonly, "
		    "or move it there)",
		    path, images_root);
		return -1;
	}
	/* Blocking again, as the monitor expects of its files. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = errno;
		close(fd);
		daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err, "Cannot use %s%s", what,
				   path);
		return -1;
	}
	return fd;
}

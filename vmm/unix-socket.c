/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unix-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

int unix_socket_listen(const char *what, const char *path, int backlog, char **ret_path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path))
		return log_error_errno(ENAMETOOLONG, "The %s socket path %s is too long", what,
				       path);
	strcpy(addr.sun_path, path);
	/* A socket left by an earlier run is ours to replace; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(EEXIST, "%s exists and is not a socket", path);
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket(AF_UNIX): %m");
	/* (addr.sun_path from here on: GCC's sanitizer builds cannot see that path is not NULL.) */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return log_error_errno(errno, "Cannot create the %s socket %s: %m", what,
				       addr.sun_path);
	/* Whoever connects may drive the VM: only its own user (and root). */
	if (chmod(addr.sun_path, 0600) < 0 || listen(fd, backlog) < 0) {
		int r = log_error_errno(errno, "Cannot listen on the %s socket %s: %m", what,
					addr.sun_path);
		(void)unlink(addr.sun_path);
		return r;
	}
	*ret_path = strdup(path);
	if (!*ret_path) {
		(void)unlink(addr.sun_path);
		return -ENOMEM;
	}
	return TAKE_FD(fd);
}

void unix_socket_remove(char **path)
{
	if (!*path)
		return;
	(void)unlink(*path);
	free(*path);
	*path = NULL;
}

int unix_socket_take_passed(int fd)
{
	struct stat st;
	int owned;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	owned = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (owned < 0)
		return -errno;
	if (fcntl(owned, F_SETFL, O_NONBLOCK | O_RDWR) < 0) {
		int r = -errno;

		close(owned);
		return r;
	}
	return owned;
}

int unix_socket_adopt(const char *what, int fd, bool *ret_listening)
{
	int accepting = 0, flags;
	socklen_t len = sizeof(accepting);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0)
		return log_error_errno(errno, "The %s file descriptor %d is not a socket: %m", what,
				       fd);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_error_errno(errno, "The %s file descriptor %d: %m", what, fd);
	*ret_listening = accepting != 0;
	return fd;
}

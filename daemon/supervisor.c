/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon.h"
#include "phyllome-error.h"

/* Fds the child moves out of the way before placing the passed ones at 3, 4, ... */
#define SPAWN_HIGH_FD 512
#define SPAWN_MAX_FDS 64

static gboolean set_errno_error(GError **error, int err, const char *what)
{
	return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err, "%s", what);
}

/* Runs in the forked child of a threaded process: async-signal-safe calls only. */
G_GNUC_NORETURN static void child(const SpawnParams *p, int release_r, int exec_w)
{
	int err, fd, null_fd;
	char go;
	sigset_t all;

	if (read(release_r, &go, 1) != 1)
		_exit(127);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	/* A session of its own: the monitor must not share the daemon's fate. */
	(void)setsid();

	/* Move everything we keep above the target range, then into place. */
	for (guint i = 0; i < p->n_fds; i++)
		if (dup2(p->fds[i], SPAWN_HIGH_FD + (int)i) < 0)
			goto fail;
	if (dup2(p->output_fd, SPAWN_HIGH_FD + SPAWN_MAX_FDS) < 0 ||
	    dup2(exec_w, SPAWN_HIGH_FD + SPAWN_MAX_FDS + 1) < 0)
		goto fail;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(SPAWN_HIGH_FD + SPAWN_MAX_FDS, STDOUT_FILENO) < 0 ||
	    dup2(SPAWN_HIGH_FD + SPAWN_MAX_FDS, STDERR_FILENO) < 0)
		goto fail;
	for (guint i = 0; i < p->n_fds; i++)
		if (dup2(SPAWN_HIGH_FD + (int)i, 3 + (int)i) < 0)
			goto fail;
	exec_w = 3 + (int)p->n_fds;
	if (dup3(SPAWN_HIGH_FD + SPAWN_MAX_FDS + 1, exec_w, O_CLOEXEC) < 0)
		goto fail;
	/* Nothing else of the daemon's reaches the monitor. */
	if (close_range((unsigned)exec_w + 1, ~0U, 0) < 0)
		goto fail;

	if (setgroups(0, NULL) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	execv(p->path, p->argv);
fail:
	err = errno;
	fd = exec_w;
	(void)!write(fd, &err, sizeof(err));
	_exit(127);
}

gboolean spawn_prepare(const SpawnParams *p, Spawn *ret, GError **error)
{
	int release[2], exec[2];
	pid_t pid;

	if (p->n_fds > SPAWN_MAX_FDS)
		return set_errno_error(error, EMFILE, "Too many file descriptors for the monitor");
	if (pipe2(release, O_CLOEXEC) < 0)
		return set_errno_error(error, errno, "pipe");
	if (pipe2(exec, O_CLOEXEC) < 0) {
		int err = errno;

		close(release[0]);
		close(release[1]);
		return set_errno_error(error, err, "pipe");
	}
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(release[0]);
		close(release[1]);
		close(exec[0]);
		close(exec[1]);
		return set_errno_error(error, err, "fork");
	}
	if (pid == 0) {
		/* Without our copy of the write end, the daemon's death reads as EOF. */
		close(release[1]);
		close(exec[0]);
		child(p, release[0], exec[1]);
	}
	close(release[0]);
	close(exec[1]);
	ret->pid = pid;
	ret->release_fd = release[1];
	ret->exec_fd = exec[0];
	return TRUE;
}

gboolean spawn_release(Spawn *spawn, GError **error)
{
	char go = 'g';
	gboolean ok = write(spawn->release_fd, &go, 1) == 1;
	int err = errno;

	close(spawn->release_fd);
	spawn->release_fd = -1;
	if (!ok)
		return set_errno_error(error, err, "Cannot release the monitor process");
	return TRUE;
}

gboolean spawn_exec_result(Spawn *spawn, GError **error)
{
	int err = 0;
	ssize_t n = read(spawn->exec_fd, &err, sizeof(err));

	close(spawn->exec_fd);
	spawn->exec_fd = -1;
	if (n == 0)
		return TRUE;
	if (n != sizeof(err))
		err = EIO;
	return set_errno_error(error, err, "Cannot run the monitor");
}

void spawn_clear(Spawn *spawn)
{
	if (spawn->release_fd >= 0)
		close(spawn->release_fd);
	if (spawn->exec_fd >= 0)
		close(spawn->exec_fd);
	spawn->release_fd = spawn->exec_fd = -1;
}

guint64 process_start_time(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *stat = NULL;
	g_auto(GStrv) fields = NULL;
	const char *rest;
	guint64 start = 0;

	if (pid <= 0 || !g_file_get_contents(path, &stat, NULL, NULL))
		return 0;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	rest = strrchr(stat, ')');
	if (!rest)
		return 0;
	fields = g_strsplit(rest + 2, " ", 0);
	/* Field 22 overall is the 20th after the name (state is field 3). */
	if (g_strv_length(fields) < 20 || fields[0][0] == 'Z')
		return 0;
	if (!g_ascii_string_to_unsigned(fields[19], 10, 0, G_MAXUINT64, &start, NULL))
		return 0;
	return start;
}

gboolean process_in_unit(pid_t pid, const char *unit)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *cgroup = NULL;
	g_autofree char *needle = g_strdup_printf("/%s\n", unit);
	g_autofree char *needle_mid = g_strdup_printf("/%s/", unit);

	if (!g_file_get_contents(path, &cgroup, NULL, NULL))
		return FALSE;
	return strstr(cgroup, needle) != NULL || strstr(cgroup, needle_mid) != NULL;
}

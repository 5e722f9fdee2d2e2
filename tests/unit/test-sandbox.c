/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sandbox's pieces in forked children, without KVM: which fds survive,
 * the privileges dropped, and the allow-lists: what a thread may still do,
 * and that anything else ends the process with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* Runs fn in a child with stderr silenced; returns its wait status. */
static int in_child(int (*fn)(void))
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		if (null_fd < 0 || dup2(null_fd, STDERR_FILENO) < 0)
			_exit(120);
		_exit(fn());
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	return status;
}

static int close_others(void)
{
	int keep[] = { 12, 10 };
	int fds[4];

	/* 10 and 12 kept; 11 between them and 13 above them closed. */
	for (int i = 0; i < 4; i++) {
		fds[i] = open("/dev/null", O_RDONLY);
		if (fds[i] < 0 || dup2(fds[i], 10 + i) < 0)
			return 1;
	}
	if (sandbox_close_other_fds(keep, G_N_ELEMENTS(keep)) < 0)
		return 2;
	if (fcntl(10, F_GETFD) < 0 || fcntl(12, F_GETFD) < 0)
		return 3;
	if (fcntl(11, F_GETFD) >= 0 || fcntl(13, F_GETFD) >= 0 || fcntl(fds[0], F_GETFD) >= 0)
		return 4;
	if (fcntl(STDIN_FILENO, F_GETFD) < 0 || fcntl(STDOUT_FILENO, F_GETFD) < 0)
		return 5;
	return 0;
}

static void test_close_other_fds(void)
{
	int status = in_child(close_others);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static int drop_privileges(void)
{
	if (sandbox_drop_privileges() < 0)
		return 1;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 2;
}

static void test_drop_privileges(void)
{
	int status = in_child(drop_privileges);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static const struct sandbox_config confined = { .enabled = true };

/* What both lists allow: memory, locks, writing to an fd it holds, reading the clock. */
static int allowed_work(enum sandbox_role role)
{
	int pipe_fds[2];
	char *buf;
	struct timespec ts;

	if (pipe(pipe_fds) < 0 || sandbox_drop_privileges() < 0 ||
	    sandbox_enter(&confined, role) < 0)
		return 1;
	buf = g_malloc(8 << 20); /* large enough for its own mmap */
	memset(buf, 1, 8 << 20);
	g_free(buf);
	if (write(pipe_fds[1], "x", 1) != 1 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 2;
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	return 0;
}

static int vcpu_allowed(void)
{
	return allowed_work(SANDBOX_VCPU);
}

static int main_allowed(void)
{
	return allowed_work(SANDBOX_MAIN);
}

static void test_allowed(void)
{
	int status = in_child(vcpu_allowed);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	status = in_child(main_allowed);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

G_GNUC_UNUSED static int vcpu_opens_file(void)
{
	if (sandbox_drop_privileges() < 0 || sandbox_enter(&confined, SANDBOX_VCPU) < 0)
		return 1;
	(void)open("/etc/hostname", O_RDONLY);
	return 0;
}

static int main_makes_socket(void)
{
	if (sandbox_drop_privileges() < 0 || sandbox_enter(&confined, SANDBOX_MAIN) < 0)
		return 1;
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return 0;
}

static int main_execs(void)
{
	char *argv[] = { "/bin/true", NULL };

	if (sandbox_drop_privileges() < 0 || sandbox_enter(&confined, SANDBOX_MAIN) < 0)
		return 1;
	execv(argv[0], argv);
	return 0;
}

static int vcpu_unlinks(void)
{
	if (sandbox_drop_privileges() < 0 || sandbox_enter(&confined, SANDBOX_VCPU) < 0)
		return 1;
	(void)unlink("/nonexistent/phyllome-test");
	return 0;
}

static void assert_killed_by_sigsys(int (*fn)(void))
{
	int status = in_child(fn);

	if (!WIFSIGNALED(status))
		g_error("expected SIGSYS, got exit status %d", WEXITSTATUS(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGSYS);
}

static void test_forbidden(void)
{
#if !defined(__SANITIZE_ADDRESS__) /* sanitizer builds let the leak checker open /proc files */
	assert_killed_by_sigsys(vcpu_opens_file);
#endif
	assert_killed_by_sigsys(main_makes_socket);
	assert_killed_by_sigsys(main_execs);
	assert_killed_by_sigsys(vcpu_unlinks);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sandbox/close-other-fds", test_close_other_fds);
	g_test_add_func("/sandbox/drop-privileges", test_drop_privileges);
	g_test_add_func("/sandbox/allowed", test_allowed);
	g_test_add_func("/sandbox/forbidden", test_forbidden);
	return g_test_run();
}

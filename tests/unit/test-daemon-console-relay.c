/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OpenConsole's relay (daemon/console-relay.c): bytes pass, descriptors do not. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "console-relay.h"

typedef struct {
	int monitor; /* the monitor's end of its console connection */
	int user;    /* what OpenConsole's caller gets */
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int pair[2];

	(void)data;
	g_assert_no_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
	f->monitor = pair[0];
	f->user = console_relay_start(pair[1], &error);
	g_assert_no_error(error);
	g_assert_cmpint(f->user, >=, 0);
}

static void teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	if (f->monitor >= 0)
		close(f->monitor);
	if (f->user >= 0)
		close(f->user);
}

/* Runs the main loop until fd is readable (the relay runs in it). */
static void wait_readable(int fd)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	GPollFD p = { .fd = fd, .events = G_IO_IN };

	while (g_poll(&p, 1, 0) == 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

static void send_with_fd(int to, const char *text, int passed)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &passed, sizeof(int));
	g_assert_cmpint(sendmsg(to, &msg, 0), ==, (ssize_t)strlen(text));
}

/* Reads what is there, with room for descriptors: how many came is *n_fds. */
static char *receive(int from, int *n_fds)
{
	char data[256], control[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	ssize_t n;

	wait_readable(from);
	n = recvmsg(from, &msg, MSG_CMSG_CLOEXEC);
	g_assert_cmpint(n, >=, 0);
	data[n] = '\0';
	*n_fds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fds[4];
			int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			memcpy(fds, CMSG_DATA(c), (size_t)count * sizeof(int));
			for (int i = 0; i < count; i++)
				close(fds[i]);
			*n_fds += count;
		}
	return g_strdup(data);
}

static void test_bytes_both_ways(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *in = NULL;
	int n_fds;

	(void)data;
	g_assert_cmpint(write(f->monitor, "login: ", 7), ==, 7);
	out = receive(f->user, &n_fds);
	g_assert_cmpstr(out, ==, "login: ");
	g_assert_cmpint(write(f->user, "root\n", 5), ==, 5);
	in = receive(f->monitor, &n_fds);
	g_assert_cmpstr(in, ==, "root\n");
}

/* What a compromised monitor would do: pass the console's user one of its descriptors. */
static void test_monitor_passes_no_fd(Fixture *f, gconstpointer data)
{
	g_autofree char *got = NULL;
	int n_fds = -1;

	(void)data;
	send_with_fd(f->monitor, "here is my disk\n", STDIN_FILENO);
	got = receive(f->user, &n_fds);
	g_assert_cmpstr(got, ==, "here is my disk\n");
	g_assert_cmpint(n_fds, ==, 0);
}

static void test_user_passes_no_fd(Fixture *f, gconstpointer data)
{
	g_autofree char *got = NULL;
	int n_fds = -1;

	(void)data;
	send_with_fd(f->user, "x", STDIN_FILENO);
	got = receive(f->monitor, &n_fds);
	g_assert_cmpstr(got, ==, "x");
	g_assert_cmpint(n_fds, ==, 0);
}

/* The user's end of input (phyllomectl console < file) reaches the monitor after the bytes; then
 * the monitor's close ends the relay. */
static void test_half_close(Fixture *f, gconstpointer data)
{
	g_autofree char *got = NULL, *end = NULL;
	int n_fds;

	(void)data;
	g_assert_cmpint(write(f->user, "key", 3), ==, 3);
	g_assert_no_errno(shutdown(f->user, SHUT_WR));
	got = receive(f->monitor, &n_fds);
	g_assert_cmpstr(got, ==, "key");
	end = receive(f->monitor, &n_fds);
	g_assert_cmpstr(end, ==, ""); /* EOF */
	/* Output still flows the other way until the monitor closes. */
	g_assert_cmpint(write(f->monitor, "bye", 3), ==, 3);
	g_free(got);
	got = receive(f->user, &n_fds);
	g_assert_cmpstr(got, ==, "bye");
	close(f->monitor);
	f->monitor = -1;
	g_free(end);
	end = receive(f->user, &n_fds);
	g_assert_cmpstr(end, ==, "");
}

/* A user who never reads holds up the monitor's bytes, not phyllomed: the loop stays idle. */
static void test_reader_that_does_not_read(Fixture *f, gconstpointer data)
{
	char block[4096] = { 0 };
	gsize sent = 0;
	int busy = 0;

	(void)data;
	g_assert_no_errno(fcntl(f->monitor, F_SETFL, O_NONBLOCK));
	for (int round = 0; round < 200; round++) {
		ssize_t n = write(f->monitor, block, sizeof(block));

		if (n > 0)
			sent += (gsize)n;
		while (g_main_context_iteration(NULL, FALSE))
			;
	}
	/* Bounded: the socket buffers and the relay's 16 KiB, then the monitor's writes block. */
	g_assert_cmpuint(sent, <, 200 * sizeof(block));
	/* The monitor goes away while the user's side is full: no busy loop on its hang-up. */
	close(f->monitor);
	f->monitor = -1;
	for (int i = 0; i < 100; i++)
		busy += g_main_context_iteration(NULL, FALSE);
	g_assert_cmpint(busy, <, 5);
}

/*
 * A paste larger than every buffer on the way arrives whole: the caller's fd blocks rather than
 * failing its write with EAGAIN (phyllomectl console ended on that when the fd was handed out
 * non-blocking), and the relay goes on once its buffer was filled to the end and emptied (it
 * stopped reading for good there: a console froze after a burst of 16 KiB).
 */
static gpointer write_paste(gpointer data)
{
	Fixture *f = data;
	g_autofree char *paste = g_malloc(1 << 20);
	gsize done = 0;

	memset(paste, 'p', 1 << 20);
	while (done < 1 << 20) {
		ssize_t n = write(f->user, paste + done, (1 << 20) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return GINT_TO_POINTER(n < 0 ? -errno : -EIO);
		done += (gsize)n;
	}
	return GINT_TO_POINTER(1);
}

static void test_large_paste(Fixture *f, gconstpointer data)
{
	g_autoptr(GThread) writer = NULL;
	char buf[65536];
	gsize received = 0;

	(void)data;
	g_assert_false(fcntl(f->user, F_GETFL) & O_NONBLOCK);
	g_assert_no_errno(fcntl(f->monitor, F_SETFL, O_NONBLOCK));
	writer = g_thread_new("paste", write_paste, f);
	while (received < 1 << 20) {
		ssize_t n;

		g_main_context_iteration(NULL, TRUE);
		while ((n = read(f->monitor, buf, sizeof(buf))) > 0)
			received += (gsize)n;
	}
	g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(g_steal_pointer(&writer))), ==, 1);
	g_assert_cmpuint(received, ==, 1 << 20);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/console-relay/bytes-both-ways", Fixture, NULL, setup, test_bytes_both_ways,
		   teardown);
	g_test_add("/console-relay/monitor-passes-no-fd", Fixture, NULL, setup,
		   test_monitor_passes_no_fd, teardown);
	g_test_add("/console-relay/user-passes-no-fd", Fixture, NULL, setup, test_user_passes_no_fd,
		   teardown);
	g_test_add("/console-relay/half-close", Fixture, NULL, setup, test_half_close, teardown);
	g_test_add("/console-relay/reader-that-does-not-read", Fixture, NULL, setup,
		   test_reader_that_does_not_read, teardown);
	g_test_add("/console-relay/large-paste", Fixture, NULL, setup, test_large_paste, teardown);
	return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomectl console: the machine's serial console on this terminal. */
#include <errno.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "phyllomectl.h"

#define ESCAPE 0x1d /* Ctrl-], pressed three times within a second, as machinectl's */
#define ESCAPE_WINDOW_US G_USEC_PER_SEC

static gboolean write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		len -= (size_t)n;
	}
	return TRUE;
}

/* Counts escape presses; returns TRUE on the third within the window. */
static gboolean escape_pressed(const char *buf, size_t len, int *count, gint64 *first)
{
	for (size_t i = 0; i < len; i++) {
		gint64 now;

		if (buf[i] != ESCAPE) {
			*count = 0;
			continue;
		}
		now = g_get_monotonic_time();
		if (*count == 0 || now - *first > ESCAPE_WINDOW_US) {
			*count = 0;
			*first = now;
		}
		if (++*count == 3)
			return TRUE;
	}
	return FALSE;
}

static int relay(int console_fd, const char *name)
{
	struct termios saved, raw;
	gboolean tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	gboolean stdin_open = TRUE;
	int escapes = 0;
	gint64 first_escape = 0;
	char buf[4096];

	if (tty) {
		fprintf(
		    stderr,
		    "Connected to %s's console. Press Ctrl-] three times within 1s to leave.\r\n",
		    name);
		raw = saved;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = console_fd, .events = POLLIN },
					 { .fd = stdin_open ? STDIN_FILENO : -1,
					   .events = POLLIN } };
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents) {
			n = read(console_fd, buf, sizeof(buf));
			if (n <= 0) {
				fprintf(
				    stderr,
				    tty ? "\r\nThe console of %s closed (the machine stopped).\r\n"
					: "The console of %s closed (the machine stopped).\n",
				    name);
				break;
			}
			if (!write_all(STDOUT_FILENO, buf, (size_t)n))
				break;
		}
		if (fds[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				/* Input ended (a pipe): keep showing the console until it closes.
				 */
				stdin_open = FALSE;
				(void)shutdown(console_fd, SHUT_WR);
				continue;
			}
			if (tty && escape_pressed(buf, (size_t)n, &escapes, &first_escape)) {
				fprintf(stderr, "\r\nLeft the console of %s.\r\n", name);
				break;
			}
			if (!write_all(console_fd, buf, (size_t)n))
				break;
		}
	}
	if (tty)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return EXIT_OK;
}

int cmd_console(Ctl *ctl, int argc, char **argv)
{
	g_autoptr(PhyllomeMachine) m = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) handle = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	int status = EXIT_OK, fd, r;

	if (argc != 2) {
		g_printerr("phyllomectl: console takes one machine name\n");
		return EXIT_USAGE;
	}
	m = ctl_machine(ctl, argv[1], &status);
	if (!m)
		return status;
	if (!phyllome_machine_call_open_console_sync(m, ctl_options(ctl, NULL), NULL, &handle, &fds,
						     NULL, &error))
		return ctl_error(argv[1], error);
	fd = g_unix_fd_list_get(fds, g_variant_get_handle(handle), &error);
	if (fd < 0)
		return ctl_error(argv[1], error);
	r = relay(fd, argv[1]);
	close(fd);
	return r;
}

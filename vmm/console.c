/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "unix-socket.h"
#include "util.h"

#define CTRL_A 0x01

/* Restoring the terminal must also happen when the VMM exits through a path we did not plan. */
static struct termios atexit_termios;
static bool atexit_termios_saved;

static void restore_tty_at_exit(void)
{
	if (atexit_termios_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &atexit_termios);
}

static void history_append(struct console *c, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		c->history[(c->history_head + c->history_len) % CONSOLE_HISTORY] = data[i];
		if (c->history_len < CONSOLE_HISTORY)
			c->history_len++;
		else
			c->history_head = (c->history_head + 1) % CONSOLE_HISTORY;
	}
}

void console_write(struct console *c, const uint8_t *data, size_t len)
{
	switch (c->kind) {
	case SERIAL_STDIO:
	case SERIAL_FILE:
		/* A reader that went away loses the output; the guest keeps running. */
		(void)write_full(c->out_fd, data, len);
		break;
	case SERIAL_SOCKET:
	case SERIAL_SOCKET_FD:
		pthread_mutex_lock(&c->lock);
		history_append(c, data, len);
		for (size_t i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
			/* A client too slow to read loses output rather than stalling the vCPU. */
			if (c->clients[i].watch.fd >= 0)
				(void)send(c->clients[i].watch.fd, data, len,
					   MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		pthread_mutex_unlock(&c->lock);
		break;
	case SERIAL_NONE:
		break;
	}
}

/* Handles Ctrl-A escapes typed on the VMM's own terminal; returns bytes left in buf. */
static size_t filter_escapes(struct console *c, uint8_t *buf, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = buf[i];

		if (c->escape_pending) {
			c->escape_pending = false;
			if (ch == 'x' || ch == 'X') {
				c->ops->hard_stop(c->opaque);
				return 0;
			}
			if (ch != CTRL_A)
				buf[out++] = CTRL_A;
			buf[out++] = ch;
		} else if (ch == CTRL_A) {
			c->escape_pending = true;
		} else {
			buf[out++] = ch;
		}
	}
	return out;
}

static void pause_input(struct console *c, struct watch *w, bool pause)
{
	c->input_paused = pause;
	(void)event_loop_modify(c->loop, w, pause ? 0 : EPOLLIN);
}

/* Reads what the guest has room for from one input fd. Returns false at EOF or error. */
static bool forward_input(struct console *c, struct watch *w)
{
	uint8_t buf[1024];
	size_t space = c->ops->input_space(c->opaque), len;
	ssize_t n;

	if (space == 0) {
		pause_input(c, w, true);
		return true;
	}
	n = read(w == &c->in_watch && c->in_file_fd >= 0 ? c->in_file_fd : w->fd, buf,
		 space < sizeof(buf) ? space : sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	len = (size_t)n;
	if (c->tty_raw && w == &c->in_watch)
		len = filter_escapes(c, buf, len);
	if (len > 0)
		(void)c->ops->input(c->opaque, buf, len);
	return true;
}

static void stdin_ready(struct watch *w, uint32_t events)
{
	struct console *c = container_of(w, struct console, in_watch);

	if (!forward_input(c, w)) {
		/* stdin at EOF (</dev/null, a closed pipe): the guest runs on without input. */
		event_loop_remove(c->loop, w);
		c->in_watched = false;
		if (c->in_file_fd >= 0) {
			close(w->fd);
			w->fd = -1;
			c->in_file_fd = -1;
		}
	}
}

static void client_close(struct console_client *cl)
{
	struct console *c = cl->console;
	int fd = cl->watch.fd;

	event_loop_remove(c->loop, &cl->watch);
	pthread_mutex_lock(&c->lock);
	cl->watch.fd = -1;
	pthread_mutex_unlock(&c->lock);
	close(fd);
}

static void client_ready(struct watch *w, uint32_t events)
{
	struct console_client *cl = container_of(w, struct console_client, watch);

	if (!forward_input(cl->console, w) || (events & (EPOLLHUP | EPOLLERR)))
		client_close(cl);
}

/* The attack that phyllomed's console relay must stop (console.h). */
static void test_pass_fd(int client, int passed)
{
	static const char line[] = "PHYLLOME-TEST passed an fd\r\n";
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)line, .iov_len = sizeof(line) - 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &passed, sizeof(int));
	if (sendmsg(client, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_warning_errno(errno, "Test hook: cannot pass an fd to the console client: %m");
	else
		log_info("Test hook: passed fd %d to a console client", passed);
}

static void listen_ready(struct watch *w, uint32_t events)
{
	struct console *c = container_of(w, struct console, listen_watch);
	struct console_client *free_slot = NULL;
	int fd;

	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (size_t i = 0; i < CONSOLE_MAX_CLIENTS && !free_slot; i++)
		if (c->clients[i].watch.fd < 0)
			free_slot = &c->clients[i];
	if (!free_slot) {
		static const char msg[] = "phyllome-vmm: too many console clients\r\n";
		(void)send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}

	pthread_mutex_lock(&c->lock);
	/* Replay recent output so a client that connects late sees what it missed. */
	for (size_t done = 0; done < c->history_len;) {
		size_t start = (c->history_head + done) % CONSOLE_HISTORY;
		size_t chunk = c->history_len - done;

		if (chunk > CONSOLE_HISTORY - start)
			chunk = CONSOLE_HISTORY - start;
		if (send(fd, c->history + start, chunk, MSG_DONTWAIT | MSG_NOSIGNAL) <= 0)
			break;
		done += chunk;
	}
	free_slot->watch.fd = fd;
	if (c->test_pass_fd)
		test_pass_fd(fd, w->fd);
	pthread_mutex_unlock(&c->lock);
	if (event_loop_add(c->loop, &free_slot->watch, EPOLLIN) < 0)
		client_close(free_slot);
}

/* A listening socket: made at path, or inherited as fd (path NULL) from phyllomed. */
static int open_socket(struct console *c, const char *path, int fd)
{
	bool listening;
	int r;

	if (path) {
		fd = unix_socket_listen("console", path, CONSOLE_MAX_CLIENTS, &c->socket_path);
		if (fd < 0)
			return fd;
	} else {
		r = unix_socket_adopt("console", fd, &listening);
		if (r < 0)
			return r;
		if (!listening)
			return log_error_errno(
			    EINVAL, "The console file descriptor %d is not a listening socket", fd);
	}
	c->listen_watch = (struct watch){ .fd = fd, .ready = listen_ready };
	r = event_loop_add(c->loop, &c->listen_watch, EPOLLIN);
	if (r < 0)
		return log_error_errno(r, "Cannot watch the console socket: %m");
	return 0;
}

static int open_stdio(struct console *c)
{
	struct stat st;

	c->out_fd = STDOUT_FILENO;
	c->in_watch = (struct watch){ .fd = STDIN_FILENO, .ready = stdin_ready };

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved_termios) == 0) {
		struct termios raw = c->saved_termios;

		atexit_termios = c->saved_termios;
		atexit_termios_saved = true;
		atexit(restore_tty_at_exit);
		/* Raw: Ctrl-C and friends belong to the guest; Ctrl-A x is ours. */
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			c->tty_raw = true;
	}
	if (event_loop_add(c->loop, &c->in_watch, EPOLLIN) == 0) {
		c->in_watched = true;
		return 0;
	}
	/*
	 * epoll refuses regular files (stdin redirected from a file). Such a file
	 * is always readable, so an eventfd that is never drained stands in for
	 * it in the loop, and input still waits for room in the UART.
	 */
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		_cleanup_close_ int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);

		if (efd < 0)
			return log_error_errno(errno, "eventfd: %m");
		c->in_watch.fd = efd;
		if (event_loop_add(c->loop, &c->in_watch, EPOLLIN) < 0)
			return log_error_errno(-EIO, "Cannot watch stdin");
		c->in_file_fd = STDIN_FILENO;
		TAKE_FD(efd);
		c->in_watched = true;
	}
	return 0;
}

int console_open(struct console *c, enum serial_kind kind, const char *path, int fd,
		 struct event_loop *loop, const struct console_ops *ops, void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->out_fd = -1;
	c->in_watch.fd = -1;
	c->in_file_fd = -1;
	c->listen_watch.fd = -1;
	c->loop = loop;
	c->ops = ops;
	c->opaque = opaque;
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		c->clients[i] = (struct console_client){
			.watch = { .fd = -1, .ready = client_ready },
			.console = c,
		};

	switch (kind) {
	case SERIAL_STDIO:
		return open_stdio(c);
	case SERIAL_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
		if (c->out_fd < 0)
			return log_error_errno(errno, "Cannot open console file %s: %m", path);
		return 0;
	case SERIAL_SOCKET:
		return open_socket(c, path, -1);
	case SERIAL_SOCKET_FD:
		return open_socket(c, NULL, fd);
	case SERIAL_NONE:
		return 0;
	}
	return -EINVAL;
}

void console_resume_input(struct console *c)
{
	if (!c->input_paused || c->ops->input_space(c->opaque) == 0)
		return;
	if (c->in_watched)
		pause_input(c, &c->in_watch, false);
	for (size_t i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i].watch.fd >= 0)
			pause_input(c, &c->clients[i].watch, false);
}

void console_close(struct console *c)
{
	for (size_t i = 0; i < CONSOLE_MAX_CLIENTS; i++)
		if (c->clients[i].watch.fd >= 0)
			client_close(&c->clients[i]);
	if (c->listen_watch.fd >= 0) {
		event_loop_remove(c->loop, &c->listen_watch);
		close(c->listen_watch.fd);
		c->listen_watch.fd = -1;
	}
	unix_socket_remove(&c->socket_path);
	if (c->in_watched) {
		event_loop_remove(c->loop, &c->in_watch);
		c->in_watched = false;
	}
	if (c->in_file_fd >= 0) {
		close(c->in_watch.fd);
		c->in_file_fd = -1;
	}
	if (c->tty_raw) {
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_termios);
		c->tty_raw = false;
		atexit_termios_saved = false;
	}
	if (c->kind == SERIAL_FILE && c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	pthread_mutex_destroy(&c->lock);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "event.h"
#include "options.h"

/*
 * The host end of the guest's serial console: stdio (raw mode on a
 * terminal, restored on every exit path), an append-only file, or a unix
 * socket that clients connect to, read and type into. A client that
 * connects late first receives the recent output.
 */
#define CONSOLE_MAX_CLIENTS 8
#define CONSOLE_HISTORY (64 * 1024)

struct console;

struct console_client {
	struct watch watch;
	struct console *console;
};

struct console_ops {
	/* Returns how much the guest could take; the rest waits for the next read. */
	size_t (*input)(void *opaque, const uint8_t *data, size_t len);
	size_t (*input_space)(void *opaque);
	void (*hard_stop)(void *opaque);
};

struct console {
	enum serial_kind kind;
	int out_fd;
	struct watch in_watch;
	int in_file_fd; /* stdin, when it is a regular file that in_watch's eventfd stands in for */
	bool in_watched;
	bool input_paused;
	bool tty_raw;
	struct termios saved_termios;
	bool escape_pending;

	struct watch listen_watch;
	char *socket_path;
	struct console_client clients[CONSOLE_MAX_CLIENTS];

	pthread_mutex_t lock; /* clients' fds and the history, shared with vCPU threads */
	uint8_t history[CONSOLE_HISTORY];
	size_t history_len, history_head;

	struct event_loop *loop;
	const struct console_ops *ops;
	void *opaque;
	/* Test builds: what a compromised monitor would try, sending each client an fd (its
	 * listening socket) with a line, "PHYLLOME-TEST passed an fd". Set after console_open. */
	bool test_pass_fd;
};

int console_open(struct console *c, enum serial_kind kind, const char *path, int fd,
		 struct event_loop *loop, const struct console_ops *ops, void *opaque);
void console_write(struct console *c, const uint8_t *data, size_t len);
/* Offers held-back input again; the main loop calls it while input is paused. */
void console_resume_input(struct console *c);
void console_close(struct console *c);

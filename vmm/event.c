/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "event.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

int event_loop_init(struct event_loop *loop)
{
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		return log_error_errno(errno, "epoll_create1: %m");
	return 0;
}

void event_loop_done(struct event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

static int control(struct event_loop *loop, int op, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	/* Not logged here: epoll refusing a regular file on stdin is normal, not an error. */
	if (epoll_ctl(loop->epoll_fd, op, w->fd, &ev) < 0)
		return -errno;
	return 0;
}

int event_loop_add(struct event_loop *loop, struct watch *w, uint32_t events)
{
	return control(loop, EPOLL_CTL_ADD, w, events);
}

int event_loop_modify(struct event_loop *loop, struct watch *w, uint32_t events)
{
	return control(loop, EPOLL_CTL_MOD, w, events);
}

void event_loop_remove(struct event_loop *loop, struct watch *w)
{
	(void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
}

int event_loop_dispatch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event ev;
	int n;

	/* One event per wait: a handler may free another watch, which a batch could still name. */
	n = epoll_wait(loop->epoll_fd, &ev, 1, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return log_error_errno(errno, "epoll_wait: %m");
	}
	if (n == 1) {
		struct watch *w = ev.data.ptr;
		w->ready(w, ev.events);
	}
	return n;
}

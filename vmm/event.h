/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The main thread's epoll loop. A watch is embedded in whatever owns the fd. */
struct watch {
	int fd;
	void (*ready)(struct watch *w, uint32_t events);
};

struct event_loop {
	int epoll_fd;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

int event_loop_init(struct event_loop *loop);
void event_loop_done(struct event_loop *loop);
int event_loop_add(struct event_loop *loop, struct watch *w, uint32_t events);
int event_loop_modify(struct event_loop *loop, struct watch *w, uint32_t events);
void event_loop_remove(struct event_loop *loop, struct watch *w);
/* Waits up to timeout_ms (-1: forever) and runs the handler of one ready watch. */
int event_loop_dispatch(struct event_loop *loop, int timeout_ms);

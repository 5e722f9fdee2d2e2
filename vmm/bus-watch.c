/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bus-watch.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"

uint32_t bus_watch_events(sd_bus *bus)
{
	int events = sd_bus_get_events(bus);
	uint32_t e = 0;

	if (events < 0)
		return EPOLLIN;
	if (events & POLLIN)
		e |= EPOLLIN;
	if (events & POLLOUT)
		e |= EPOLLOUT;
	return e;
}

bool bus_watch_process(sd_bus *bus, struct event_loop *loop, struct watch *w, const char *what)
{
	int r;

	do {
		r = sd_bus_process(bus, NULL);
	} while (r > 0);
	if (r < 0) {
		if (r != -ECONNRESET && r != -ENOTCONN)
			log_debug("%s: %s", what, strerror(-r));
		return false;
	}
	bus_watch_rearm(bus, loop, w);
	return true;
}

void bus_watch_rearm(sd_bus *bus, struct event_loop *loop, struct watch *w)
{
	(void)event_loop_modify(loop, w, bus_watch_events(bus));
}

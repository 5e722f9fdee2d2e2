/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "event.h"

/* A peer-to-peer sd-bus connection served from the main loop through its watch. */

/* The epoll events the connection waits for now. */
uint32_t bus_watch_events(sd_bus *bus);
/* Runs what sd-bus has to do and rearms the watch; false when the peer is gone. */
bool bus_watch_process(sd_bus *bus, struct event_loop *loop, struct watch *w, const char *what);
/* After queueing a message outside a dispatch: have the loop write it. */
void bus_watch_rearm(sd_bus *bus, struct event_loop *loop, struct watch *w);

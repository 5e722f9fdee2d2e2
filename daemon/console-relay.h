/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/*
 * OpenConsole's caller gets one end of a socket pair that phyllomed relays to
 * and from its connection to the monitor's console, bytes only: neither side
 * can pass the other a file descriptor. Each direction holds at most 16 KiB:
 * a side that does not read stops the other's bytes, not phyllomed. The relay
 * ends when both sides have closed (a side's end of input is passed on as a
 * shutdown of writing, as a terminal's EOF is).
 *
 * Takes monitor_fd (connected to the monitor's console); returns the caller's
 * end, or -1 with *error.
 */
int console_relay_start(int monitor_fd, GError **error);

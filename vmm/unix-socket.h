/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/*
 * The monitor's listening unix sockets (console, control): either made at a
 * path, for its owner only (a client of either may stop or drive the VM),
 * or inherited from phyllomed, which made them.
 */

/*
 * Creates a non-blocking listening socket at path, replacing a stale socket
 * there; returns its fd, and in *ret_path a copy of the path for
 * unix_socket_remove() at exit.
 */
int unix_socket_listen(const char *what, const char *path, int backlog, char **ret_path);
/* Removes the socket file unix_socket_listen() made, and frees *path. */
void unix_socket_remove(char **path);
/* Takes an inherited socket fd: close-on-exec, non-blocking. *ret_listening says if it accepts. */
int unix_socket_adopt(const char *what, int fd, bool *ret_listening);
/* A socket a D-Bus peer passed us (borrowed: its message still owns it): a copy of our own,
 * close-on-exec and non-blocking; -ENOTSOCK for another kind of descriptor. */
int unix_socket_take_passed(int fd);

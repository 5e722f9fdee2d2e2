/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

/*
 * Starting a monitor process in two steps, so that systemd can move it into
 * its scope before it runs anything: spawn_prepare forks a child that waits;
 * spawn_release lets it drop privileges and exec; the exec watch tells
 * whether exec worked.
 */
typedef struct {
	const char *path; /* the program */
	char **argv;
	int *fds; /* become fds 3, 4, ... in the child (in order) */
	guint n_fds;
	int output_fd; /* the child's stdout and stderr */
	uid_t uid;
	gid_t gid;
} SpawnParams;

typedef struct {
	pid_t pid;
	int release_fd; /* write a byte: go on; close: give up */
	int exec_fd;	/* EOF: exec succeeded; an int: the errno of exec */
} Spawn;

gboolean spawn_prepare(const SpawnParams *params, Spawn *ret, GError **error);
gboolean spawn_release(Spawn *spawn, GError **error);
/* Reads the result of exec once exec_fd is readable: TRUE when the program runs. */
gboolean spawn_exec_result(Spawn *spawn, GError **error);
void spawn_clear(Spawn *spawn);

/* The start time of a process (field 22 of /proc/PID/stat), to tell a PID that was reused. 0: none.
 */
guint64 process_start_time(pid_t pid);
/* TRUE when pid is in the cgroup of unit (by name, in any hierarchy). */
gboolean process_in_unit(pid_t pid, const char *unit);

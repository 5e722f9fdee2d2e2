/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * What a monitor that a hostile guest has taken over can still do. Before
 * the guest runs: every file descriptor it was not told about is closed,
 * it holds no capabilities, it cannot gain privileges through exec, and each
 * thread runs under a seccomp allow-list of the system calls its job needs:
 * one for vCPU threads, one for the device thread (virtqueues, disk I/O
 * through io_uring), one for the main thread (console, control channel). Any other system call
 * kills the process with SIGSYS, after one line on stderr that names it.
 */
enum sandbox_role {
	SANDBOX_MAIN,
	SANDBOX_VCPU,
	SANDBOX_IO, /* the device thread */
};

struct sandbox_config {
	bool enabled;
	/* The monitor created socket files (--control PATH, --serial or --console socket:PATH) and
	 * removes them at exit. */
	bool removes_files;
	/* Test builds only: main|vcpu|io, make a forbidden system call once that thread is confined
	 * (NULL: never). */
	const char *test_forbidden_syscall;
	/* The signal the main thread kicks vCPUs out of KVM_RUN with (VCPU_KICK_SIGNAL). */
	int kick_signal;
};

/* Closes every fd above 2 but those listed. */
int sandbox_close_other_fds(const int *keep, size_t n_keep);
/* For the calling thread and those it creates from now on: no capabilities, no new privileges. */
int sandbox_drop_privileges(void);
/* Confines the calling thread to its role's allow-list. */
int sandbox_enter(const struct sandbox_config *config, enum sandbox_role role);

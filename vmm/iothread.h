/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "event.h"
#include "sandbox.h"

/*
 * The device thread: queue notifications (ioeventfds the guest's writes
 * signal inside KVM) and I/O completions wake it, so disk and network work
 * never runs on a vCPU thread and a vCPU never waits for the host's I/O.
 */
struct iothread {
	struct event_loop loop;
	struct watch stop_watch;
	atomic_bool stopping;
	pthread_t thread;
	bool started;
	const struct sandbox_config *sandbox;
	/* The thread cannot go on (it could not confine itself, or its loop failed): stop the VM.
	 */
	void (*failed)(void *opaque);
	void *opaque;
};

int iothread_init(struct iothread *t, const struct sandbox_config *sandbox,
		  void (*failed)(void *opaque), void *opaque);
int iothread_start(struct iothread *t);
/* Waits for the thread to end; in-flight host I/O is the devices' to drop. */
void iothread_stop(struct iothread *t);
void iothread_done(struct iothread *t);

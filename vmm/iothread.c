/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "iothread.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void stop_ready(struct watch *w, uint32_t events)
{
	struct iothread *t = container_of(w, struct iothread, stop_watch);

	/* (What woke it is the stop itself; a count that is not there changes nothing.) */
	(void)eventfd_drain(w->fd);
	atomic_store(&t->stopping, true);
}

int iothread_init(struct iothread *t, const struct sandbox_config *sandbox,
		  void (*failed)(void *opaque), void *opaque)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->sandbox = sandbox;
	t->failed = failed;
	t->opaque = opaque;
	t->stop_watch =
	    (struct watch){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .ready = stop_ready };
	if (t->stop_watch.fd < 0)
		return log_error_errno(errno, "eventfd: %m");
	r = event_loop_init(&t->loop);
	if (r < 0)
		return r;
	r = event_loop_add(&t->loop, &t->stop_watch, EPOLLIN);
	if (r < 0)
		return log_error_errno(r, "Cannot watch the device thread's stop eventfd: %m");
	return 0;
}

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;

	if (sandbox_enter(t->sandbox, SANDBOX_IO) < 0) {
		t->failed(t->opaque);
		return NULL;
	}
	while (!atomic_load(&t->stopping))
		if (event_loop_dispatch(&t->loop, -1) < 0) {
			t->failed(t->opaque);
			break;
		}
	return NULL;
}

int iothread_start(struct iothread *t)
{
	sigset_t all, old;
	int r;

	/* Signals are the main thread's (signalfd) and the vCPUs' kick. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = thread_create(&t->thread, iothread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return log_error_errno(r, "Cannot start the device thread: %m");
	t->started = true;
	/* Named like the vCPUs' threads, so that tests and ps tell our threads from the kernel's.
	 */
	(void)pthread_setname_np(t->thread, "device");
	return 0;
}

void iothread_stop(struct iothread *t)
{
	if (!t->started)
		return;
	/* (It cannot fail: the counter holds far more than the one stop a thread gets.) */
	(void)eventfd_signal(t->stop_watch.fd);
	pthread_join(t->thread, NULL);
	t->started = false;
}

void iothread_done(struct iothread *t)
{
	iothread_stop(t);
	event_loop_done(&t->loop);
	if (t->stop_watch.fd >= 0)
		close(t->stop_watch.fd);
	t->stop_watch.fd = -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "console-relay.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "phyllome-error.h"

enum { RELAY_MONITOR, RELAY_USER };

/* What was read from one end and is not yet written to the other. */
typedef struct {
	guint8 data[16384];
	gsize start, len;
	gboolean eof; /* nothing more comes from this end */
} RelayBuffer;

typedef struct {
	GSource source;
	int fd[2];
	gpointer tag[2];  /* NULL while that end is not watched */
	gboolean shut[2]; /* its writing side was shut down */
	RelayBuffer from[2];
} ConsoleRelay;

static GIOCondition wanted(ConsoleRelay *r, int end)
{
	RelayBuffer *in = &r->from[end], *out = &r->from[!end];
	GIOCondition events = 0;

	if (!in->eof && in->start + in->len < sizeof(in->data))
		events |= G_IO_IN;
	if (out->len)
		events |= G_IO_OUT;
	return events;
}

/*
 * An end is watched only for what it can do now: poll reports a hang-up
 * whatever was asked, and an end whose buffer is full would report it again
 * and again until the other end reads.
 */
static void update_watches(ConsoleRelay *r)
{
	for (int end = 0; end < 2; end++) {
		GIOCondition events = wanted(r, end);

		if (events && r->tag[end])
			g_source_modify_unix_fd(&r->source, r->tag[end], events);
		else if (events)
			r->tag[end] = g_source_add_unix_fd(&r->source, r->fd[end], events);
		else if (r->tag[end]) {
			g_source_remove_unix_fd(&r->source, r->tag[end]);
			r->tag[end] = NULL;
		}
	}
}

/*
 * recv with no room for control messages: descriptors the other side passes
 * (SCM_RIGHTS) are closed by the kernel, never received. That is what the
 * relay is for: a compromised monitor cannot hand the console's user its
 * VFIO, disk or tap descriptors, nor the user hand the monitor anything.
 */
static void read_end(ConsoleRelay *r, int end)
{
	RelayBuffer *b = &r->from[end];
	ssize_t n;

	n = recv(r->fd[end], b->data + b->start + b->len, sizeof(b->data) - b->start - b->len,
		 MSG_DONTWAIT);
	if (n > 0)
		b->len += (gsize)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		b->eof = TRUE;
}

static void write_end(ConsoleRelay *r, int end)
{
	RelayBuffer *b = &r->from[!end];
	ssize_t n = send(r->fd[end], b->data + b->start, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0) {
		b->start += (gsize)n;
		b->len -= (gsize)n;
		/* Emptied: all its room is free again (wanted() reads only into free room). */
		if (b->len == 0)
			b->start = 0;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* This end is gone: what was for it is dropped, and the other end has no reader. */
		b->len = 0;
		b->eof = TRUE;
	}
}

static gboolean relay_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
	ConsoleRelay *r = (ConsoleRelay *)source;

	(void)callback, (void)data;
	for (int end = 0; end < 2; end++) {
		GIOCondition revents =
		    r->tag[end] ? g_source_query_unix_fd(source, r->tag[end]) : 0;

		if (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR) && (wanted(r, end) & G_IO_IN))
			read_end(r, end);
		if (revents & (G_IO_OUT | G_IO_HUP | G_IO_ERR) && r->from[!end].len)
			write_end(r, end);
	}
	/* An end that said all it had: the other end reads the end of it once its data is out. */
	for (int end = 0; end < 2; end++)
		if (r->from[end].eof && !r->from[end].len && !r->shut[!end]) {
			(void)shutdown(r->fd[!end], SHUT_WR);
			r->shut[!end] = TRUE;
		}
	if (r->shut[RELAY_MONITOR] && r->shut[RELAY_USER])
		return G_SOURCE_REMOVE;
	update_watches(r);
	return G_SOURCE_CONTINUE;
}

static void relay_finalize(GSource *source)
{
	ConsoleRelay *r = (ConsoleRelay *)source;

	for (int end = 0; end < 2; end++)
		if (r->fd[end] >= 0)
			(void)close(r->fd[end]);
}

static GSourceFuncs relay_funcs = {
	.dispatch = relay_dispatch,
	.finalize = relay_finalize,
};

int console_relay_start(int monitor_fd, GError **error)
{
	int pair[2];
	ConsoleRelay *r;

	/* The caller's end stays blocking, as any fd a program is handed: only ours polls. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		int err = errno;

		(void)close(monitor_fd);
		daemon_errno_error(error, PHYLLOME_ERROR_FAILED, err,
				   "Cannot make the console's socket pair");
		return -1;
	}
	if (!g_unix_set_fd_nonblocking(monitor_fd, TRUE, NULL) ||
	    !g_unix_set_fd_nonblocking(pair[0], TRUE, NULL)) {
		int err = errno;

		(void)close(monitor_fd);
		(void)close(pair[0]);
		(void)close(pair[1]);
		daemon_errno_error(error, PHYLLOME_ERROR_FAILED, err, "Cannot relay the console");
		return -1;
	}
	r = (ConsoleRelay *)g_source_new(&relay_funcs, sizeof(ConsoleRelay));
	g_source_set_static_name(&r->source, "phyllomed console relay");
	r->fd[RELAY_MONITOR] = monitor_fd;
	r->fd[RELAY_USER] = pair[0];
	update_watches(r);
	g_source_attach(&r->source, NULL);
	g_source_unref(&r->source);
	return pair[1];
}

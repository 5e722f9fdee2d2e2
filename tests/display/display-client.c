/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A display channel client for the tests and the benchmark: connects to a
 * monitor's control socket (or, with --serve-display, to a display-only
 * connection made through ServeDisplay, as phyllomed makes them; or, for
 * SOCKET fd:N, to the connection phyllomed's OpenDisplay gave), and
 *
 *   watch X Y RRGGBB SECONDS   registers a listener and waits until pixel (X, Y) of the
 *                              scanout is RRGGBB; prints each Scanout/Update/Disable
 *   call METHOD SIG [ARG...]   calls a method of org.phyllome.VMM1.Display (or, for
 *                              VMM1.NAME, of org.phyllome.VMM1) with u/i/h arguments
 *                              (h: a path opened for writing); prints "ok" or the error
 *   listeners N                registers N listeners at once; prints what each got
 *   bench SECONDS              the benchmark's listener (bench/display): Updates a second,
 *                              how long after the guest's pixel changed each came (a
 *                              thread watches the first pixel), a viewer's copy of each,
 *                              and a memcpy of the frame for scale
 *   hostile garbage|silent|error SECONDS
 *                              a listener that writes garbage and hangs up, one that
 *                              never reads, or one that answers Scanout with an error;
 *                              held SECONDS
 *
 * Exits 0 on success, 1 when the pixel never showed or the call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#define VMM_PATH "/org/phyllome/VMM1"
#define DISPLAY_IFACE "org.phyllome.VMM1.Display"
#define LISTENER_PATH "/org/phyllome/VMM1/DisplayListener"
#define LISTENER_IFACE "org.phyllome.VMM1.DisplayListener"
#define MAX_LISTENERS 8

struct listener {
	sd_bus *bus;
	int index;
	const uint8_t *map;
	size_t map_size;
	uint64_t offset;
	uint32_t width, height, stride, format;
	unsigned scanouts, updates, disables;
};

/* The benchmark: the watcher thread's view of the first pixel, and what Updates saw. */
#define BENCH_MAX 100000
static _Atomic(const uint8_t *) bench_pixel;
static _Atomic double
    bench_changed_at; /* when the first pixel last changed; 0: seen by an Update */
static _Atomic bool bench_stop;
static double bench_latency[BENCH_MAX], bench_copy_ms;
static unsigned bench_updates, bench_full, bench_measured;
static uint8_t *bench_copy;
static bool benchmarking;

static int want_x = -1, want_y = -1;
static uint32_t want_rgb;
static bool seen;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_pixel(struct listener *l)
{
	const uint8_t *p;

	if (want_x < 0 || !l->map || l->format != 0x34325258 || (uint32_t)want_x >= l->width ||
	    (uint32_t)want_y >= l->height)
		return;
	p = l->map + l->offset + (uint64_t)want_y * l->stride + (uint64_t)want_x * 4;
	if (((uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]) == want_rgb)
		seen = true;
}

static int on_scanout(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct listener *l = userdata;
	struct stat st;
	uint64_t offset;
	uint32_t w, h, stride, format;
	int fd, seals, r;

	r = sd_bus_message_read(m, "htuuuu", &fd, &offset, &w, &h, &stride, &format);
	if (r < 0)
		return r;
	/* What a listener must check before it maps anything (the interface's docs). */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) < 0 || !h || !stride ||
	    offset + (uint64_t)stride * h > (uint64_t)st.st_size)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"not a sealed memfd of that size");
	if (l->map)
		munmap((void *)l->map, l->map_size);
	l->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		return sd_bus_error_set_errno(error, errno);
	}
	l->map_size = (size_t)st.st_size;
	l->offset = offset;
	l->width = w;
	l->height = h;
	l->stride = stride;
	l->format = format;
	l->scanouts++;
	atomic_store(&bench_pixel, l->map + l->offset);
	printf("listener %d: scanout %ux%u stride %u format %08x sealed=%s%s writable-map=%s\n",
	       l->index, w, h, stride, format, seals & F_SEAL_SHRINK ? "shrink" : "",
	       seals & F_SEAL_FUTURE_WRITE ? ",future-write" : "",
	       mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED
		   ? "refused"
		   : "allowed");
	fflush(stdout);
	check_pixel(l);
	return sd_bus_reply_method_return(m, NULL);
}

static int on_update(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct listener *l = userdata;
	int32_t x, y, w, h;
	int r = sd_bus_message_read(m, "iiii", &x, &y, &w, &h);

	if (r < 0)
		return r;
	if (benchmarking) {
		double changed = atomic_exchange(&bench_changed_at, 0.0), t0 = now();

		if (changed > 0 && bench_measured < BENCH_MAX)
			bench_latency[bench_measured++] = t0 - changed;
		/* What a viewer does with each: copy the rectangle out of the shared memory. */
		for (int row = y; row < y + h; row++)
			memcpy(bench_copy + (size_t)row * l->stride + (size_t)x * 4,
			       l->map + l->offset + (size_t)row * l->stride + (size_t)x * 4,
			       (size_t)w * 4);
		bench_copy_ms += (now() - t0) * 1000;
		bench_updates++;
		bench_full += (uint32_t)h == l->height;
	}
	if (l->updates++ < 3)
		printf("listener %d: update %d,%d %dx%d\n", l->index, x, y, w, h);
	check_pixel(l);
	return sd_bus_reply_method_return(m, NULL);
}

static int on_disable(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct listener *l = userdata;

	l->disables++;
	printf("listener %d: disable\n", l->index);
	return sd_bus_reply_method_return(m, NULL);
}

static int on_scanout_refuse(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return sd_bus_error_set(error, "org.example.Error.Refused",
				"this listener refuses everything");
}

static const sd_bus_vtable refusing_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Scanout", "htuuuu", "", on_scanout_refuse, 0),
	SD_BUS_METHOD("Update", "iiii", "", on_scanout_refuse, 0),
	SD_BUS_METHOD("Disable", "", "", on_scanout_refuse, 0),
	SD_BUS_VTABLE_END,
};

static int on_cursor_define(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct listener *l = userdata;
	int32_t w, h, hot_x, hot_y;
	const void *pixels;
	size_t size;
	int r = sd_bus_message_read(m, "iiii", &w, &h, &hot_x, &hot_y);

	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &pixels, &size);
	if (r < 0)
		return r;
	printf("listener %d: cursor %dx%d hot %d,%d (%zu bytes)\n", l->index, w, h, hot_x, hot_y,
	       size);
	return sd_bus_reply_method_return(m, NULL);
}

static int on_mouse_set(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	int32_t x, y, on;
	int r = sd_bus_message_read(m, "iii", &x, &y, &on);

	return r < 0 ? r : sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable listener_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("CursorDefine", "iiiiay", "", on_cursor_define, 0),
	SD_BUS_METHOD("MouseSet", "iii", "", on_mouse_set, 0),
	SD_BUS_METHOD("Scanout", "htuuuu", "", on_scanout, 0),
	SD_BUS_METHOD("Update", "iiii", "", on_update, 0),
	SD_BUS_METHOD("Disable", "", "", on_disable, 0),
	SD_BUS_VTABLE_END,
};

static void *watch_first_pixel(void *unused)
{
	uint32_t last = 0;

	while (!atomic_load(&bench_stop)) {
		const uint8_t *p = atomic_load(&bench_pixel);
		uint32_t v;

		if (!p)
			continue;
		v = *(const volatile uint32_t *)p;
		if (v != last) {
			double zero = 0.0;

			last = v;
			/* The first change since the last Update is the one it is late for. */
			atomic_compare_exchange_strong(&bench_changed_at, &zero, now());
		}
	}
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "display-client: %s: %s\n", what, strerror(-r));
	exit(1);
}

static sd_bus *bus_on_fd(int fd, bool server)
{
	sd_bus *bus;
	sd_id128_t id;
	int r = sd_bus_new(&bus);

	if (r >= 0)
		r = sd_bus_set_fd(bus, fd, fd);
	if (r >= 0 && server && (r = sd_id128_randomize(&id)) >= 0)
		r = sd_bus_set_server(bus, 1, id);
	/* Both ends of a socketpair carry the credentials of whoever made it: the socket is
	 * the authorization, as for the monitor's ends. */
	if (r >= 0)
		r = sd_bus_set_anonymous(bus, 1);
	if (r >= 0)
		r = sd_bus_negotiate_fds(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0)
		die("connecting", r);
	return bus;
}

static sd_bus *connect_control(const char *path)
{
	char address[4200];
	sd_bus *bus;
	int r = sd_bus_new(&bus);

	snprintf(address, sizeof(address), "unix:path=%s", path);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_negotiate_fds(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0)
		die(path, r);
	return bus;
}

/* A display-only connection, made as phyllomed makes them. */
static sd_bus *serve_display(sd_bus *control)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int sv[2];
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", -errno);
	r = sd_bus_call_method(control, NULL, VMM_PATH, "org.phyllome.VMM1", "ServeDisplay", &error,
			       NULL, "h", sv[1]);
	if (r < 0) {
		fprintf(stderr, "display-client: ServeDisplay: %s\n", error.message);
		exit(1);
	}
	close(sv[1]);
	return bus_on_fd(sv[0], false);
}

static int add_listener(sd_bus *display, struct listener *l, sd_bus_error *error)
{
	int sv[2];
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair", -errno);
	l->bus = bus_on_fd(sv[0], true);
	r = sd_bus_add_object_vtable(l->bus, NULL, LISTENER_PATH, LISTENER_IFACE, listener_vtable,
				     l);
	if (r < 0)
		die("listener object", r);
	r = sd_bus_call_method(display, NULL, VMM_PATH, DISPLAY_IFACE, "RegisterListener", error,
			       NULL, "h", sv[1]);
	close(sv[1]);
	if (r < 0)
		l->bus = sd_bus_close_unref(l->bus);
	return r;
}

static void run(struct listener *ls, unsigned n, double until, bool stop_when_seen)
{
	while (now() < until && !(stop_when_seen && seen)) {
		struct pollfd p[MAX_LISTENERS];

		for (unsigned i = 0; i < n; i++) {
			while (sd_bus_process(ls[i].bus, NULL) > 0)
				;
			p[i] = (struct pollfd){ .fd = sd_bus_get_fd(ls[i].bus),
						.events = (short)sd_bus_get_events(ls[i].bus) };
		}
		if (stop_when_seen && seen)
			break;
		(void)poll(p, n, 50);
	}
}

static int call(sd_bus *bus, int argc, char **argv)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	const char *iface = DISPLAY_IFACE, *method = argv[0], *sig = argc > 1 ? argv[1] : "";
	int r;

	if (strncmp(method, "VMM1.", 5) == 0) {
		iface = "org.phyllome.VMM1";
		method += 5;
	}
	r = sd_bus_message_new_method_call(bus, &m, NULL, VMM_PATH, iface, method);
	for (int i = 0; r >= 0 && sig[i]; i++) {
		const char *arg = 2 + i < argc ? argv[2 + i] : "0";

		if (sig[i] == 'u')
			r = sd_bus_message_append(m, "u", (uint32_t)strtoul(arg, NULL, 0));
		else if (sig[i] == 'i')
			r = sd_bus_message_append(m, "i", (int32_t)strtol(arg, NULL, 0));
		else if (sig[i] == 'h') {
			int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			r = fd < 0 ? -errno : sd_bus_message_append(m, "h", fd);
		} else if (sig[i] == 'a') /* an empty a{sv} */
			r = sd_bus_message_append(m, "a{sv}", 0);
		else
			r = -EINVAL;
	}
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &error, NULL);
	sd_bus_message_unref(m);
	if (r < 0) {
		printf("%s: %s\n", error.name ? error.name : "error",
		       error.message ? error.message : strerror(-r));
		sd_bus_error_free(&error);
		return 1;
	}
	printf("ok\n");
	return 0;
}

/* One command on the display connection; its exit status. */
static int command(sd_bus *display, struct listener *ls, int argc, char **argv, int a)
{
	__attribute__((cleanup(sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;

	if (strcmp(argv[a], "call") == 0 && argc > a + 1)
		return call(display, argc - a - 1, argv + a + 1);
	if (strcmp(argv[a], "watch") == 0 && argc == a + 5) {
		want_x = atoi(argv[a + 1]);
		want_y = atoi(argv[a + 2]);
		want_rgb = (uint32_t)strtoul(argv[a + 3], NULL, 16);
		if (add_listener(display, &ls[0], &error) < 0) {
			printf("RegisterListener: %s: %s\n", error.name, error.message);
			return 1;
		}
		run(ls, 1, now() + atof(argv[a + 4]), true);
		printf("pixel %d,%d %s %06x\n", want_x, want_y, seen ? "is" : "never became",
		       want_rgb);
		return seen ? 0 : 1;
	}
	if (strcmp(argv[a], "listeners") == 0 && argc == a + 2) {
		unsigned n = (unsigned)atoi(argv[a + 1]), ok = 0;

		if (n > MAX_LISTENERS)
			n = MAX_LISTENERS;
		for (unsigned i = 0; i < n; i++) {
			ls[ok].index = (int)i;
			sd_bus_error_free(&error);
			if (add_listener(display, &ls[ok], &error) < 0)
				printf("listener %u: %s: %s\n", i, error.name, error.message);
			else
				ok++;
		}
		run(ls, ok, now() + 2, false);
		for (unsigned i = 0; i < ok; i++)
			printf("listener %d: %u scanouts\n", ls[i].index, ls[i].scanouts);
		return 0;
	}
	if (strcmp(argv[a], "bench") == 0 && argc == a + 2) {
		double seconds = atof(argv[a + 1]), start, memcpy_ms;
		pthread_t watcher;
		size_t frame;
		uint8_t *a_buf, *b_buf;

		if (add_listener(display, &ls[0], &error) < 0) {
			printf("RegisterListener: %s: %s\n", error.name, error.message);
			return 1;
		}
		for (start = now(); !ls[0].map && now() < start + 30;)
			run(ls, 1, now() + 0.1, false);
		if (!ls[0].map) {
			printf("no scanout\n");
			return 1;
		}
		frame = (size_t)ls[0].stride * ls[0].height;
		bench_copy = calloc(1, frame);
		if (!bench_copy)
			die("calloc", -ENOMEM);
		benchmarking = true;
		pthread_create(&watcher, NULL, watch_first_pixel, NULL);
		bench_updates = bench_full = bench_measured = 0;
		bench_copy_ms = 0;
		start = now();
		run(ls, 1, start + seconds, false);
		seconds = now() - start;
		atomic_store(&bench_stop, true);
		pthread_join(watcher, NULL);
		/* For scale: the frame copied by memcpy, in this process, between two buffers of
		 * our own. */
		a_buf = calloc(1, frame);
		b_buf = calloc(1, frame);
		memset(a_buf, 1, frame);
		memcpy(b_buf, a_buf, frame);
		start = now();
		for (int i = 0; i < 20; i++) {
			a_buf[i] = (uint8_t)i;
			memcpy(b_buf, a_buf, frame);
		}
		memcpy_ms = (now() - start) * 1000 / 20;
		free(a_buf);
		free(b_buf);
		qsort(bench_latency, bench_measured, sizeof(double), compare_double);
		printf("frame %ux%u (%zu bytes)\n", ls[0].width, ls[0].height, frame);
		printf("updates %u in %.1f s: %.1f/s, %u of them whole frames\n", bench_updates,
		       seconds, bench_updates / seconds, bench_full);
		if (bench_measured)
			printf("latency pixel-to-update ms p50 %.2f p99 %.2f (%u samples)\n",
			       bench_latency[bench_measured / 2] * 1000,
			       bench_latency[bench_measured * 99 / 100] * 1000, bench_measured);
		printf("copy per update ms %.3f\n",
		       bench_updates ? bench_copy_ms / bench_updates : 0.0);
		printf("memcpy of the frame ms %.3f\n", memcpy_ms);
		return 0;
	}
	if (strcmp(argv[a], "hostile") == 0 && argc == a + 3) {
		const char *mode = argv[a + 1];
		double until = now() + atof(argv[a + 2]);
		int sv[2], r;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
			die("socketpair", -errno);
		if (strcmp(mode, "error") == 0) {
			ls[0].bus = bus_on_fd(sv[0], true);
			r = sd_bus_add_object_vtable(ls[0].bus, NULL, LISTENER_PATH, LISTENER_IFACE,
						     refusing_vtable, NULL);
			if (r < 0)
				die("listener object", r);
		}
		r = sd_bus_call_method(display, NULL, VMM_PATH, DISPLAY_IFACE, "RegisterListener",
				       &error, NULL, "h", sv[1]);
		close(sv[1]);
		if (r < 0) {
			printf("RegisterListener: %s: %s\n", error.name, error.message);
			return 1;
		}
		printf("registered\n");
		if (strcmp(mode, "garbage") == 0) {
			char junk[4096];

			memset(junk, 0xa5, sizeof(junk));
			junk[0] = '\0';
			(void)!write(sv[0], junk, sizeof(junk));
			close(sv[0]);
		} else if (strcmp(mode, "error") == 0) {
			run(ls, 1, until, false);
			return 0;
		}
		while (now() < until)
			usleep(100000);
		return 0;
	}
	fprintf(stderr, "display-client: unknown command %s\n", argv[a]);
	return 2;
}

int main(int argc, char **argv)
{
	struct listener ls[MAX_LISTENERS] = {};
	sd_bus *control, *display;
	bool only = false;
	int a = 2, status;

	if (argc > 2 && strcmp(argv[2], "--serve-display") == 0) {
		only = true;
		a++;
	}
	if (argc < a + 1) {
		fprintf(stderr, "usage: display-client SOCKET [--serve-display] "
				"watch|call|listeners|bench|hostile ...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strncmp(argv[1], "fd:", 3) == 0)
		control = bus_on_fd(atoi(argv[1] + 3), false);
	else
		control = connect_control(argv[1]);
	display = only ? serve_display(control) : control;
	status = command(display, ls, argc, argv, a);
	/* All let go: the sanitizer build's leak check sees a clean exit. */
	for (unsigned i = 0; i < MAX_LISTENERS; i++)
		sd_bus_close_unref(ls[i].bus);
	if (display != control)
		sd_bus_close_unref(display);
	sd_bus_close_unref(control);
	free(bench_copy);
	return status;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

int pread_full(int fd, void *buf, size_t len, off_t offset)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int eventfd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -errno;
}

int64_t eventfd_drain(int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		return -errno;
	return count > INT64_MAX ? INT64_MAX : (int64_t)count;
}

/*
 * glibc gives a thread an 8 MiB stack. Where the host backs anonymous memory
 * with transparent huge pages (Debian's default), the first touch of such a
 * stack faults in a whole 2 MiB page: with a small guest, that was a third of
 * the monitor's resident memory. A stack under 2 MiB holds no aligned huge
 * page. Exit handling and device emulation run in shallow call chains: 1 MiB
 * leaves room to spare, also for AddressSanitizer's larger frames (the
 * sanitizer pass runs the VMM suites on it).
 */
#define THREAD_STACK_SIZE (1u << 20)

int thread_create(pthread_t *thread, void *(*start)(void *), void *arg)
{
	pthread_attr_t attr;
	int r;

	r = pthread_attr_init(&attr);
	if (r != 0)
		return r;
	r = pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	if (r == 0)
		r = pthread_create(thread, &attr, start, arg);
	(void)pthread_attr_destroy(&attr);
	return r;
}

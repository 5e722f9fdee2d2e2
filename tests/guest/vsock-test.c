/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AF_VSOCK for the test guest (busybox has none), built static:
 *   vsock-test connect CID PORT MESSAGE   send MESSAGE, print the reply line
 *   vsock-test listen PORT                take one connection, answer "guest got LINE"
 * Prints "PHYLLOME vsock-..." lines for the tests.
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("PHYLLOME vsock-error=%s: %s\n", what, strerror(errno));
	return 1;
}

static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)n;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK};
	char line[256], reply[300];
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return fail("socket");
	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		addr.svm_cid = (unsigned)strtoul(argv[2], NULL, 10);
		addr.svm_port = (unsigned)strtoul(argv[3], NULL, 10);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return fail("connect");
		snprintf(line, sizeof(line), "%s\n", argv[4]);
		if (write(fd, line, strlen(line)) < 0 || read_line(fd, reply, sizeof(reply)) < 0)
			return fail("exchange");
		printf("PHYLLOME vsock-reply=%s\n", reply);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "listen") == 0) {
		int c;

		addr.svm_cid = VMADDR_CID_ANY;
		addr.svm_port = (unsigned)strtoul(argv[2], NULL, 10);
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
			return fail("listen");
		printf("PHYLLOME vsock-listening=%s\n", argv[2]);
		fflush(stdout);
		c = accept(fd, NULL, NULL);
		if (c < 0 || read_line(c, line, sizeof(line)) < 0)
			return fail("accept");
		snprintf(reply, sizeof(reply), "guest got %s\n", line);
		if (write(c, reply, strlen(reply)) < 0)
			return fail("write");
		printf("PHYLLOME vsock-received=%s\n", line);
		return 0;
	}
	fprintf(stderr, "usage: vsock-test connect CID PORT MESSAGE | listen PORT\n");
	return 2;
}

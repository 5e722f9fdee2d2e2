/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the test guest needs and busybox lacks, built static:
 *   guest-tool vsock-connect CID PORT MESSAGE  send MESSAGE over AF_VSOCK, print the reply line
 *   guest-tool vsock-listen PORT               take one connection, answer "guest got LINE"
 *   guest-tool zeroout DEVICE OFFSET LENGTH    BLKZEROOUT: the disk's WRITE_ZEROES
 * Prints "PHYLLOME ..." lines for the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("PHYLLOME guest-tool-error=%s: %s\n", what, strerror(errno));
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

static int zeroout(const char *device, const char *offset, const char *length)
{
	uint64_t range[2] = { strtoull(offset, NULL, 0), strtoull(length, NULL, 0) };
	int fd = open(device, O_WRONLY);

	if (fd < 0)
		return fail("open");
	if (ioctl(fd, BLKZEROOUT, range) < 0)
		return fail("BLKZEROOUT");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK };
	char line[256], reply[300];
	int fd;

	if (argc == 5 && strcmp(argv[1], "zeroout") == 0)
		return zeroout(argv[2], argv[3], argv[4]);
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket");
	if (argc == 5 && strcmp(argv[1], "vsock-connect") == 0) {
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
	if (argc == 3 && strcmp(argv[1], "vsock-listen") == 0) {
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
	fprintf(stderr, "usage: guest-tool vsock-connect CID PORT MESSAGE | vsock-listen PORT | "
			"zeroout DEVICE OFFSET LENGTH\n");
	return 2;
}

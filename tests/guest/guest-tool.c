/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the test guest needs and busybox lacks, built static:
 *   guest-tool vsock-connect CID PORT MESSAGE  send MESSAGE over AF_VSOCK, print the reply line
 *   guest-tool vsock-listen PORT               take one connection, answer "guest got LINE"
 *   guest-tool zeroout DEVICE OFFSET LENGTH    BLKZEROOUT: the disk's WRITE_ZEROES
 *   guest-tool edu SYSFS-DIR                   QEMU's edu device, bound to uio_pci_generic: its
 *                                              registers, DMA both ways and its interrupt
 *   guest-tool input NAME COUNT                the evdev device called NAME: its axes' ranges,
 *                                              then COUNT events (SYN_REPORTs not counted)
 *   guest-tool fill ADDRESS STRIDE X Y W H RRGGBB
 *                                              paints a rectangle of a 32-bit framebuffer at
 *                                              physical ADDRESS (through /dev/mem), or of a
 *                                              framebuffer device (ADDRESS /dev/fb0)
 *   guest-tool animate ADDRESS SIZE SECONDS    new frames for SECONDS: a counter in the first
 *                                              pixel and in every 4 KiB page of SIZE bytes
 *                                              (each frame dirties the whole framebuffer)
 * Prints "PHYLLOME ..." lines for the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/input.h>
#include <linux/vm_sockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
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

/* ---- edu (QEMU docs/specs/edu.rst) ---- */

#define EDU_ID 0x00
#define EDU_LIVENESS 0x04
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 1
#define EDU_DMA_TO_RAM 2
#define EDU_DMA_IRQ 4
#define EDU_DMA_IRQ_STATUS 0x100
#define EDU_BUFFER 0x40000
/* Less than the 4 KiB buffer: QEMU 7.2's edu refuses a transfer that ends at the buffer's end. */
#define EDU_DMA_BYTES 2048

static volatile uint8_t *edu_bar;

static uint32_t edu_read(unsigned reg)
{
	return *(volatile uint32_t *)(edu_bar + reg);
}

static void edu_write(unsigned reg, uint32_t value)
{
	*(volatile uint32_t *)(edu_bar + reg) = value;
}

static void edu_write64(unsigned reg, uint64_t value)
{
	*(volatile uint64_t *)(edu_bar + reg) = value;
}

/* The guest-physical address of a locked page: what the device's DMA must be told. */
static uint64_t physical_address(const void *page)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &entry, 8, (off_t)((uintptr_t)page / 4096 * 8)) != 8)
		entry = 0;
	if (fd >= 0)
		close(fd);
	return (entry >> 63) ? (entry & ((1ULL << 55) - 1)) * 4096 : 0;
}

/*
 * Unmasks INTx (uio_pci_generic masks it with the command register's INTx
 * disable bit at every interrupt, and leaves unmasking to us), then waits.
 */
static int uio_wait(int uio, int config, unsigned timeout_ms)
{
	struct pollfd p = { .fd = uio, .events = POLLIN };
	uint16_t command;
	uint32_t count;

	if (pread(config, &command, 2, 4) != 2 ||
	    (command &= (uint16_t)~0x400, pwrite(config, &command, 2, 4)) != 2) {
		printf("PHYLLOME uio-unmask-error=%s\n", strerror(errno));
		return -1;
	}
	if (poll(&p, 1, (int)timeout_ms) != 1 ||
	    read(uio, &count, sizeof(count)) != sizeof(count)) {
		printf("PHYLLOME uio-wait-error=%s\n", strerror(errno));
		return -1;
	}
	return (int)count;
}

static bool dma_wait(void)
{
	for (int i = 0; i < 100000; i++) {
		if (!(edu_read(EDU_DMA_CMD) & EDU_DMA_START))
			return true;
		usleep(100);
	}
	return false;
}

static int edu(const char *dir)
{
	char path[512], uio_path[300] = "";
	uint8_t *pages;
	uint64_t from, to;
	uint16_t command;
	int fd, config, uio, irqs;
	struct dirent *d;
	DIR *uio_dir;

	snprintf(path, sizeof(path), "%s/resource0", dir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return fail("open resource0");
	edu_bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (edu_bar == MAP_FAILED)
		return fail("mmap resource0");
	printf("PHYLLOME edu-id=0x%08x\n", edu_read(EDU_ID));
	edu_write(EDU_LIVENESS, 0x12345678);
	printf("PHYLLOME edu-liveness=0x%08x\n", edu_read(EDU_LIVENESS));
	fflush(stdout);

	/* DMA needs bus mastering, which uio_pci_generic leaves off. */
	snprintf(path, sizeof(path), "%s/config", dir);
	config = open(path, O_RDWR);
	if (config < 0 || pread(config, &command, 2, 4) != 2)
		return fail("read config");
	command |= 0x4;
	if (pwrite(config, &command, 2, 4) != 2)
		return fail("write config");
	snprintf(path, sizeof(path), "%s/uio", dir);
	uio_dir = opendir(path);
	while (uio_dir && (d = readdir(uio_dir)))
		if (strncmp(d->d_name, "uio", 3) == 0)
			snprintf(uio_path, sizeof(uio_path), "/dev/%s", d->d_name);
	uio = uio_path[0] ? open(uio_path, O_RDWR) : -1;
	if (uio < 0)
		return fail("open the uio device");

	pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (pages == MAP_FAILED)
		return fail("mmap");
	for (unsigned i = 0; i < 4096; i++)
		pages[i] = (uint8_t)(i * 7 + 3);
	memset(pages + 4096, 0, 4096);
	from = physical_address(pages);
	to = physical_address(pages + 4096);
	printf("PHYLLOME edu-dma-pages=0x%llx,0x%llx\n", (unsigned long long)from,
	       (unsigned long long)to);
	if (!from || !to)
		return fail("pagemap");
	/* Guest RAM into the device's buffer, then back into the other page, with an interrupt at
	 * the end. */
	edu_write64(EDU_DMA_SRC, from);
	edu_write64(EDU_DMA_DST, EDU_BUFFER);
	edu_write64(EDU_DMA_COUNT, EDU_DMA_BYTES);
	edu_write64(EDU_DMA_CMD, EDU_DMA_START);
	if (!dma_wait())
		return fail("DMA to the device never ended");
	edu_write64(EDU_DMA_SRC, EDU_BUFFER);
	edu_write64(EDU_DMA_DST, to);
	edu_write64(EDU_DMA_COUNT, EDU_DMA_BYTES);
	edu_write64(EDU_DMA_CMD, EDU_DMA_START | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	irqs = uio_wait(uio, config, 30000);
	printf("PHYLLOME edu-dma-irq=%s status=0x%x\n", irqs > 0 ? "yes" : "no",
	       edu_read(EDU_IRQ_STATUS));
	edu_write(EDU_IRQ_ACK, edu_read(EDU_IRQ_STATUS));
	printf("PHYLLOME edu-dma=%s\n",
	       dma_wait() && memcmp(pages, pages + 4096, EDU_DMA_BYTES) == 0 ? "match" : "differ");

	/* An interrupt asked for: its status value comes back, and it can be raised again after the
	 * ack. */
	for (int round = 0; round < 2; round++) {
		edu_write(EDU_IRQ_RAISE, 0x5a);
		irqs = uio_wait(uio, config, 30000);
		printf("PHYLLOME edu-irq%d=%s status=0x%x\n", round, irqs > 0 ? "yes" : "no",
		       edu_read(EDU_IRQ_STATUS));
		edu_write(EDU_IRQ_ACK, 0x5a);
	}
	fflush(stdout);
	return 0;
}

static int input(const char *name, int count)
{
	char path[300], found[256];

	for (int i = 0; i < 32; i++) {
		struct input_event ev;
		struct input_absinfo abs;
		int fd;

		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		if (ioctl(fd, EVIOCGNAME(sizeof(found)), found) < 0 || strcmp(found, name) != 0) {
			close(fd);
			continue;
		}
		if (ioctl(fd, EVIOCGABS(ABS_X), &abs) == 0)
			printf("PHYLLOME input %s abs-x=%d..%d\n", name, abs.minimum, abs.maximum);
		printf("PHYLLOME input %s ready on %s\n", name, path);
		fflush(stdout);
		while (count > 0 && read(fd, &ev, sizeof(ev)) == sizeof(ev)) {
			/* Repeats of a held key are the guest's own, however long a slow host
			 * took between press and release. */
			if (ev.type == EV_SYN || (ev.type == EV_KEY && ev.value == 2))
				continue;
			printf("PHYLLOME input %s event type=%u code=%u value=%d\n", name, ev.type,
			       ev.code, ev.value);
			fflush(stdout);
			count--;
		}
		return 0;
	}
	printf("PHYLLOME input %s missing\n", name);
	return 1;
}

static int fill(char **argv)
{
	bool device = argv[0][0] == '/';
	unsigned long long address = device ? 0 : strtoull(argv[0], NULL, 0);
	unsigned stride = (unsigned)strtoul(argv[1], NULL, 0), x = (unsigned)atoi(argv[2]),
		 y = (unsigned)atoi(argv[3]), w = (unsigned)atoi(argv[4]),
		 h = (unsigned)atoi(argv[5]);
	uint32_t rgb = (uint32_t)strtoul(argv[6], NULL, 16);
	size_t size = (size_t)(y + h) * stride;
	int fd = open(device ? argv[0] : "/dev/mem", O_RDWR | O_SYNC);
	uint32_t *row = calloc(w ? w : 1, 4);
	uint8_t *fb;

	if (fd < 0 || !row)
		return fail(device ? argv[0] : "/dev/mem");
	for (unsigned col = 0; col < w; col++)
		row[col] = rgb;
	if (device && x == 0 && (size_t)w * 4 == stride) {
		/* Whole rows in one write: Linux 6.1's fbdev emulation takes a write of exactly
		 * one whole row as damage of no width, and never flushes it. */
		uint8_t *rows = malloc((size_t)h * stride);

		if (!rows)
			return fail("malloc");
		for (unsigned r = 0; r < h; r++)
			memcpy(rows + (size_t)r * stride, row, stride);
		if (pwrite(fd, rows, (size_t)h * stride, (off_t)y * stride) != (ssize_t)h * stride)
			return fail("write to the framebuffer device");
		free(rows);
	} else if (device) {
		/* A framebuffer device's write() is what tells its DRM driver to flush. */
		for (unsigned r = y; r < y + h; r++)
			if (pwrite(fd, row, (size_t)w * 4, (off_t)r * stride + (off_t)x * 4) !=
			    (ssize_t)w * 4)
				return fail("write to the framebuffer device");
	} else {
		fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)address);
		if (fb == MAP_FAILED)
			return fail("mmap /dev/mem");
		for (unsigned r = y; r < y + h; r++)
			memcpy(fb + (size_t)r * stride + (size_t)x * 4, row, (size_t)w * 4);
	}
	printf("PHYLLOME filled %ux%u at %u,%u with %06x\n", w, h, x, y, rgb);
	return 0;
}

static int animate(char **argv)
{
	unsigned long long address = strtoull(argv[0], NULL, 0);
	size_t size = (size_t)strtoull(argv[1], NULL, 0);
	time_t end = time(NULL) + atoi(argv[2]);
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	unsigned frames = 0;
	uint8_t *fb;

	if (fd < 0)
		return fail("/dev/mem");
	fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)address);
	if (fb == MAP_FAILED)
		return fail("mmap /dev/mem");
	while (time(NULL) < end) {
		frames++;
		/* The pages after the first, then the first: a frame is whole when its counter
		 * shows. */
		for (size_t at = 4096; at < size; at += 4096)
			*(volatile uint32_t *)(fb + at) = frames;
		*(volatile uint32_t *)fb = frames;
	}
	printf("PHYLLOME animated %u frames\n", frames);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK };
	char line[256], reply[300];
	int fd;

	if (argc == 5 && strcmp(argv[1], "zeroout") == 0)
		return zeroout(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "edu") == 0)
		return edu(argv[2]);
	if (argc == 4 && strcmp(argv[1], "input") == 0)
		return input(argv[2], atoi(argv[3]));
	if (argc == 9 && strcmp(argv[1], "fill") == 0)
		return fill(argv + 2);
	if (argc == 5 && strcmp(argv[1], "animate") == 0)
		return animate(argv + 2);
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
			"zeroout DEVICE OFFSET LENGTH | edu SYSFS-DIR | input NAME COUNT | fill "
			"ADDRESS STRIDE X Y W H RRGGBB | animate ADDRESS SIZE SECONDS\n");
	return 2;
}

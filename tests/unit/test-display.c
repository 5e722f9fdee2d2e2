/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bochs display (display/bochs.c) as OVMF's QemuVideoDxe and a hostile guest program it, and
 * its screenshots (display/png.c) read back as a PNG reader would. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "display/bochs.h"
#include "display/png.h"

#define BAR_REGISTERS 2

static void dispi_write(struct bochs *b, unsigned reg, uint16_t v)
{
	uint8_t data[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	b->pci.ops->bar_write(&b->pci, BAR_REGISTERS, 0x500 + 2 * reg, data, 2);
}

static uint16_t dispi_read(struct bochs *b, unsigned reg)
{
	uint8_t data[2];

	b->pci.ops->bar_read(&b->pci, BAR_REGISTERS, 0x500 + 2 * reg, data, 2);
	return (uint16_t)(data[0] | data[1] << 8);
}

/* What QemuVideoDxe does to set a mode. */
static void set_mode(struct bochs *b, unsigned width, unsigned height, unsigned bpp)
{
	dispi_write(b, DISPI_ENABLE, 0);
	dispi_write(b, DISPI_BPP, (uint16_t)bpp);
	dispi_write(b, DISPI_XRES, (uint16_t)width);
	dispi_write(b, DISPI_VIRT_WIDTH, (uint16_t)width);
	dispi_write(b, DISPI_YRES, (uint16_t)height);
	dispi_write(b, DISPI_VIRT_HEIGHT, (uint16_t)height);
	dispi_write(b, DISPI_ENABLE, 0x41); /* ENABLED | LFB_ENABLED */
}

static void test_registers(void)
{
	struct bochs b;

	g_assert_cmpint(bochs_init(&b, -1, 0), ==, 0);
	g_assert_cmphex(dispi_read(&b, DISPI_ID), ==, 0xb0c5);
	g_assert_cmpuint(dispi_read(&b, DISPI_VIDEO_MEMORY_64K), ==, BOCHS_VRAM_SIZE >> 16);
	dispi_write(&b, DISPI_ID, 0x1234);
	g_assert_cmphex(dispi_read(&b, DISPI_ID), ==, 0xb0c5);
	dispi_write(&b, DISPI_ENABLE, DISPI_GETCAPS);
	g_assert_cmpuint(dispi_read(&b, DISPI_XRES), ==, BOCHS_MAX_WIDTH);
	g_assert_cmpuint(dispi_read(&b, DISPI_YRES), ==, BOCHS_MAX_HEIGHT);
	g_assert_cmpuint(dispi_read(&b, DISPI_BPP), ==, 32);
	set_mode(&b, 800, 600, 32);
	g_assert_cmpuint(dispi_read(&b, DISPI_XRES), ==, 800);
	g_assert_cmpuint(b.pci.config[0x0a] | b.pci.config[0x0b] << 8, ==, 0x0300);
	bochs_done(&b);
}

/* A guest's mode that does not fit the framebuffer, or that nothing shows, is an error for the
 * screenshot, never a read past the framebuffer. */
static void test_hostile_modes(void)
{
	struct bochs b;
	struct bochs_scanout s;

	g_assert_cmpint(bochs_init(&b, -1, 0), ==, 0);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ENODATA);
	set_mode(&b, 2560, 1600, 32);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, 0);
	g_assert_cmpuint(s.stride, ==, 2560 * 4);
	dispi_write(&b, DISPI_Y_OFFSET, 1600); /* the second page would end past 16 MiB */
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ERANGE);
	set_mode(&b, 4096, 16, 32);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ERANGE);
	set_mode(&b, 0, 480, 32);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ERANGE);
	set_mode(&b, 640, 480, 8);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ENOTSUP);
	set_mode(&b, 640, 480, 7);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ENOTSUP);
	set_mode(&b, 1024, 768, 32);
	dispi_write(&b, DISPI_VIRT_WIDTH, 0xffff);
	g_assert_cmpint(bochs_scanout(&b, &s), ==, -ERANGE);
	bochs_done(&b);
}

/* The IDAT's zlib stream: stored blocks, as png.c writes them, joined; checks the Adler-32. */
static GByteArray *inflate_stored(const uint8_t *z, size_t len)
{
	GByteArray *out = g_byte_array_new();
	size_t at = 2;
	bool last = false;

	g_assert_cmphex(z[0], ==, 0x78);
	g_assert_cmpuint((z[0] << 8 | z[1]) % 31, ==, 0);
	while (!last) {
		unsigned n = z[at + 1] | z[at + 2] << 8, nn = z[at + 3] | z[at + 4] << 8;

		last = z[at] & 1;
		g_assert_cmpuint(z[at] >> 1, ==, 0);
		g_assert_cmpuint(n ^ nn, ==, 0xffff);
		g_byte_array_append(out, z + at + 5, n);
		at += 5 + n;
	}
	g_assert_cmpuint(at + 4, ==, len);
	g_assert_cmphex((uint32_t)z[at] << 24 | z[at + 1] << 16 | z[at + 2] << 8 | z[at + 3], ==,
			png_adler32(1, out->data, out->len));
	return out;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void test_screenshot(void)
{
	static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct bochs b;
	int fd = memfd_create("shot", 0);
	g_autofree uint8_t *file = NULL;
	g_autoptr(GByteArray) raw = NULL;
	off_t size;
	size_t at;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bochs_init(&b, -1, 0), ==, 0);
	set_mode(&b, 300, 250, 32); /* rows of 901 bytes: several stored blocks */
	/* A red pixel at (0, 0), green at (299, 249); the guest's memory is B, G, R, X. */
	b.vram[2] = 0xff;
	memcpy(b.vram + (249 * 300 + 299) * 4, "\x00\xff\x00\x00", 4);
	g_assert_cmpint(bochs_screenshot(&b, fd), ==, 0);
	size = lseek(fd, 0, SEEK_END);
	file = g_malloc((size_t)size);
	g_assert_cmpint(pread(fd, file, (size_t)size, 0), ==, size);
	g_assert_cmpmem(file, 8, signature, 8);
	/* IHDR: 300 x 250, 8 bits, truecolour; every chunk's CRC right. */
	for (at = 8; at < (size_t)size;) {
		uint32_t len = be32(file + at);

		g_assert_cmphex(be32(file + at + 8 + len), ==,
				png_crc32(0, file + at + 4, 4 + len));
		if (!memcmp(file + at + 4, "IHDR", 4)) {
			g_assert_cmpuint(be32(file + at + 8), ==, 300);
			g_assert_cmpuint(be32(file + at + 12), ==, 250);
			g_assert_cmpuint(file[at + 16], ==, 8);
			g_assert_cmpuint(file[at + 17], ==, 2);
		} else if (!memcmp(file + at + 4, "IDAT", 4)) {
			raw = inflate_stored(file + at + 8, len);
		}
		at += 12 + len;
	}
	g_assert_cmpuint(at, ==, (size_t)size);
	g_assert_nonnull(raw);
	g_assert_cmpuint(raw->len, ==, 250 * (1 + 300 * 3));
	g_assert_cmpmem(raw->data, 4, "\x00\xff\x00\x00", 4); /* filter 0, then red */
	g_assert_cmpmem(raw->data + 249 * 901 + 1 + 299 * 3, 3, "\x00\xff\x00", 3);
	bochs_done(&b);
	close(fd);
}

static void test_checksums(void)
{
	g_assert_cmphex(png_crc32(0, (const uint8_t *)"123456789", 9), ==, 0xcbf43926);
	g_assert_cmphex(png_adler32(1, (const uint8_t *)"Wikipedia", 9), ==, 0x11e60398);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/display/registers", test_registers);
	g_test_add_func("/display/hostile-modes", test_hostile_modes);
	g_test_add_func("/display/screenshot", test_screenshot);
	g_test_add_func("/display/checksums", test_checksums);
	return g_test_run();
}

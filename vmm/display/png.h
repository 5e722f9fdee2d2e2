/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * A screenshot as a PNG file: 8-bit RGB rows (3 bytes a pixel), stored
 * uncompressed in zlib's "stored" blocks, which every PNG reader takes. No
 * compression library in the monitor, and the encoding cost is a copy and two
 * checksums. Writes to fd; returns 0 or -errno.
 */
struct png_source {
	unsigned width, height;
	/* Fills row y (width * 3 bytes of R, G, B). */
	void (*row)(void *opaque, unsigned y, uint8_t *rgb);
	void *opaque;
};

int png_write(int fd, const struct png_source *src);
/* The checksums PNG and zlib use, exposed for tests. */
uint32_t png_crc32(uint32_t crc, const uint8_t *data, size_t len);
uint32_t png_adler32(uint32_t adler, const uint8_t *data, size_t len);

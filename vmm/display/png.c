/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display/png.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The largest stored deflate block. */
#define STORED_BLOCK_MAX 65535u

uint32_t png_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

uint32_t png_adler32(uint32_t adler, const uint8_t *data, size_t len)
{
	uint32_t a = adler & 0xffff, b = adler >> 16;

	for (size_t i = 0; i < len; i++) {
		a = (a + data[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC of type and data. */
static int write_chunk(int fd, const char type[4], const uint8_t *data, uint32_t len)
{
	uint8_t head[8], tail[4];
	uint32_t crc;
	int r;

	put_be32(head, len);
	memcpy(head + 4, type, 4);
	crc = png_crc32(png_crc32(0, head + 4, 4), data, len);
	put_be32(tail, crc);
	if ((r = write_full(fd, head, sizeof(head))) < 0 || (r = write_full(fd, data, len)) < 0)
		return r;
	return write_full(fd, tail, sizeof(tail));
}

int png_write(int fd, const struct png_source *src)
{
	static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13] = { 0 };
	size_t row_len = 1 + (size_t)src->width * 3; /* filter byte 0 (none), then the pixels */
	size_t raw_len = row_len * src->height;
	size_t blocks = (raw_len + STORED_BLOCK_MAX - 1) / STORED_BLOCK_MAX;
	size_t idat_len = 2 + raw_len + 5 * blocks + 4;
	uint8_t *idat, *out, *raw;
	uint32_t adler = 1;
	int r;

	if (!src->width || !src->height || src->width > 16384 || src->height > 16384)
		return -EINVAL;
	idat = malloc(idat_len + raw_len);
	if (!idat)
		return -ENOMEM;
	raw = idat + idat_len;
	for (unsigned y = 0; y < src->height; y++) {
		raw[y * row_len] = 0;
		src->row(src->opaque, y, raw + y * row_len + 1);
	}
	out = idat;
	*out++ = 0x78; /* deflate, 32 KiB window */
	*out++ = 0x01; /* no preset dictionary, fastest; (0x7801 % 31 == 0) */
	for (size_t done = 0; done < raw_len;) {
		uint32_t n = (uint32_t)(raw_len - done < STORED_BLOCK_MAX ? raw_len - done
									  : STORED_BLOCK_MAX);

		*out++ = done + n == raw_len; /* BFINAL, BTYPE 00: stored */
		*out++ = (uint8_t)n;
		*out++ = (uint8_t)(n >> 8);
		*out++ = (uint8_t)~n;
		*out++ = (uint8_t)(~n >> 8);
		memcpy(out, raw + done, n);
		out += n;
		done += n;
	}
	adler = png_adler32(adler, raw, raw_len);
	put_be32(out, adler);
	put_be32(ihdr, src->width);
	put_be32(ihdr + 4, src->height);
	ihdr[8] = 8; /* bits per channel */
	ihdr[9] = 2; /* truecolour */
	r = write_full(fd, signature, sizeof(signature));
	if (r >= 0)
		r = write_chunk(fd, "IHDR", ihdr, sizeof(ihdr));
	if (r >= 0)
		r = write_chunk(fd, "IDAT", idat, (uint32_t)idat_len);
	if (r >= 0)
		r = write_chunk(fd, "IEND", NULL, 0);
	free(idat);
	return r;
}

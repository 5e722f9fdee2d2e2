/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR 0x5c
#define AML_ARG0_OP 0x68
#define AML_NOTIFY_OP 0x86
#define AML_LEQUAL_OP 0x93
#define AML_IF_OP 0xa0

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static int reserve(struct aml *a, size_t extra)
{
	size_t cap;
	uint8_t *buf;

	if (a->error)
		return a->error;
	if (a->len + extra <= a->cap)
		return 0;
	cap = a->cap ? a->cap * 2 : 256;
	while (cap < a->len + extra)
		cap *= 2;
	buf = realloc(a->buf, cap);
	if (!buf)
		return a->error = -ENOMEM;
	a->buf = buf;
	a->cap = cap;
	return 0;
}

void aml_bytes(struct aml *a, const void *bytes, size_t len)
{
	if (reserve(a, len) < 0)
		return;
	memcpy(a->buf + a->len, bytes, len);
	a->len += len;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void name_seg(struct aml *a, const char *seg, size_t len)
{
	char padded[4] = { '_', '_', '_', '_' };

	if (len == 0 || len > 4) {
		a->error = -EINVAL;
		return;
	}
	memcpy(padded, seg, len);
	aml_bytes(a, padded, 4);
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *segs[16], *p;
	size_t lens[16], n = 0;

	if (*path == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		path++;
	}
	for (p = path; *p && n < 16; n++) {
		const char *dot = strchr(p, '.');

		segs[n] = p;
		lens[n] = dot ? (size_t)(dot - p) : strlen(p);
		p = dot ? dot + 1 : p + lens[n];
	}
	if (n == 0) {
		aml_byte(a, AML_ZERO_OP); /* NullName: the root itself */
		return;
	}
	if (n == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (n > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)n);
	}
	for (size_t i = 0; i < n; i++)
		name_seg(a, segs[i], lens[i]);
}

void aml_integer(struct aml *a, uint64_t value)
{
	uint8_t le[8];

	for (size_t i = 0; i < 8; i++)
		le[i] = (uint8_t)(value >> (8 * i));
	if (value == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (value == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (value <= UINT8_MAX) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_bytes(a, le, 1);
	} else if (value <= UINT16_MAX) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_bytes(a, le, 2);
	} else if (value <= UINT32_MAX) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_bytes(a, le, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_bytes(a, le, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "PNP0C0C": three letters packed in 5 bits each, then four hex digits; stored as a DWord. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;
	int d[4];

	if (strlen(id) != 7) {
		a->error = -EINVAL;
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		d[i] = hex_digit(id[3 + i]);
		if (d[i] < 0 || id[i % 3] < 'A' || id[i % 3] > 'Z') {
			a->error = -EINVAL;
			return;
		}
	}
	uint16_t vendor = (uint16_t)((id[0] - 0x40) << 10 | (id[1] - 0x40) << 5 | (id[2] - 0x40));
	v = (uint32_t)(vendor >> 8) | (uint32_t)(vendor & 0xff) << 8 |
	    (uint32_t)(d[0] << 4 | d[1]) << 16 | (uint32_t)(d[2] << 4 | d[3]) << 24;
	aml_byte(a, AML_DWORD_PREFIX);
	for (size_t i = 0; i < 4; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

size_t aml_pkg_length_encode(size_t contents, uint8_t out[4])
{
	for (size_t n = 1; n <= 4; n++) {
		size_t total = contents + n;

		if (n == 1 && total < 0x40) {
			out[0] = (uint8_t)total;
			return 1;
		}
		if (n > 1 && total < (1ULL << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0f));
			for (size_t i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

static void open_package(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->error = -E2BIG;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t enc[4];
	size_t start, contents, n;

	if (a->error)
		return;
	if (a->depth == 0) {
		a->error = -EINVAL;
		return;
	}
	start = a->open[--a->depth];
	contents = a->len - start;
	n = aml_pkg_length_encode(contents, enc);
	if (n == 0) {
		a->error = -E2BIG;
		return;
	}
	if (reserve(a, n) < 0)
		return;
	memmove(a->buf + start + n, a->buf + start, contents);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	open_package(a);
	aml_name_string(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	open_package(a);
	aml_name_string(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned nargs)
{
	aml_byte(a, AML_METHOD_OP);
	open_package(a);
	aml_name_string(a, name);
	aml_byte(a, (uint8_t)(nargs & 7)); /* MethodFlags: not serialized, sync level 0 */
}

void aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF_OP);
	open_package(a);
}

void aml_package_begin(struct aml *a, uint8_t nelements)
{
	aml_byte(a, AML_PACKAGE_OP);
	open_package(a);
	aml_byte(a, nelements);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

void aml_buffer(struct aml *a, const uint8_t *bytes, size_t len)
{
	aml_byte(a, AML_BUFFER_OP);
	open_package(a);
	aml_integer(a, len);
	aml_bytes(a, bytes, len);
	aml_end(a);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	aml_byte(a, AML_NOTIFY_OP);
	aml_name_string(a, path);
	aml_integer(a, value);
}

void aml_arg_equals(struct aml *a, unsigned arg, uint64_t value)
{
	aml_byte(a, AML_LEQUAL_OP);
	aml_byte(a, (uint8_t)(AML_ARG0_OP + (arg & 7)));
	aml_integer(a, value);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What the VMM needs from an arm64 Linux Image's header (Documentation/arch/arm64/booting.rst). */
struct arm64_image {
	const uint8_t *data;
	size_t size;
	uint64_t text_offset; /* from a 2 MiB-aligned base */
	uint64_t image_size;  /* what the kernel occupies once running, BSS included */
};

#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" at 0x38 */
#define ARM64_IMAGE_HEADER_SIZE 64
/* COMMAND_LINE_SIZE of arm64 kernels, without the NUL. */
#define ARM64_CMDLINE_MAX 2047

/*
 * Validates a little-endian arm64 Image. On failure returns -ENOEXEC and
 * points *ret_reason at a sentence saying what is wrong (a gzip-compressed
 * file among them: the loader does not decompress).
 */
int arm64_image_parse(const uint8_t *data, size_t size, struct arm64_image *ret,
		      const char **ret_reason);

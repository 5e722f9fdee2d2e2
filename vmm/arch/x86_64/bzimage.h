/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* What the VMM needs to know from a Linux bzImage's setup header. */
struct bzimage {
	const uint8_t *data;
	size_t size;
	uint16_t version;  /* boot protocol, e.g. 0x020f */
	size_t setup_size; /* boot sector + real-mode setup, not loaded for the 64-bit entry */
	size_t header_end; /* the setup header is [0x1f1, header_end) */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* longest command line the kernel takes, without the NUL */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	bool relocatable;
};

#define BZ_SETUP_HEADER_OFFSET 0x1f1
#define BZ_SETUP_HEADER_LIMIT 0x290 /* where boot_params stops holding the header */
#define BZ_LOADFLAG_LOADED_HIGH 0x01
#define BZ_LOADFLAG_CAN_USE_HEAP 0x80
#define BZ_XLF_KERNEL_64 0x01
#define BZ_MIN_VERSION 0x0206

/*
 * Validates a bzImage for the 64-bit boot protocol. On failure returns
 * -ENOEXEC and points *ret_reason at a sentence saying what is wrong.
 */
int bzimage_parse(const uint8_t *data, size_t size, struct bzimage *ret, const char **ret_reason);

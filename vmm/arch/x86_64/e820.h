/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "memory.h"

#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX_ENTRIES 8

/* The memory map the guest sees: low RAM, the legacy BIOS hole, RAM below the MMIO hole and above 4
 * GiB. */
size_t e820_build(const struct guest_memory *mem, struct e820_entry entries[E820_MAX_ENTRIES]);

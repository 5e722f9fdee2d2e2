/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * What ARM's PrimeCell peripherals (PL011, PL031, PL061) share: 32-bit
 * registers at word offsets, and at 0xfe0-0xffc the eight ID bytes (part
 * number, designer, revision, then the PrimeCell signature) by which Linux's
 * AMBA bus matches its drivers.
 */
#define PRIMECELL_ID_OFFSET 0xfe0

/* The ID register at offset, if it is one. */
static inline bool primecell_id(const uint8_t id[8], uint64_t offset, uint32_t *ret)
{
	if (offset < PRIMECELL_ID_OFFSET || offset >= PRIMECELL_ID_OFFSET + 32 || offset % 4)
		return false;
	*ret = id[(offset - PRIMECELL_ID_OFFSET) / 4];
	return true;
}

/* A read of size bytes at offset of the register whose value is value (offset's low bits pick
 * its bytes). */
static inline void primecell_put(uint32_t value, uint64_t offset, uint8_t *data, unsigned size)
{
	value >>= 8 * (offset & 3);
	for (unsigned i = 0; i < size; i++)
		data[i] = i < 4 ? (uint8_t)(value >> (8 * i)) : 0;
}

/* What a write of size bytes stores in a register. */
static inline uint32_t primecell_value(const uint8_t *data, unsigned size)
{
	uint32_t value = 0;

	for (unsigned i = 0; i < size && i < 4; i++)
		value |= (uint32_t)data[i] << (8 * i);
	return value;
}

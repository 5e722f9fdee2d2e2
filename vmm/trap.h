/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * What a vCPU's exit reaches: one table of trapped ranges per address space
 * (port I/O, and the MMIO regions whose place never changes: ECAM, the PCI
 * windows; BARs that move live behind their window, under its lock). An
 * access nobody decodes reads as all ones and writes are dropped, as on a
 * bus with nothing behind it.
 */
struct trap_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned size);
};

struct trap_range {
	const char *name;
	uint64_t base;
	uint64_t length;
	const struct trap_ops *ops;
	void *opaque;
};

#define TRAP_MAX_RANGES 32

struct trap_table {
	const char *space; /* "I/O port", "MMIO": for messages */
	uint64_t limit;	   /* the address space's size */
	/*
	 * Port I/O goes to the range of its first port (a device decodes a wide
	 * access at its last port itself); an MMIO access must lie wholly inside
	 * a region, or it is nobody's.
	 */
	bool whole_access;
	struct trap_range ranges[TRAP_MAX_RANGES];
	unsigned count;
};

void trap_table_init(struct trap_table *t, const char *space, uint64_t limit, bool whole_access);
/* Only before the vCPUs run: dispatch reads the table without a lock. */
int trap_register(struct trap_table *t, const char *name, uint64_t base, uint64_t length,
		  const struct trap_ops *ops, void *opaque);
void trap_access(const struct trap_table *t, uint64_t addr, uint8_t *data, unsigned size,
		 bool is_write);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/*
 * Guest-physical MMIO dispatch for the regions whose place never changes
 * (ECAM, the PCI windows): a vCPU's MMIO exit finds its region here. Regions
 * that move (BARs) live behind their bus's window handler, under its lock.
 * An access nobody decodes reads all ones and writes are dropped.
 */
struct mmio_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned size);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned size);
};

struct mmio_region {
	const char *name;
	uint64_t base;
	uint64_t length;
	const struct mmio_ops *ops;
	void *opaque;
};

#define MMIO_MAX_REGIONS 16

struct mmio_bus {
	struct mmio_region regions[MMIO_MAX_REGIONS];
	unsigned count;
};

/* Only before the vCPUs run: dispatch reads the table without a lock. */
int mmio_bus_register(struct mmio_bus *bus, const char *name, uint64_t base, uint64_t length,
		      const struct mmio_ops *ops, void *opaque);
void mmio_bus_access(const struct mmio_bus *bus, uint64_t addr, uint8_t *data, unsigned size,
		     int is_write);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mmio.h"

#include <errno.h>
#include <string.h>

#include "log.h"

int mmio_bus_register(struct mmio_bus *bus, const char *name, uint64_t base, uint64_t length,
		      const struct mmio_ops *ops, void *opaque)
{
	if (length == 0 || base + length < base)
		return log_error_errno(EINVAL, "MMIO region %s: bad range", name);
	if (bus->count == MMIO_MAX_REGIONS)
		return log_error_errno(ENOSPC, "Too many MMIO regions (adding %s)", name);
	for (unsigned i = 0; i < bus->count; i++) {
		const struct mmio_region *r = &bus->regions[i];

		if (base < r->base + r->length && r->base < base + length)
			return log_error_errno(EEXIST, "MMIO region %s overlaps %s", name, r->name);
	}
	bus->regions[bus->count++] = (struct mmio_region){
		.name = name,
		.base = base,
		.length = length,
		.ops = ops,
		.opaque = opaque,
	};
	return 0;
}

void mmio_bus_access(const struct mmio_bus *bus, uint64_t addr, uint8_t *data, unsigned size,
		     int is_write)
{
	for (unsigned i = 0; i < bus->count; i++) {
		const struct mmio_region *r = &bus->regions[i];

		/* The whole access inside the region: one that straddles its end is nobody's. */
		if (addr < r->base || addr - r->base >= r->length ||
		    size > r->length - (addr - r->base))
			continue;
		if (is_write)
			r->ops->write(r->opaque, addr - r->base, data, size);
		else
			r->ops->read(r->opaque, addr - r->base, data, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

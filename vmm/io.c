/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io.h"

#include <errno.h>
#include <string.h>

#include "log.h"

int io_bus_register(struct io_bus *bus, const char *name, uint16_t base, uint16_t length,
		    const struct io_port_ops *ops, void *opaque)
{
	uint32_t end = (uint32_t)base + length;

	if (bus->count == IO_MAX_RANGES)
		return log_error_errno(ENOSPC, "Too many I/O port ranges (adding %s)", name);
	for (unsigned i = 0; i < bus->count; i++) {
		const struct io_port_range *r = &bus->ranges[i];

		if (base < (uint32_t)r->base + r->length && r->base < end)
			return log_error_errno(EEXIST, "I/O ports of %s overlap those of %s", name,
					       r->name);
	}
	bus->ranges[bus->count++] = (struct io_port_range){
		.name = name,
		.base = base,
		.length = length,
		.ops = ops,
		.opaque = opaque,
	};
	return 0;
}

void io_bus_access(const struct io_bus *bus, uint16_t port, uint8_t *data, unsigned size,
		   int is_write)
{
	for (unsigned i = 0; i < bus->count; i++) {
		const struct io_port_range *r = &bus->ranges[i];

		if (port < r->base || port - r->base >= r->length)
			continue;
		if (is_write)
			r->ops->write(r->opaque, (uint16_t)(port - r->base), data, size);
		else
			r->ops->read(r->opaque, (uint16_t)(port - r->base), data, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

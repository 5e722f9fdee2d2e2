/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/*
 * Port I/O dispatch. Devices register the ports they decode; an access to a
 * port nobody decodes reads as all ones and writes are dropped, as on a PC
 * bus with nothing behind it.
 */
struct io_port_ops {
	void (*read)(void *opaque, uint16_t offset, uint8_t *data, unsigned size);
	void (*write)(void *opaque, uint16_t offset, const uint8_t *data, unsigned size);
};

struct io_port_range {
	const char *name;
	uint16_t base;
	uint16_t length;
	const struct io_port_ops *ops;
	void *opaque;
};

#define IO_MAX_RANGES 32

struct io_bus {
	struct io_port_range ranges[IO_MAX_RANGES];
	unsigned count;
};

int io_bus_register(struct io_bus *bus, const char *name, uint16_t base, uint16_t length,
		    const struct io_port_ops *ops, void *opaque);
void io_bus_access(const struct io_bus *bus, uint16_t port, uint8_t *data, unsigned size,
		   int is_write);

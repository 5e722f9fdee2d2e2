/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/pvpanic.h"

#include <string.h>

static void pvpanic_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pvpanic *p = opaque;
	uint8_t events = data[0] & (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);

	if (events)
		p->event(p->opaque, events);
}

const struct trap_ops pvpanic_io_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

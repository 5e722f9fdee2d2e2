/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/i8042.h"

#include <string.h>

#include "arch/x86_64/layout.h"

#define I8042_CMD_PULSE_RESET 0xfe
#define I8042_STATUS_RECEIVE_TIMEOUT 0x40
#define I8042_STATUS_PARITY_ERROR 0x80
#define COMMAND_OFFSET (PORT_I8042_COMMAND - PORT_I8042_DATA)

static void i8042_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	if (offset == COMMAND_OFFSET)
		data[0] = I8042_STATUS_RECEIVE_TIMEOUT | I8042_STATUS_PARITY_ERROR;
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct i8042 *k = opaque;

	if (offset == COMMAND_OFFSET && data[0] == I8042_CMD_PULSE_RESET)
		k->reset(k->opaque);
}

const struct trap_ops i8042_io_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

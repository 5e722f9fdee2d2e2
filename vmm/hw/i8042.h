/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "trap.h"

/*
 * Just enough of the PC keyboard controller for the reset line: command
 * 0xfe on port 0x64 pulses CPU reset, which Linux uses for "reboot=k" and as
 * a fallback. The status register reads "nothing pending", so polling loops end.
 */
struct i8042 {
	void (*reset)(void *opaque);
	void *opaque;
};

extern const struct trap_ops i8042_io_ops;

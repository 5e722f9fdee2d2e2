/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "trap.h"

/*
 * Just enough of the PC keyboard controller for the reset line: command
 * 0xfe on port 0x64 pulses CPU reset, which Linux uses for "reboot=k" and as
 * a fallback. There is no keyboard behind it, and the status register says
 * so: both buffers empty (polling loops end) with the receive timeout and
 * parity error bits set, what a controller with no device answering shows.
 * A firmware's PS/2 keyboard driver (OVMF's Ps2KeyboardDxe) then gives up at
 * once instead of running the controller and keyboard self-tests into their
 * timeouts, seconds of a firmware boot.
 */
struct i8042 {
	void (*reset)(void *opaque);
	void *opaque;
};

extern const struct trap_ops i8042_io_ops;

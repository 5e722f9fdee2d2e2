/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "trap.h"

/*
 * QEMU's pvpanic ISA device (ACPI QEMU0001, one I/O port): a guest kernel
 * that panics writes "panicked" to it, so the host learns of the panic
 * instead of watching a silent hang. Reading the port tells the guest which
 * events we understand.
 */
#define PVPANIC_PANICKED (1u << 0)     /* the guest kernel panicked */
#define PVPANIC_CRASH_LOADED (1u << 1) /* it panicked, and a kdump kernel takes over */

struct pvpanic {
	/* Called on a vCPU thread with the event bits the guest wrote. */
	void (*event)(void *opaque, uint8_t events);
	void *opaque;
};

extern const struct trap_ops pvpanic_io_ops;

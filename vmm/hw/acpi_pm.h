/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "trap.h"

/*
 * The power management side of our hardware-reduced ACPI platform: the FADT's
 * sleep control register (S5 = power off), sleep status and reset registers,
 * and the power button, raised as the Generic Event Device's interrupt.
 */
struct acpi_pm {
	void (*power_off)(void *opaque);
	void (*reset)(void *opaque);
	void (*pulse_irq)(void *opaque, unsigned gsi);
	void *opaque;
};

extern const struct trap_ops acpi_pm_io_ops;

void acpi_pm_press_power_button(struct acpi_pm *pm);

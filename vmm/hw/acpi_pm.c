/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/acpi_pm.h"

#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "log.h"

#define SLEEP_CONTROL_OFFSET (PORT_ACPI_SLEEP_CONTROL - PORT_ACPI_SLEEP_CONTROL)
#define RESET_OFFSET (PORT_ACPI_RESET - PORT_ACPI_SLEEP_CONTROL)
#define SLEEP_TYPE(v) (((v) >> 2) & 7)

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	/* Sleep status reads 0: we never wake from a sleep state, we only power off. */
	memset(data, 0, size);
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = opaque;

	switch (offset) {
	case SLEEP_CONTROL_OFFSET:
		if (!(data[0] & ACPI_SLEEP_ENABLE))
			break;
		if (SLEEP_TYPE(data[0]) == ACPI_SLEEP_TYPE_S5)
			pm->power_off(pm->opaque);
		else
			log_warning(
			    "The guest asked for sleep type %u, which this VM does not offer",
			    SLEEP_TYPE(data[0]));
		break;
	case RESET_OFFSET:
		if (data[0] == ACPI_RESET_VALUE)
			pm->reset(pm->opaque);
		break;
	default:
		break;
	}
}

const struct trap_ops acpi_pm_io_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
	pm->pulse_irq(pm->opaque, GSI_POWER_BUTTON);
}

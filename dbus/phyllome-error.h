/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Errors of the public API; on the bus they are org.phyllome.VM1.Error.<Name>. */
typedef enum {
	PHYLLOME_ERROR_FAILED,
	PHYLLOME_ERROR_NO_SUCH_MACHINE,
	PHYLLOME_ERROR_MACHINE_EXISTS,
	PHYLLOME_ERROR_INVALID_ARGUMENT,
	PHYLLOME_ERROR_INVALID_CONFIG,
	PHYLLOME_ERROR_NOT_AUTHORIZED,
	PHYLLOME_ERROR_ALREADY_RUNNING,
	PHYLLOME_ERROR_NOT_RUNNING,
	PHYLLOME_ERROR_BUSY,
	PHYLLOME_ERROR_START_FAILED,
	PHYLLOME_ERROR_TIMEOUT,
} PhyllomeError;

#define PHYLLOME_ERROR (phyllome_error_quark())
GQuark phyllome_error_quark(void);

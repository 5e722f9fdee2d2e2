/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "phyllome-error.h"

#include <gio/gio.h>

#include "phyllome-names.h"

static const GDBusErrorEntry error_entries[] = {
	{ PHYLLOME_ERROR_FAILED, PHYLLOME_ERROR_PREFIX "Failed" },
	{ PHYLLOME_ERROR_NO_SUCH_MACHINE, PHYLLOME_ERROR_PREFIX "NoSuchMachine" },
	{ PHYLLOME_ERROR_MACHINE_EXISTS, PHYLLOME_ERROR_PREFIX "MachineExists" },
	{ PHYLLOME_ERROR_INVALID_ARGUMENT, PHYLLOME_ERROR_PREFIX "InvalidArgument" },
	{ PHYLLOME_ERROR_INVALID_CONFIG, PHYLLOME_ERROR_PREFIX "InvalidConfig" },
	{ PHYLLOME_ERROR_NOT_AUTHORIZED, PHYLLOME_ERROR_PREFIX "NotAuthorized" },
	{ PHYLLOME_ERROR_ALREADY_RUNNING, PHYLLOME_ERROR_PREFIX "AlreadyRunning" },
	{ PHYLLOME_ERROR_NOT_RUNNING, PHYLLOME_ERROR_PREFIX "NotRunning" },
	{ PHYLLOME_ERROR_BUSY, PHYLLOME_ERROR_PREFIX "Busy" },
	{ PHYLLOME_ERROR_START_FAILED, PHYLLOME_ERROR_PREFIX "StartFailed" },
	{ PHYLLOME_ERROR_TIMEOUT, PHYLLOME_ERROR_PREFIX "Timeout" },
	{ PHYLLOME_ERROR_WRONG_ARCHITECTURE, PHYLLOME_ERROR_PREFIX "WrongArchitecture" },
};

GQuark phyllome_error_quark(void)
{
	static gsize quark;

	g_dbus_error_register_error_domain("phyllome-error-quark", &quark, error_entries,
					   G_N_ELEMENTS(error_entries));
	return (GQuark)quark;
}

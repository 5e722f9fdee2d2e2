/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Every bus name, object path and interface name of the public API, in one place. */
#define PHYLLOME_BUS_NAME "org.phyllome.VM1"
#define PHYLLOME_MANAGER_PATH "/org/phyllome/VM1"
#define PHYLLOME_MACHINE_PATH_PREFIX "/org/phyllome/VM1/machine"
#define PHYLLOME_MANAGER_INTERFACE "org.phyllome.VM1.Manager"
#define PHYLLOME_MACHINE_INTERFACE "org.phyllome.VM1.Machine"
#define PHYLLOME_ERROR_PREFIX "org.phyllome.VM1.Error."

#define PHYLLOME_POLKIT_MANAGE_OWN "org.phyllome.vm1.manage-own"
#define PHYLLOME_POLKIT_MANAGE "org.phyllome.vm1.manage"
#define PHYLLOME_POLKIT_CREATE "org.phyllome.vm1.create"
#define PHYLLOME_POLKIT_PASSTHROUGH "org.phyllome.vm1.passthrough"

/* Option keys of the a{sv} arguments. */
#define PHYLLOME_OPTION_INTERACTIVE "interactive"
#define PHYLLOME_OPTION_FORCE "force"
#define PHYLLOME_OPTION_TIMEOUT "timeout"
#define PHYLLOME_OPTION_PERSISTENT "persistent"
#define PHYLLOME_OPTION_STOP_ON_LOGOUT "stop-on-logout"
#define PHYLLOME_OPTION_STOP_ON_LOGOUT_DELAY "stop-on-logout-delay"

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* Exports org.phyllome.VM1.Manager and a Machine object per definition in the config dir. */
gboolean manager_start(Daemon *daemon, GError **error);
void manager_stop(Daemon *daemon);
/* Removes the definition file and the object (Machine.Delete, after its checks). */
gboolean manager_delete_machine(Daemon *daemon, Machine *machine, GError **error);
/* The PCI ID database, loaded at its first use. */
PciNames *manager_pci_names(Daemon *daemon);

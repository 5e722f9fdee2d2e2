/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* Exports org.phyllome.VM1.Manager and a Machine object per definition in the config dir. */
gboolean manager_start(Daemon *daemon, GError **error);
void manager_stop(Daemon *daemon);
/* The machine of that name, or NULL. */
Machine *manager_find_machine(Daemon *daemon, const char *name);
/* Calls func for every machine, in no particular order; func must not add or remove machines. */
void manager_foreach_machine(Daemon *daemon, void (*func)(Machine *m, gpointer data),
			     gpointer data);

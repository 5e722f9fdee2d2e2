/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"

/*
 * Sets in c what dict (a{sv}: kernel, initrd, cmdline, cpus, memory, owner,
 * autostart, memory-max, cpu-weight, tasks-max, disks, networks, vsock-cid,
 * and "interactive", which it ignores) holds, checking each key and type,
 * then the whole (machine_config_check). On FALSE, c is half changed: apply
 * to a copy.
 */
gboolean machine_config_apply_variant(MachineConfig *c, GVariant *dict, GError **error);
/* A copy of a checked definition, through its keyfile form. */
MachineConfig *machine_config_copy(const MachineConfig *c);

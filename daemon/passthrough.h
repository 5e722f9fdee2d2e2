/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/*
 * Host devices granted to a machine, taken from the host for one run of its
 * monitor and given back after it. Before the start every member of each
 * device's IOMMU group is checked (granted to this machine, or on vfio-pci,
 * pcieport or no driver: VFIO needs the whole group), each granted device is
 * moved to vfio-pci (driver_override, unbind, probe), its group opened and
 * passed as --vfio=group-fd=N,device=ADDRESS. A failing step gives back what
 * was moved, so the host's devices end where they were.
 */

/*
 * granted: the machine's devices (normalized addresses). On success, moved
 * holds "ADDRESS=DRIVER" for each device moved (DRIVER empty when it had
 * none): what passthrough_give_back() takes.
 */
gboolean passthrough_take(const char *sysfs_root, const char *machine, const char *const *granted,
			  GArray *fds, GPtrArray *argv, GPtrArray *moved, GError **error);
/* Each "ADDRESS=DRIVER" back to DRIVER; what does not go back is logged, nothing stops. */
void passthrough_give_back(const char *sysfs_root, const char *machine, const char *const *moved);

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
 *
 * kept (or NULL): the moved list of the machine's previous run, when that run
 * ended in a reboot of the guest and its devices stayed on vfio-pci: a reboot
 * is no reason to hand a device the guest programmed to a host driver and
 * take it back a moment later. Those still granted and on vfio-pci are
 * carried into moved (so they go back to their own drivers when a run ends for
 * good); the others go back now. On failure everything in moved, the carried
 * entries too, has gone back.
 */
gboolean passthrough_take(const char *sysfs_root, const char *machine, const char *const *granted,
			  const char *const *kept, GArray *fds, GPtrArray *argv, GPtrArray *moved,
			  GError **error);
/* Each "ADDRESS=DRIVER" back to DRIVER; what does not go back is logged, nothing stops. */
void passthrough_give_back(const char *sysfs_root, const char *machine, const char *const *moved);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"

/*
 * What a machine's devices need from the host, opened by phyllomed for its
 * unprivileged monitor: disk images (read-only when the definition says
 * so), taps (created when missing) with /dev/vhost-net, /dev/vhost-vsock.
 * Each fd is appended to fds (it becomes fd 3 + its index in the monitor)
 * and the matching phyllome-vmm option to argv. Errors are StartFailed,
 * naming the device.
 */
gboolean devices_open(const MachineConfig *config, GArray *fds, GPtrArray *argv, GError **error);

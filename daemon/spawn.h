/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "daemon.h"
#include "supervisor.h"

/* What one start of a machine's monitor needs. */
typedef struct {
	const MachineConfig *config;
	const DaemonOptions *options;
	const char *runtime_dir;    /* the machine's: its console and control sockets go there */
	const char *const *granted; /* host devices granted to the machine, NULL-terminated */
	uid_t monitor_id;	    /* the uid and gid it runs as (monitor-ids.h) */
	const char *const *kept;    /* devices the previous run left on vfio-pci (passthrough.h) */
} MonitorLaunch;

/*
 * Opens everything the monitor runs on (kernel, initrd, /dev/kvm, disks,
 * taps, vhost devices, the granted host devices' VFIO groups), makes its
 * sockets and forks it, waiting in ret until spawn_release (supervisor.h).
 * *ret_moved: "ADDRESS=DRIVER" for each host device moved to vfio-pci (or
 * kept there from the previous run), to give back when the run ends for
 * good. On failure everything is undone, and the kept devices given back.
 */
gboolean monitor_spawn(const MonitorLaunch *launch, Spawn *ret, char ***ret_moved, GError **error);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <syslog.h>

#include "bouncer.h"
#include "hostdev.h"
#include "monitor-ids.h"
#include "phyllome-dbus-generated.h"
#include "scope.h"

/* Where phyllomed may write disk images (the unit's ReadWritePaths=, its StateDirectory=). */
#define PHYLLOME_IMAGES_ROOT "/var/lib/phyllome"

/* Settings of one phyllomed, from its command line. */
typedef struct {
	char *config_dir;	/* machine definitions, NAME.conf */
	char *runtime_dir;	/* per-machine runtime state and console sockets */
	char *vmm_path;		/* phyllome-vmm */
	MonitorIds monitor_ids; /* the uids and gids monitors run as, one each */
	char *slice;		/* the slice of the machines' scopes */
	guint stop_timeout;	/* seconds a guest has to power off before it is killed */
	char *sysfs_root;	/* where host devices are read: /sys, or a fixture tree in tests */
	char *firmware_dir;	/* Firmware=uefi's code and variable store templates (firmware.h) */
} DaemonOptions;

typedef struct Machine Machine;
typedef struct Inhibitor Inhibitor;
typedef struct Logins Logins;

/* What every part of phyllomed shares. */
typedef struct {
	DaemonOptions options;
	GDBusConnection *bus;
	GDBusObjectManagerServer *object_manager;
	PhyllomeManager *manager_iface;
	Bouncer *bouncer;
	Scopes *scopes;
	GHashTable *machines;		     /* name -> Machine */
	GHashTable *monitor_ids_taken;	     /* the ids running monitors hold (monitor-ids.h) */
	GHashTable *monitor_ids_left_behind; /* and those processes ran as when we started */
	PciNames *pci_names;		     /* loaded at the first ListHostDevices */
	Inhibitor *inhibitor;		     /* host sleep and shutdown */
	Logins *logins;			     /* autostart at boot and login */
	/* Run (with the hook's data) after any machine's State changed: how others follow machines.
	 */
	GHookList machine_state_hooks;
} Daemon;

void daemon_log(const char *machine, int priority, const char *format, ...) G_GNUC_PRINTF(3, 4);
/*
 * errno as a GError (PHYLLOME_ERROR, code): the formatted message, ": ", and
 * what err says. Returns FALSE, for "return daemon_errno_error(...)".
 */
gboolean daemon_errno_error(GError **error, int code, int err, const char *format, ...)
    G_GNUC_PRINTF(4, 5);
/* Where fd really is, every link resolved (/proc/self/fd/N), or NULL. */
char *daemon_fd_path(int fd);
/* Whether fd lies below the directory dir (a path taken as written). */
gboolean daemon_fd_below(int fd, const char *dir);
/* The PCI ID database, loaded at its first use. */
PciNames *daemon_pci_names(Daemon *daemon);

/* Exported object path of a machine: PHYLLOME_MACHINE_PATH_PREFIX/escaped name. */
char *machine_object_path(const char *name);

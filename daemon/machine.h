/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "daemon.h"
#include "state.h"

/*
 * One machine: its definition, its exported org.phyllome.VM1.Machine object
 * and, while it runs, its monitor process in phyllome-NAME.scope.
 */
/* What a machine asks of the manager that holds it. */
typedef struct {
	/* Its State changed. */
	void (*state_changed)(Machine *m);
	/* Delete: its definition and object go. */
	gboolean (*remove)(Machine *m, GError **error);
	/* The machine other than m that holds a grant of device, or NULL. */
	Machine *(*device_holder)(Machine *m, const char *device);
	/* Whether c takes nothing only one machine may have (a tap, a vsock CID) from another. */
	gboolean (*check_unshared)(Machine *m, const MachineConfig *c, GError **error);
	/* The "g-authorize-method" handler of the machine's objects (data: the machine). */
	GCallback authorize_method;
} MachineOps;

Machine *machine_new(Daemon *daemon, const MachineOps *ops, const char *name, MachineConfig *config,
		     const char *config_error);
/* Unexports the object; the machine goes away once no operation holds it. */
void machine_unexport(Machine *m);
Machine *machine_ref(Machine *m);
void machine_unref(Machine *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Machine, machine_unref)

Daemon *machine_get_daemon(Machine *m);
const char *machine_get_name(Machine *m);
const char *machine_get_path(Machine *m);
MachineState machine_get_state(Machine *m);
/* Whether the host device (a normalized PCI address) is granted to the machine. */
gboolean machine_has_grant(Machine *m, const char *device);
/* A new definition read from disk (NULL and a reason when it is broken). */
void machine_set_config(Machine *m, MachineConfig *config, const char *config_error);

/* NULL when the definition is broken. */
const MachineConfig *machine_get_config(Machine *m);

/*
 * What phyllomed does by itself (autostart, the owner's logout, host sleep and
 * shutdown): no caller, no polkit; each logs why with the machine's name.
 * Each does nothing when the machine is not in a state it applies to.
 */
void machine_start_by_daemon(Machine *m, const char *why);
void machine_stop_by_daemon(Machine *m, guint timeout, const char *why);
/* Pause (pause TRUE) a running machine or resume a paused one; FALSE when it is neither. */
gboolean machine_pause_by_daemon(Machine *m, gboolean pause, const char *why);

/* Takes over a monitor that runs from an earlier phyllomed, when the runtime state says so. */
void machine_adopt(Machine *m);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "config.h"

/* phyllomed's client of systemd (transient scopes) and systemd-machined (machine registration). */
typedef struct Scopes Scopes;

typedef void (*ScopeCallback)(const GError *error, gpointer user_data);

Scopes *scopes_new(GDBusConnection *bus, const char *slice);
void scopes_free(Scopes *scopes);

/* "phyllome-NAME.scope" */
char *scope_unit_name(const char *machine_name);

/*
 * Creates the transient scope for a machine with pid in it (StartTransientUnit)
 * and calls back when systemd's job has finished: NULL, or an error with
 * systemd's reason. Times out after 30 s.
 */
void scopes_start(Scopes *scopes, const MachineConfig *config, pid_t pid, ScopeCallback callback,
		  gpointer user_data);

/* Registers the machine with systemd-machined (class vm, its UUID as machined's id), leader pid
 * already in its scope. */
void scopes_register_machine(Scopes *scopes, const char *name, const char *uuid, pid_t leader,
			     ScopeCallback callback, gpointer user_data);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "phyllome-dbus-generated.h"

/*
 * One host device granted to one machine: its org.phyllome.VM1.Grant object
 * below the machine's. The machine decides what a grant means (machine.c);
 * this is the object and its properties.
 */
typedef struct Grant Grant;

/* Its method calls go to on_method (a "g-authorize-method" handler) with data. */
Grant *grant_new(GDBusObjectManagerServer *om, const char *machine_path, const char *device,
		 const char *description, gboolean persistent, GCallback on_method, gpointer data);
/* Unexports the object. */
void grant_free(Grant *grant);

const char *grant_get_device(const Grant *grant);
const char *grant_get_path(const Grant *grant);
gboolean grant_get_persistent(const Grant *grant);
void grant_set_persistent(Grant *grant, gboolean persistent);
void grant_set_active(Grant *grant, gboolean active);

/* The object path of a grant: MACHINE_PATH/grant/ADDRESS with ":" and "." as "_". */
char *grant_object_path(const char *machine_path, const char *device);

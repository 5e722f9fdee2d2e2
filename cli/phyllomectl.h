/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "phyllome-dbus-generated.h"

/* Exit statuses, for scripts (as systemctl's where they mean the same). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,   /* the operation failed (the daemon's error is printed) */
	EXIT_USAGE = 2,	   /* bad command line */
	EXIT_INACTIVE = 3, /* status: the machine is not running */
	EXIT_NO_SUCH = 4,  /* no such machine */
	EXIT_DENIED = 5,   /* not authorized */
};

typedef struct {
	gboolean json;
	gboolean no_legend;
	gboolean no_ask_password;
	GDBusConnection *bus;
} Ctl;

typedef int (*CommandFunc)(Ctl *ctl, int argc, char **argv);

/* One verb: its name, its arguments for --help, a line of help, and what runs it. */
typedef struct {
	const char *name;
	const char *args;
	const char *help;
	CommandFunc run;
} Command;

int cmd_list(Ctl *ctl, int argc, char **argv);
int cmd_status(Ctl *ctl, int argc, char **argv);
int cmd_monitor(Ctl *ctl, int argc, char **argv);
int cmd_create(Ctl *ctl, int argc, char **argv);
int cmd_remove(Ctl *ctl, int argc, char **argv);
int cmd_start(Ctl *ctl, int argc, char **argv);
int cmd_stop(Ctl *ctl, int argc, char **argv);
int cmd_kill(Ctl *ctl, int argc, char **argv);
int cmd_restart(Ctl *ctl, int argc, char **argv);
int cmd_pause(Ctl *ctl, int argc, char **argv);
int cmd_resume(Ctl *ctl, int argc, char **argv);
int cmd_console(Ctl *ctl, int argc, char **argv);
int cmd_screenshot(Ctl *ctl, int argc, char **argv);
int cmd_view(Ctl *ctl, int argc, char **argv);
int cmd_logs(Ctl *ctl, int argc, char **argv);
int cmd_set(Ctl *ctl, int argc, char **argv);
int cmd_devices(Ctl *ctl, int argc, char **argv);
int cmd_grant(Ctl *ctl, int argc, char **argv);
int cmd_revoke(Ctl *ctl, int argc, char **argv);
int cmd_enable(Ctl *ctl, int argc, char **argv);
int cmd_disable(Ctl *ctl, int argc, char **argv);

/* Shared helpers (phyllomectl.c). */
PhyllomeManager *ctl_manager(Ctl *ctl, GError **error);
/* The proxy of a machine by name; NULL with a printed error (and *ret_status set) otherwise. */
PhyllomeMachine *ctl_machine(Ctl *ctl, const char *name, int *ret_status);
/* A user name or uid. */
gboolean ctl_parse_user(const char *s, guint32 *ret);
/* Prints "phyllomectl: WHAT: message" for a D-Bus error and returns the exit status it means. */
int ctl_error(const char *what, GError *error);
/* {"interactive": <b>} when polkit may ask, after starting a text agent on a terminal. */
GVariant *ctl_options(Ctl *ctl, GVariantBuilder *extra);
void json_string(GString *out, const char *s);
char *format_bytes(guint64 bytes);

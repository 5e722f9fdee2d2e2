/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the files of one machine share, and nothing outside them includes:
 * machine.c (the object, its properties and its life cycle), methods.c (its
 * D-Bus methods), machine-grants.c (host devices granted to it) and
 * machine-adopt.c (a monitor left by an earlier phyllomed).
 */
#include "grant.h"
#include "machine.h"
#include "supervisor.h"
#include "vmm-client.h"

struct Machine {
	gint ref;
	Daemon *daemon;
	const MachineOps *ops;
	char *name;
	char *path;
	MachineConfig *config; /* NULL when the definition is broken */
	char *config_error;
	PhyllomeObjectSkeleton *object;
	PhyllomeMachine *iface;
	gboolean exported;

	MachineState state;
	pid_t pid;
	uid_t monitor_id; /* its uid and gid while it runs, from the daemon's range; 0: none */
	int pidfd;
	guint child_watch_id; /* our own child: exit status known */
	guint pidfd_watch_id; /* adopted from an earlier phyllomed: status unknown */
	Spawn spawn;
	guint exec_watch_id;
	/* When each step of the current start was done (monotonic µs), for its log line. */
	struct {
		gint64 requested; /* the Start call arrived (0: no call, an autostart or reboot) */
		gint64 begun;	  /* authorized; preparing the monitor */
		gint64 forked;	  /* asking systemd for its scope */
		gint64 in_scope;
		gint64 executed;
		gint64 registered; /* machined answered */
	} start_times;
	/* A start is over when both have happened, in either order: */
	gboolean registering;	   /* machined has not answered RegisterMachine yet */
	gboolean monitor_answered; /* the monitor serves its control channel */

	GError *start_error;	 /* why the start being torn down failed */
	gboolean stop_requested; /* Stop, Kill or Restart asked for the end */
	gboolean killing;
	guint stop_timer_id;
	guint stop_timeout;
	GDBusMethodInvocation *start_invocation;
	GDBusMethodInvocation *restart_invocation; /* Restart: start again once stopped */
	GQueue stop_waiters;			   /* Stop/Kill calls answered once stopped */
	VmmClient *control; /* the monitor's org.phyllome.VMM1, once needed */
	gboolean panicked;  /* the monitor said the guest kernel panicked */
	GArray *reboots;    /* gint64 monotonic times of the guest's reboots since the last Start */
	GPtrArray *grants;  /* Grant, one per host device granted, sorted by device */
	char **moved_devices; /* "ADDRESS=DRIVER": host devices this run took, to give back when it
				 ends */
};

void machine_log(Machine *m, int priority, const char *format, ...) G_GNUC_PRINTF(3, 4);
char *machine_runtime_path(Machine *m, const char *file);
void machine_set_state(Machine *m, MachineState state);
void machine_publish_config(Machine *m);

/* invocation: Start's or Restart's, answered once the machine runs or failed (NULL: phyllomed's
 * own). */
/* requested: when the call that asked for it arrived (monotonic µs), 0 for none. */
void machine_begin_start(Machine *m, GDBusMethodInvocation *invocation, gint64 requested);
/* force: SIGKILL now; else the power button and timeout seconds to power off. */
void machine_begin_stop(Machine *m, gboolean force, guint timeout);
/* Ends a start under way; the error is what Start answers. */
void machine_start_failed(Machine *m, GError *error);
/* The end of a run: its runtime files go, and its host devices back to their drivers. */
void machine_remove_runtime_state(Machine *m);
void machine_give_back_devices(Machine *m);
/* The monitor's uid and gid are the machine's until it ends (monitor-ids.h). */
void machine_hold_monitor_id(Machine *m, uid_t id);
void machine_release_monitor_id(Machine *m);
/* The pidfd of an adopted monitor became readable: it ended. */
gboolean machine_pidfd_ready(int fd, GIOCondition condition, gpointer data);
/* Pause (pausing TRUE) or Resume went through on the monitor: the machine's state follows. */
void machine_paused_or_resumed(Machine *m, gboolean pausing);

/* reply: the method's return values, NULL on error. */
typedef void (*MachineControlCallback)(Machine *m, GVariant *reply, const GError *error,
				       gpointer data);
/* A method of the monitor's org.phyllome.VMM1 (params: floating or NULL). */
void machine_control_call_full(Machine *m, const char *interface, const char *method,
			       GVariant *params, MachineControlCallback callback, gpointer data);
/* The same with file descriptors for params' handles. */
void machine_control_call_with_fds(Machine *m, const char *method, GVariant *params,
				   GUnixFDList *fds, MachineControlCallback callback,
				   gpointer data);
void machine_control_call(Machine *m, const char *method, MachineControlCallback callback,
			  gpointer data);

/* machine-grants.c */
void machine_grants_sync(Machine *m);
void machine_grants_set_active(Machine *m, gboolean active);
Grant *machine_grant_find(Machine *m, const char *device);
Grant *machine_grant_find_by_path(Machine *m, const char *object_path);
Grant *machine_grant_add(Machine *m, const char *device, gboolean persistent);
void machine_grant_remove(Machine *m, Grant *grant);
/* Writes the definition with Devices= changed; on failure nothing changed. */
gboolean machine_grants_save(Machine *m, const char *add, const char *remove, GError **error);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "phyllome-vmm1.h"

typedef enum {
	MACHINE_STOPPED,
	MACHINE_STARTING,
	MACHINE_RUNNING,
	MACHINE_STOPPING,
	MACHINE_FAILED,
	MACHINE_PAUSED,
} MachineState;

/* What the end of a monitor process means for its machine. */
typedef struct {
	MachineState state;
	const char *result; /* the Result property */
	gboolean restart;   /* the guest rebooted: start it again */
	int exit_status;    /* -1: killed by a signal or unknown */
} MachineOutcome;

const char *machine_state_to_string(MachineState state);
gboolean machine_state_is_active(MachineState state);

/*
 * Maps how the monitor ended (a waitpid status, or known == FALSE for an
 * adopted monitor whose status nobody can read) and whether we asked it to
 * stop, and whether the guest said it panicked, to the machine's next state
 * and Result.
 */
MachineOutcome machine_outcome(gboolean known, int wait_status, gboolean stop_requested,
			       gboolean panicked);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "state.h"

#include <sys/wait.h>

static const char *const state_names[] = {
	[MACHINE_STOPPED] = "stopped", [MACHINE_STARTING] = "starting",
	[MACHINE_RUNNING] = "running", [MACHINE_STOPPING] = "stopping",
	[MACHINE_FAILED] = "failed",   [MACHINE_PAUSED] = "paused",
};

const char *machine_state_to_string(MachineState state)
{
	return state_names[state];
}

gboolean machine_state_is_active(MachineState state)
{
	return state == MACHINE_STARTING || state == MACHINE_RUNNING || state == MACHINE_STOPPING ||
	       state == MACHINE_PAUSED;
}

MachineOutcome machine_outcome(gboolean known, int wait_status, gboolean stop_requested,
			       gboolean panicked)
{
	MachineOutcome o = { .state = MACHINE_FAILED, .result = "exit-code", .exit_status = -1 };

	/* The guest said it panicked (GuestPanicked): that is why, however the monitor ended. */
	if (panicked) {
		o.result = "panic";
		if (known && WIFEXITED(wait_status))
			o.exit_status = WEXITSTATUS(wait_status);
		return o;
	}
	if (!known) {
		/* An adopted monitor: only whether we asked it to stop is known. */
		o.state = stop_requested ? MACHINE_STOPPED : MACHINE_FAILED;
		o.result = stop_requested ? "success" : "unknown";
		return o;
	}
	if (WIFSIGNALED(wait_status)) {
		o.state = stop_requested ? MACHINE_STOPPED : MACHINE_FAILED;
		o.result = stop_requested ? "success" : "signal";
		return o;
	}
	o.exit_status = WEXITSTATUS(wait_status);
	switch (o.exit_status) {
	case VMM_EXIT_POWEROFF:
		o.state = MACHINE_STOPPED;
		o.result = "success";
		break;
	case VMM_EXIT_REBOOT:
		/* A reboot the user asked for in the guest; a stop we asked for wins. */
		o.state = stop_requested ? MACHINE_STOPPED : MACHINE_STARTING;
		o.result = stop_requested ? "success" : "reboot";
		o.restart = !stop_requested;
		break;
	case VMM_EXIT_HOST_STOP:
		/* The guest ignored the power button until the monitor's own timeout. */
		o.state = stop_requested ? MACHINE_STOPPED : MACHINE_FAILED;
		o.result = stop_requested ? "timeout" : "signal";
		break;
	case VMM_EXIT_CRASH:
		o.result = "crash";
		break;
	case VMM_EXIT_PANIC:
		o.result = "panic";
		break;
	case VMM_EXIT_USAGE:
		o.result = "config";
		break;
	default:
		o.result = "exit-code";
		break;
	}
	return o;
}

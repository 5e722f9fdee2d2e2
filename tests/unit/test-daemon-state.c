/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How the end of a monitor maps to a machine's State and Result. */
#include <glib.h>
#include <signal.h>

#include "state.h"

#define EXITED(code) ((code) << 8)
#define KILLED(sig) (sig)

static void check_panicked(gboolean known, int status, gboolean stop_requested, gboolean panicked,
			   MachineState state, const char *result, gboolean restart,
			   int exit_status)
{
	MachineOutcome o = machine_outcome(known, status, stop_requested, panicked);

	g_assert_cmpstr(machine_state_to_string(o.state), ==, machine_state_to_string(state));
	g_assert_cmpstr(o.result, ==, result);
	g_assert_cmpint(o.restart, ==, restart);
	g_assert_cmpint(o.exit_status, ==, exit_status);
}

static void check(gboolean known, int status, gboolean stop_requested, MachineState state,
		  const char *result, gboolean restart, int exit_status)
{
	check_panicked(known, status, stop_requested, FALSE, state, result, restart, exit_status);
}

static void test_outcomes(void)
{
	/* The guest powered off, by itself or after the power button. */
	check(TRUE, EXITED(0), FALSE, MACHINE_STOPPED, "success", FALSE, 0);
	check(TRUE, EXITED(0), TRUE, MACHINE_STOPPED, "success", FALSE, 0);
	/* A reboot in the guest starts it again, unless we were stopping it. */
	check(TRUE, EXITED(3), FALSE, MACHINE_STARTING, "reboot", TRUE, 3);
	check(TRUE, EXITED(3), TRUE, MACHINE_STOPPED, "success", FALSE, 3);
	/* Failures. */
	check(TRUE, EXITED(1), FALSE, MACHINE_FAILED, "exit-code", FALSE, 1);
	check(TRUE, EXITED(2), FALSE, MACHINE_FAILED, "config", FALSE, 2);
	check(TRUE, EXITED(4), FALSE, MACHINE_FAILED, "crash", FALSE, 4);
	check(TRUE, EXITED(4), TRUE, MACHINE_FAILED, "crash", FALSE, 4);
	check(TRUE, EXITED(127), FALSE, MACHINE_FAILED, "exit-code", FALSE, 127);
	/* Stopped hard after the timeout of a stop we asked for; by someone else otherwise. */
	check(TRUE, EXITED(5), TRUE, MACHINE_STOPPED, "timeout", FALSE, 5);
	check(TRUE, EXITED(5), FALSE, MACHINE_FAILED, "signal", FALSE, 5);
	/* Signals: ours (Kill) or somebody else's. */
	check(TRUE, KILLED(SIGKILL), TRUE, MACHINE_STOPPED, "success", FALSE, -1);
	check(TRUE, KILLED(SIGKILL), FALSE, MACHINE_FAILED, "signal", FALSE, -1);
	check(TRUE, KILLED(SIGSEGV), FALSE, MACHINE_FAILED, "signal", FALSE, -1);
	/* A guest kernel panic: the monitor's status 6, or its GuestPanicked signal, whatever the
	 * end. */
	check(TRUE, EXITED(6), FALSE, MACHINE_FAILED, "panic", FALSE, 6);
	check_panicked(TRUE, EXITED(6), FALSE, TRUE, MACHINE_FAILED, "panic", FALSE, 6);
	check_panicked(TRUE, EXITED(0), TRUE, TRUE, MACHINE_FAILED, "panic", FALSE, 0);
	check_panicked(FALSE, 0, FALSE, TRUE, MACHINE_FAILED, "panic", FALSE, -1);
	check_panicked(TRUE, KILLED(SIGKILL), TRUE, TRUE, MACHINE_FAILED, "panic", FALSE, -1);
	/* Adopted monitors: nobody can read their status. */
	check(FALSE, 0, TRUE, MACHINE_STOPPED, "success", FALSE, -1);
	check(FALSE, 0, FALSE, MACHINE_FAILED, "unknown", FALSE, -1);
}

static void test_names(void)
{
	g_assert_cmpstr(machine_state_to_string(MACHINE_STOPPED), ==, "stopped");
	g_assert_cmpstr(machine_state_to_string(MACHINE_STARTING), ==, "starting");
	g_assert_cmpstr(machine_state_to_string(MACHINE_RUNNING), ==, "running");
	g_assert_cmpstr(machine_state_to_string(MACHINE_STOPPING), ==, "stopping");
	g_assert_cmpstr(machine_state_to_string(MACHINE_FAILED), ==, "failed");
	g_assert_cmpstr(machine_state_to_string(MACHINE_PAUSED), ==, "paused");
	g_assert_true(machine_state_is_active(MACHINE_PAUSED));
	g_assert_false(machine_state_is_active(MACHINE_STOPPED));
	g_assert_false(machine_state_is_active(MACHINE_FAILED));
	g_assert_true(machine_state_is_active(MACHINE_STARTING));
	g_assert_true(machine_state_is_active(MACHINE_RUNNING));
	g_assert_true(machine_state_is_active(MACHINE_STOPPING));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/daemon/state/outcomes", test_outcomes);
	g_test_add_func("/daemon/state/names", test_names);
	return g_test_run();
}

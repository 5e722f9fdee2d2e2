/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The contract between phyllomed and phyllome-vmm, in one place: the names of
 * the monitor's control API (dbus/org.phyllome.VMM1.xml), the monitor's exit
 * statuses and what each means, and the journal field that names a machine.
 * Plain C: the monitor includes it without GLib.
 */

#define PHYLLOME_VMM1_PATH "/org/phyllome/VMM1"
#define PHYLLOME_VMM1_INTERFACE "org.phyllome.VMM1"
#define PHYLLOME_VMM1_ERROR_SHUTTING_DOWN "org.phyllome.VMM1.Error.ShuttingDown"
#define PHYLLOME_VMM1_ERROR_PAUSED "org.phyllome.VMM1.Error.Paused"
#define PHYLLOME_VMM1_ERROR_INVALID_ARGUMENT "org.phyllome.VMM1.Error.InvalidArgument"
#define PHYLLOME_VMM1_ERROR_NO_DISPLAY "org.phyllome.VMM1.Error.NoDisplay"
#define PHYLLOME_VMM1_ERROR_NO_INPUT "org.phyllome.VMM1.Error.NoInput"

/* The display channel (dbus/org.phyllome.VMM1.Display.xml). */
#define PHYLLOME_VMM1_DISPLAY_INTERFACE "org.phyllome.VMM1.Display"
#define PHYLLOME_VMM1_LISTENER_PATH "/org/phyllome/VMM1/DisplayListener"
#define PHYLLOME_VMM1_LISTENER_INTERFACE "org.phyllome.VMM1.DisplayListener"

/* The journal field phyllomed tags a machine's lines with (journalctl PHYLLOME_MACHINE=NAME). */
#define PHYLLOME_JOURNAL_FIELD_MACHINE "PHYLLOME_MACHINE"

/* phyllome-vmm's exit statuses, documented in README.md and --help. */
enum {
	VMM_EXIT_POWEROFF = 0, /* the guest powered off (ACPI S5) */
	VMM_EXIT_ERROR = 1, /* the monitor failed: KVM missing or refusing, out of host resources */
	VMM_EXIT_USAGE = 2, /* bad options, missing or unusable kernel/initrd */
	VMM_EXIT_REBOOT = 3,	/* the guest asked for a reset (ACPI reset register, i8042) */
	VMM_EXIT_CRASH = 4,	/* triple fault, KVM internal error or failed entry */
	VMM_EXIT_HOST_STOP = 5, /* stopped hard: second SIGTERM, shutdown timeout, Ctrl-A x */
	VMM_EXIT_PANIC = 6,	/* the guest kernel reported a panic (pvpanic) */
};

/* What an exit status says of the run, for people (phyllomed's StatusText, the journal). */
static inline const char *vmm_exit_status_meaning(int status)
{
	switch (status) {
	case VMM_EXIT_POWEROFF:
		return "the guest powered off";
	case VMM_EXIT_ERROR:
		return "the monitor failed";
	case VMM_EXIT_USAGE:
		return "bad options or boot files";
	case VMM_EXIT_REBOOT:
		return "the guest rebooted";
	case VMM_EXIT_CRASH:
		return "the guest crashed";
	case VMM_EXIT_HOST_STOP:
		return "stopped hard";
	case VMM_EXIT_PANIC:
		return "the guest kernel panicked";
	case 127:
		return "the monitor could not be run";
	default:
		return "unexpected exit status";
	}
}

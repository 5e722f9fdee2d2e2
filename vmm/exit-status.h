/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* phyllome-vmm's exit statuses, documented in README.md and --help. */
enum {
	EXIT_GUEST_POWEROFF = 0, /* the guest powered off (ACPI S5) */
	EXIT_VMM_ERROR = 1,      /* the VMM failed: KVM missing or refusing, out of host resources */
	EXIT_USAGE = 2,          /* bad options, missing or unusable kernel/initrd */
	EXIT_GUEST_REBOOT = 3,   /* the guest asked for a reset (ACPI reset register, i8042) */
	EXIT_GUEST_CRASH = 4,    /* triple fault, KVM internal error or failed entry */
	EXIT_HOST_STOP = 5,      /* stopped hard: second SIGTERM, shutdown timeout, Ctrl-A x */
	EXIT_GUEST_PANIC = 6,    /* the guest kernel reported a panic (pvpanic) */
};

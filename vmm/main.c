/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfiles.h"
#include "phyllome-vmm1.h"
#include "log.h"
#include "options.h"
#include "sandbox.h"
#include "vcpu.h"
#include "vm.h"

#ifndef PHYLLOME_VERSION
#define PHYLLOME_VERSION "unknown"
#endif

static int block_signals(void)
{
	sigset_t mask;

	/* Blocked in every thread: the main loop takes them from a signalfd, vCPUs unblock only
	 * their kick. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, VCPU_KICK_SIGNAL);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(errno, "sigprocmask: %m");
	/* A console reader that goes away must not kill the VM. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return log_error_errno(errno, "signal(SIGPIPE): %m");
	return vcpu_install_kick_handler();
}

static int stop_status(enum vm_stop_reason reason, const char *name)
{
	switch (reason) {
	case VM_STOP_POWEROFF:
		log_info("VM %s: the guest powered off", name);
		return VMM_EXIT_POWEROFF;
	case VM_STOP_RESET:
		log_notice("VM %s: the guest reset the machine", name);
		return VMM_EXIT_REBOOT;
	case VM_STOP_CRASH:
		log_error("VM %s: the guest crashed", name);
		return VMM_EXIT_CRASH;
	case VM_STOP_PANIC:
		log_error("VM %s: the guest kernel panicked", name);
		return VMM_EXIT_PANIC;
	case VM_STOP_HOST:
		log_notice("VM %s: stopped by the host", name);
		return VMM_EXIT_HOST_STOP;
	default:
		log_error("VM %s: stopped by a VMM error", name);
		return VMM_EXIT_ERROR;
	}
}

int main(int argc, char **argv)
{
	struct vm_config config;
	enum options_action action;
	struct boot_files files;
	struct vm vm;
	int r, status;

	if (options_parse(argc, argv, &config, &action) < 0)
		return VMM_EXIT_USAGE;
	if (action == OPTIONS_HELP) {
		options_help(argv[0]);
		return 0;
	}
	if (action == OPTIONS_VERSION) {
		printf("phyllome-vmm %s\n", PHYLLOME_VERSION);
		return 0;
	}
	log_set_max_level(config.log_level);
	if (config.sandbox) {
		int keep[OPTIONS_MAX_FDS];

		/* Before anything is opened: what we did not ask for, the guest's monitor never
		 * holds. */
		if (sandbox_close_other_fds(keep, options_inherited_fds(&config, keep)) < 0)
			return VMM_EXIT_ERROR;
	}

	if ((config.firmware
		 ? boot_files_open_firmware(&files, config.firmware, config.nvram)
		 : boot_files_open(&files, config.kernel, config.initrd, config.cmdline)) < 0)
		return VMM_EXIT_USAGE;
	if (block_signals() < 0) {
		boot_files_close(&files);
		return VMM_EXIT_ERROR;
	}

	r = vm_create(&vm, &config, &files);
	boot_files_close(&files);
	if (r < 0) {
		status = vm.config_error ? VMM_EXIT_USAGE : VMM_EXIT_ERROR;
		vm_destroy(&vm);
		return status;
	}
	status = stop_status(vm_run(&vm), config.name);
	vm_destroy(&vm);
	return status;
}

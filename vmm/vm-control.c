/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM as its control channel (org.phyllome.VMM1) sees it. */
#include "vm.h"

#include <errno.h>

#include "log.h"

static const char *state(void *opaque)
{
	struct vm *vm = opaque;

	if (vm_stopping(vm) || vm->power_button_pressed)
		return "shutting-down";
	return vm_paused(vm) ? "paused" : "running";
}

static bool stopping(void *opaque)
{
	return vm_stopping(opaque);
}

static bool paused(void *opaque)
{
	return vm_paused(opaque);
}

static int pause_vm(void *opaque)
{
	return vm_pause(opaque);
}

static int resume_vm(void *opaque)
{
	return vm_resume(opaque);
}

static void power_button(void *opaque)
{
	vm_press_power_button(opaque, "control channel");
}

static void reset(void *opaque)
{
	log_notice("Resetting the VM (control channel)");
	vm_request_stop(opaque, VM_STOP_RESET);
}

static void quit(void *opaque)
{
	log_notice("Stopping the VM at once (control channel)");
	vm_request_stop(opaque, VM_STOP_HOST);
}

static bool panicked(void *opaque)
{
	struct vm *vm = opaque;

	return atomic_load(&vm->panic_events) != 0;
}

/*
 * The platform's port-decoding devices (the host bridge among them, by its
 * config ports), then the PCI functions behind it (fixed once the VM runs).
 */
static const char *device_name(void *opaque, unsigned index)
{
	struct vm *vm = opaque;

	if (index < vm->pio.count)
		return vm->pio.ranges[index].name;
	index -= vm->pio.count;
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++)
		if (vm->pci.devices[slot] && index-- == 0)
			return vm->pci.devices[slot]->name;
	return NULL;
}

int vm_control_open(struct vm *vm)
{
	vm->control_ops = (struct control_ops){
		.state = state,
		.stopping = stopping,
		.paused = paused,
		.pause = pause_vm,
		.resume = resume_vm,
		.power_button = power_button,
		.reset = reset,
		.quit = quit,
		.panicked = panicked,
		.display = &vm->display_channel,
		.device_name = device_name,
		.vcpus = vm->config->cpus,
		.memory = vm->config->memory,
	};
	return control_open(&vm->control, &vm->control_ops, vm, &vm->loop, vm->config->control_path,
			    vm->config->control_fd);
}

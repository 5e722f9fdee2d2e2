/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the VM is doing, as guest, host and control channel change it: stopping, paused, powering
 * off. */
#include "vm.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/layout.h"
#include "log.h"
#include "util.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason)
{
	int expected = VM_RUNNING;
	int r;

	if (atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)reason) &&
	    (r = eventfd_signal(vm->stop_watch.fd)) < 0)
		log_warning_errno(r, "Cannot wake the main loop to stop: %m");
	/* vCPUs waiting at a pause must see the end too. */
	gate_stop(&vm->gate);
}

int vm_pause(struct vm *vm)
{
	if (!gate_close(&vm->gate))
		return 0;
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_kick(&vm->vcpus[i]);
	gate_wait_parked(&vm->gate);

#if defined(__x86_64__)
	/* The guest's clock stops here and goes on from here on resume. */
	vm->paused_clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->paused_clock) == 0;
	if (!vm->paused_clock_saved)
		log_warning("KVM_GET_CLOCK: %m; the guest's clock will jump over the pause");
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		/* Tells a kvmclock guest it was stopped, so its watchdogs stay quiet; others ignore
		 * it. */
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
			log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %m", i);
#endif
	/* On aarch64 the guest's counters run on through a pause, as they do on QEMU's virt. */
	log_info("Paused");
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (!gate_closed(&vm->gate))
		return 0;
	if (vm->paused_clock_saved) {
		struct kvm_clock_data clock = { .clock = vm->paused_clock.clock };

		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			log_warning("KVM_SET_CLOCK: %m; the guest's clock jumps over the pause");
	}
	(void)gate_open(&vm->gate);
	log_info("Resumed");
	return 0;
}

bool vm_paused(struct vm *vm)
{
	return gate_all_parked(&vm->gate);
}

bool vm_stopping(struct vm *vm)
{
	return atomic_load(&vm->stop_reason) != VM_RUNNING;
}

static void arm_shutdown_timer(struct vm *vm)
{
	struct itimerspec its = { .it_value = { .tv_sec = vm->config->shutdown_timeout } };

	(void)timerfd_settime(vm->shutdown_timer.fd, 0, &its, NULL);
}

void vm_press_power_button(struct vm *vm, const char *why)
{
	log_notice("Pressing the power button (%s); the guest has %u s to power off", why,
		   vm->config->shutdown_timeout);
	vm->power_button_pressed = true;
#if defined(__aarch64__)
	/* gpio-keys reports a key press on the rising edge; a second press needs an edge again. */
	pl061_set_input(&vm->gpio, GPIO_POWER_BUTTON, false);
	pl061_set_input(&vm->gpio, GPIO_POWER_BUTTON, true);
#else
	acpi_pm_press_power_button(&vm->pm);
#endif
	arm_shutdown_timer(vm);
	control_state_changed(&vm->control);
}

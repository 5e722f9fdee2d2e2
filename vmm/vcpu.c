/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

static void request_stop(struct vcpu *vcpu, enum vm_stop_reason reason)
{
	vcpu->host->request_stop(vcpu->host->opaque, reason);
}

static void kick_handler(int sig)
{
	/* Only interrupts KVM_RUN; immediate_exit covers a kick that lands just before it. */
}

int vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return log_error_errno(errno, "sigaction: %m");
	return 0;
}

int vcpu_create(const struct vcpu_host *host, unsigned index, struct vcpu *ret)
{
	struct vcpu v = { .host = host, .index = index, .fd = -1 };
	void *run;

	v.fd = ioctl(host->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v.fd < 0)
		return log_error_errno(errno, "KVM_CREATE_VCPU %u: %m", index);
	run = mmap(NULL, host->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
	if (run == MAP_FAILED) {
		int r = log_error_errno(errno, "mmap of vCPU %u's kvm_run: %m", index);
		close(v.fd);
		return r;
	}
	v.run = run;
	*ret = v;
	return 0;
}

static void log_state(struct vcpu *vcpu, int level)
{
	arch_vcpu_log_state(vcpu->fd, vcpu->index, level);
}

static void log_crash_state(struct vcpu *vcpu)
{
	log_state(vcpu, LOG_ERR);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		trap_access(vcpu->host->pio, run->io.port, data, run->io.size,
			    run->io.direction == KVM_EXIT_IO_OUT);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned len =
	    run->mmio.len <= sizeof(run->mmio.data) ? run->mmio.len : sizeof(run->mmio.data);

	trap_access(vcpu->host->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		request_stop(vcpu, VM_STOP_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
#if defined(__aarch64__)
		/*
		 * Linux resets warm (PSCI SYSTEM_RESET2) only where reboot=panic_warm asks it to
		 * on a panic, which the loader puts on the command line: aarch64 guests have no
		 * pvpanic driver in Debian's kernel, and this is the panic they can report.
		 */
		if (vcpu->run->system_event.ndata > 0 &&
		    (vcpu->run->system_event.data[0] & KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2)) {
			vcpu->host->guest_panicked(vcpu->host->opaque);
			break;
		}
#endif
		request_stop(vcpu, VM_STOP_RESET);
		break;
	default:
		log_error("vCPU %u: system event %u", vcpu->index, vcpu->run->system_event.type);
		request_stop(vcpu, VM_STOP_CRASH);
		break;
	}
}

/* Returns false when the vCPU must stop running. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		log_error("vCPU %u: the guest triple-faulted", vcpu->index);
		log_crash_state(vcpu);
		request_stop(vcpu, VM_STOP_CRASH);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_error("vCPU %u: KVM internal error, suberror %u", vcpu->index,
			  run->internal.suberror);
		log_crash_state(vcpu);
		request_stop(vcpu, VM_STOP_CRASH);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_error("vCPU %u: KVM could not enter the guest, hardware reason 0x%llx",
			  vcpu->index,
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		log_crash_state(vcpu);
		request_stop(vcpu, VM_STOP_CRASH);
		return false;
	default:
		log_error("vCPU %u: unexpected KVM exit reason %u", vcpu->index, run->exit_reason);
		log_crash_state(vcpu);
		request_stop(vcpu, VM_STOP_CRASH);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (sandbox_enter(vcpu->host->sandbox, SANDBOX_VCPU) < 0) {
		request_stop(vcpu, VM_STOP_ERROR);
		gate_thread_ended(vcpu->host->gate);
		return NULL;
	}

	while (gate_pass(vcpu->host->gate, &vcpu->run->immediate_exit)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error_errno(errno, "vCPU %u: KVM_RUN: %m", vcpu->index);
			request_stop(vcpu, VM_STOP_ERROR);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	/* Where a guest that never finished was: with -vv, for a hang's first clue. */
	if (log_get_max_level() >= LOG_DEBUG)
		log_state(vcpu, LOG_DEBUG);
	gate_thread_ended(vcpu->host->gate);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	char name[16];
	int r;

	gate_thread_began(vcpu->host->gate);
	r = thread_create(&vcpu->thread, vcpu_thread, vcpu);
	if (r != 0)
		gate_thread_ended(vcpu->host->gate);
	if (r != 0)
		return log_error_errno(r, "Cannot start vCPU thread %u: %m", vcpu->index);
	vcpu->thread_started = true;
	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	(void)pthread_setname_np(vcpu->thread, name);
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	(void)pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	(void)pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->host->run_size);
	vcpu->run = NULL;
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;
struct vcpu;

/*
 * Pausing a running VM: every vCPU thread parks outside KVM_RUN until the
 * VM resumes. The guest's kvmclock is held still across the pause, so its
 * clock does not jump by the time it spent paused.
 */
struct pause_state {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool requested;
	bool paused; /* every running vCPU is parked */
	unsigned parked;
	unsigned running; /* vCPU threads that have not ended */
	struct kvm_clock_data clock;
	bool clock_saved;
};

void pause_init(struct pause_state *p);
void pause_done(struct pause_state *p);
/* Main thread. Returns 0, or -errno; pausing a paused VM does nothing. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);
/* vCPU threads: park here while a pause is requested. */
void vcpu_park_if_paused(struct vcpu *vcpu);
void vcpu_thread_ended(struct vm *vm);
void vcpu_thread_began(struct vm *vm);

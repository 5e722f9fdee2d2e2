/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
};

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(struct vm *vm, unsigned index, struct vcpu *ret);
int vcpu_start(struct vcpu *vcpu);
/* Makes the vCPU leave KVM_RUN and its thread end; then vcpu_join() waits for it. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_install_kick_handler(void);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "gate.h"
#include "stop-reason.h"
#include "trap.h"

struct sandbox_config;

/* What a vCPU thread needs of the machine it belongs to, and nothing more. */
struct vcpu_host {
	int vm_fd;
	size_t run_size; /* of each vCPU's kvm_run */
	const struct trap_table *pio;
	const struct trap_table *mmio;
	struct vcpu_gate *gate;
	const struct sandbox_config *sandbox;
	/* From the vCPU thread: the VM must stop, for this reason. */
	void (*request_stop)(void *opaque, enum vm_stop_reason reason);
	/* The guest said it panicked (aarch64: its warm reset, see handle_system_event). */
	void (*guest_panicked)(void *opaque);
	void *opaque;
};

struct vcpu {
	const struct vcpu_host *host;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
};

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

int vcpu_create(const struct vcpu_host *host, unsigned index, struct vcpu *ret);
int vcpu_start(struct vcpu *vcpu);
/* Makes the vCPU leave KVM_RUN and its thread end; then vcpu_join() waits for it. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_install_kick_handler(void);

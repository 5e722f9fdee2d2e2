/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/*
 * Where vCPU threads wait while their VM is paused. The main thread closes
 * the gate, kicks the vCPUs out of KVM_RUN and waits until every running
 * vCPU thread stands at it; opening it lets them go on. A VM that stops
 * opens the gate for good, so that nobody waits at it any more.
 */
struct vcpu_gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool closed;
	bool all_parked; /* closed, and every running vCPU thread stands at it */
	unsigned parked;
	unsigned running; /* vCPU threads that began and have not ended */
	atomic_bool stopped;
};

void gate_init(struct vcpu_gate *g);
void gate_done(struct vcpu_gate *g);

/* vCPU threads. */
void gate_thread_began(struct vcpu_gate *g);
void gate_thread_ended(struct vcpu_gate *g);
/*
 * Waits while the gate is closed. Unless the VM stops, clears *immediate_exit
 * (the kick that parked the thread must not bounce its next KVM_RUN). Returns
 * false once the VM stops.
 */
bool gate_pass(struct vcpu_gate *g, volatile unsigned char *immediate_exit);
bool gate_stopped(struct vcpu_gate *g);

/* The main thread. */
/* Closes the gate; false when it was closed already. The caller then kicks the vCPUs. */
bool gate_close(struct vcpu_gate *g);
/* Waits until every running vCPU thread stands at the closed gate (or the VM stops). */
void gate_wait_parked(struct vcpu_gate *g);
/* Opens it; false when it was open. */
bool gate_open(struct vcpu_gate *g);
/* Closed with everyone parked: the VM is paused. */
bool gate_all_parked(struct vcpu_gate *g);
/* Any thread: the VM stops; wakes every waiter for good. */
void gate_stop(struct vcpu_gate *g);
/* A pause was asked and not yet undone. */
bool gate_closed(struct vcpu_gate *g);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gate.h"

void gate_init(struct vcpu_gate *g)
{
	*g = (struct vcpu_gate){ 0 };
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	atomic_init(&g->stopped, false);
}

void gate_done(struct vcpu_gate *g)
{
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
}

void gate_thread_began(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running++;
	pthread_mutex_unlock(&g->lock);
}

void gate_thread_ended(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running--;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

bool gate_stopped(struct vcpu_gate *g)
{
	return atomic_load(&g->stopped);
}

bool gate_pass(struct vcpu_gate *g, volatile unsigned char *immediate_exit)
{
	bool go_on;

	pthread_mutex_lock(&g->lock);
	if (g->closed && !gate_stopped(g)) {
		g->parked++;
		pthread_cond_broadcast(&g->changed);
		while (g->closed && !gate_stopped(g))
			pthread_cond_wait(&g->changed, &g->lock);
		g->parked--;
	}
	go_on = !gate_stopped(g);
	if (go_on)
		__atomic_store_n(immediate_exit, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&g->lock);
	return go_on;
}

bool gate_close(struct vcpu_gate *g)
{
	bool was_open;

	pthread_mutex_lock(&g->lock);
	was_open = !g->closed;
	g->closed = true;
	pthread_mutex_unlock(&g->lock);
	return was_open;
}

void gate_wait_parked(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (g->parked < g->running && !gate_stopped(g))
		pthread_cond_wait(&g->changed, &g->lock);
	g->all_parked = g->closed;
	pthread_mutex_unlock(&g->lock);
}

bool gate_open(struct vcpu_gate *g)
{
	bool was_closed;

	pthread_mutex_lock(&g->lock);
	was_closed = g->closed;
	g->closed = false;
	g->all_parked = false;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	return was_closed;
}

bool gate_all_parked(struct vcpu_gate *g)
{
	bool parked;

	pthread_mutex_lock(&g->lock);
	parked = g->all_parked;
	pthread_mutex_unlock(&g->lock);
	return parked;
}

void gate_stop(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	atomic_store(&g->stopped, true);
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

bool gate_closed(struct vcpu_gate *g)
{
	bool closed;

	pthread_mutex_lock(&g->lock);
	closed = g->closed;
	pthread_mutex_unlock(&g->lock);
	return closed;
}

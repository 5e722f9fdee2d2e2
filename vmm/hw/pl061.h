/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

/*
 * An ARM PL061 GPIO controller with eight lines the host drives as inputs
 * (the power button is one: gpio-keys in the device tree). Edges and levels
 * the guest asks to hear of raise its interrupt line through set_irq().
 */
struct pl061 {
	pthread_mutex_t lock;
	uint8_t level; /* what the host drives on each line */
	uint8_t direction, sense, both_edges, event, enable, raw_status, afsel;
	int irq_level;
	void (*set_irq)(void *opaque, int level);
	void *opaque;
};

extern const struct trap_ops pl061_ops;

void pl061_init(struct pl061 *g, void (*set_irq)(void *, int), void *opaque);
void pl061_done(struct pl061 *g);
/* The host drives line (0-7) high or low; any thread. */
void pl061_set_input(struct pl061 *g, unsigned line, bool high);

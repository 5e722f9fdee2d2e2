/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdint.h>

#include "trap.h"

/*
 * An ARM PL031 real-time clock: seconds since the epoch, from the host's
 * clock plus whatever offset the guest set by loading another time. The
 * match (alarm) register is kept but never fires: no guest here sleeps on it.
 */
struct pl031 {
	pthread_mutex_t lock;
	int64_t offset; /* guest time - host time, in seconds */
	uint32_t match, control, mask;
};

extern const struct trap_ops pl031_ops;

void pl031_init(struct pl031 *rtc);
void pl031_done(struct pl031 *rtc);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "trap.h"

/*
 * A 16550A UART. Transmission is instantaneous (bytes go straight to the
 * sink), reception is buffered. The interrupt line follows the pending
 * conditions (received data, transmitter empty) through set_irq().
 */
#define SERIAL_RX_BUFFER 4096

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, lsr_errors, scr, dll, dlm, fcr;
	int thr_interrupt; /* "transmitter empty" pending until IIR reports it or THR is written */
	int irq_level;
	uint8_t rx[SERIAL_RX_BUFFER];
	size_t rx_head, rx_count;

	void (*output)(void *opaque, const uint8_t *data, size_t len);
	void (*set_irq)(void *opaque, int level);
	void *opaque;
};

extern const struct trap_ops serial_io_ops;

void serial_init(struct serial *s, void (*output)(void *, const uint8_t *, size_t),
		 void (*set_irq)(void *, int), void *opaque);
void serial_done(struct serial *s);

/* Host input for the guest; returns how many bytes fit (the rest is for later). */
size_t serial_receive(struct serial *s, const uint8_t *data, size_t len);
size_t serial_rx_space(struct serial *s);

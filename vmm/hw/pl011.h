/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "trap.h"

/*
 * An ARM PL011 UART (PrimeCell r1p5), the console of aarch64 guests.
 * Transmission is instantaneous (bytes go straight to the sink), reception is
 * buffered; the interrupt line follows the masked status (received data,
 * transmit room) through set_irq(), as the 16550A's does on x86.
 */
#define PL011_RX_BUFFER 4096

struct pl011 {
	pthread_mutex_t lock;
	uint32_t raw_status; /* UARTRIS */
	uint32_t mask;	     /* UARTIMSC */
	uint32_t control, line_control, ibrd, fbrd, ifls, dmacr, ilpr;
	int irq_level;
	uint8_t rx[PL011_RX_BUFFER];
	size_t rx_head, rx_count;
	void (*output)(void *opaque, const uint8_t *data, size_t len);
	void (*set_irq)(void *opaque, int level);
	void *opaque;
};

extern const struct trap_ops pl011_ops;

void pl011_init(struct pl011 *u, void (*output)(void *, const uint8_t *, size_t),
		void (*set_irq)(void *, int), void *opaque);
void pl011_done(struct pl011 *u);
/* Host input for the guest; returns how many bytes fit (the rest is for later). */
size_t pl011_receive(struct pl011 *u, const uint8_t *data, size_t len);
size_t pl011_rx_space(struct pl011 *u);

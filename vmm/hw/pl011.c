/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/pl011.h"

#include <string.h>

#include "hw/primecell.h"

#define UART_DR 0x000
#define UART_RSR 0x004
#define UART_FR 0x018
#define UART_ILPR 0x020
#define UART_IBRD 0x024
#define UART_FBRD 0x028
#define UART_LCR_H 0x02c
#define UART_CR 0x030
#define UART_IFLS 0x034
#define UART_IMSC 0x038
#define UART_RIS 0x03c
#define UART_MIS 0x040
#define UART_ICR 0x044
#define UART_DMACR 0x048

#define FR_RXFE 0x10
#define FR_RXFF 0x40
#define FR_TXFE 0x80

#define INT_RX 0x10
#define INT_TX 0x20
#define INT_RT 0x40
#define INT_ALL 0x7ff

#define CR_RESET 0x300 /* TXE | RXE */
#define IFLS_RESET 0x12

/* What Linux's amba-pl011 driver and QEMU's model agree a PL011 r1p5 identifies as. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

/* Under the lock. */
static void update_irq(struct pl011 *u)
{
	int level = (u->raw_status & u->mask) != 0;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	u->set_irq(u->opaque, level);
}

static uint32_t read_reg(struct pl011 *u, uint64_t offset)
{
	uint32_t value;

	switch (offset) {
	case UART_DR:
		if (!u->rx_count)
			return 0;
		value = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % PL011_RX_BUFFER;
		if (--u->rx_count == 0)
			u->raw_status &= ~(uint32_t)(INT_RX | INT_RT);
		update_irq(u);
		return value;
	case UART_RSR:
		return 0;
	case UART_FR:
		return FR_TXFE | (u->rx_count ? 0 : FR_RXFE) |
		       (u->rx_count == PL011_RX_BUFFER ? FR_RXFF : 0);
	case UART_ILPR:
		return u->ilpr;
	case UART_IBRD:
		return u->ibrd;
	case UART_FBRD:
		return u->fbrd;
	case UART_LCR_H:
		return u->line_control;
	case UART_CR:
		return u->control;
	case UART_IFLS:
		return u->ifls;
	case UART_IMSC:
		return u->mask;
	case UART_RIS:
		return u->raw_status;
	case UART_MIS:
		return u->raw_status & u->mask;
	case UART_DMACR:
		return u->dmacr;
	default:
		return primecell_id(pl011_id, offset, &value) ? value : 0;
	}
}

static void write_reg(struct pl011 *u, uint64_t offset, uint32_t value)
{
	switch (offset) {
	case UART_DR: {
		uint8_t byte = (uint8_t)value;

		u->output(u->opaque, &byte, 1);
		/* Sent at once: the transmit FIFO has room again, as it had. */
		u->raw_status |= INT_TX;
		break;
	}
	case UART_RSR:
		break;
	case UART_ILPR:
		u->ilpr = value & 0xff;
		break;
	case UART_IBRD:
		u->ibrd = value & 0xffff;
		break;
	case UART_FBRD:
		u->fbrd = value & 0x3f;
		break;
	case UART_LCR_H:
		u->line_control = value & 0xff;
		break;
	case UART_CR:
		u->control = value & 0xffff;
		break;
	case UART_IFLS:
		u->ifls = value & 0x3f;
		break;
	case UART_IMSC:
		u->mask = value & INT_ALL;
		break;
	case UART_ICR:
		u->raw_status &= ~value;
		/* Data still waiting keeps asking to be read. */
		if (u->rx_count)
			u->raw_status |= INT_RX;
		break;
	case UART_DMACR:
		u->dmacr = value & 0x7;
		break;
	default:
		break;
	}
	update_irq(u);
}

static void pl011_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pl011 *u = opaque;
	uint32_t value;

	pthread_mutex_lock(&u->lock);
	value = read_reg(u, offset & ~3ULL);
	pthread_mutex_unlock(&u->lock);
	primecell_put(value, offset, data, size);
}

static void pl011_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pl011 *u = opaque;

	/* Registers are 32 bits wide; the guest writes them whole (or DR a byte at a time). */
	if (offset & 3)
		return;
	pthread_mutex_lock(&u->lock);
	write_reg(u, offset, primecell_value(data, size));
	pthread_mutex_unlock(&u->lock);
}

const struct trap_ops pl011_ops = { .read = pl011_read, .write = pl011_write };

void pl011_init(struct pl011 *u, void (*output)(void *, const uint8_t *, size_t),
		void (*set_irq)(void *, int), void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->control = CR_RESET;
	u->ifls = IFLS_RESET;
	u->output = output;
	u->set_irq = set_irq;
	u->opaque = opaque;
}

void pl011_done(struct pl011 *u)
{
	pthread_mutex_destroy(&u->lock);
	u->set_irq = NULL;
}

size_t pl011_receive(struct pl011 *u, const uint8_t *data, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_count < PL011_RX_BUFFER) {
		u->rx[(u->rx_head + u->rx_count) % PL011_RX_BUFFER] = data[n++];
		u->rx_count++;
	}
	if (n)
		u->raw_status |= INT_RX | INT_RT;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t pl011_rx_space(struct pl011 *u)
{
	size_t space;

	pthread_mutex_lock(&u->lock);
	space = PL011_RX_BUFFER - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return space;
}

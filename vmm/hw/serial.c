/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/serial.h"

#include <string.h>

/* Register offsets and bits, as in Linux's include/uapi/linux/serial_reg.h. */
#define UART_RX 0 /* in: receive buffer */
#define UART_TX 0 /* out: transmit holding */
#define UART_IER 1
#define UART_IIR 2 /* in */
#define UART_FCR 2 /* out */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO_ENABLED 0xc0
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

void serial_init(struct serial *s, void (*output)(void *, const uint8_t *, size_t),
		 void (*set_irq)(void *, int), void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->output = output;
	s->set_irq = set_irq;
	s->opaque = opaque;
	s->mcr = UART_MCR_OUT2;
}

void serial_done(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static uint8_t pending_iir(const struct serial *s)
{
	if ((s->ier & UART_IER_RDI) && s->rx_count > 0)
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_interrupt)
		return UART_IIR_THRI;
	return UART_IIR_NO_INT;
}

/* Called with the lock held after every state change. */
static void update_irq(struct serial *s)
{
	int level = pending_iir(s) != UART_IIR_NO_INT;

	if (level != s->irq_level) {
		s->irq_level = level;
		s->set_irq(s->opaque, level);
	}
}

static size_t rx_push(struct serial *s, const uint8_t *data, size_t len)
{
	size_t n = 0;

	while (n < len && s->rx_count < SERIAL_RX_BUFFER) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_BUFFER] = data[n++];
		s->rx_count++;
	}
	return n;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c;

	if (s->rx_count == 0)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_BUFFER;
	s->rx_count--;
	return c;
}

static uint8_t modem_status(const struct serial *s)
{
	uint8_t msr = 0;

	if (!(s->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Loopback wires the modem control outputs to the status inputs; Linux probes this. */
	if (s->mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (s->mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (s->mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (s->mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

static uint8_t read_register(struct serial *s, uint16_t offset)
{
	uint8_t iir;

	switch (offset) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB)
			return s->dll;
		return rx_pop(s);
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB)
			return s->dlm;
		return s->ier;
	case UART_IIR:
		iir = pending_iir(s);
		if (iir == UART_IIR_THRI)
			s->thr_interrupt = 0;
		if (s->fcr & UART_FCR_ENABLE_FIFO)
			iir |= UART_IIR_FIFO_ENABLED;
		return iir;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR: {
		uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | s->lsr_errors;

		if (s->rx_count > 0)
			lsr |= UART_LSR_DR;
		s->lsr_errors = 0;
		return lsr;
	}
	case UART_MSR:
		return modem_status(s);
	case UART_SCR:
		return s->scr;
	default:
		return 0xff;
	}
}

static void write_register(struct serial *s, uint16_t offset, uint8_t value)
{
	switch (offset) {
	case UART_TX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = value;
		} else if (s->mcr & UART_MCR_LOOP) {
			rx_push(s, &value, 1);
			s->thr_interrupt = 1;
		} else {
			/* Output may block on a slow sink: only this UART's lock is held meanwhile.
			 */
			s->output(s->opaque, &value, 1);
			s->thr_interrupt = 1;
		}
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = value;
			break;
		}
		/* Enabling THRI with an empty transmitter raises the interrupt at once, as a 16550A
		 * does. */
		if ((value & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_interrupt = 1;
		s->ier = value & 0x0f;
		break;
	case UART_FCR:
		s->fcr = value & UART_FCR_ENABLE_FIFO;
		if (value & UART_FCR_CLEAR_RCVR)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = value;
		break;
	case UART_MCR:
		s->mcr = value & 0x1f;
		break;
	case UART_SCR:
		s->scr = value;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static void serial_io_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	data[0] = read_register(s, offset);
	if (size > 1)
		memset(data + 1, 0xff, size - 1);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_io_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	write_register(s, offset, data[0]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct trap_ops serial_io_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

size_t serial_receive(struct serial *s, const uint8_t *data, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = rx_push(s, data, len);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_space(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = SERIAL_RX_BUFFER - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The 16550A as Linux's 8250 driver probes and drives it, through the port I/O ops. */
#include <glib.h>

#include "hw/serial.h"

static GString *output;
static int irq_level, irq_changes;

static void capture(void *opaque, const uint8_t *data, size_t len)
{
	g_string_append_len(output, (const char *)data, (gssize)len);
}

static void set_irq(void *opaque, int level)
{
	irq_level = level;
	irq_changes++;
}

static uint8_t rd(struct serial *s, uint16_t reg)
{
	uint8_t v;

	serial_io_ops.read(s, reg, &v, 1);
	return v;
}

static void wr(struct serial *s, uint16_t reg, uint8_t v)
{
	serial_io_ops.write(s, reg, &v, 1);
}

static void setup(struct serial *s)
{
	output = g_string_new(NULL);
	irq_level = irq_changes = 0;
	serial_init(s, capture, set_irq, NULL);
}

static void teardown(struct serial *s)
{
	serial_done(s);
	g_string_free(output, TRUE);
}

static void test_transmit_and_thri(void)
{
	struct serial s;

	setup(&s);
	g_assert_cmpuint(rd(&s, 5) & 0x60, ==, 0x60); /* THRE and TEMT */
	g_assert_cmpuint(rd(&s, 2) & 0x01, ==, 0x01); /* no interrupt pending */
	wr(&s, 1, 0x02);			      /* enable THRI: pending at once */
	g_assert_cmpint(irq_level, ==, 1);
	g_assert_cmpuint(rd(&s, 2) & 0x0f, ==, 0x02);
	g_assert_cmpint(irq_level, ==, 0); /* reading IIR acknowledged it */
	wr(&s, 0, 'h');
	wr(&s, 0, 'i');
	g_assert_cmpstr(output->str, ==, "hi");
	g_assert_cmpint(irq_level, ==, 1); /* transmitter empty again */
	wr(&s, 1, 0x00);
	g_assert_cmpint(irq_level, ==, 0);
	teardown(&s);
}

static void test_receive(void)
{
	struct serial s;

	setup(&s);
	g_assert_cmpuint(serial_receive(&s, (const uint8_t *)"ab", 2), ==, 2);
	g_assert_cmpint(irq_level, ==, 0); /* RDI not enabled yet */
	g_assert_cmpuint(rd(&s, 5) & 0x01, ==, 0x01);
	wr(&s, 1, 0x01);
	g_assert_cmpint(irq_level, ==, 1);
	g_assert_cmpuint(rd(&s, 2) & 0x0f, ==, 0x04);
	g_assert_cmpuint(rd(&s, 0), ==, 'a');
	g_assert_cmpuint(rd(&s, 0), ==, 'b');
	g_assert_cmpint(irq_level, ==, 0);
	g_assert_cmpuint(rd(&s, 5) & 0x01, ==, 0);
	g_assert_cmpuint(serial_rx_space(&s), ==, SERIAL_RX_BUFFER);
	teardown(&s);
}

static void test_receive_overflow_keeps_the_rest(void)
{
	struct serial s;
	static uint8_t big[SERIAL_RX_BUFFER + 100];

	setup(&s);
	g_assert_cmpuint(serial_receive(&s, big, sizeof(big)), ==, SERIAL_RX_BUFFER);
	g_assert_cmpuint(serial_rx_space(&s), ==, 0);
	g_assert_cmpuint(serial_receive(&s, big, 1), ==, 0);
	teardown(&s);
}

static void test_probe_like_linux(void)
{
	struct serial s;

	setup(&s);
	wr(&s, 7, 0xa5);
	g_assert_cmpuint(rd(&s, 7), ==, 0xa5);
	/* Loopback: MCR outputs appear on MSR inputs; 8250 autoconfig expects 0x90 for 0x1a. */
	wr(&s, 4, 0x1a);
	g_assert_cmpuint(rd(&s, 6) & 0xf0, ==, 0x90);
	wr(&s, 0, 'x');
	g_assert_cmpuint(output->len, ==, 0);
	g_assert_cmpuint(rd(&s, 0), ==, 'x');
	wr(&s, 4, 0x0b);
	g_assert_cmpuint(rd(&s, 6) & 0xf0, ==, 0xb0);
	/* FIFO enabled shows in IIR bits 7:6, as a 16550A. */
	wr(&s, 2, 0x01);
	g_assert_cmpuint(rd(&s, 2) & 0xc0, ==, 0xc0);
	/* Divisor latch. */
	wr(&s, 3, 0x80);
	wr(&s, 0, 0x01);
	wr(&s, 1, 0x00);
	g_assert_cmpuint(rd(&s, 0), ==, 0x01);
	wr(&s, 3, 0x03);
	g_assert_cmpuint(rd(&s, 3), ==, 0x03);
	g_assert_cmpuint(output->len, ==, 0);
	teardown(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/serial/transmit-and-thri", test_transmit_and_thri);
	g_test_add_func("/serial/receive", test_receive);
	g_test_add_func("/serial/receive-overflow", test_receive_overflow_keeps_the_rest);
	g_test_add_func("/serial/probe-like-linux", test_probe_like_linux);
	return g_test_run();
}

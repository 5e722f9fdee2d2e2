/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/pl061.h"

#include <string.h>

#include "hw/primecell.h"

#define GPIO_DATA_END 0x400 /* GPIODATA: address bits 9:2 mask the lines an access touches */
#define GPIO_DIR 0x400
#define GPIO_IS 0x404  /* 1: level-sensitive */
#define GPIO_IBE 0x408 /* 1: both edges */
#define GPIO_IEV 0x40c /* 1: rising edge or high level */
#define GPIO_IE 0x410
#define GPIO_RIS 0x414
#define GPIO_MIS 0x418
#define GPIO_IC 0x41c
#define GPIO_AFSEL 0x420

static const uint8_t pl061_id[8] = { 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

/* Under the lock: level-sensitive lines follow their level; edges stay until cleared. */
static void update_irq(struct pl061 *g)
{
	uint8_t active_level = (uint8_t)((g->level & g->event) | (~g->level & ~g->event));
	int level;

	g->raw_status = (uint8_t)((g->raw_status & ~g->sense) | (active_level & g->sense));
	level = (g->raw_status & g->enable) != 0;
	if (level == g->irq_level)
		return;
	g->irq_level = level;
	g->set_irq(g->opaque, level);
}

static uint8_t read_reg(struct pl061 *g, uint64_t offset)
{
	uint32_t id;

	if (offset < GPIO_DATA_END)
		return g->level & (uint8_t)(offset >> 2);
	switch (offset) {
	case GPIO_DIR:
		return g->direction;
	case GPIO_IS:
		return g->sense;
	case GPIO_IBE:
		return g->both_edges;
	case GPIO_IEV:
		return g->event;
	case GPIO_IE:
		return g->enable;
	case GPIO_RIS:
		return g->raw_status;
	case GPIO_MIS:
		return g->raw_status & g->enable;
	case GPIO_AFSEL:
		return g->afsel;
	default:
		return primecell_id(pl061_id, offset, &id) ? (uint8_t)id : 0;
	}
}

static void write_reg(struct pl061 *g, uint64_t offset, uint8_t value)
{
	/* The lines are inputs: what the guest writes to GPIODATA drives nothing. */
	if (offset < GPIO_DATA_END)
		return;
	switch (offset) {
	case GPIO_DIR:
		g->direction = value;
		break;
	case GPIO_IS:
		g->sense = value;
		break;
	case GPIO_IBE:
		g->both_edges = value;
		break;
	case GPIO_IEV:
		g->event = value;
		break;
	case GPIO_IE:
		g->enable = value;
		break;
	case GPIO_IC:
		g->raw_status &= (uint8_t)~value;
		break;
	case GPIO_AFSEL:
		g->afsel = value;
		break;
	default:
		break;
	}
}

static void pl061_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pl061 *g = opaque;
	uint8_t value;

	pthread_mutex_lock(&g->lock);
	value = (offset & 3) ? 0 : read_reg(g, offset);
	pthread_mutex_unlock(&g->lock);
	primecell_put(value, 0, data, size);
}

static void pl061_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pl061 *g = opaque;

	if (offset & 3)
		return;
	pthread_mutex_lock(&g->lock);
	write_reg(g, offset, (uint8_t)primecell_value(data, size));
	update_irq(g);
	pthread_mutex_unlock(&g->lock);
}

const struct trap_ops pl061_ops = { .read = pl061_read, .write = pl061_write };

void pl061_init(struct pl061 *g, void (*set_irq)(void *, int), void *opaque)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->set_irq = set_irq;
	g->opaque = opaque;
}

void pl061_done(struct pl061 *g)
{
	pthread_mutex_destroy(&g->lock);
	g->set_irq = NULL;
}

void pl061_set_input(struct pl061 *g, unsigned line, bool high)
{
	uint8_t bit = (uint8_t)(1u << (line & 7));
	bool was_high;

	pthread_mutex_lock(&g->lock);
	was_high = g->level & bit;
	if (was_high != high) {
		bool rising = high;
		/* An edge the guest listens for: both, or the one IEV names. */
		if (!(g->sense & bit) &&
		    ((g->both_edges & bit) || (rising == ((g->event & bit) != 0))))
			g->raw_status |= bit;
		g->level = high ? (uint8_t)(g->level | bit) : (uint8_t)(g->level & ~bit);
	}
	update_irq(g);
	pthread_mutex_unlock(&g->lock);
}

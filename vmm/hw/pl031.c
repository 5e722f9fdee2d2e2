/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/pl031.h"

#include <string.h>
#include <time.h>

#include "hw/primecell.h"

#define RTC_DR 0x00
#define RTC_MR 0x04
#define RTC_LR 0x08
#define RTC_CR 0x0c
#define RTC_IMSC 0x10
#define RTC_RIS 0x14
#define RTC_MIS 0x18
#define RTC_ICR 0x1c

static const uint8_t pl031_id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static int64_t host_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint32_t read_reg(struct pl031 *rtc, uint64_t offset)
{
	uint32_t id;

	switch (offset) {
	case RTC_DR:
	case RTC_LR:
		return (uint32_t)(host_seconds() + rtc->offset);
	case RTC_MR:
		return rtc->match;
	case RTC_CR:
		return rtc->control;
	case RTC_IMSC:
		return rtc->mask;
	case RTC_RIS:
	case RTC_MIS:
		return 0;
	default:
		return primecell_id(pl031_id, offset, &id) ? id : 0;
	}
}

static void pl031_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pl031 *rtc = opaque;
	uint32_t value;

	pthread_mutex_lock(&rtc->lock);
	value = read_reg(rtc, offset & ~3ULL);
	pthread_mutex_unlock(&rtc->lock);
	primecell_put(value, offset, data, size);
}

static void pl031_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pl031 *rtc = opaque;
	uint32_t value = primecell_value(data, size);

	if (offset & 3)
		return;
	pthread_mutex_lock(&rtc->lock);
	switch (offset) {
	case RTC_LR:
		/* The counter is 32 bits of seconds: the guest's time is what it loaded, now. */
		rtc->offset = (int64_t)value - host_seconds();
		break;
	case RTC_MR:
		rtc->match = value;
		break;
	case RTC_CR:
		/* Once started the clock runs; the enable bit reads back as set. */
		rtc->control = 1;
		break;
	case RTC_IMSC:
		rtc->mask = value & 1;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct trap_ops pl031_ops = { .read = pl031_read, .write = pl031_write };

void pl031_init(struct pl031 *rtc)
{
	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->control = 1;
}

void pl031_done(struct pl031 *rtc)
{
	pthread_mutex_destroy(&rtc->lock);
}

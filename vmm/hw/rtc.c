/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The clock's registers (MC146818 data sheet; the PC's CMOS map beyond them). */
enum {
	REG_SECONDS = 0x00,
	REG_MINUTES = 0x02,
	REG_HOURS = 0x04,
	REG_WEEKDAY = 0x06,
	REG_DAY = 0x07,
	REG_MONTH = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0a,
	REG_B = 0x0b,
	REG_C = 0x0c,
	REG_D = 0x0d,
	/* Memory sizes, as a PC BIOS leaves them: base and extended memory in KiB (up to 64 MiB),
	 * RAM above 16 MiB and below 4 GiB in 64 KiB units, RAM above 4 GiB in 64 KiB units. */
	CMOS_BASE_MEMORY = 0x15,
	CMOS_EXTENDED_MEMORY = 0x17,
	CMOS_EXTENDED_MEMORY_COPY = 0x30,
	CMOS_MEMORY_ABOVE_16M = 0x34,
	CMOS_MEMORY_ABOVE_4G = 0x5b,
};

#define REG_A_UIP 0x80
#define REG_A_DIVIDER_32K 0x20 /* the time base a PC's crystal gives */
#define REG_A_RATE_1024HZ 0x06
#define REG_B_SET 0x80
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VALID 0x80 /* the battery is good */
/* The update cycle: UIP is set this long before the seconds change (244 µs on the chip). */
#define UPDATE_NS 244000L

static void realtime_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_REALTIME, ts);
}

/*
 * UTC calendar arithmetic of our own: glibc's gmtime_r and timegm read the
 * time zone files on first use, which the vCPU thread's sandbox forbids
 * (days from 1970-01-01 and back, by eras of 400 years).
 */
struct date_time {
	int year, month, day; /* month 1-12 */
	int hour, minute, second;
	int weekday; /* 0: Sunday */
};

static int64_t days_from_civil(int64_t year, int month, int day)
{
	int64_t era, year_of_era, day_of_year;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = year - era * 400;
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	return era * 146097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
	       day_of_year - 719468;
}

static struct date_time civil_from_seconds(int64_t seconds)
{
	int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
	int64_t rest = seconds - days * 86400;
	int64_t z = days + 719468, era, day_of_era, year_of_era, day_of_year, mp;
	struct date_time t;

	era = (z >= 0 ? z : z - 146096) / 146097;
	day_of_era = z - era * 146097;
	year_of_era =
	    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	mp = (5 * day_of_year + 2) / 153;
	t.day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
	t.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	t.year = (int)(year_of_era + era * 400 + (t.month <= 2));
	t.hour = (int)(rest / 3600);
	t.minute = (int)(rest / 60 % 60);
	t.second = (int)(rest % 60);
	t.weekday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	return t;
}

static bool is_clock_register(uint8_t reg)
{
	return reg <= REG_YEAR || reg == RTC_REG_CENTURY;
}

static uint8_t to_register(const struct rtc *rtc, unsigned value)
{
	return rtc->cmos[REG_B] & REG_B_BINARY ? (uint8_t)value
					       : (uint8_t)((value / 10) << 4 | value % 10);
}

static unsigned from_register(const struct rtc *rtc, uint8_t value)
{
	return rtc->cmos[REG_B] & REG_B_BINARY ? value : (value >> 4) * 10 + (value & 0x0f);
}

static uint8_t hours_to_register(const struct rtc *rtc, unsigned hours)
{
	unsigned twelve;

	if (rtc->cmos[REG_B] & REG_B_24H)
		return to_register(rtc, hours);
	twelve = hours % 12 ? hours % 12 : 12;
	return (uint8_t)(to_register(rtc, twelve) | (hours >= 12 ? 0x80 : 0));
}

static unsigned hours_from_register(const struct rtc *rtc, uint8_t value)
{
	unsigned hours;

	if (rtc->cmos[REG_B] & REG_B_24H)
		return from_register(rtc, value);
	hours = from_register(rtc, value & 0x7f) % 12;
	return value & 0x80 ? hours + 12 : hours;
}

/* The guest's clock now, and whether it is in its update cycle. */
static int64_t guest_time(const struct rtc *rtc, bool *updating)
{
	struct timespec ts;

	rtc->now(&ts);
	if (updating)
		*updating = ts.tv_nsec >= 1000000000L - UPDATE_NS;
	return ts.tv_sec + rtc->offset;
}

static uint8_t clock_field(const struct rtc *rtc, uint8_t reg, const struct date_time *t)
{
	switch (reg) {
	case REG_SECONDS:
		return to_register(rtc, (unsigned)t->second);
	case REG_MINUTES:
		return to_register(rtc, (unsigned)t->minute);
	case REG_HOURS:
		return hours_to_register(rtc, (unsigned)t->hour);
	case REG_WEEKDAY:
		return to_register(rtc, (unsigned)t->weekday + 1);
	case REG_DAY:
		return to_register(rtc, (unsigned)t->day);
	case REG_MONTH:
		return to_register(rtc, (unsigned)t->month);
	case REG_YEAR:
		return to_register(rtc, (unsigned)t->year % 100);
	case RTC_REG_CENTURY:
		return to_register(rtc, (unsigned)t->year / 100);
	default: /* the alarm registers: stored as written */
		return rtc->cmos[reg];
	}
}

/* What the guest wrote while SET was on becomes its clock: the offset from the host's. */
static void take_guest_clock(struct rtc *rtc)
{
	struct date_time t = {
		.second = (int)from_register(rtc, rtc->cmos[REG_SECONDS]),
		.minute = (int)from_register(rtc, rtc->cmos[REG_MINUTES]),
		.hour = (int)hours_from_register(rtc, rtc->cmos[REG_HOURS]),
		.day = (int)from_register(rtc, rtc->cmos[REG_DAY]),
		.month = (int)from_register(rtc, rtc->cmos[REG_MONTH]),
		.year = (int)(from_register(rtc, rtc->cmos[RTC_REG_CENTURY]) * 100 +
			      from_register(rtc, rtc->cmos[REG_YEAR])),
	};
	struct timespec ts;
	int64_t set;

	/* Nonsense (month 13, BCD digits above 9) leaves the clock as it was, as no chip would. */
	if (t.second > 59 || t.minute > 59 || t.hour > 23 || t.day < 1 || t.day > 31 ||
	    t.month < 1 || t.month > 12)
		return;
	set = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 +
	      t.second;
	rtc->now(&ts);
	rtc->offset = set - ts.tv_sec;
}

/* While SET is on the clock stands still at what the guest reads and writes: its current time. */
static void freeze_clock(struct rtc *rtc)
{
	struct date_time t = civil_from_seconds(guest_time(rtc, NULL));

	for (uint8_t reg = 0; reg < RTC_CMOS_SIZE; reg++)
		if (is_clock_register(reg))
			rtc->cmos[reg] = clock_field(rtc, reg, &t);
}

static uint8_t read_data(struct rtc *rtc)
{
	uint8_t reg = rtc->index;
	bool updating;
	struct date_time t;

	if (reg == REG_A) {
		(void)guest_time(rtc, &updating);
		return (uint8_t)((rtc->cmos[REG_A] & ~REG_A_UIP) | (updating ? REG_A_UIP : 0));
	}
	if (reg == REG_C)
		return 0; /* no interrupt was ever flagged */
	if (!is_clock_register(reg) || (rtc->cmos[REG_B] & REG_B_SET))
		return rtc->cmos[reg];
	t = civil_from_seconds(guest_time(rtc, NULL));
	return clock_field(rtc, reg, &t);
}

static void write_data(struct rtc *rtc, uint8_t value)
{
	uint8_t reg = rtc->index;

	switch (reg) {
	case REG_A:
		rtc->cmos[REG_A] = value & ~REG_A_UIP;
		return;
	case REG_B:
		if ((value & REG_B_SET) && !(rtc->cmos[REG_B] & REG_B_SET))
			freeze_clock(rtc);
		/* The format bits apply to what is written next; a set clock restarts when SET
		 * goes. */
		if (!(value & REG_B_SET) && (rtc->cmos[REG_B] & REG_B_SET))
			take_guest_clock(rtc);
		rtc->cmos[REG_B] = value;
		return;
	case REG_C:
	case REG_D:
		return; /* read-only */
	default:
		/* A clock field written while the clock runs is lost with the next update. */
		if (!is_clock_register(reg) || (rtc->cmos[REG_B] & REG_B_SET) || reg == 1 ||
		    reg == 3 || reg == 5)
			rtc->cmos[reg] = value;
	}
}

static void rtc_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i == 0 ? rtc->index : offset + i == 1 ? read_data(rtc) : 0xff;
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++) {
		if (offset + i == 0)
			rtc->index =
			    data[i] & 0x7f; /* bit 7 masks the NMI, which we have none of */
		else if (offset + i == 1)
			write_data(rtc, data[i]);
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct trap_ops rtc_io_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

static void put_le16(uint8_t *p, uint64_t value)
{
	p[0] = (uint8_t)value;
	p[1] = (uint8_t)(value >> 8);
}

int rtc_init(struct rtc *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	const uint64_t MiB = 1ULL << 20;
	uint64_t extended_kib = ram_below_4g > MiB ? (ram_below_4g - MiB) >> 10 : 0;
	uint64_t above_16m = ram_below_4g > 16 * MiB ? (ram_below_4g - 16 * MiB) >> 16 : 0;
	uint64_t above_4g = ram_above_4g >> 16;
	int r;

	memset(rtc->cmos, 0, sizeof(rtc->cmos));
	rtc->index = 0;
	rtc->offset = 0;
	if (!rtc->now)
		rtc->now = realtime_now;
	rtc->cmos[REG_A] = REG_A_DIVIDER_32K | REG_A_RATE_1024HZ;
	rtc->cmos[REG_B] = REG_B_24H;
	rtc->cmos[REG_D] = REG_D_VALID;
	put_le16(rtc->cmos + CMOS_BASE_MEMORY, 640);
	/* The 16-bit fields saturate, as a BIOS's do. */
	put_le16(rtc->cmos + CMOS_EXTENDED_MEMORY, extended_kib > 0xfc00 ? 0xfc00 : extended_kib);
	put_le16(rtc->cmos + CMOS_EXTENDED_MEMORY_COPY,
		 extended_kib > 0xfc00 ? 0xfc00 : extended_kib);
	put_le16(rtc->cmos + CMOS_MEMORY_ABOVE_16M, above_16m > 0xffff ? 0xffff : above_16m);
	rtc->cmos[CMOS_MEMORY_ABOVE_4G] = (uint8_t)above_4g;
	rtc->cmos[CMOS_MEMORY_ABOVE_4G + 1] = (uint8_t)(above_4g >> 8);
	rtc->cmos[CMOS_MEMORY_ABOVE_4G + 2] = (uint8_t)(above_4g >> 16);
	r = pthread_mutex_init(&rtc->lock, NULL);
	return -r;
}

void rtc_done(struct rtc *rtc)
{
	(void)pthread_mutex_destroy(&rtc->lock);
}

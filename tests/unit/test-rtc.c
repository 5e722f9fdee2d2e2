/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RTC and CMOS (hw/rtc.c) as Linux's mc146818 code and a PC firmware use them, on a fixed
 * clock. */
#include <glib.h>
#include <time.h>

#include "hw/rtc.h"

/* 2026-12-03 04:05:06 UTC, a Thursday; the host's clock in these tests. */
static struct timespec host_now = { .tv_sec = 1796270706, .tv_nsec = 0 };

static void fixed_now(struct timespec *ts)
{
	*ts = host_now;
}

static uint8_t rd(struct rtc *rtc, uint8_t reg)
{
	uint8_t v;

	rtc_io_ops.write(rtc, 0, &reg, 1);
	rtc_io_ops.read(rtc, 1, &v, 1);
	return v;
}

static void wr(struct rtc *rtc, uint8_t reg, uint8_t v)
{
	rtc_io_ops.write(rtc, 0, &reg, 1);
	rtc_io_ops.write(rtc, 1, &v, 1);
}

static void setup(struct rtc *rtc, uint64_t below_4g, uint64_t above_4g)
{
	*rtc = (struct rtc){ .now = fixed_now };
	host_now.tv_sec = 1796270706;
	host_now.tv_nsec = 0;
	g_assert_cmpint(rtc_init(rtc, below_4g, above_4g), ==, 0);
}

/* As a PC's after its firmware: BCD, 24-hour, the battery good, no update in progress. */
static void test_reads_host_utc_in_bcd(void)
{
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	g_assert_cmphex(rd(&rtc, 0x0b), ==, 0x02);
	g_assert_cmphex(rd(&rtc, 0x0d), ==, 0x80);
	g_assert_cmphex(rd(&rtc, 0x0a) & 0x80, ==, 0);
	g_assert_cmphex(rd(&rtc, 0x00), ==, 0x06);
	g_assert_cmphex(rd(&rtc, 0x02), ==, 0x05);
	g_assert_cmphex(rd(&rtc, 0x04), ==, 0x04);
	g_assert_cmphex(rd(&rtc, 0x06), ==, 0x05); /* Thursday, Sunday being 1 */
	g_assert_cmphex(rd(&rtc, 0x07), ==, 0x03);
	g_assert_cmphex(rd(&rtc, 0x08), ==, 0x12);
	g_assert_cmphex(rd(&rtc, 0x09), ==, 0x26);
	g_assert_cmphex(rd(&rtc, RTC_REG_CENTURY), ==, 0x20);
	rtc_done(&rtc);
}

/* The guest picks binary and 12-hour formats; the hours' top bit says PM. */
static void test_binary_and_12_hour(void)
{
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	host_now.tv_sec += 12 * 3600; /* 16:05:06 */
	wr(&rtc, 0x0b, 0x04);
	g_assert_cmpuint(rd(&rtc, 0x04), ==, 0x80 | 4);
	g_assert_cmpuint(rd(&rtc, 0x09), ==, 26);
	g_assert_cmpuint(rd(&rtc, RTC_REG_CENTURY), ==, 20);
	wr(&rtc, 0x0b, 0x00); /* BCD, 12-hour */
	g_assert_cmphex(rd(&rtc, 0x04), ==, 0x84);
	host_now.tv_sec -= 16 * 3600; /* 00:05:06 reads 12 AM */
	g_assert_cmphex(rd(&rtc, 0x04), ==, 0x12);
	rtc_done(&rtc);
}

/* UIP is set in the last 244 µs before the seconds change, where Linux waits. */
static void test_update_in_progress(void)
{
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	host_now.tv_nsec = 999900000;
	g_assert_cmphex(rd(&rtc, 0x0a) & 0x80, ==, 0x80);
	host_now.tv_nsec = 999700000;
	g_assert_cmphex(rd(&rtc, 0x0a) & 0x80, ==, 0);
	/* The rate and divider bits stay as written; UIP cannot be written. */
	wr(&rtc, 0x0a, 0xa6);
	g_assert_cmphex(rd(&rtc, 0x0a), ==, 0x26);
	rtc_done(&rtc);
}

/* hwclock --systohc, as Linux does it: SET, the fields, SET off; the clock then runs from there. */
static void test_guest_sets_the_clock(void)
{
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	wr(&rtc, 0x0b, 0x02 | 0x80);
	/* Frozen at the current time while SET. */
	host_now.tv_sec += 30;
	g_assert_cmphex(rd(&rtc, 0x00), ==, 0x06);
	/* 1999-12-31 23:59:58, local time as Windows keeps it. */
	wr(&rtc, 0x00, 0x58);
	wr(&rtc, 0x02, 0x59);
	wr(&rtc, 0x04, 0x23);
	wr(&rtc, 0x07, 0x31);
	wr(&rtc, 0x08, 0x12);
	wr(&rtc, 0x09, 0x99);
	wr(&rtc, RTC_REG_CENTURY, 0x19);
	wr(&rtc, 0x0b, 0x02);
	g_assert_cmphex(rd(&rtc, 0x00), ==, 0x58);
	host_now.tv_sec += 3; /* across the millennium */
	g_assert_cmphex(rd(&rtc, 0x00), ==, 0x01);
	g_assert_cmphex(rd(&rtc, 0x04), ==, 0x00);
	g_assert_cmphex(rd(&rtc, 0x07), ==, 0x01);
	g_assert_cmphex(rd(&rtc, 0x08), ==, 0x01);
	g_assert_cmphex(rd(&rtc, 0x09), ==, 0x00);
	g_assert_cmphex(rd(&rtc, RTC_REG_CENTURY), ==, 0x20);
	g_assert_cmpint(rtc.offset, <, 0);
	rtc_done(&rtc);
}

/* Garbage in the fields (month 13, BCD digits above 9) leaves the clock where it was. */
static void test_nonsense_is_ignored(void)
{
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	wr(&rtc, 0x0b, 0x82);
	wr(&rtc, 0x08, 0x13);
	wr(&rtc, 0x00, 0xff);
	wr(&rtc, 0x0b, 0x02);
	g_assert_cmpint(rtc.offset, ==, 0);
	g_assert_cmphex(rd(&rtc, 0x08), ==, 0x12);
	/* A field written while the clock runs is lost, as with the chip's next update. */
	wr(&rtc, 0x02, 0x42);
	g_assert_cmphex(rd(&rtc, 0x02), ==, 0x05);
	/* Registers C and D cannot be written; C reads no interrupt flags. */
	wr(&rtc, 0x0c, 0xff);
	wr(&rtc, 0x0d, 0x00);
	g_assert_cmphex(rd(&rtc, 0x0c), ==, 0);
	g_assert_cmphex(rd(&rtc, 0x0d), ==, 0x80);
	rtc_done(&rtc);
}

/* The memory sizes a PC firmware reads, and plain CMOS bytes kept as written. */
static void test_cmos_memory(void)
{
	struct rtc rtc;

	setup(&rtc, 3ULL << 30, 5ULL << 30);
	g_assert_cmpuint(rd(&rtc, 0x15) | rd(&rtc, 0x16) << 8, ==, 640);
	g_assert_cmpuint(rd(&rtc, 0x17) | rd(&rtc, 0x18) << 8, ==, 0xfc00);
	/* (3 GiB - 16 MiB) / 64 KiB */
	g_assert_cmpuint(rd(&rtc, 0x34) | rd(&rtc, 0x35) << 8, ==, 0xbf00);
	/* 5 GiB / 64 KiB */
	g_assert_cmpuint(rd(&rtc, 0x5b) | rd(&rtc, 0x5c) << 8 | rd(&rtc, 0x5d) << 16, ==, 0x14000);
	wr(&rtc, 0x40, 0xab);
	g_assert_cmphex(rd(&rtc, 0x40), ==, 0xab);
	/* The index port: bit 7 (NMI mask) is not part of the index. */
	wr(&rtc, 0x80 | 0x40, 0xcd);
	g_assert_cmphex(rd(&rtc, 0x40), ==, 0xcd);
	rtc_done(&rtc);
	setup(&rtc, 64ULL << 20, 0);
	g_assert_cmpuint(rd(&rtc, 0x34) | rd(&rtc, 0x35) << 8, ==, 768);
	g_assert_cmpuint(rd(&rtc, 0x5b) | rd(&rtc, 0x5c) | rd(&rtc, 0x5d), ==, 0);
	rtc_done(&rtc);
}

/* The device's own calendar (the sandbox forbids glibc's) against gmtime_r, 1970 to 2199, and a
 * time set through the registers comes back as the same second. */
static void test_calendar_matches_glibc(void)
{
	/* 2000-02-29, 2100-02-28 and 03-01 (no leap day), 2038-01-19 03:14:08 */
	static const int64_t edges[] = { 0, 951782400, 4107456000, 4107542400, 2147483648 };
	struct rtc rtc;

	setup(&rtc, 1ULL << 30, 0);
	wr(&rtc, 0x0b, 0x06); /* binary, 24-hour */
	for (int i = 0; i < 5000; i++) {
		time_t t =
		    i < 5 ? (time_t)edges[i] : (time_t)g_test_rand_int_range(0, 0x7fffffff) * 3;
		struct tm tm;

		g_assert_nonnull(gmtime_r(&t, &tm));
		host_now.tv_sec = t;
		rtc.offset = 0;
		g_assert_cmpuint(rd(&rtc, 0x00), ==, tm.tm_sec);
		g_assert_cmpuint(rd(&rtc, 0x02), ==, tm.tm_min);
		g_assert_cmpuint(rd(&rtc, 0x04), ==, tm.tm_hour);
		g_assert_cmpuint(rd(&rtc, 0x06), ==, tm.tm_wday + 1);
		g_assert_cmpuint(rd(&rtc, 0x07), ==, tm.tm_mday);
		g_assert_cmpuint(rd(&rtc, 0x08), ==, tm.tm_mon + 1);
		g_assert_cmpuint(rd(&rtc, 0x09), ==, (tm.tm_year + 1900) % 100);
		g_assert_cmpuint(rd(&rtc, RTC_REG_CENTURY), ==, (tm.tm_year + 1900) / 100);
		/* The same fields written back: no offset. */
		wr(&rtc, 0x0b, 0x86);
		wr(&rtc, 0x0b, 0x06);
		g_assert_cmpint(rtc.offset, ==, 0);
	}
	rtc_done(&rtc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/reads-host-utc-in-bcd", test_reads_host_utc_in_bcd);
	g_test_add_func("/rtc/binary-and-12-hour", test_binary_and_12_hour);
	g_test_add_func("/rtc/update-in-progress", test_update_in_progress);
	g_test_add_func("/rtc/guest-sets-the-clock", test_guest_sets_the_clock);
	g_test_add_func("/rtc/nonsense-is-ignored", test_nonsense_is_ignored);
	g_test_add_func("/rtc/cmos-memory", test_cmos_memory);
	g_test_add_func("/rtc/calendar-matches-glibc", test_calendar_matches_glibc);
	return g_test_run();
}

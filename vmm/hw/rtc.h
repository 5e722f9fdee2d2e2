/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "trap.h"

/*
 * The PC's real-time clock and CMOS memory (an MC146818 at ports 0x70/0x71):
 * the guest's wall clock at boot (Linux's rtc_cmos, a UEFI firmware's
 * GetTime) and the memory sizes a PC firmware reads from CMOS. The clock is
 * the host's UTC plus what the guest set it to (Windows keeps local time in
 * it); it raises no interrupts, and the ACPI tables say so (no IRQ in its
 * _CRS), so the guest polls the update-in-progress bit as on hardware
 * without one.
 */
#define RTC_CMOS_SIZE 128

/* Register indexes the rest of the VMM names: the ACPI FADT's CENTURY field. */
#define RTC_REG_CENTURY 0x32

struct rtc {
	pthread_mutex_t lock; /* vCPUs reach the index and data ports in any order */
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE]; /* the clock's fields hold their values only while SET */
	int64_t offset;		     /* seconds the guest's clock is ahead of the host's UTC */
	/* The host's clock, CLOCK_REALTIME unless a test gives another. */
	void (*now)(struct timespec *ts);
};

/* ram_below_4g and ram_above_4g: the guest RAM's two parts, for the CMOS memory-size bytes. */
int rtc_init(struct rtc *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g);
void rtc_done(struct rtc *rtc);

extern const struct trap_ops rtc_io_ops;

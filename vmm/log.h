/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <syslog.h>

/*
 * The VMM logs to stderr with sd-daemon "<N>" level prefixes, so that the
 * journal (through phyllomed's stream) keeps the priority of every line.
 * The prefix is left out when stderr is a terminal, for people.
 */
void log_set_max_level(int level);
int log_get_max_level(void);

/* Returns -abs(error), so callers can write "return log_error_errno(r, ...)". */
int log_internal(int level, int error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(error, ...) log_internal(LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, (error), __VA_ARGS__)

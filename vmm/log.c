/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int max_level = LOG_NOTICE;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

int log_internal(int level, int error, const char *format, ...)
{
	int saved_errno = errno;
	int abs_error = error < 0 ? -error : error;

	if (level <= max_level) {
		char line[1024];
		va_list ap;

		/* %m in the format names the error passed in, not whatever errno is now. */
		errno = abs_error;
		va_start(ap, format);
		vsnprintf(line, sizeof(line), format, ap);
		va_end(ap);

		if (isatty(STDERR_FILENO))
			fprintf(stderr, "phyllome-vmm: %s\r\n", line);
		else
			fprintf(stderr, "<%d>phyllome-vmm: %s\n", level, line);
	}
	errno = saved_errno;
	return -abs_error;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int unit_shift(char c)
{
	switch (c) {
	case 'b':
	case 'B':
		return 0;
	case 'k':
	case 'K':
		return 10;
	case 'm':
	case 'M':
		return 20;
	case 'g':
	case 'G':
		return 30;
	case 't':
	case 'T':
		return 40;
	default:
		return -1;
	}
}

int size_parse(const char *s, uint64_t bare_unit, uint64_t *ret)
{
	unsigned long long value;
	uint64_t multiplier = bare_unit;
	char *end;

	if (!s || *s < '0' || *s > '9' || bare_unit == 0)
		return -EINVAL;
	errno = 0;
	value = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		int shift = unit_shift(*end);

		if (shift < 0)
			return -EINVAL;
		end++;
		/* "MiB", "MB": both mean binary units; a bare "B" takes no suffix. */
		if (shift > 0 && (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0))
			end += strlen(end);
		if (*end)
			return -EINVAL;
		multiplier = UINT64_C(1) << shift;
	}
	if (value > UINT64_MAX / multiplier)
		return -ERANGE;
	*ret = (uint64_t)value * multiplier;
	return 0;
}

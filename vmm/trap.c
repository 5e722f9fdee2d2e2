/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "trap.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"

void trap_table_init(struct trap_table *t, const char *space, uint64_t limit, bool whole_access)
{
	*t = (struct trap_table){ .space = space, .limit = limit, .whole_access = whole_access };
}

int trap_register(struct trap_table *t, const char *name, uint64_t base, uint64_t length,
		  const struct trap_ops *ops, void *opaque)
{
	if (length == 0 || base >= t->limit || length > t->limit - base)
		return log_error_errno(EINVAL, "%s range of %s: bad range", t->space, name);
	if (t->count == TRAP_MAX_RANGES)
		return log_error_errno(ENOSPC, "Too many %s ranges (adding %s)", t->space, name);
	for (unsigned i = 0; i < t->count; i++) {
		const struct trap_range *r = &t->ranges[i];

		if (base < r->base + r->length && r->base < base + length)
			return log_error_errno(EEXIST, "%s range of %s overlaps that of %s",
					       t->space, name, r->name);
	}
	t->ranges[t->count++] = (struct trap_range){
		.name = name,
		.base = base,
		.length = length,
		.ops = ops,
		.opaque = opaque,
	};
	return 0;
}

/*
 * What no device decodes reads as all ones and writes go nowhere, as on a PC bus.
 * With -vv the first few show: what a guest (a firmware above all) looked for and
 * did not find.
 */
#define UNCLAIMED_LOGGED 64

static void log_unclaimed(const struct trap_table *t, uint64_t addr, unsigned size, bool is_write)
{
	static atomic_uint logged;
	unsigned n;

	if (log_get_max_level() < LOG_DEBUG)
		return;
	n = atomic_fetch_add(&logged, 1);
	if (n < UNCLAIMED_LOGGED)
		log_debug("Unclaimed %s %s at 0x%llx (%u bytes)%s", t->space,
			  is_write ? "write" : "read", (unsigned long long)addr, size,
			  n + 1 == UNCLAIMED_LOGGED ? "; no more of these are logged" : "");
}

void trap_access(const struct trap_table *t, uint64_t addr, uint8_t *data, unsigned size,
		 bool is_write)
{
	for (unsigned i = 0; i < t->count; i++) {
		const struct trap_range *r = &t->ranges[i];

		if (addr < r->base || addr - r->base >= r->length)
			continue;
		if (t->whole_access && size > r->length - (addr - r->base))
			continue;
		if (is_write)
			r->ops->write(r->opaque, addr - r->base, data, size);
		else
			r->ops->read(r->opaque, addr - r->base, data, size);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
	log_unclaimed(t, addr, size, is_write);
}

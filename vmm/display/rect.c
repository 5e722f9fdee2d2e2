/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Damage rectangles: what the display devices gather and the channel sends. */
#include "display/channel.h"

bool display_rect_empty(const struct display_rect *r)
{
	return !r->width || !r->height;
}

void display_rect_union(struct display_rect *into, const struct display_rect *r)
{
	unsigned x1, y1;

	if (display_rect_empty(r))
		return;
	if (display_rect_empty(into)) {
		*into = *r;
		return;
	}
	x1 = into->x + into->width > r->x + r->width ? into->x + into->width : r->x + r->width;
	y1 = into->y + into->height > r->y + r->height ? into->y + into->height : r->y + r->height;
	into->x = into->x < r->x ? into->x : r->x;
	into->y = into->y < r->y ? into->y : r->y;
	into->width = x1 - into->x;
	into->height = y1 - into->y;
}

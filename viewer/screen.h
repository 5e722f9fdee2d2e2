/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gtk/gtk.h>

/*
 * The guest's picture, scaled to fit the widget with its aspect ratio kept
 * (black bars around it), and the mapping from the widget's points back to
 * the guest's pixels for the pointer.
 */
#define VIEWER_TYPE_SCREEN (viewer_screen_get_type())
G_DECLARE_FINAL_TYPE(ViewerScreen, viewer_screen, VIEWER, SCREEN, GtkWidget)

GtkWidget *viewer_screen_new(void);
/* NULL: nothing to show. */
void viewer_screen_set_texture(ViewerScreen *screen, GdkTexture *texture);
/* The guest pixel under widget point (x, y), clamped to the picture; FALSE without one. */
gboolean viewer_screen_to_guest(ViewerScreen *screen, double x, double y, guint *gx, guint *gy);

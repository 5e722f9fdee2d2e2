/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gtk/gtk.h>

/*
 * A viewer's end of a VM's display channel (org.phyllome.VMM1.Display): a
 * connected socket from phyllomed's Machine.OpenDisplay (or a monitor's
 * control socket), a listener served on a socket pair of our own, the
 * guest's pixels kept as textures, and input sent back as evdev codes.
 */
typedef struct ViewerDisplay ViewerDisplay;

typedef struct {
	/* A picture to show (the guest drew, or set a mode). */
	void (*frame)(gpointer user, GdkTexture *texture);
	/* The guest shows nothing. */
	void (*disabled)(gpointer user);
	/* The guest's pointer image (NULL: hidden), for devices with a cursor plane. */
	void (*cursor)(gpointer user, GdkTexture *image, int hot_x, int hot_y);
	/* The channel is gone: why is NULL when it just closed (the VM stopped), else the
	 * monitor's refusal (no display). */
	void (*closed)(gpointer user, const char *why);
} ViewerDisplayCallbacks;

/* Takes fd. Connects synchronously; the picture comes through the callbacks. */
ViewerDisplay *viewer_display_open(int fd, const ViewerDisplayCallbacks *callbacks, gpointer user,
				   GError **error);
void viewer_display_free(ViewerDisplay *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ViewerDisplay, viewer_display_free)

void viewer_display_key(ViewerDisplay *d, guint code, gboolean pressed);
/* x, y in the guest's pixels. */
void viewer_display_pointer_move(ViewerDisplay *d, guint x, guint y);
void viewer_display_button(ViewerDisplay *d, guint code, gboolean pressed);
void viewer_display_scroll(ViewerDisplay *d, int dx, int dy);
void viewer_display_size_hint(ViewerDisplay *d, guint width, guint height);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "screen.h"

struct _ViewerScreen {
	GtkWidget parent;
	GdkTexture *texture;
};

G_DEFINE_FINAL_TYPE(ViewerScreen, viewer_screen, GTK_TYPE_WIDGET)

/* Where the picture goes: as large as fits, centred. */
static graphene_rect_t fitted(ViewerScreen *screen)
{
	double w = gtk_widget_get_width(GTK_WIDGET(screen));
	double h = gtk_widget_get_height(GTK_WIDGET(screen));
	double tw = gdk_texture_get_width(screen->texture);
	double th = gdk_texture_get_height(screen->texture);
	double scale = MIN(w / tw, h / th);
	graphene_rect_t r;

	graphene_rect_init(&r, (float)((w - tw * scale) / 2), (float)((h - th * scale) / 2),
			   (float)(tw * scale), (float)(th * scale));
	return r;
}

static void viewer_screen_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	ViewerScreen *screen = VIEWER_SCREEN(widget);
	graphene_rect_t all, r;

	graphene_rect_init(&all, 0, 0, (float)gtk_widget_get_width(widget),
			   (float)gtk_widget_get_height(widget));
	gtk_snapshot_append_color(snapshot, &(GdkRGBA){ 0, 0, 0, 1 }, &all);
	if (!screen->texture)
		return;
	r = fitted(screen);
	gtk_snapshot_append_texture(snapshot, screen->texture, &r);
}

static void viewer_screen_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
				  int *minimum, int *natural, int *minimum_baseline,
				  int *natural_baseline)
{
	ViewerScreen *screen = VIEWER_SCREEN(widget);

	*minimum = 64;
	*natural = 640;
	if (screen->texture)
		*natural = orientation == GTK_ORIENTATION_HORIZONTAL
			       ? gdk_texture_get_width(screen->texture)
			       : gdk_texture_get_height(screen->texture);
}

static void viewer_screen_dispose(GObject *object)
{
	g_clear_object(&VIEWER_SCREEN(object)->texture);
	G_OBJECT_CLASS(viewer_screen_parent_class)->dispose(object);
}

static void viewer_screen_class_init(ViewerScreenClass *klass)
{
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	G_OBJECT_CLASS(klass)->dispose = viewer_screen_dispose;
	widget_class->snapshot = viewer_screen_snapshot;
	widget_class->measure = viewer_screen_measure;
}

static void viewer_screen_init(ViewerScreen *screen)
{
	gtk_widget_set_focusable(GTK_WIDGET(screen), TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(screen), TRUE);
	gtk_widget_set_vexpand(GTK_WIDGET(screen), TRUE);
}

GtkWidget *viewer_screen_new(void)
{
	return g_object_new(VIEWER_TYPE_SCREEN, NULL);
}

void viewer_screen_set_texture(ViewerScreen *screen, GdkTexture *texture)
{
	gboolean resized =
	    !screen->texture || !texture ||
	    gdk_texture_get_width(screen->texture) != gdk_texture_get_width(texture) ||
	    gdk_texture_get_height(screen->texture) != gdk_texture_get_height(texture);

	g_set_object(&screen->texture, texture);
	if (resized)
		gtk_widget_queue_resize(GTK_WIDGET(screen));
	gtk_widget_queue_draw(GTK_WIDGET(screen));
}

gboolean viewer_screen_to_guest(ViewerScreen *screen, double x, double y, guint *gx, guint *gy)
{
	graphene_rect_t r;
	double fx, fy;
	int tw, th;

	if (!screen->texture)
		return FALSE;
	r = fitted(screen);
	tw = gdk_texture_get_width(screen->texture);
	th = gdk_texture_get_height(screen->texture);
	fx = (x - r.origin.x) / r.size.width * tw;
	fy = (y - r.origin.y) / r.size.height * th;
	*gx = (guint)CLAMP(fx, 0, tw - 1);
	*gy = (guint)CLAMP(fy, 0, th - 1);
	return TRUE;
}

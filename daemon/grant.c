/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "grant.h"

struct Grant {
	GDBusObjectManagerServer *om;
	char *path;
	PhyllomeObjectSkeleton *object;
	PhyllomeGrant *iface;
	gpointer handler_data;
};

char *grant_object_path(const char *machine_path, const char *device)
{
	g_autofree char *element = g_strdup(device);

	g_strdelimit(element, ":.", '_');
	return g_strdup_printf("%s/grant/%s", machine_path, element);
}

Grant *grant_new(GDBusObjectManagerServer *om, const char *machine_path, const char *device,
		 const char *description, gboolean persistent, GCallback on_method, gpointer data)
{
	Grant *g = g_new0(Grant, 1);

	g->om = g_object_ref(om);
	g->path = grant_object_path(machine_path, device);
	g->object = phyllome_object_skeleton_new(g->path);
	g->iface = phyllome_grant_skeleton_new();
	g->handler_data = data;
	phyllome_grant_set_device(g->iface, device);
	phyllome_grant_set_machine(g->iface, machine_path);
	phyllome_grant_set_description(g->iface, description);
	phyllome_grant_set_persistent(g->iface, persistent);
	phyllome_grant_set_active(g->iface, FALSE);
	g_signal_connect(g->iface, "g-authorize-method", on_method, data);
	phyllome_object_skeleton_set_grant(g->object, g->iface);
	g_dbus_object_manager_server_export(om, G_DBUS_OBJECT_SKELETON(g->object));
	return g;
}

void grant_free(Grant *g)
{
	if (!g)
		return;
	g_signal_handlers_disconnect_by_data(g->iface, g->handler_data);
	g_dbus_object_manager_server_unexport(g->om, g->path);
	g_object_unref(g->iface);
	g_object_unref(g->object);
	g_object_unref(g->om);
	g_free(g->path);
	g_free(g);
}

const char *grant_get_device(const Grant *g)
{
	return phyllome_grant_get_device(g->iface);
}

const char *grant_get_path(const Grant *g)
{
	return g->path;
}

gboolean grant_get_persistent(const Grant *g)
{
	return phyllome_grant_get_persistent(g->iface);
}

void grant_set_persistent(Grant *g, gboolean persistent)
{
	phyllome_grant_set_persistent(g->iface, persistent);
}

void grant_set_active(Grant *g, gboolean active)
{
	phyllome_grant_set_active(g->iface, active);
}

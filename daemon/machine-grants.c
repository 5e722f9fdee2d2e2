/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host devices granted to a machine: its Grant objects, and Devices= in its definition for
 * persistent ones. */
#include "machine-private.h"

void machine_grants_set_active(Machine *m, gboolean active)
{
	for (guint i = 0; i < m->grants->len; i++)
		grant_set_active(m->grants->pdata[i], active);
}

static void publish_grants(Machine *m)
{
	g_autoptr(GPtrArray) devices = g_ptr_array_new();

	for (guint i = 0; i < m->grants->len; i++)
		g_ptr_array_add(devices, (gpointer)grant_get_device(m->grants->pdata[i]));
	g_ptr_array_add(devices, NULL);
	phyllome_machine_set_grants(m->iface, (const char *const *)devices->pdata);
}

Grant *machine_grant_find(Machine *m, const char *device)
{
	for (guint i = 0; i < m->grants->len; i++)
		if (g_str_equal(grant_get_device(m->grants->pdata[i]), device))
			return m->grants->pdata[i];
	return NULL;
}

gboolean machine_has_grant(Machine *m, const char *device)
{
	return machine_grant_find(m, device) != NULL;
}

static gint by_device(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(grant_get_device(*(Grant *const *)a),
			 grant_get_device(*(Grant *const *)b));
}

Grant *machine_grant_add(Machine *m, const char *device, gboolean persistent)
{
	Daemon *d = m->daemon;
	g_autofree char *vendor = NULL, *product = NULL, *description = NULL;
	Grant *grant;

	host_device_names(daemon_pci_names(d), d->options.sysfs_root, device, &vendor, &product);
	description = g_strstrip(g_strdup_printf("%s %s", vendor, product));
	grant = grant_new(d->object_manager, m->path, device, description, persistent,
			  m->ops->authorize_method, m);
	g_ptr_array_add(m->grants, grant);
	g_ptr_array_sort(m->grants, by_device);
	publish_grants(m);
	return grant;
}

void machine_grant_remove(Machine *m, Grant *grant)
{
	g_ptr_array_remove(m->grants, grant);
	publish_grants(m);
}

/* Persistent grants are the definition's Devices=; grants made for this run of phyllomed stay. */
void machine_grants_sync(Machine *m)
{
	const MachineConfig *c = m->config;

	if (!c || !m->grants)
		return;
	for (guint i = m->grants->len; i-- > 0;) {
		Grant *grant = m->grants->pdata[i];

		if (grant_get_persistent(grant) &&
		    !(c->devices &&
		      g_strv_contains((const char *const *)c->devices, grant_get_device(grant))))
			machine_grant_remove(m, grant);
	}
	for (guint i = 0; c->devices && c->devices[i]; i++) {
		Grant *grant = machine_grant_find(m, c->devices[i]);

		if (grant)
			grant_set_persistent(grant, TRUE);
		else
			machine_grant_add(m, c->devices[i], TRUE);
	}
}

gboolean machine_grants_save(Machine *m, const char *add, const char *remove, GError **error)
{
	g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func(g_free);
	char **old = m->config->devices;

	for (guint i = 0; old && old[i]; i++)
		if (!remove || !g_str_equal(old[i], remove))
			g_ptr_array_add(devices, g_strdup(old[i]));
	if (add)
		g_ptr_array_add(devices, g_strdup(add));
	g_ptr_array_add(devices, NULL);
	m->config->devices = (char **)devices->pdata;
	if (!machine_config_save(m->config, m->daemon->options.config_dir, error)) {
		m->config->devices = old;
		return FALSE;
	}
	m->config->devices = (char **)g_ptr_array_free(g_steal_pointer(&devices), FALSE);
	g_strfreev(old);
	return TRUE;
}

Grant *machine_grant_find_by_path(Machine *m, const char *object_path)
{
	for (guint i = 0; i < m->grants->len; i++)
		if (g_str_equal(grant_get_path(m->grants->pdata[i]), object_path))
			return m->grants->pdata[i];
	return NULL;
}

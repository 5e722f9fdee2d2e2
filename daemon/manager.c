/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "config-variant.h"
#include "firmware.h"
#include "machine.h"
#include "methods.h"
#include "phyllome-error.h"
#include "phyllome-names.h"

/* A definition file that is not NAME.conf with a valid name is ignored, and said so. */
static char *name_of_definition(const char *file)
{
	g_autofree char *name = NULL;

	if (!g_str_has_suffix(file, ".conf"))
		return NULL;
	name = g_strndup(file, strlen(file) - strlen(".conf"));
	if (!machine_name_is_valid(name)) {
		daemon_log(NULL, LOG_WARNING, "Ignoring %s: not a valid machine name", file);
		return NULL;
	}
	return g_steal_pointer(&name);
}

static void machine_state_changed(Machine *m)
{
	Daemon *d = machine_get_daemon(m);

	if (d->machine_state_hooks.is_setup)
		g_hook_list_invoke(&d->machine_state_hooks, FALSE);
}

static gboolean remove_machine(Machine *m, GError **error);

/* The machine, other than except, that holds a grant of device (there is one at most), or NULL. */
static Machine *holder_of(Daemon *d, const char *device, Machine *except)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, d->machines);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (value != except && machine_has_grant(value, device))
			return value;
	return NULL;
}

static Machine *device_holder(Machine *m, const char *device)
{
	return holder_of(machine_get_daemon(m), device, m);
}

static gboolean check_unshared(Daemon *d, const MachineConfig *c, GError **error);

static gboolean machine_check_unshared(Machine *m, const MachineConfig *c, GError **error)
{
	return check_unshared(machine_get_daemon(m), c, error);
}

static const MachineOps machine_ops = {
	.state_changed = machine_state_changed,
	.remove = remove_machine,
	.device_holder = device_holder,
	.check_unshared = machine_check_unshared,
	.authorize_method = G_CALLBACK(methods_dispatch),
};

Machine *manager_find_machine(Daemon *d, const char *name)
{
	return d->machines ? g_hash_table_lookup(d->machines, name) : NULL;
}

void manager_foreach_machine(Daemon *d, void (*func)(Machine *m, gpointer data), gpointer data)
{
	GHashTableIter iter;
	gpointer value;

	if (!d->machines)
		return;
	g_hash_table_iter_init(&iter, d->machines);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		func(value, data);
}

static Machine *add_machine(Daemon *d, const char *name, MachineConfig *config,
			    const char *config_error)
{
	Machine *m = machine_new(d, &machine_ops, name, config, config_error);

	g_hash_table_insert(d->machines, g_strdup(name), m);
	phyllome_manager_emit_machine_new(d->manager_iface, name, machine_get_path(m));
	return m;
}

static void load_definitions(Daemon *d)
{
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) error = NULL;
	const char *file;

	dir = g_dir_open(d->options.config_dir, 0, &error);
	if (!dir) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			daemon_log(NULL, LOG_WARNING, "Cannot read %s: %s", d->options.config_dir,
				   error->message);
		return;
	}
	while ((file = g_dir_read_name(dir))) {
		g_autofree char *name = name_of_definition(file);
		g_autofree char *path = NULL;
		g_autoptr(GError) config_error = NULL;
		MachineConfig *config;
		Machine *m;

		if (!name)
			continue;
		path = g_build_filename(d->options.config_dir, file, NULL);
		config = machine_config_load(path, name, &config_error);
		m = add_machine(d, name, config, config_error ? config_error->message : NULL);
		machine_adopt(m);
	}
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

static gboolean handle_list_machines(PhyllomeManager *iface, GDBusMethodInvocation *invocation,
				     gpointer data)
{
	Daemon *d = data;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;
	GVariantBuilder builder;

	g_hash_table_iter_init(&iter, d->machines);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(names, key);
	g_ptr_array_sort(names, compare_names);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sso)"));
	for (guint i = 0; i < names->len; i++) {
		Machine *m = g_hash_table_lookup(d->machines, names->pdata[i]);

		g_variant_builder_add(&builder, "(sso)", machine_get_name(m),
				      machine_state_to_string(machine_get_state(m)),
				      machine_get_path(m));
	}
	phyllome_manager_complete_list_machines(iface, invocation, g_variant_builder_end(&builder));
	return TRUE;
}

static gboolean handle_list_host_devices(PhyllomeManager *iface, GDBusMethodInvocation *invocation,
					 gpointer data)
{
	Daemon *d = data;
	g_autoptr(GPtrArray) devices = host_devices_list(d->options.sysfs_root);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < devices->len; i++) {
		HostDevice *device = devices->pdata[i];
		Machine *holder = holder_of(d, device->address, NULL);

		g_variant_builder_add_value(
		    &builder, host_device_to_variant(device, daemon_pci_names(d),
						     holder ? machine_get_name(holder) : ""));
	}
	phyllome_manager_complete_list_host_devices(iface, invocation,
						    g_variant_builder_end(&builder));
	return TRUE;
}

static gboolean handle_get_machine(PhyllomeManager *iface, GDBusMethodInvocation *invocation,
				   const char *name, gpointer data)
{
	Daemon *d = data;
	Machine *m = g_hash_table_lookup(d->machines, name);

	if (!m) {
		g_dbus_method_invocation_return_error(invocation, PHYLLOME_ERROR,
						      PHYLLOME_ERROR_NO_SUCH_MACHINE,
						      "No machine named '%s'", name);
		return TRUE;
	}
	phyllome_manager_complete_get_machine(iface, invocation, machine_get_path(m));
	return TRUE;
}

/* Builds a definition from CreateMachine's a{sv}; every key and type is checked. */
static MachineConfig *config_from_variant(const char *name, GVariant *dict, uid_t caller,
					  GError **error)
{
	g_autoptr(MachineConfig) c = machine_config_new(name);

	c->owner = caller;
	if (!machine_config_apply_variant(c, dict, error))
		return NULL;
	return g_steal_pointer(&c);
}

typedef struct {
	Daemon *daemon;
	char *name;
	GVariant *config;
} CreateCall;

/* The tap of a Networks= entry: "tap=NAME[,...]". */
static char *tap_name(const char *network)
{
	g_auto(GStrv) parts = g_strsplit(network, ",", 2);

	return g_str_has_prefix(parts[0], "tap=") ? g_strdup(parts[0] + 4) : NULL;
}

/* What c would share with another machine (not its own name's) that only one may have: a tap, a
 * vsock CID. */
static gboolean check_unshared(Daemon *d, const MachineConfig *c, GError **error)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, d->machines);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const MachineConfig *other = machine_get_config(value);

		if (!other || g_str_equal(other->name, c->name))
			continue;
		/* Two machines with one UUID are one to the guests' software, and to machined. */
		if (g_str_equal(c->uuid, other->uuid)) {
			g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG,
				    "UUID %s is taken by machine '%s'", c->uuid, other->name);
			return FALSE;
		}
		if (c->vsock_cid && c->vsock_cid == other->vsock_cid) {
			g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG,
				    "VSockCID %u is taken by machine '%s'", c->vsock_cid,
				    other->name);
			return FALSE;
		}
		for (guint i = 0; c->networks && c->networks[i]; i++)
			for (guint j = 0; other->networks && other->networks[j]; j++) {
				g_autofree char *mine = tap_name(c->networks[i]);
				g_autofree char *theirs = tap_name(other->networks[j]);

				if (mine && theirs && g_str_equal(mine, theirs)) {
					g_set_error(error, PHYLLOME_ERROR,
						    PHYLLOME_ERROR_INVALID_CONFIG,
						    "The tap %s is taken by machine '%s'", mine,
						    other->name);
					return FALSE;
				}
			}
	}
	return TRUE;
}

static void create_call_free(CreateCall *call)
{
	g_free(call->name);
	g_variant_unref(call->config);
	g_free(call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CreateCall, create_call_free)

static void create_authorized(GDBusMethodInvocation *invocation, uid_t caller, const GError *denied,
			      gpointer data)
{
	g_autoptr(CreateCall) call = data;
	Daemon *d = call->daemon;
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) config = NULL;
	Machine *m;

	if (denied) {
		g_dbus_method_invocation_return_gerror(invocation, denied);
		return;
	}
	config = config_from_variant(call->name, call->config, caller, &error);
	if (config && g_hash_table_contains(d->machines, call->name)) {
		g_set_error(&error, PHYLLOME_ERROR, PHYLLOME_ERROR_MACHINE_EXISTS,
			    "A machine named '%s' exists already", call->name);
		g_clear_pointer(&config, machine_config_free);
	}
	if (config && !check_unshared(d, config, &error))
		g_clear_pointer(&config, machine_config_free);
	/* A store left by an earlier machine of this name (its definition removed by hand) is not
	 * the new machine's. */
	if (config && !firmware_remove_store(call->name, &error))
		g_clear_pointer(&config, machine_config_free);
	if (!config || !machine_config_save(config, d->options.config_dir, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	daemon_log(call->name, LOG_INFO, "Created by uid %u", (unsigned)caller);
	m = add_machine(d, call->name, g_steal_pointer(&config), NULL);
	phyllome_manager_complete_create_machine(d->manager_iface, invocation, machine_get_path(m));
}

static gboolean handle_create_machine(PhyllomeManager *iface, GDBusMethodInvocation *invocation,
				      const char *name, GVariant *config, gpointer data)
{
	Daemon *d = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) checked = NULL;
	const char *details[] = { "machine", name, "verb", "create", NULL };
	CreateCall *call;

	(void)iface;
	if (!machine_name_is_valid(name)) {
		g_dbus_method_invocation_return_error(
		    invocation, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_ARGUMENT,
		    "Invalid machine name '%s': 1-64 letters, digits, '-' or '.', not starting "
		    "with '-' or '.'",
		    name);
		return TRUE;
	}
	if (g_hash_table_contains(d->machines, name)) {
		g_dbus_method_invocation_return_error(invocation, PHYLLOME_ERROR,
						      PHYLLOME_ERROR_MACHINE_EXISTS,
						      "A machine named '%s' exists already", name);
		return TRUE;
	}
	/* Check before asking polkit, so that a typo costs no password prompt. */
	checked = config_from_variant(name, config, 0, &error);
	if (!checked) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	call = g_new0(CreateCall, 1);
	call->daemon = d;
	call->name = g_strdup(name);
	call->config = g_variant_ref(config);
	bouncer_check(d->bouncer, invocation, methods_manager_action("CreateMachine"), NULL, 0,
		      options_interactive(config), details, create_authorized, call);
	return TRUE;
}

/* Removes the definition file and the object (Machine.Delete, after its checks). */
static gboolean remove_machine(Machine *m, GError **error)
{
	Daemon *d = machine_get_daemon(m);
	g_autofree char *file = g_strdup_printf("%s.conf", machine_get_name(m));
	g_autofree char *path = g_build_filename(d->options.config_dir, file, NULL);
	g_autofree char *name = g_strdup(machine_get_name(m));
	g_autofree char *object_path = g_strdup(machine_get_path(m));
	g_autoptr(GError) store_error = NULL;

	if (g_unlink(path) < 0 && errno != ENOENT)
		return daemon_errno_error(error, PHYLLOME_ERROR_FAILED, errno, "Cannot remove %s",
					  path);
	/* The definition is gone already: a store that stays is only logged. */
	if (!firmware_remove_store(name, &store_error))
		daemon_log(name, LOG_WARNING, "%s", store_error->message);
	machine_unexport(m);
	g_hash_table_remove(d->machines, name);
	daemon_log(name, LOG_INFO, "Deleted");
	phyllome_manager_emit_machine_removed(d->manager_iface, name, object_path);
	return TRUE;
}

gboolean manager_start(Daemon *d, GError **error)
{
	d->machines =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)machine_unref);
	d->object_manager = g_dbus_object_manager_server_new(PHYLLOME_MANAGER_PATH);
	d->manager_iface = phyllome_manager_skeleton_new();
	phyllome_manager_set_version(d->manager_iface, PHYLLOME_VERSION);
	/* A method without its entry in the Manager's list (methods.c) is denied. */
	g_signal_connect(d->manager_iface, "g-authorize-method",
			 G_CALLBACK(methods_manager_authorize), d);
	g_signal_connect(d->manager_iface, "handle-list-machines", G_CALLBACK(handle_list_machines),
			 d);
	g_signal_connect(d->manager_iface, "handle-get-machine", G_CALLBACK(handle_get_machine), d);
	g_signal_connect(d->manager_iface, "handle-list-host-devices",
			 G_CALLBACK(handle_list_host_devices), d);
	g_signal_connect(d->manager_iface, "handle-create-machine",
			 G_CALLBACK(handle_create_machine), d);
	/* The object manager's own path holds the Manager interface beside
	 * org.freedesktop.DBus.ObjectManager. */
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(d->manager_iface), d->bus,
					      PHYLLOME_MANAGER_PATH, error))
		return FALSE;
	load_definitions(d);
	g_dbus_object_manager_server_set_connection(d->object_manager, d->bus);
	return TRUE;
}

void manager_stop(Daemon *d)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, d->machines);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		machine_unexport(value);
	g_clear_pointer(&d->machines, g_hash_table_destroy);
	if (d->manager_iface)
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(d->manager_iface));
	g_clear_object(&d->manager_iface);
	g_clear_object(&d->object_manager);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phyllome-error.h"
#include "size.h"

#define GROUP_MACHINE "Machine"
#define GROUP_RESOURCES "Resources"

void machine_config_free(MachineConfig *config)
{
	if (!config)
		return;
	g_free(config->name);
	g_free(config->kernel);
	g_free(config->initrd);
	g_free(config->cmdline);
	g_strfreev(config->disks);
	g_strfreev(config->networks);
	g_strfreev(config->devices);
	g_free(config->uuid);
	g_free(config->architecture);
	g_free(config);
}

char *pci_address_normalize(const char *address)
{
	unsigned domain = 0, bus, slot, function;
	char tail;

	if (!address || strlen(address) > 12 ||
	    strspn(address, "0123456789abcdefABCDEF:.") != strlen(address))
		return NULL;
	if (sscanf(address, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &function, &tail) != 4 &&
	    (domain = 0, sscanf(address, "%2x:%2x.%1x%c", &bus, &slot, &function, &tail) != 3))
		return NULL;
	if (slot > 31 || function > 7)
		return NULL;
	return g_strdup_printf("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

gboolean machine_name_is_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > MACHINE_NAME_MAX || name[0] == '-' || name[0] == '.' ||
	    name[len - 1] == '.')
		return FALSE;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!g_ascii_isalnum(c) && c != '-' && c != '.')
			return FALSE;
		if (c == '.' && name[i + 1] == '.')
			return FALSE;
	}
	return TRUE;
}

/* The index of s among names[first..n), as the enum value whose name it is. */
static gboolean name_index(const char *const *names, guint n, guint first, const char *s,
			   guint *ret)
{
	for (guint i = first; i < n; i++)
		if (g_strcmp0(s, names[i]) == 0) {
			*ret = i;
			return TRUE;
		}
	return FALSE;
}

static const char *const autostart_names[] = { "no", "boot", "login" };

const char *autostart_to_string(Autostart autostart)
{
	return autostart_names[autostart];
}

gboolean autostart_from_string(const char *s, Autostart *ret)
{
	guint i;

	if (!name_index(autostart_names, G_N_ELEMENTS(autostart_names), 0, s, &i))
		return FALSE;
	*ret = (Autostart)i;
	return TRUE;
}

static const char *const firmware_names[] = { "auto", "none", "uefi" };

const char *firmware_to_string(Firmware firmware)
{
	return firmware_names[firmware];
}

gboolean firmware_from_string(const char *s, Firmware *ret)
{
	guint i;

	/* "auto" is what an absent key means, not a value to write. */
	if (!name_index(firmware_names, G_N_ELEMENTS(firmware_names), FIRMWARE_NONE, s, &i))
		return FALSE;
	*ret = (Firmware)i;
	return TRUE;
}

Firmware machine_config_firmware(const MachineConfig *c)
{
	if (c->firmware != FIRMWARE_AUTO)
		return c->firmware;
	return c->kernel ? FIRMWARE_NONE : FIRMWARE_UEFI;
}

static const char *const display_names[] = { "auto", "none", "bochs", "virtio-gpu" };

const char *display_to_string(Display display)
{
	return display_names[display];
}

gboolean display_from_string(const char *s, Display *ret)
{
	guint i;

	if (!name_index(display_names, G_N_ELEMENTS(display_names), DISPLAY_NONE, s, &i))
		return FALSE;
	*ret = (Display)i;
	return TRUE;
}

Display machine_config_display(const MachineConfig *c)
{
	if (c->display != DISPLAY_AUTO)
		return c->display;
	/* A firmware shows its menus on a screen; a kernel handed in has its serial console. */
	return machine_config_firmware(c) == FIRMWARE_UEFI ? DISPLAY_VIRTIO_GPU : DISPLAY_NONE;
}

gboolean resolution_from_string(const char *s, guint *width, guint *height)
{
	guint64 w, h;
	char *end;

	if (!s || !g_ascii_isdigit(*s))
		return FALSE;
	w = g_ascii_strtoull(s, &end, 10);
	if (*end != 'x' || !g_ascii_isdigit(end[1]))
		return FALSE;
	h = g_ascii_strtoull(end + 1, &end, 10);
	if (*end || w < 16 || w > 4095 || h < 16 || h > 4095)
		return FALSE;
	*width = (guint)w;
	*height = (guint)h;
	return TRUE;
}

char *uuid_normalize(const char *s)
{
	if (!s || !g_uuid_string_is_valid(s))
		return NULL;
	return g_ascii_strdown(s, -1);
}

/*
 * The UUID of a definition written without one (by hand, or before UUID=
 * existed): the same at every load, different for each name and host, so that
 * what the guest keys on it (an OS's licence, its installer's machine id)
 * stays put. A version 8 (custom) UUID from SHA-256 of the host's machine id
 * and the name.
 */
static char *derived_uuid(const char *name)
{
	g_autofree char *machine_id = NULL;
	g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize len = sizeof(digest);

	if (!g_file_get_contents("/etc/machine-id", &machine_id, NULL, NULL))
		machine_id = g_strdup("");
	g_checksum_update(sha, (const guchar *)"phyllome machine uuid\n", -1);
	g_checksum_update(sha, (const guchar *)g_strstrip(machine_id), -1);
	g_checksum_update(sha, (const guchar *)"\n", 1);
	g_checksum_update(sha, (const guchar *)name, -1);
	g_checksum_get_digest(sha, digest, &len);
	digest[6] = (digest[6] & 0x0f) | 0x80;
	digest[8] = (digest[8] & 0x3f) | 0x80;
	return g_strdup_printf(
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
	    digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8],
	    digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
}

gboolean parse_size(const char *s, guint64 *ret)
{
	/* A bare number in a definition is bytes, as in every keyfile written so far. */
	return size_parse(s, 1, ret) == 0;
}

MachineConfig *machine_config_new(const char *name)
{
	MachineConfig *config = g_new0(MachineConfig, 1);

	config->name = g_strdup(name);
	config->cmdline = g_strdup(MACHINE_DEFAULT_CMDLINE);
	config->architecture = g_strdup(MACHINE_HOST_ARCHITECTURE);
	config->cpus = 1;
	config->memory = MACHINE_DEFAULT_MEMORY;
	config->autostart = AUTOSTART_NO;
	config->return_devices = TRUE;
	config->stop_on_logout = TRUE;
	config->stop_on_logout_delay = MACHINE_DEFAULT_LOGOUT_DELAY;
	/* A new machine's; a loaded definition has its own (machine_config_from_keyfile). */
	config->uuid = g_uuid_string_random();
	return config;
}

gboolean machine_disk_is_valid(const char *spec, const char **ret_why)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);

	if (!parts[0] || !g_path_is_absolute(parts[0])) {
		*ret_why = "expected an absolute PATH[,readonly][,serial=ID][,direct]";
		return FALSE;
	}
	for (guint i = 1; parts[i]; i++) {
		const char *o = parts[i];

		if (g_str_equal(o, "readonly") || g_str_equal(o, "direct"))
			continue;
		if (g_str_has_prefix(o, "serial=") && strlen(o) > 7 && strlen(o) <= 27) {
			for (const char *c = o + 7; *c; c++)
				if (*c < 0x21 || *c > 0x7e) {
					*ret_why = "serial=ID takes printable ASCII without spaces";
					return FALSE;
				}
			continue;
		}
		*ret_why =
		    "unknown option: expected readonly, serial=ID (1-20 characters) or direct";
		return FALSE;
	}
	return TRUE;
}

static gboolean is_mac(const char *s)
{
	unsigned v[6];
	char tail;

	return strlen(s) == 17 &&
	       sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		      &tail) == 6 &&
	       !(v[0] & 1);
}

gboolean machine_network_is_valid(const char *spec, const char **ret_why)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	const char *tap = parts[0] && g_str_has_prefix(parts[0], "tap=") ? parts[0] + 4 : NULL;

	/* An interface name: at most 15 bytes, and nothing ip(8) would choke on. */
	if (!tap || !*tap || strlen(tap) > 15 ||
	    strspn(tap, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		strlen(tap)) {
		*ret_why = "expected tap=NAME (1-15 letters, digits, '_', '.', '-')[,mac=MAC]";
		return FALSE;
	}
	for (guint i = 1; parts[i]; i++) {
		if (g_str_has_prefix(parts[i], "mac=") && is_mac(parts[i] + 4))
			continue;
		*ret_why =
		    "expected tap=NAME[,mac=MAC] with a unicast MAC such as 52:54:00:12:34:56";
		return FALSE;
	}
	return TRUE;
}

static gboolean invalid(GError **error, const char *name, const char *key, const char *value,
			const char *why)
{
	g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG, "Machine '%s': %s=%s: %s",
		    name, key, value ? value : "", why);
	return FALSE;
}

const char *architecture_normalize(const char *s)
{
	if (g_str_equal(s, "x86_64") || g_str_equal(s, "amd64"))
		return "x86_64";
	if (g_str_equal(s, "aarch64") || g_str_equal(s, "arm64"))
		return "aarch64";
	return NULL;
}

gboolean machine_config_check(const MachineConfig *c, GError **error)
{
	g_autofree char *v = NULL;
	const char *architecture = architecture_normalize(c->architecture);

	if (!machine_name_is_valid(c->name))
		return invalid(error, c->name, "name", c->name,
			       "1-64 letters, digits, '-' or '.', not starting with '-' or '.'");
	if (!architecture)
		return invalid(error, c->name, "Architecture", c->architecture,
			       "expected x86_64 or aarch64");
	if (!g_str_equal(architecture, MACHINE_HOST_ARCHITECTURE)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_WRONG_ARCHITECTURE,
			    "Machine '%s' is an %s machine; this host runs %s machines only (KVM "
			    "runs guests of its own architecture)",
			    c->name, architecture, MACHINE_HOST_ARCHITECTURE);
		return FALSE;
	}
	if (machine_config_firmware(c) == FIRMWARE_UEFI) {
		/* The monitor starts either at the firmware's reset vector or in a kernel. */
		if (c->kernel)
			return invalid(error, c->name, "Kernel", c->kernel,
				       "Firmware=uefi boots from the disks: remove Kernel= (and "
				       "Initrd=), or set Firmware=none");
		if (c->initrd)
			return invalid(error, c->name, "Initrd", c->initrd,
				       "Firmware=uefi boots from the disks: remove Initrd=");
	} else if (!c->kernel || !g_path_is_absolute(c->kernel))
		return invalid(error, c->name, "Kernel", c->kernel,
			       "an absolute path is required (or Firmware=uefi to boot the disks)");
	if (c->secure_boot && machine_config_firmware(c) != FIRMWARE_UEFI)
		return invalid(error, c->name, "SecureBoot", "yes", "needs Firmware=uefi");
	if (c->resolution_width && machine_config_display(c) != DISPLAY_VIRTIO_GPU) {
		v = g_strdup_printf("%ux%u", c->resolution_width, c->resolution_height);
		return invalid(error, c->name, "Resolution", v,
			       "is virtio-gpu's first mode: needs Display=virtio-gpu");
	}
	if (!c->uuid || !g_uuid_string_is_valid(c->uuid))
		return invalid(error, c->name, "UUID", c->uuid,
			       "expected a UUID such as 0b6e5c1a-4d2f-4f4e-9a57-3c2d1e0f9a8b");
	if (c->initrd && !g_path_is_absolute(c->initrd))
		return invalid(error, c->name, "Initrd", c->initrd, "must be an absolute path");
	if (c->cmdline && strlen(c->cmdline) > 4096)
		return invalid(error, c->name, "Cmdline", "...", "longer than 4096 bytes");
	if (c->cpus < 1 || c->cpus > MACHINE_MAX_CPUS) {
		v = g_strdup_printf("%u", c->cpus);
		return invalid(error, c->name, "CPUs", v, "must be 1 to 254");
	}
	if (c->memory < MACHINE_MIN_MEMORY || c->memory > MACHINE_MAX_MEMORY) {
		v = g_strdup_printf("%" G_GUINT64_FORMAT, c->memory);
		return invalid(error, c->name, "Memory", v, "must be 16M to 1T");
	}
	if (c->cpu_weight > 10000) {
		v = g_strdup_printf("%u", c->cpu_weight);
		return invalid(error, c->name, "CPUWeight", v, "must be 1 to 10000");
	}
	if (c->disks && g_strv_length(c->disks) > MACHINE_MAX_DISKS)
		return invalid(error, c->name, "Disks", "...", "at most 16 disks");
	for (guint i = 0; c->disks && c->disks[i]; i++) {
		const char *why;
		if (!machine_disk_is_valid(c->disks[i], &why))
			return invalid(error, c->name, "Disks", c->disks[i], why);
	}
	if (c->devices && g_strv_length(c->devices) > MACHINE_MAX_DEVICES)
		return invalid(error, c->name, "Devices", "...", "at most 8 host devices");
	for (guint i = 0; c->devices && c->devices[i]; i++) {
		g_autofree char *normal = pci_address_normalize(c->devices[i]);

		if (!normal || !g_str_equal(normal, c->devices[i]))
			return invalid(error, c->name, "Devices", c->devices[i],
				       "expected a PCI address such as 0000:01:00.0");
	}
	if (c->networks && g_strv_length(c->networks) > MACHINE_MAX_NETWORKS)
		return invalid(error, c->name, "Networks", "...", "at most 8 networks");
	for (guint i = 0; c->networks && c->networks[i]; i++) {
		const char *why;
		if (!machine_network_is_valid(c->networks[i], &why))
			return invalid(error, c->name, "Networks", c->networks[i], why);
	}
	if (c->vsock_cid && (c->vsock_cid < 3 || c->vsock_cid == G_MAXUINT32)) {
		v = g_strdup_printf("%u", c->vsock_cid);
		return invalid(error, c->name, "VSockCID", v,
			       "must be 3 to 4294967294 (or 0: none)");
	}
	return TRUE;
}

static gboolean get_size(GKeyFile *kf, const char *group, const char *key, const char *name,
			 guint64 *ret, GError **error)
{
	g_autofree char *s = g_key_file_get_string(kf, group, key, NULL);

	if (!s)
		return TRUE;
	g_strstrip(s);
	if (!parse_size(s, ret))
		return invalid(error, name, key, s, "expected a size such as 512M or 4G");
	return TRUE;
}

static gboolean get_uint(GKeyFile *kf, const char *group, const char *key, const char *name,
			 guint64 max, guint64 *ret, GError **error)
{
	g_autofree char *s = g_key_file_get_string(kf, group, key, NULL);
	guint64 v;

	if (!s)
		return TRUE;
	g_strstrip(s);
	if (!g_ascii_string_to_unsigned(s, 10, 0, max, &v, NULL))
		return invalid(error, name, key, s, "expected a number in range");
	*ret = v;
	return TRUE;
}

/* A [Machine] key that is yes or no (or true, false, 1, 0, as systemd's units take them); *ret
 * keeps its default when the key is absent. */
static gboolean get_boolean(GKeyFile *kf, const char *key, const char *name, gboolean *ret,
			    GError **error)
{
	static const char *const yes[] = { "yes", "true", "1", "on", NULL };
	static const char *const no[] = { "no", "false", "0", "off", NULL };
	g_autofree char *text = g_key_file_get_string(kf, GROUP_MACHINE, key, NULL);

	if (!text)
		return TRUE;
	g_strstrip(text);
	if (g_strv_contains(yes, text))
		*ret = TRUE;
	else if (g_strv_contains(no, text))
		*ret = FALSE;
	else
		return invalid(error, name, key, text, "expected yes or no (true or false)");
	return TRUE;
}

static gboolean get_owner(GKeyFile *kf, const char *name, uid_t *ret, GError **error)
{
	g_autofree char *s = g_key_file_get_string(kf, GROUP_MACHINE, "Owner", NULL);
	struct passwd *pw;
	guint64 uid;

	if (!s)
		return TRUE;
	g_strstrip(s);
	if (g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32 - 1, &uid, NULL)) {
		*ret = (uid_t)uid;
		return TRUE;
	}
	pw = getpwnam(s);
	if (!pw)
		return invalid(error, name, "Owner", s, "no such user");
	*ret = pw->pw_uid;
	return TRUE;
}

MachineConfig *machine_config_from_keyfile(GKeyFile *kf, const char *name, GError **error)
{
	g_autoptr(MachineConfig) c = machine_config_new(name);
	g_autofree char *autostart = NULL, *firmware = NULL, *uuid = NULL, *display = NULL,
			*resolution = NULL, *architecture = NULL;
	guint64 v;

	if (!g_key_file_has_group(kf, GROUP_MACHINE)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG,
			    "Machine '%s': no [%s] section", name, GROUP_MACHINE);
		return NULL;
	}
	c->kernel = g_key_file_get_string(kf, GROUP_MACHINE, "Kernel", NULL);
	if (c->kernel && !*c->kernel)
		g_clear_pointer(&c->kernel, g_free);
	c->initrd = g_key_file_get_string(kf, GROUP_MACHINE, "Initrd", NULL);
	if (c->initrd && !*c->initrd)
		g_clear_pointer(&c->initrd, g_free);
	if (g_key_file_has_key(kf, GROUP_MACHINE, "Cmdline", NULL)) {
		g_free(c->cmdline);
		c->cmdline = g_key_file_get_string(kf, GROUP_MACHINE, "Cmdline", NULL);
	}
	v = c->cpus;
	if (!get_uint(kf, GROUP_MACHINE, "CPUs", name, MACHINE_MAX_CPUS, &v, error))
		return NULL;
	c->cpus = (guint)v;
	if (!get_size(kf, GROUP_MACHINE, "Memory", name, &c->memory, error))
		return NULL;
	if (!get_owner(kf, name, &c->owner, error))
		return NULL;
	c->disks = g_key_file_get_string_list(kf, GROUP_MACHINE, "Disks", NULL, NULL);
	c->networks = g_key_file_get_string_list(kf, GROUP_MACHINE, "Networks", NULL, NULL);
	c->devices = g_key_file_get_string_list(kf, GROUP_MACHINE, "Devices", NULL, NULL);
	if (!get_boolean(kf, "ReturnDevices", name, &c->return_devices, error) ||
	    !get_boolean(kf, "StopOnLogout", name, &c->stop_on_logout, error) ||
	    !get_boolean(kf, "SecureBoot", name, &c->secure_boot, error))
		return NULL;
	firmware = g_key_file_get_string(kf, GROUP_MACHINE, "Firmware", NULL);
	if (firmware && !firmware_from_string(g_strstrip(firmware), &c->firmware))
		return invalid(error, name, "Firmware", firmware, "expected uefi or none"), NULL;
	display = g_key_file_get_string(kf, GROUP_MACHINE, "Display", NULL);
	if (display && !display_from_string(g_strstrip(display), &c->display))
		return invalid(error, name, "Display", display,
			       "expected virtio-gpu, bochs or none"),
		       NULL;
	resolution = g_key_file_get_string(kf, GROUP_MACHINE, "Resolution", NULL);
	if (resolution && !resolution_from_string(g_strstrip(resolution), &c->resolution_width,
						  &c->resolution_height))
		return invalid(error, name, "Resolution", resolution,
			       "expected WIDTHxHEIGHT, each 16 to 4095 (1920x1080)"),
		       NULL;
	architecture = g_key_file_get_string(kf, GROUP_MACHINE, "Architecture", NULL);
	if (architecture) {
		g_free(c->architecture);
		c->architecture = g_strdup(g_strstrip(architecture));
	}
	uuid = g_key_file_get_string(kf, GROUP_MACHINE, "UUID", NULL);
	g_free(c->uuid);
	/* A malformed one stays as written, for machine_config_check to name. */
	c->uuid = !uuid ? derived_uuid(name)
			: uuid_normalize(g_strstrip(uuid)) ?: g_steal_pointer(&uuid);
	v = c->stop_on_logout_delay;
	if (!get_uint(kf, GROUP_MACHINE, "StopOnLogoutDelay", name, MACHINE_MAX_LOGOUT_DELAY, &v,
		      error))
		return NULL;
	c->stop_on_logout_delay = (guint)v;
	v = 0;
	if (!get_uint(kf, GROUP_MACHINE, "VSockCID", name, G_MAXUINT32, &v, error))
		return NULL;
	c->vsock_cid = (guint)v;
	autostart = g_key_file_get_string(kf, GROUP_MACHINE, "Autostart", NULL);
	if (autostart && !autostart_from_string(g_strstrip(autostart), &c->autostart))
		return invalid(error, name, "Autostart", autostart, "expected no, boot or login"),
		       NULL;
	if (!get_size(kf, GROUP_RESOURCES, "MemoryMax", name, &c->memory_max, error))
		return NULL;
	v = 0;
	if (!get_uint(kf, GROUP_RESOURCES, "CPUWeight", name, 10000, &v, error))
		return NULL;
	c->cpu_weight = (guint)v;
	if (!get_uint(kf, GROUP_RESOURCES, "TasksMax", name, G_MAXUINT32, &c->tasks_max, error))
		return NULL;
	if (!machine_config_check(c, error))
		return NULL;
	return g_steal_pointer(&c);
}

MachineConfig *machine_config_load(const char *path, const char *name, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG,
			    "Machine '%s': %s: %s", name, path, local->message);
		return NULL;
	}
	return machine_config_from_keyfile(kf, name, error);
}

GKeyFile *machine_config_to_keyfile(const MachineConfig *c)
{
	GKeyFile *kf = g_key_file_new();

	g_key_file_set_comment(
	    kf, NULL, NULL, " Phyllome machine definition (phyllomectl create, or by hand)", NULL);
	if (c->firmware != FIRMWARE_AUTO)
		g_key_file_set_string(kf, GROUP_MACHINE, "Firmware",
				      firmware_to_string(c->firmware));
	if (machine_config_firmware(c) == FIRMWARE_UEFI)
		g_key_file_set_string(kf, GROUP_MACHINE, "SecureBoot",
				      c->secure_boot ? "yes" : "no");
	if (c->display != DISPLAY_AUTO)
		g_key_file_set_string(kf, GROUP_MACHINE, "Display", display_to_string(c->display));
	if (c->resolution_width) {
		g_autofree char *resolution =
		    g_strdup_printf("%ux%u", c->resolution_width, c->resolution_height);

		g_key_file_set_string(kf, GROUP_MACHINE, "Resolution", resolution);
	}
	g_key_file_set_string(kf, GROUP_MACHINE, "Architecture",
			      architecture_normalize(c->architecture) ?: c->architecture);
	g_key_file_set_string(kf, GROUP_MACHINE, "UUID", c->uuid);
	if (c->kernel)
		g_key_file_set_string(kf, GROUP_MACHINE, "Kernel", c->kernel);
	if (c->initrd)
		g_key_file_set_string(kf, GROUP_MACHINE, "Initrd", c->initrd);
	if (machine_config_firmware(c) == FIRMWARE_NONE)
		g_key_file_set_string(kf, GROUP_MACHINE, "Cmdline", c->cmdline ? c->cmdline : "");
	g_key_file_set_uint64(kf, GROUP_MACHINE, "CPUs", c->cpus);
	g_key_file_set_uint64(kf, GROUP_MACHINE, "Memory", c->memory);
	g_key_file_set_uint64(kf, GROUP_MACHINE, "Owner", c->owner);
	g_key_file_set_string(kf, GROUP_MACHINE, "Autostart", autostart_to_string(c->autostart));
	if (c->disks && c->disks[0])
		g_key_file_set_string_list(kf, GROUP_MACHINE, "Disks",
					   (const char *const *)c->disks, g_strv_length(c->disks));
	if (c->networks && c->networks[0])
		g_key_file_set_string_list(kf, GROUP_MACHINE, "Networks",
					   (const char *const *)c->networks,
					   g_strv_length(c->networks));
	if (c->devices && c->devices[0])
		g_key_file_set_string_list(kf, GROUP_MACHINE, "Devices",
					   (const char *const *)c->devices,
					   g_strv_length(c->devices));
	if (!c->return_devices)
		g_key_file_set_boolean(kf, GROUP_MACHINE, "ReturnDevices", FALSE);
	if (c->vsock_cid)
		g_key_file_set_uint64(kf, GROUP_MACHINE, "VSockCID", c->vsock_cid);
	if (!c->stop_on_logout)
		g_key_file_set_boolean(kf, GROUP_MACHINE, "StopOnLogout", FALSE);
	if (c->stop_on_logout_delay != MACHINE_DEFAULT_LOGOUT_DELAY)
		g_key_file_set_uint64(kf, GROUP_MACHINE, "StopOnLogoutDelay",
				      c->stop_on_logout_delay);
	if (c->memory_max)
		g_key_file_set_uint64(kf, GROUP_RESOURCES, "MemoryMax", c->memory_max);
	if (c->cpu_weight)
		g_key_file_set_uint64(kf, GROUP_RESOURCES, "CPUWeight", c->cpu_weight);
	if (c->tasks_max)
		g_key_file_set_uint64(kf, GROUP_RESOURCES, "TasksMax", c->tasks_max);
	return kf;
}

gboolean machine_config_save(const MachineConfig *c, const char *dir, GError **error)
{
	g_autoptr(GKeyFile) kf = machine_config_to_keyfile(c);
	g_autofree char *path = g_strdup_printf("%s/%s.conf", dir, c->name);
	g_autofree char *data = NULL;
	gsize len;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot create %s: %s",
			    dir, g_strerror(errno));
		return FALSE;
	}
	data = g_key_file_to_data(kf, &len, NULL);
	/* g_file_set_contents writes a temporary file, fsyncs and renames it over the old one. */
	return g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT,
					0644, error);
}

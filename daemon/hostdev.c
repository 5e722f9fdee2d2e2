/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostdev.h"

#include "config.h"

#include <pci/pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void host_device_free(HostDevice *device)
{
	if (!device)
		return;
	g_free(device->address);
	g_free(device->iommu_group);
	g_strfreev(device->group_members);
	g_free(device->driver);
	g_free(device);
}

/* A hex number sysfs writes as "0x1234\n"; FALSE when the file is missing or says something else.
 */
static gboolean read_hex(const char *dir, const char *file, guint32 *ret)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *text = NULL;
	char *end;
	guint64 v;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	g_strstrip(text);
	v = g_ascii_strtoull(text, &end, 16);
	if (end == text || *end || v > G_MAXUINT32)
		return FALSE;
	*ret = (guint32)v;
	return TRUE;
}

/* The last component of a symlink's target (a driver's or a group's name), or "". */
static char *link_name(const char *dir, const char *link)
{
	g_autofree char *path = g_build_filename(dir, link, NULL);
	g_autofree char *target = g_file_read_link(path, NULL);

	return target ? g_path_get_basename(target) : g_strdup("");
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **group_members(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "iommu_group", "devices", NULL);
	g_autoptr(GDir) members = g_dir_open(path, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	const char *name;

	while (members && (name = g_dir_read_name(members)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_strings);
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

/* The device's directory in sysfs; NULL unless address is a PCI address in sysfs's own form. */
static char *device_dir(const char *sysfs_root, const char *address)
{
	g_autofree char *normal = pci_address_normalize(address);

	if (!normal || !g_str_equal(normal, address))
		return NULL;
	return g_build_filename(sysfs_root, "bus", "pci", "devices", address, NULL);
}

char *host_device_driver(const char *sysfs_root, const char *address)
{
	g_autofree char *dir = device_dir(sysfs_root, address);

	return dir ? link_name(dir, "driver") : g_strdup("");
}

HostDevice *host_device_get(const char *sysfs_root, const char *address)
{
	g_autofree char *dir = device_dir(sysfs_root, address);
	g_autoptr(HostDevice) d = NULL;
	guint32 vendor, device, class_code;

	if (!dir)
		return NULL;
	if (!read_hex(dir, "vendor", &vendor) || !read_hex(dir, "device", &device) ||
	    !read_hex(dir, "class", &class_code))
		return NULL;
	d = g_new0(HostDevice, 1);
	d->address = g_strdup(address);
	d->vendor_id = (guint16)vendor;
	d->device_id = (guint16)device;
	d->class_code = class_code;
	d->iommu_group = link_name(dir, "iommu_group");
	d->group_members = group_members(dir);
	d->driver = link_name(dir, "driver");
	return g_steal_pointer(&d);
}

static int compare_devices(gconstpointer a, gconstpointer b)
{
	return strcmp((*(HostDevice *const *)a)->address, (*(HostDevice *const *)b)->address);
}

GPtrArray *host_devices_list(const char *sysfs_root)
{
	g_autofree char *path = g_build_filename(sysfs_root, "bus", "pci", "devices", NULL);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify)host_device_free);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		HostDevice *d = host_device_get(sysfs_root, name);
		if (d)
			g_ptr_array_add(devices, d);
	}
	g_ptr_array_sort(devices, compare_devices);
	return devices;
}

struct PciNames {
	struct pci_access *pacc;
};

/* libpci's messages; without pci_init() (we use none of its hardware access) there are no defaults.
 */
static void pci_message(char *format, ...) G_GNUC_PRINTF(1, 2);
static void pci_message(char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_logv("libpci", G_LOG_LEVEL_DEBUG, format, ap);
	va_end(ap);
}

/* Only on allocation failures, which end the daemon as GLib's do. */
G_GNUC_NORETURN static void pci_fatal(char *format, ...) G_GNUC_PRINTF(1, 2);
static void pci_fatal(char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_logv("libpci", G_LOG_LEVEL_ERROR, format, ap);
	va_end(ap);
	abort();
}

PciNames *pci_names_new(void)
{
	PciNames *names = g_new0(PciNames, 1);

	/* Only the ID database: no access to the hardware, no network, no udev hwdb. */
	names->pacc = pci_alloc();
	names->pacc->warning = pci_message;
	names->pacc->debug = pci_message;
	names->pacc->error = pci_fatal;
	return names;
}

void pci_names_free(PciNames *names)
{
	if (!names)
		return;
	if (names->pacc)
		pci_cleanup(names->pacc);
	g_free(names);
}

#define LOOKUP_FLAGS (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

char *pci_names_vendor(PciNames *names, guint16 vendor_id)
{
	char buf[256];
	const char *name = pci_lookup_name(names->pacc, buf, sizeof(buf),
					   PCI_LOOKUP_VENDOR | LOOKUP_FLAGS, (int)vendor_id);

	return g_strdup(name ? name : "");
}

char *pci_names_product(PciNames *names, guint16 vendor_id, guint16 device_id)
{
	char buf[256];
	const char *name =
	    pci_lookup_name(names->pacc, buf, sizeof(buf), PCI_LOOKUP_DEVICE | LOOKUP_FLAGS,
			    (int)vendor_id, (int)device_id);

	return g_strdup(name ? name : "");
}

void host_device_names(PciNames *names, const char *sysfs_root, const char *address,
		       char **ret_vendor, char **ret_product)
{
	g_autoptr(HostDevice) d = host_device_get(sysfs_root, address);

	*ret_vendor = d ? pci_names_vendor(names, d->vendor_id) : g_strdup("");
	*ret_product = d ? pci_names_product(names, d->vendor_id, d->device_id) : g_strdup("");
}

GVariant *host_device_to_variant(const HostDevice *d, PciNames *names, const char *granted_to)
{
	g_autofree char *vendor = pci_names_vendor(names, d->vendor_id);
	g_autofree char *product = pci_names_product(names, d->vendor_id, d->device_id);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(d->address));
	g_variant_builder_add(&b, "{sv}", "vendor-id", g_variant_new_uint16(d->vendor_id));
	g_variant_builder_add(&b, "{sv}", "device-id", g_variant_new_uint16(d->device_id));
	g_variant_builder_add(&b, "{sv}", "vendor", g_variant_new_string(vendor));
	g_variant_builder_add(&b, "{sv}", "product", g_variant_new_string(product));
	g_variant_builder_add(&b, "{sv}", "class", g_variant_new_uint32(d->class_code));
	g_variant_builder_add(&b, "{sv}", "iommu-group", g_variant_new_string(d->iommu_group));
	g_variant_builder_add(&b, "{sv}", "group-members",
			      g_variant_new_strv((const char *const *)d->group_members, -1));
	g_variant_builder_add(&b, "{sv}", "driver", g_variant_new_string(d->driver));
	g_variant_builder_add(&b, "{sv}", "granted-to",
			      g_variant_new_string(granted_to ? granted_to : ""));
	return g_variant_builder_end(&b);
}

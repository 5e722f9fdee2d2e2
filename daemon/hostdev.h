/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/*
 * The host's PCI devices, as sysfs shows them below a root directory
 * ("/sys", or a fixture tree in tests): what an administrator may grant to
 * a machine, with what decides whether that can work — the device's IOMMU
 * group and its other members, and the driver that holds it now. Names come
 * from the system's PCI ID database (pci.ids, through libpci).
 */
typedef struct {
	char *address; /* "0000:01:00.0" */
	guint16 vendor_id, device_id;
	guint32 class_code;   /* base class, subclass, programming interface */
	char *iommu_group;    /* "" when the device has none (no IOMMU) */
	char **group_members; /* addresses, itself included, sorted */
	char *driver;	      /* "" when no driver holds it */
} HostDevice;

void host_device_free(HostDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostDevice, host_device_free)

/* Every device below sysfs_root/bus/pci/devices, sorted by address; an empty array when there is no
 * PCI. */
GPtrArray *host_devices_list(const char *sysfs_root);
/* One device, or NULL when sysfs has no such address. */
HostDevice *host_device_get(const char *sysfs_root, const char *address);
/* The driver holding the device now, "" for none (or no such device). */
char *host_device_driver(const char *sysfs_root, const char *address);

/* Vendor and product names, "" when the database does not know them. */
typedef struct PciNames PciNames;
PciNames *pci_names_new(void);
void pci_names_free(PciNames *names);
char *pci_names_vendor(PciNames *names, guint16 vendor_id);
char *pci_names_product(PciNames *names, guint16 vendor_id, guint16 device_id);
/* A device's vendor and product names, "" for each the database or sysfs does not know. */
void host_device_names(PciNames *names, const char *sysfs_root, const char *address,
		       char **ret_vendor, char **ret_product);

/* A device as ListHostDevices returns it (a{sv}); granted_to: the machine holding a grant, or "".
 */
GVariant *host_device_to_variant(const HostDevice *device, PciNames *names, const char *granted_to);

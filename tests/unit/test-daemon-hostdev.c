/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host PCI devices read from a sysfs tree (a fixture here), and their names from pci.ids. */
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "hostdev.h"

static char *fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* A device as sysfs has it: attribute files, and links to its driver and IOMMU group. */
static void add_device(const char *address, const char *vendor, const char *device,
		       const char *class_code, const char *driver, const char *group)
{
	g_autofree char *dir = g_build_filename(fixture, "bus/pci/devices", address, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	write_file(dir, "vendor", vendor);
	write_file(dir, "device", device);
	write_file(dir, "class", class_code);
	if (driver) {
		g_autofree char *target =
		    g_build_filename(fixture, "bus/pci/drivers", driver, NULL);
		g_autofree char *link = g_build_filename(dir, "driver", NULL);

		g_assert_cmpint(g_mkdir_with_parents(target, 0755), ==, 0);
		g_assert_cmpint(symlink(target, link), ==, 0);
	}
	if (group) {
		g_autofree char *members =
		    g_build_filename(fixture, "kernel/iommu_groups", group, "devices", NULL);
		g_autofree char *target =
		    g_build_filename(fixture, "kernel/iommu_groups", group, NULL);
		g_autofree char *link = g_build_filename(dir, "iommu_group", NULL);
		g_autofree char *member = g_build_filename(members, address, NULL);

		g_assert_cmpint(g_mkdir_with_parents(members, 0755), ==, 0);
		g_assert_cmpint(symlink(target, link), ==, 0);
		g_assert_cmpint(symlink(dir, member), ==, 0);
	}
}

static void test_list(void)
{
	g_autoptr(GPtrArray) devices = host_devices_list(fixture);
	HostDevice *bridge, *usb, *usb_companion, *lonely;

	g_assert_cmpuint(devices->len, ==, 4); /* the bogus entry is skipped */
	bridge = devices->pdata[0];
	usb = devices->pdata[1];
	usb_companion = devices->pdata[2];
	lonely = devices->pdata[3];
	g_assert_cmpstr(bridge->address, ==, "0000:00:00.0");
	g_assert_cmphex(bridge->vendor_id, ==, 0x1b36);
	g_assert_cmphex(bridge->device_id, ==, 0x0008);
	g_assert_cmphex(bridge->class_code, ==, 0x060000);
	g_assert_cmpstr(bridge->driver, ==, "");
	g_assert_cmpstr(bridge->iommu_group, ==, "0");
	g_assert_cmpstr(usb->address, ==, "0000:00:04.0");
	g_assert_cmpstr(usb->driver, ==, "xhci_hcd");
	g_assert_cmpstr(usb->iommu_group, ==, "7");
	g_assert_cmpuint(g_strv_length(usb->group_members), ==, 2);
	g_assert_cmpstr(usb->group_members[0], ==, "0000:00:04.0");
	g_assert_cmpstr(usb->group_members[1], ==, "0000:00:04.1");
	g_assert_cmpstr(usb_companion->driver, ==, "vfio-pci");
	g_assert_cmpstr(lonely->iommu_group, ==, "");
	g_assert_cmpuint(g_strv_length(lonely->group_members), ==, 0);
}

static void test_get(void)
{
	g_autoptr(HostDevice) d = host_device_get(fixture, "0000:00:04.1");

	g_assert_nonnull(d);
	g_assert_cmpstr(d->iommu_group, ==, "7");
	g_assert_null(host_device_get(fixture, "0000:00:09.0"));
	g_assert_null(host_device_get(fixture, "../../../etc"));
	g_assert_null(
	    host_device_get(fixture, "0000:00:1f.7")); /* a directory without attributes */
}

/* Names from the system's pci.ids (Debian's pci.ids package), as lspci shows them. */
static void test_names(void)
{
	PciNames *names = pci_names_new();
	g_autoptr(GPtrArray) devices = host_devices_list(fixture);
	g_autoptr(GVariant) v = host_device_to_variant(devices->pdata[0], names, "desktop");
	g_autofree char *vendor = pci_names_vendor(names, 0x1b36);
	g_autofree char *product = pci_names_product(names, 0x1b36, 0x0008);
	g_autofree char *unknown = pci_names_product(names, 0x1b36, 0xfff7);
	const char *s;

	g_assert_cmpstr(vendor, ==, "Red Hat, Inc.");
	g_assert_cmpstr(product, ==, "QEMU PCIe Host bridge");
	g_assert_cmpstr(unknown, ==, "");
	g_assert_true(g_variant_lookup(v, "product", "&s", &s));
	g_assert_cmpstr(s, ==, "QEMU PCIe Host bridge");
	g_assert_true(g_variant_lookup(v, "granted-to", "&s", &s));
	g_assert_cmpstr(s, ==, "desktop");
	pci_names_free(names);
}

int main(int argc, char **argv)
{
	g_autofree char *bogus = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	fixture = g_dir_make_tmp("phyllome-sysfs-XXXXXX", NULL);
	g_assert_nonnull(fixture);
	add_device("0000:00:00.0", "0x1b36\n", "0x0008\n", "0x060000\n", NULL, "0");
	add_device("0000:00:04.0", "0x1b36\n", "0x000d\n", "0x0c0330\n", "xhci_hcd", "7");
	add_device("0000:00:04.1", "0x1b36\n", "0x000d\n", "0x0c0330\n", "vfio-pci", "7");
	add_device("0000:00:05.0", "0x8086\n", "0x1237\n", "0x060000\n", NULL, NULL);
	bogus = g_build_filename(fixture, "bus/pci/devices/0000:00:1f.7", NULL);
	g_assert_cmpint(g_mkdir_with_parents(bogus, 0755), ==, 0);
	g_test_add_func("/hostdev/list", test_list);
	g_test_add_func("/hostdev/get", test_get);
	g_test_add_func("/hostdev/names", test_names);
	status = g_test_run();
	g_autofree char *rm = g_strdup_printf("rm -rf '%s'", fixture);
	(void)!system(rm);
	return status;
}

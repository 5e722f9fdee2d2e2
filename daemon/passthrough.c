/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "passthrough.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "hostdev.h"
#include "phyllome-error.h"

#define VFIO_DRIVER "vfio-pci"

static gboolean fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);
static gboolean fail(GError **error, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	if (error)
		*error =
		    g_error_new_valist(PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED, format, ap);
	va_end(ap);
	return FALSE;
}

/* sysfs attributes take one write(); g_file_set_contents() would rename a temporary file over them.
 */
/*
 * Opens relative below the directory root, following links only where they
 * stay below it: the path resolved, then checked, then reopened from what was
 * resolved (so no later change of the path counts). -1 and *err otherwise.
 */
static int open_beneath(int root, const char *relative, int flags, int *err)
{
	g_autofree char *root_path = daemon_fd_path(root);
	g_autofree char *link = NULL;
	int path_fd, fd;

	if (!root_path || relative[0] == '/') {
		*err = EXDEV;
		return -1;
	}
	path_fd = openat(root, relative, O_PATH | O_CLOEXEC);
	if (path_fd < 0) {
		*err = errno;
		return -1;
	}
	if (!daemon_fd_below(path_fd, root_path)) {
		close(path_fd);
		*err = EXDEV; /* what RESOLVE_BENEATH says of a path that leaves */
		return -1;
	}
	link = g_strdup_printf("/proc/self/fd/%d", path_fd);
	fd = open(link, flags);
	*err = errno;
	close(path_fd);
	return fd;
}

/*
 * Writes value to sysfs_root/relative, which must stay below sysfs_root: no
 * "..", no absolute or magic links out of it (sysfs's own relative links, from
 * bus/pci/devices to devices/, stay below and are followed). O_TRUNC as echo
 * does; sysfs ignores it.
 */
static int sysfs_write(const char *sysfs_root, const char *relative, const char *value)
{
	struct open_how how = {
		.flags = O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int root = open(sysfs_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd, err;
	ssize_t n;

	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, relative, &how, sizeof(how));
	err = errno;
	/* phyllomed's unit (RestrictSUIDSGID=) makes openat2 ENOSYS: the same check by hand. */
	if (fd < 0 && err == ENOSYS)
		fd = open_beneath(root, relative, how.flags, &err);
	close(root);
	if (fd < 0)
		return -err;
	n = write(fd, value, strlen(value));
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

static void give_back_one(const char *sysfs_root, const char *machine, const char *address,
			  const char *driver)
{
	g_autofree char *override = g_strdup_printf("bus/pci/devices/%s/driver_override", address);
	g_autofree char *unbind = g_strdup_printf("bus/pci/drivers/%s/unbind", VFIO_DRIVER);
	g_autofree char *now = host_device_driver(sysfs_root, address);
	int r;

	/* An empty override lets the device's own driver match again. */
	r = sysfs_write(sysfs_root, override, "\n");
	if (r == 0 && g_str_equal(now, VFIO_DRIVER))
		r = sysfs_write(sysfs_root, unbind, address);
	if (r == 0 && *driver)
		r = sysfs_write(sysfs_root, "bus/pci/drivers_probe", address);
	g_free(now);
	now = host_device_driver(sysfs_root, address);
	if (r < 0 || !g_str_equal(now, driver))
		daemon_log(machine, LOG_WARNING,
			   "Host device %s did not go back to %s (it is on %s%s%s)", address,
			   *driver ? driver : "no driver", *now ? now : "no driver",
			   r < 0 ? ": " : "", r < 0 ? g_strerror(-r) : "");
	else
		daemon_log(machine, LOG_INFO, "Host device %s is back on %s", address,
			   *driver ? driver : "no driver");
}

void passthrough_give_back(const char *sysfs_root, const char *machine, const char *const *moved)
{
	guint n = moved ? g_strv_length((char **)moved) : 0;

	/* In the reverse order of taking, as a rollback would. */
	for (guint i = n; i-- > 0;) {
		g_auto(GStrv) parts = g_strsplit(moved[i], "=", 2);

		if (parts[0] && parts[1])
			give_back_one(sysfs_root, machine, parts[0], parts[1]);
	}
}

static gboolean move_to_vfio(const char *sysfs_root, const HostDevice *d, GError **error)
{
	g_autofree char *vfio_dir =
	    g_build_filename(sysfs_root, "bus/pci/drivers", VFIO_DRIVER, NULL);
	g_autofree char *override =
	    g_strdup_printf("bus/pci/devices/%s/driver_override", d->address);
	g_autofree char *unbind = g_strdup_printf("bus/pci/devices/%s/driver/unbind", d->address);
	g_autofree char *now = NULL;
	int r;

	if (!g_file_test(vfio_dir, G_FILE_TEST_IS_DIR))
		return fail(error,
			    "The vfio-pci driver is not loaded: load it at boot (echo vfio-pci > "
			    "/etc/modules-load.d/vfio-pci.conf) or run modprobe vfio-pci");
	if ((r = sysfs_write(sysfs_root, override, VFIO_DRIVER)) < 0 ||
	    (*d->driver && (r = sysfs_write(sysfs_root, unbind, d->address)) < 0) ||
	    (r = sysfs_write(sysfs_root, "bus/pci/drivers_probe", d->address)) < 0)
		return fail(error, "Cannot move host device %s from %s to vfio-pci: %s", d->address,
			    *d->driver ? d->driver : "no driver", g_strerror(-r));
	now = host_device_driver(sysfs_root, d->address);
	if (!g_str_equal(now, VFIO_DRIVER))
		return fail(error, "Host device %s did not bind to vfio-pci (it is on %s)",
			    d->address, *now ? now : "no driver");
	return TRUE;
}

/* VFIO opens a group only when every member is on vfio-pci, on a bridge's driver or on none. */
static gboolean check_group(const char *sysfs_root, const char *machine, const HostDevice *d,
			    const char *const *granted, GError **error)
{
	for (guint i = 0; d->group_members[i]; i++) {
		const char *member = d->group_members[i];
		g_autofree char *driver = NULL;

		if (g_strv_contains(granted, member))
			continue;
		driver = host_device_driver(sysfs_root, member);
		if (*driver && !g_str_equal(driver, VFIO_DRIVER) &&
		    !g_str_equal(driver, "pcieport"))
			return fail(error,
				    "Host device %s shares IOMMU group %s with %s (on %s), which "
				    "is not granted to "
				    "'%s': grant it too, or leave the device out",
				    d->address, d->iommu_group, member, driver, machine);
	}
	return TRUE;
}

/* A start that fails gives back what it moved so far. */
static void undo_moves(const char *sysfs_root, const char *machine, GPtrArray *moved)
{
	g_ptr_array_add(moved, NULL);
	passthrough_give_back(sysfs_root, machine, (const char *const *)moved->pdata);
	g_ptr_array_set_size(moved, 0);
}

/* kept's entries into moved where the device stays the machine's, back to their drivers otherwise.
 */
static void carry_kept(const char *sysfs_root, const char *machine, const char *const *granted,
		       const char *const *kept, GPtrArray *moved)
{
	for (guint i = 0; kept && kept[i]; i++) {
		g_auto(GStrv) parts = g_strsplit(kept[i], "=", 2);
		g_autofree char *driver = NULL;

		if (!parts[0] || !parts[1])
			continue;
		driver = host_device_driver(sysfs_root, parts[0]);
		if (granted && g_strv_contains(granted, parts[0]) &&
		    g_str_equal(driver, VFIO_DRIVER)) {
			daemon_log(machine, LOG_INFO,
				   "Host device %s stays on vfio-pci for the next run", parts[0]);
			g_ptr_array_add(moved, g_strdup(kept[i]));
		} else {
			give_back_one(sysfs_root, machine, parts[0], parts[1]);
		}
	}
}

gboolean passthrough_take(const char *sysfs_root, const char *machine, const char *const *granted,
			  const char *const *kept, GArray *fds, GPtrArray *argv, GPtrArray *moved,
			  GError **error)
{
	g_autoptr(GPtrArray) devices =
	    g_ptr_array_new_with_free_func((GDestroyNotify)host_device_free);
	g_autoptr(GHashTable) group_fds =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	carry_kept(sysfs_root, machine, granted, kept, moved);

	for (guint i = 0; granted && granted[i]; i++) {
		HostDevice *d = host_device_get(sysfs_root, granted[i]);
		gboolean ok;

		if (!d)
			ok = fail(error, "Host device %s, granted to '%s', is not on this host",
				  granted[i], machine);
		else if (!*d->iommu_group)
			ok = fail(error,
				  "Host device %s has no IOMMU group: the host's IOMMU is off "
				  "(intel_iommu=on, or AMD-Vi in the firmware)",
				  d->address);
		else
			ok = check_group(sysfs_root, machine, d, granted, error);
		if (d)
			g_ptr_array_add(devices, d);
		if (!ok) {
			undo_moves(sysfs_root, machine, moved);
			return FALSE;
		}
	}
	for (guint i = 0; i < devices->len; i++) {
		HostDevice *d = devices->pdata[i];

		if (g_str_equal(d->driver, VFIO_DRIVER))
			continue;
		if (!move_to_vfio(sysfs_root, d, error)) {
			g_ptr_array_add(moved, g_strdup_printf("%s=%s", d->address, d->driver));
			undo_moves(sysfs_root, machine, moved);
			return FALSE;
		}
		daemon_log(machine, LOG_INFO, "Host device %s moved from %s to vfio-pci",
			   d->address, *d->driver ? d->driver : "no driver");
		g_ptr_array_add(moved, g_strdup_printf("%s=%s", d->address, d->driver));
	}
	if (devices->len) {
		/* The container too, so that the monitor opens nothing itself. */
		int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC | O_NOCTTY);

		if (fd < 0) {
			int err = errno;

			undo_moves(sysfs_root, machine, moved);
			return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err,
						  "Cannot open /dev/vfio/vfio");
		}
		g_array_append_val(fds, fd);
		g_ptr_array_add(argv, g_strdup_printf("--vfio-container-fd=%u", 3 + fds->len - 1));
	}
	for (guint i = 0; i < devices->len; i++) {
		HostDevice *d = devices->pdata[i];
		gpointer fd_index;
		int fd;

		if (!g_hash_table_lookup_extended(group_fds, d->iommu_group, NULL, &fd_index)) {
			g_autofree char *path = g_strdup_printf("/dev/vfio/%s", d->iommu_group);

			fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (fd < 0) {
				int err = errno;

				undo_moves(sysfs_root, machine, moved);
				return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err,
							  "Cannot open %s, the IOMMU group of %s",
							  path, d->address);
			}
			g_array_append_val(fds, fd);
			fd_index = GUINT_TO_POINTER(3 + fds->len - 1);
			g_hash_table_insert(group_fds, g_strdup(d->iommu_group), fd_index);
		}
		g_ptr_array_add(argv, g_strdup_printf("--vfio=group-fd=%u,device=%s",
						      GPOINTER_TO_UINT(fd_index), d->address));
	}
	return TRUE;
}

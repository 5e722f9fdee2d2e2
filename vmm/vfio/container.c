/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vfio/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/layout.h"
#include "cleanup.h"
#include "log.h"

#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"

void vfio_container_init(struct vfio_container *c, int inherited_fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = inherited_fd;
	c->kvm_device_fd = -1;
}

/* The last component of a sysfs symlink (a driver's or a group's name), or "" when there is none.
 */
static void sysfs_link_name(const char *bdf, const char *link, char *buf, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/%s", bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(name) < size)
		memcpy(buf, name, strlen(name) + 1);
}

/* Checks what sysfs says of the device, and opens its group when it was not inherited. */
static int open_group(const char *bdf, int inherited_fd)
{
	char path[PATH_MAX], driver[NAME_MAX + 1], group[NAME_MAX + 1];
	int fd;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", bdf);
	if (access(path, F_OK) < 0 && inherited_fd < 0)
		return log_error_errno(
		    ENODEV, "There is no PCI device %s on this host (see lspci -D)", bdf);
	if (access(path, F_OK) == 0) {
		sysfs_link_name(bdf, "driver", driver, sizeof(driver));
		if (strcmp(driver, "vfio-pci") != 0)
			return log_error_errno(
			    EBUSY,
			    "PCI device %s is %s%s, not vfio-pci: bind it to vfio-pci first "
			    "(echo vfio-pci > %s/driver_override, unbind, echo %s > "
			    "/sys/bus/pci/drivers_probe), or let phyllomed do it",
			    bdf, driver[0] ? "bound to " : "without a driver", driver, path, bdf);
	}
	if (inherited_fd >= 0)
		return fcntl(inherited_fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : inherited_fd;
	sysfs_link_name(bdf, "iommu_group", group, sizeof(group));
	if (!group[0])
		return log_error_errno(
		    ENODEV,
		    "PCI device %s has no IOMMU group: is the IOMMU enabled (intel_iommu=on, "
		    "or AMD-Vi in the firmware)?",
		    bdf);
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "Cannot open %s, the IOMMU group of %s: %m", path,
				       bdf);
	return fd;
}

/* Every device in a group must be bound to vfio-pci or to nothing for the group to be usable. */
static int check_viable(int group_fd, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status) < 0)
		return log_error_errno(
		    errno, "VFIO_GROUP_GET_STATUS for %s: %m (is this a VFIO group?)", bdf);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return log_error_errno(
		    EBUSY,
		    "The IOMMU group of %s is not viable: every device in it must be bound to "
		    "vfio-pci or to no driver (see %s/%s/iommu_group/devices)",
		    bdf, SYSFS_PCI_DEVICES, bdf);
	return 0;
}

int vfio_container_add_device(struct vfio_container *c, const char *bdf, int inherited_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = open_group(bdf, inherited_fd);
	if (r < 0)
		return r;
	fd = r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return log_error_errno(EINVAL,
				       "The group file descriptor for %s is not /dev/vfio/N", bdf);
	for (unsigned i = 0; i < c->group_count; i++)
		if (c->groups[i].rdev == st.st_rdev) {
			/* A second device of a group we have: the group is in already. */
			if (fd == inherited_fd)
				TAKE_FD(
				    fd); /* the caller passed the same group twice; it stays open */
			return c->groups[i].fd;
		}
	r = check_viable(fd, bdf);
	if (r < 0)
		return r;
	if (!c->checked) {
		if (c->fd < 0)
			c->fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		else if (fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0)
			return log_error_errno(errno, "The inherited VFIO container: %m");
		if (c->fd < 0)
			return log_error_errno(
			    errno, "Cannot open /dev/vfio/vfio: %m (is the vfio module loaded?)");
		if (ioctl(c->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
			return log_error_errno(ENOTSUP,
					       "/dev/vfio/vfio speaks another VFIO API version");
		if (ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
			return log_error_errno(ENOTSUP,
					       "This host's VFIO lacks the type 1 (v2) IOMMU");
		c->checked = true;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->fd) < 0)
		return log_error_errno(
		    errno, "Cannot add the IOMMU group of %s to our container: %m", bdf);
	/* The IOMMU model is chosen once the first group is in, as VFIO requires. */
	if (!c->iommu_set) {
		if (ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
			return log_error_errno(errno, "VFIO_SET_IOMMU for %s: %m", bdf);
		c->iommu_set = true;
	}
	c->groups[c->group_count] = (struct vfio_group){ .fd = fd, .rdev = st.st_rdev };
	c->group_count++;
	return TAKE_FD(fd);
}

static int map_dma(struct vfio_container *c, void *host, uint64_t gpa, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)host,
		.iova = gpa,
		.size = size,
	};

	if (!size)
		return 0;
	if (ioctl(c->fd, VFIO_IOMMU_MAP_DMA, &map) < 0)
		return log_error_errno(
		    errno, "Cannot map guest RAM at 0x%llx (%llu MiB) for device DMA: %m%s",
		    (unsigned long long)gpa, (unsigned long long)(size >> 20),
		    errno == ENOMEM ? " (VFIO pins guest RAM: raise RLIMIT_MEMLOCK, or "
				      "LimitMEMLOCK= for a service)"
				    : "");
	return 0;
}

int vfio_container_map_memory(struct vfio_container *c, const struct guest_memory *mem)
{
	int r;

	if (!c->group_count)
		return 0;
	r = map_dma(c, mem->host, GUEST_RAM_BASE, mem->low_size);
	if (r < 0)
		return r;
	return map_dma(c, mem->host + mem->low_size, GUEST_RAM_HIGH_BASE,
		       guest_memory_high_size(mem));
}

int vfio_container_attach_kvm(struct vfio_container *c, int vm_fd)
{
	struct kvm_create_device create = { .type = KVM_DEV_TYPE_VFIO };

	if (!c->group_count)
		return 0;
	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &create) < 0)
		return log_error_errno(errno, "Cannot create KVM's VFIO device: %m");
	c->kvm_device_fd = (int)create.fd;
	for (unsigned i = 0; i < c->group_count; i++) {
		int32_t group_fd = c->groups[i].fd;
		struct kvm_device_attr attr = {
			.group = KVM_DEV_VFIO_GROUP,
			.attr = KVM_DEV_VFIO_GROUP_ADD,
			.addr = (uint64_t)(uintptr_t)&group_fd,
		};

		if (ioctl(c->kvm_device_fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
			return log_error_errno(errno, "Cannot tell KVM about a VFIO group: %m");
	}
	return 0;
}

void vfio_container_done(struct vfio_container *c)
{
	closep(&c->kvm_device_fd);
	for (unsigned i = 0; i < c->group_count; i++)
		closep(&c->groups[i].fd);
	c->group_count = 0;
	closep(&c->fd);
	c->fd = c->kvm_device_fd = -1;
}

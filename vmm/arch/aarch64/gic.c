/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arch/aarch64/gic.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/aarch64/layout.h"
#include "cleanup.h"
#include "log.h"

static int set_attr(int fd, uint32_t group, uint64_t attr, const void *value)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)value };

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int create_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device d = { .type = type };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &d) < 0 ? -errno : (int)d.fd;
}

int aarch64_gic_create(int vm_fd, unsigned cpus, struct aarch64_gic *ret)
{
	const uint64_t dist = GUEST_GIC_DIST_ADDR, redist = GUEST_GIC_REDIST_ADDR,
		       its = GUEST_GIC_ITS_ADDR;
	const uint32_t nr_irqs = 32 + GIC_SPI_COUNT;
	_cleanup_close_ int gic_fd = -1, its_fd = -1;
	int r;

	if (cpus > GUEST_GIC_REDIST_MAX_CPUS)
		return log_error_errno(E2BIG, "The GIC's redistributors serve at most %u vCPUs",
				       GUEST_GIC_REDIST_MAX_CPUS);
	gic_fd = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (gic_fd < 0)
		return log_error_errno(gic_fd, "This host's KVM offers no GICv3 "
					       "(KVM_CREATE_DEVICE ARM_VGIC_V3: %m)");
	if ((r = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist)) <
		0 ||
	    (r = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
			  &redist)) < 0 ||
	    (r = set_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs)) < 0)
		return log_error_errno(r, "Cannot place the GICv3: %m");
	its_fd = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (its_fd < 0)
		return log_error_errno(its_fd, "This host's KVM offers no GICv3 ITS, which MSIs "
					       "need (KVM_CREATE_DEVICE ARM_VGIC_ITS: %m)");
	r = set_attr(its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &its);
	if (r < 0)
		return log_error_errno(r, "Cannot place the GIC's ITS: %m");
	ret->gic_fd = TAKE_FD(gic_fd);
	ret->its_fd = TAKE_FD(its_fd);
	return 0;
}

int aarch64_gic_finish(struct aarch64_gic *gic)
{
	int r = set_attr(gic->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (r < 0)
		return log_error_errno(r, "Cannot initialize the GICv3: %m");
	r = set_attr(gic->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r < 0)
		return log_error_errno(r, "Cannot initialize the GIC's ITS: %m");
	return 0;
}

void aarch64_gic_done(struct aarch64_gic *gic)
{
	if (gic->its_fd >= 0)
		close(gic->its_fd);
	if (gic->gic_fd >= 0)
		close(gic->gic_fd);
	gic->gic_fd = gic->its_fd = -1;
}

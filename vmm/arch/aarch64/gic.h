/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * KVM's vGICv3: the distributor, one redistributor per vCPU and an ITS for
 * MSIs, at the addresses of arch/aarch64/layout.h. Created before the vCPUs,
 * initialized after them (KVM sizes the redistributors by the vCPUs then).
 */
struct aarch64_gic {
	int gic_fd;
	int its_fd;
};

int aarch64_gic_create(int vm_fd, unsigned cpus, struct aarch64_gic *ret);
int aarch64_gic_finish(struct aarch64_gic *gic);
void aarch64_gic_done(struct aarch64_gic *gic);

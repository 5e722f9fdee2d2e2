/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What the device tree describes: the rest is the fixed address map of arch/aarch64/layout.h. */
struct fdt_machine {
	unsigned cpus;
	uint64_t ram_size; /* from GUEST_RAM_BASE */
	const char *cmdline;
	uint64_t initrd_start, initrd_size; /* size 0: no initrd */
	uint64_t pci_mmio32_base, pci_mmio64_base;
	uint8_t rng_seed[64]; /* the guest's entropy before its drivers load */
};

/* The MPIDR KVM gives vCPU index (what cpu@N's reg must say). */
uint64_t aarch64_vcpu_mpidr(unsigned index);

/*
 * Writes the machine's flattened device tree into buf with libfdt. Returns its
 * size, or -E2BIG when buf is too small, -EINVAL when libfdt refuses.
 */
int aarch64_fdt_build(const struct fdt_machine *m, void *buf, size_t size);

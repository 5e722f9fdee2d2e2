/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <stdint.h>

#include "memory.h"

/* Identity page tables for the first 4 GiB and the boot GDT, in guest RAM. */
int x86_write_boot_structures(const struct guest_memory *mem);

/* What every vCPU gets, as a PC firmware would leave it: CPUID, MSRs, FPU, LINT0/LINT1. */
int x86_vcpu_init(int vcpu_fd, const struct kvm_cpuid2 *cpuid);

/* The boot vCPU only: 64-bit mode, flat segments, paging on, at the kernel's entry with %rsi =
 * boot_params. */
int x86_vcpu_set_boot_regs(int vcpu_fd, uint64_t entry, uint64_t boot_params);

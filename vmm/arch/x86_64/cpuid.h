/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <stdint.h>

/* KVM_GET_SUPPORTED_CPUID into a freshly allocated table; the caller frees it. */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret);

/*
 * Adjusts the supported table for one vCPU of a VM with cpu_count vCPUs, all
 * cores of one socket with one thread each: APIC IDs, topology leaves (Intel
 * 0x4/0xb/0x1f, AMD 0x80000008/0x8000001e) and the hypervisor bit.
 */
void cpuid_fixup(struct kvm_cpuid2 *cpuid, unsigned cpu_index, unsigned cpu_count);

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index);

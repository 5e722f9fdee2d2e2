/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "log.h"

#define CPUID_MAX_ENTRIES 256
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_HTT (1u << 28)
#define TOPOLOGY_LEVEL_SMT 1
#define TOPOLOGY_LEVEL_CORE 2

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		int r = log_error_errno(errno, "KVM_GET_SUPPORTED_CPUID: %m");
		free(cpuid);
		return r;
	}
	/* KVM emulates the TSC-deadline timer in its local APIC but cannot list it among the
	 * host's CPU features; the monitor announces it, as QEMU does. Without it Linux falls
	 * back to the APIC's one-shot timer, which it must calibrate at boot. */
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0) {
		struct kvm_cpuid_entry2 *leaf1 = cpuid_find(cpuid, 1, 0);

		if (leaf1)
			leaf1->ecx |= LEAF1_ECX_TSC_DEADLINE;
	}
	*ret = cpuid;
	return 0;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

/* Bits needed to number n things: the shift between topology levels. */
static uint32_t order_base_2(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void fixup_extended_topology(struct kvm_cpuid_entry2 *e, unsigned apic_id,
				    unsigned cpu_count)
{
	switch (e->index) {
	case 0: /* SMT level: one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = TOPOLOGY_LEVEL_SMT << 8;
		break;
	case 1: /* core level: every vCPU is a core of the one package */
		e->eax = order_base_2(cpu_count);
		e->ebx = cpu_count;
		e->ecx = TOPOLOGY_LEVEL_CORE << 8 | 1;
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = apic_id;
}

void cpuid_fixup(struct kvm_cpuid2 *cpuid, unsigned cpu_index, unsigned cpu_count)
{
	unsigned apic_id = cpu_index;

	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			e->ebx = (e->ebx & 0x0000ffff) | (uint32_t)apic_id << 24 |
				 (uint32_t)cpu_count << 16;
			e->ecx |= LEAF1_ECX_HYPERVISOR;
			if (cpu_count > 1)
				e->edx |= LEAF1_EDX_HTT;
			else
				e->edx &= ~LEAF1_EDX_HTT;
			break;
		case 0x4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: threads sharing this cache
			 * - 1. */
			e->eax &= 0x00003fff;
			if (e->eax & 0x1f) {
				uint32_t sharing = ((e->eax >> 5) & 7) >= 3 ? cpu_count - 1 : 0;
				e->eax |= (cpu_count - 1) << 26 | sharing << 14;
			}
			break;
		case 0xb:
		case 0x1f:
			fixup_extended_topology(e, apic_id, cpu_count);
			break;
		case 0x80000008:
			/* ECX[15:12]: APIC ID bits for cores, ECX[7:0]: cores - 1. */
			e->ecx =
			    (e->ecx & ~0xf0ffu) | order_base_2(cpu_count) << 12 | (cpu_count - 1);
			break;
		case 0x8000001e:
			e->eax = apic_id;
			e->ebx = cpu_index & 0xff; /* core ID, one thread per core */
			e->ecx = 0;		   /* node 0, one node per package */
			break;
		default:
			break;
		}
	}
}

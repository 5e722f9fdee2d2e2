/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bzimage.h"
#include "cleanup.h"
#include "layout.h"
#include "log.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_LARGE (1ULL << 7)

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1ULL
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_ENABLE (1ULL << 11)
#define MTRR_TYPE_WRBACK 6
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* Selectors of the boot GDT; the Linux boot protocol's __BOOT_CS and __BOOT_DS. */
#define GDT_CODE 2
#define GDT_DATA 3
#define GDT_TSS 4

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

#define GDT_ENTRIES 5
#define GDT_FLAGS_CODE64 0xa09b /* 64-bit code, present, ring 0 */
#define GDT_FLAGS_DATA 0xc093	/* flat read/write data */
#define GDT_FLAGS_TSS 0x808b	/* busy TSS: VMX entry checks want a usable TR */

int x86_write_boot_structures(const struct guest_memory *mem)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	uint8_t *pml4 = guest_memory_ptr(mem, GUEST_PML4_ADDR, 6 * 4096);
	uint8_t *pdpt, *pd;
	uint8_t *dst;

	if (!pml4)
		return -ENOSPC;
	pdpt = pml4 + 4096;
	pd = pml4 + 2 * 4096;
	memset(pml4, 0, 6 * 4096);
	put_le64(pml4, (GUEST_PML4_ADDR + 4096) | PTE_PRESENT | PTE_WRITE);
	for (uint64_t i = 0; i < 4; i++) {
		put_le64(pdpt + 8 * i,
			 (GUEST_PML4_ADDR + (2 + i) * 4096) | PTE_PRESENT | PTE_WRITE);
		for (uint64_t j = 0; j < 512; j++)
			put_le64(pd + i * 4096 + 8 * j,
				 (i << 30 | j << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
	}

	gdt[GDT_CODE] = gdt_entry(GDT_FLAGS_CODE64, 0, 0xfffff);
	gdt[GDT_DATA] = gdt_entry(GDT_FLAGS_DATA, 0, 0xfffff);
	gdt[GDT_TSS] = gdt_entry(GDT_FLAGS_TSS, 0, 0xfffff);
	dst = guest_memory_ptr(mem, GUEST_GDT_ADDR, sizeof(gdt));
	if (!dst)
		return -ENOSPC;
	for (size_t i = 0; i < ARRAY_SIZE(gdt); i++)
		put_le64(dst + 8 * i, gdt[i]);
	return 0;
}

static struct kvm_segment segment_from_gdt(uint64_t entry, uint16_t index)
{
	return (struct kvm_segment){
		.base = (uint32_t)(((entry >> 16) & 0xffffff) | ((entry >> 32) & 0xff000000)),
		.limit = 0xffffffff, /* 0xfffff in 4 KiB pages */
		.selector = (uint16_t)(index * 8),
		.type = (entry >> 40) & 0xf,
		.present = (entry >> 47) & 1,
		.dpl = (entry >> 45) & 3,
		.db = (entry >> 54) & 1,
		.s = (entry >> 44) & 1,
		.l = (entry >> 53) & 1,
		.g = (entry >> 55) & 1,
	};
}

int x86_vcpu_set_boot_regs(int vcpu_fd, uint64_t entry, uint64_t boot_params)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry,
		.rsi = boot_params,
		.rsp = GUEST_BOOT_STACK_TOP,
		.rflags = 0x2, /* bit 1 is always set; interrupts off */
	};
	struct kvm_segment code, data, tss;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return log_error_errno(errno, "KVM_GET_SREGS: %m");

	code = segment_from_gdt(gdt_entry(GDT_FLAGS_CODE64, 0, 0xfffff), GDT_CODE);
	data = segment_from_gdt(gdt_entry(GDT_FLAGS_DATA, 0, 0xfffff), GDT_DATA);
	tss = segment_from_gdt(gdt_entry(GDT_FLAGS_TSS, 0, 0xfffff), GDT_TSS);
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = tss;
	sregs.gdt.base = GUEST_GDT_ADDR;
	sregs.gdt.limit = 8 * GDT_ENTRIES - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = GUEST_PML4_ADDR;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;

	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return log_error_errno(errno, "KVM_SET_SREGS: %m");
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return log_error_errno(errno, "KVM_SET_REGS: %m");
	return 0;
}

static int set_msrs(int vcpu_fd)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MSR_MTRR_ENABLE | MTRR_TYPE_WRBACK },
	};
	_cleanup_free_ struct kvm_msrs *msrs = NULL;
	int n;

	msrs = calloc(1, sizeof(*msrs) + ARRAY_SIZE(boot_msrs) * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = ARRAY_SIZE(boot_msrs);
	for (size_t i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		msrs->entries[i].index = boot_msrs[i].index;
		msrs->entries[i].data = boot_msrs[i].value;
	}
	n = ioctl(vcpu_fd, KVM_SET_MSRS, msrs);
	if (n < 0)
		return log_error_errno(errno, "KVM_SET_MSRS: %m");
	/* KVM stops at the first MSR it refuses and returns how many it set. */
	if ((size_t)n != ARRAY_SIZE(boot_msrs))
		return log_error_errno(EINVAL, "KVM refused MSR 0x%x", boot_msrs[n].index);
	return 0;
}

static void set_lvt_mode(struct kvm_lapic_state *lapic, unsigned offset, uint32_t mode)
{
	uint8_t *reg = (uint8_t *)lapic->regs + offset;
	uint32_t value = get_le32(reg);

	put_le32(reg, (value & ~0x700u) | mode << 8);
}

int x86_vcpu_init(int vcpu_fd, const struct kvm_cpuid2 *cpuid)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state lapic;
	int r;

	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		return log_error_errno(errno, "KVM_SET_CPUID2: %m");
	r = set_msrs(vcpu_fd);
	if (r < 0)
		return r;
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return log_error_errno(errno, "KVM_SET_FPU: %m");

	/* Virtual wire mode, as a PC BIOS leaves the local APIC: LINT0 ExtINT, LINT1 NMI. */
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		return log_error_errno(errno, "KVM_GET_LAPIC: %m");
	set_lvt_mode(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt_mode(&lapic, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0)
		return log_error_errno(errno, "KVM_SET_LAPIC: %m");
	return 0;
}

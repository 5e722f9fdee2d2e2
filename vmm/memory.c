/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memory.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arch/layout.h"
#include "log.h"
#include "pci/pci.h"

/* KVM maps guest RAM with 2 MiB pages only where the host address and the guest
 * address agree modulo 2 MiB, and transparent huge pages back only aligned 2 MiB
 * ranges; mmap promises page alignment only. Unaligned, a Debian guest took 19 times
 * the nested page faults QEMU's (which aligns its RAM) did, and each guest TLB miss
 * walked 4 KiB host pages. */
#define GUEST_MEMORY_ALIGN (2ul << 20)

int guest_memory_init(struct guest_memory *mem, uint64_t size)
{
	uint8_t *raw, *host;
	size_t span;

	if (size < GUEST_MEMORY_MIN || size > GUEST_MEMORY_MAX)
		return -ERANGE;
	if (size % 4096)
		return -EINVAL;

	/* NORESERVE: the guest's RAM is committed as it touches it, like a real machine's page
	 * cache. */
	span = size + GUEST_MEMORY_ALIGN;
	raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		return log_error_errno(errno, "Cannot map %llu MiB of guest memory: %m",
				       (unsigned long long)(size >> 20));
	host = (uint8_t *)(((uintptr_t)raw + GUEST_MEMORY_ALIGN - 1) & ~(GUEST_MEMORY_ALIGN - 1));
	/* Trimming what the alignment left over cannot fail on ranges we just mapped. */
	if (host > raw)
		(void)munmap(raw, host - raw);
	if (raw + span > host + size)
		(void)munmap(host + size, raw + span - (host + size));
	/* Transparent huge pages make guest page walks cheaper; a refusal is harmless. */
	(void)madvise(host, size, MADV_HUGEPAGE);

	mem->host = host;
	mem->size = size;
	mem->low_size = size < GUEST_RAM_LOW_MAX ? size : GUEST_RAM_LOW_MAX;
	return 0;
}

void guest_memory_done(struct guest_memory *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	mem->host = NULL;
	mem->size = mem->low_size = 0;
}

uint64_t guest_memory_high_size(const struct guest_memory *mem)
{
	return mem->size - mem->low_size;
}

int guest_memory_register(const struct guest_memory *mem, int vm_fd)
{
	struct kvm_userspace_memory_region regions[2] = {
		{
		    .slot = 0,
		    .guest_phys_addr = GUEST_RAM_BASE,
		    .memory_size = mem->low_size,
		    .userspace_addr = (uintptr_t)mem->host,
		},
		{
		    .slot = 1,
		    .guest_phys_addr = GUEST_RAM_HIGH_BASE,
		    .memory_size = guest_memory_high_size(mem),
		    .userspace_addr = (uintptr_t)(mem->host + mem->low_size),
		},
	};

	for (size_t i = 0; i < 2; i++) {
		if (regions[i].memory_size == 0)
			continue;
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &regions[i]) < 0)
			return log_error_errno(errno, "KVM_SET_USER_MEMORY_REGION (slot %zu): %m",
					       i);
	}
	return 0;
}

int guest_memslot_set(int vm_fd, unsigned slot, uint32_t flags, uint64_t gpa, void *host,
		      uint64_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = size ? (uintptr_t)host : 0,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int guest_firmware_register(int vm_fd, void *image, uint64_t size)
{
	int r;

	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return log_error_errno(ENOTSUP, "This host's KVM cannot map read-only memory "
						"(KVM_CAP_READONLY_MEM), which a firmware needs");
	/* Read-only: the guest's writes there exit as MMIO. */
	r = guest_memslot_set(vm_fd, GUEST_FIRMWARE_MEMSLOT, KVM_MEM_READONLY,
			      GUEST_FIRMWARE_END - size, image, size);
	if (r < 0)
		return log_error_errno(r, "KVM_SET_USER_MEMORY_REGION (the firmware): %m");
	return 0;
}

int guest_nvram_map(int vm_fd, uint64_t gpa, void *store, uint64_t size)
{
	return guest_memslot_set(vm_fd, GUEST_NVRAM_MEMSLOT, KVM_MEM_READONLY, gpa, store, size);
}

void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	if (len > mem->size)
		return NULL;
	/* RAM starts at 0 on x86_64: gpa - base wraps below an aarch64 base instead. */
	if (gpa - GUEST_RAM_BASE < mem->low_size) {
		if (len > mem->low_size - (gpa - GUEST_RAM_BASE))
			return NULL;
		return mem->host + (gpa - GUEST_RAM_BASE);
	}
	if (gpa >= GUEST_RAM_HIGH_BASE) {
		uint64_t offset = gpa - GUEST_RAM_HIGH_BASE;
		uint64_t high = guest_memory_high_size(mem);

		if (offset >= high || len > high - offset)
			return NULL;
		return mem->host + mem->low_size + offset;
	}
	return NULL;
}

void guest_memory_pci_windows(const struct guest_memory *mem, struct pci_windows *ret)
{
	ret->mmio32_base = GUEST_PCI_MMIO32_BASE(mem->low_size);
	ret->mmio64_base = guest_memory_mmio64_base(mem);
}

uint64_t guest_memory_mmio64_base(const struct guest_memory *mem)
{
	uint64_t end = guest_memory_high_size(mem)
			   ? GUEST_RAM_HIGH_BASE + guest_memory_high_size(mem)
			   : GUEST_RAM_BASE + mem->low_size;

	uint64_t floor = GUEST_PCI_MMIO64_FLOOR; /* 0 on aarch64: a constant would warn */

	if (end < floor)
		end = floor;

	return (end + (1ULL << 30) - 1) & ~((1ULL << 30) - 1);
}

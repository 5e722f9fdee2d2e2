/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest RAM is one anonymous host mapping. It is split around the 32-bit
 * MMIO hole: the first low_size bytes sit at guest-physical 0, the rest at
 * 4 GiB. guest_memory_ptr() is the only way to turn a guest-physical address
 * into a host pointer, and it checks the whole range.
 */
struct guest_memory {
	uint8_t *host;
	uint64_t size;
	uint64_t low_size;
};

#define GUEST_MEMORY_MIN (8ULL << 20)
#define GUEST_MEMORY_MAX (1ULL << 40)

int guest_memory_init(struct guest_memory *mem, uint64_t size);
void guest_memory_done(struct guest_memory *mem);
int guest_memory_register(const struct guest_memory *mem, int vm_fd);

/* KVM memory slots: 0 and 1 guest RAM, 2 the firmware, 3 its variables' flash, 4 the display's
 * framebuffer; host devices' BARs after them. */
#define GUEST_FIRMWARE_MEMSLOT 2
#define GUEST_NVRAM_MEMSLOT 3
#define GUEST_DISPLAY_MEMSLOT 4
#define GUEST_FIRST_FREE_MEMSLOT 5
/* One KVM memory slot: size bytes of host memory at gpa (flags: 0 or KVM_MEM_READONLY); size 0
 * takes the slot away. 0 or -errno (-EEXIST over another slot). */
int guest_memslot_set(int vm_fd, unsigned slot, uint32_t flags, uint64_t gpa, void *host,
		      uint64_t size);
/* The firmware image (page-aligned host memory) read-only just below GUEST_FIRMWARE_END: the
 * guest's writes to it exit, and nobody takes them. */
int guest_firmware_register(int vm_fd, void *image, uint64_t size);
/* The flash below it, read-only as well (its writes are commands); size 0 takes it away. */
int guest_nvram_map(int vm_fd, uint64_t gpa, void *store, uint64_t size);

/* NULL when [gpa, gpa+len) is not entirely guest RAM of one region. */
void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len);
uint64_t guest_memory_high_size(const struct guest_memory *mem);
/* The first guest-physical address above RAM and the 32-bit hole, aligned to 1 GiB: where 64-bit
 * BARs go. */
uint64_t guest_memory_mmio64_base(const struct guest_memory *mem);
/*
 * The PCI host bridge's windows. The 32-bit one starts at the end of RAM below
 * 4 GiB, but not below 2 GiB: that is where OVMF's aperture on an i440FX
 * starts, and it assigns BARs from there.
 */
struct pci_windows;
void guest_memory_pci_windows(const struct guest_memory *mem, struct pci_windows *ret);

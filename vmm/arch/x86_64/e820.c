/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "e820.h"

#include "layout.h"

static size_t add(struct e820_entry *entries, size_t n, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0)
		return n;
	entries[n] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

size_t e820_build(const struct guest_memory *mem, struct e820_entry entries[E820_MAX_ENTRIES])
{
	size_t n = 0;

	/* The EBDA and BIOS area stay reserved: the ACPI tables live there. */
	n = add(entries, n, 0, GUEST_EBDA_START, E820_RAM);
	n = add(entries, n, GUEST_EBDA_START, GUEST_HIGH_MEMORY - GUEST_EBDA_START, E820_RESERVED);
	n = add(entries, n, GUEST_HIGH_MEMORY, mem->low_size - GUEST_HIGH_MEMORY, E820_RAM);
	/* ECAM: reserved, as firmware marks it, so that the guest trusts the MCFG. */
	n = add(entries, n, GUEST_PCI_ECAM_BASE, GUEST_PCI_ECAM_SIZE, E820_RESERVED);
	n = add(entries, n, GUEST_MMIO_HOLE_END, guest_memory_high_size(mem), E820_RAM);
	return n;
}

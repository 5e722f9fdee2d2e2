/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The guest-physical address map of an x86_64 Phyllome VM. Everything the
 * VMM writes into guest RAM before the first instruction lives below 1 MiB,
 * in places the Linux boot protocol and a PC firmware would use.
 */
#define GUEST_GDT_ADDR 0x500ULL
#define GUEST_BOOT_PARAMS_ADDR 0x7000ULL
#define GUEST_BOOT_STACK_TOP 0x8ff0ULL
#define GUEST_PML4_ADDR 0x9000ULL /* PML4, one PDPT, four PDs: 0x9000..0xefff */
#define GUEST_CMDLINE_ADDR 0x20000ULL
#define GUEST_CMDLINE_MAX 0x10000ULL /* our buffer; the kernel's own limit may be lower */
#define GUEST_EBDA_START 0x9fc00ULL
#define GUEST_ACPI_ADDR 0xe0000ULL /* RSDP first, so legacy scanners find it too */
#define GUEST_ACPI_MAX 0x20000ULL
#define GUEST_HIGH_MEMORY 0x100000ULL
/* Where a CPU starts after reset (F000:FFF0), in the reserved BIOS area. */
#define GUEST_RESET_VECTOR 0xffff0ULL
#define GUEST_KERNEL_ADDR GUEST_HIGH_MEMORY

/* The 32-bit hole for device MMIO: RAM stops at 3 GiB and resumes at 4 GiB. */
#define GUEST_MMIO_HOLE_START 0xc0000000ULL
#define GUEST_MMIO_HOLE_END 0x100000000ULL
/*
 * PCI: BARs of 32-bit devices, then ECAM for bus 0, below the IOAPIC. The
 * window ends where OVMF's 32-bit PCI aperture on an i440FX ends (it starts at
 * the end of low RAM, not below 2 GiB: guest_memory_pci_windows), and the
 * firmware's BARs must land in our window. ECAM sits in the gap above, which
 * OVMF leaves alone (it does not know about it).
 */
#define GUEST_PCI_MMIO32_START GUEST_MMIO_HOLE_START
#define GUEST_PCI_MMIO32_LOWEST 0x80000000ULL /* with less RAM, the window starts lower */
#define GUEST_PCI_MMIO32_END 0xfc000000ULL
#define GUEST_PCI_MMIO32_BASE(low_ram)                                                             \
	((low_ram) > GUEST_PCI_MMIO32_LOWEST ? (low_ram) : GUEST_PCI_MMIO32_LOWEST)
#define GUEST_PCI_ECAM_BASE 0xfc000000ULL
#define GUEST_PCI_ECAM_SIZE 0x100000ULL /* one bus: 32 slots x 8 functions x 4 KiB */
/* 64-bit BARs go above RAM (aligned to 1 GiB), in a window of this size. */
#define GUEST_PCI_MMIO64_SIZE (64ULL << 30)
#define GUEST_PCI_MMIO64_FLOOR GUEST_MMIO_HOLE_END
/* RAM: up to the hole from 0, the rest from 4 GiB. */
#define GUEST_RAM_BASE 0ULL
#define GUEST_RAM_LOW_MAX GUEST_MMIO_HOLE_START
#define GUEST_RAM_HIGH_BASE GUEST_MMIO_HOLE_END
#define GUEST_IOAPIC_ADDR 0xfec00000ULL
#define GUEST_LAPIC_ADDR 0xfee00000ULL
/* Three pages KVM needs on Intel hosts, and its identity map's page before them: below the
 * firmware's 16 MiB, where QEMU puts them too. */
#define GUEST_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define GUEST_TSS_ADDR 0xfeffd000ULL
/* A firmware image (--firmware) ends here, its last 16 bytes the reset vector at 0xfffffff0. */
#define GUEST_FIRMWARE_END 0x100000000ULL

/* Platform I/O ports. */
#define PORT_COM1 0x3f8
#define PORT_I8042_DATA 0x60
#define PORT_RTC_INDEX 0x70 /* and its data port at 0x71 */
#define PORT_I8042_COMMAND 0x64
#define PORT_ACPI_SLEEP_CONTROL 0x600
#define PORT_ACPI_SLEEP_STATUS 0x601
#define PORT_ACPI_RESET 0x602
#define ACPI_RESET_VALUE 0x1
#define PORT_PCI_CONFIG_ADDRESS 0xcf8 /* and the data port at 0xcfc */
#define PORT_PVPANIC 0x505	      /* where QEMU puts it, and so where guests look first */
/* The PIIX4 power management block (only with a firmware), where OVMF expects it. */
#define PORT_PIIX4_PM_BASE 0xb000

/* Interrupt lines (IOAPIC pins). */
#define IRQ_COM1 4
#define GSI_POWER_BUTTON 16 /* the ACPI GED's interrupt, edge-triggered */
/* PCI INTx: pins A-D of slot N on GSIs 20-23, swizzled as behind a bridge; level, active-low (the
 * _PRT). */
#define GSI_PCI_INTX_BASE 20

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The guest-physical address map of an aarch64 Phyllome VM. It follows QEMU's
 * `virt` machine where a guest might have learnt an address (the GIC, the
 * PL011 at 0x09000000, RAM from 1 GiB), so that what people know of `virt`
 * holds here; the device tree says it all anyway.
 */
#define GUEST_GIC_DIST_ADDR 0x08000000ULL
#define GUEST_GIC_DIST_SIZE 0x10000ULL
#define GUEST_GIC_ITS_ADDR 0x08080000ULL
#define GUEST_GIC_ITS_SIZE 0x20000ULL
/* One redistributor per vCPU, two 64 KiB frames each, up to the UART. */
#define GUEST_GIC_REDIST_ADDR 0x080a0000ULL
#define GUEST_GIC_REDIST_STRIDE 0x20000ULL
#define GUEST_GIC_REDIST_MAX_CPUS 123
#define GUEST_UART_ADDR 0x09000000ULL
#define GUEST_RTC_ADDR 0x09010000ULL
#define GUEST_GPIO_ADDR 0x09030000ULL
#define GUEST_PLATFORM_DEVICE_SIZE 0x1000ULL

/* PCI: BARs of 32-bit devices, then ECAM for bus 0; the 64-bit window lies above RAM. */
#define GUEST_PCI_MMIO32_START 0x10000000ULL
#define GUEST_PCI_MMIO32_END 0x3f000000ULL
#define GUEST_PCI_MMIO32_BASE(low_ram) GUEST_PCI_MMIO32_START
#define GUEST_PCI_ECAM_BASE 0x3f000000ULL
#define GUEST_PCI_ECAM_SIZE 0x100000ULL /* one bus: 32 slots x 8 functions x 4 KiB */
#define GUEST_PCI_MMIO64_SIZE (64ULL << 30)
#define GUEST_PCI_MMIO64_FLOOR 0ULL

/* RAM is one range from 1 GiB; nothing splits it. */
#define GUEST_RAM_BASE 0x40000000ULL
#define GUEST_RAM_LOW_MAX (1ULL << 40)
#define GUEST_RAM_HIGH_BASE (GUEST_RAM_BASE + GUEST_RAM_LOW_MAX)
/* KVM's default guest-physical address space (40 bits): RAM and the 64-bit window fit in it. */
#define GUEST_IPA_LIMIT (1ULL << 40)

/* The kernel Image goes 2 MiB into RAM (its text_offset, nowadays 0, counts from a 2 MiB boundary);
 * the device tree at the end of the first 512 MiB of RAM, the initrd below it. */
#define GUEST_KERNEL_ALIGN (2ULL << 20)
#define GUEST_FDT_MAX 0x200000ULL
#define GUEST_FDT_WINDOW (512ULL << 20)

/* Interrupts: GIC SPI numbers (INTID - 32), as QEMU's virt wires them. */
#define SPI_UART 1
#define SPI_RTC 2
#define SPI_PCI_INTX_BASE 3 /* pins A-D: 3-6 */
#define SPI_GPIO 7
#define GIC_SPI_COUNT 96 /* SPIs the distributor offers */
/* The architected timer's PPIs (INTID - 16): secure, non-secure physical, virtual, hypervisor. */
#define PPI_TIMER_SECURE 13
#define PPI_TIMER_PHYS 14
#define PPI_TIMER_VIRT 11
#define PPI_TIMER_HYP 10
/* GPIO line the power button sits on (gpio-keys, as on QEMU's virt). */
#define GPIO_POWER_BUTTON 3

/* KVM memory slots are arch-neutral (memory.h); what the common code asks of a layout: */
#define GUEST_FIRMWARE_END 0ULL /* no firmware on aarch64 yet */
/* PCI INTx through KVM's routing: GSI n is SPI n (irq-routing.c), so a host device's INTx irqfd
 * lands on the SPI the interrupt-map names. */
#define GSI_PCI_INTX_BASE SPI_PCI_INTX_BASE
/* aarch64 has no port I/O: the legacy config ports sit in a table no vCPU exit reaches. */
#define PORT_PCI_CONFIG_ADDRESS 0xcf8

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "pci/pci.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The ACPI tables of a hardware-reduced platform: RSDP, XSDT, FADT (sleep
 * control, sleep status and reset registers), MADT (one local APIC per vCPU,
 * the IOAPIC), MCFG (ECAM of PCI bus 0) and a DSDT with a power button
 * behind a Generic Event Device, COM1, the PCIe host bridge and its windows,
 * and pvpanic. They are built into dst, which the guest sees at base_gpa; the
 * RSDP comes first, at base_gpa itself.
 */
int acpi_build_tables(uint8_t *dst, size_t max, uint64_t base_gpa, unsigned ncpus,
		      const struct pci_windows *pci_windows, size_t *ret_size);

uint8_t acpi_checksum(const uint8_t *data, size_t len);

#define ACPI_HEADER_SIZE 36
#define ACPI_RSDP_SIZE 36
#define ACPI_FADT_SIZE 276
/* FADT fields the tests and the platform devices care about. */
#define ACPI_FADT_FLAGS_OFFSET 112
#define ACPI_FADT_FLAG_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_FLAG_PWR_BUTTON (1u << 4)
#define ACPI_FADT_FLAG_SLP_BUTTON (1u << 5)
#define ACPI_FADT_FLAG_HW_REDUCED (1u << 20)
#define ACPI_SLEEP_TYPE_S5 5
#define ACPI_SLEEP_ENABLE 0x20 /* SLP_EN in the sleep control register */

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "hw/acpi_pm.h"
#include "pci/pci.h"
#include "trap.h"

/*
 * What a PC firmware recognizes the machine by, given only with --firmware:
 * the host bridge answers as an i440FX (8086:1237), slot 1 holds a PIIX3 ISA
 * bridge and, as its function 3, a PIIX4 power management function whose I/O
 * block (PM1 status/enable/control and the 3.58 MHz ACPI PM timer) sits at
 * PORT_PIIX4_PM_BASE. OVMF accepts only an i440FX or a Q35 as its host bridge,
 * and without the PM timer its delays never end. Q35 would move ECAM to where
 * OVMF programs PCIEXBAR (0xB0000000, inside our low RAM), so the i440FX it is.
 *
 * The OS never uses this block: it runs on our hardware-reduced ACPI tables,
 * which the firmware installs through fw_cfg. PMBA is preset and read-only, as
 * if a BIOS had already set it; the firmware then leaves it as it is.
 */
struct pc_chipset {
	struct pci_device isa_bridge; /* 00:01.0 */
	struct pci_device pm;	      /* 00:01.3 */
	pthread_mutex_t lock;
	uint16_t pm1_enable, pm1_control;
	struct timespec started; /* the PM timer counts from here */
	struct acpi_pm *acpi_pm; /* powers the VM off */
};

/* Before any other device joins the bus: takes slot 1. */
int pc_chipset_init(struct pc_chipset *c, struct pci_bus *bus, struct trap_table *pio,
		    struct acpi_pm *acpi_pm);
void pc_chipset_done(struct pc_chipset *c);

/* The PM timer's value (24 bits) at a time ns nanoseconds after it started. */
uint32_t pc_chipset_pm_timer_at(uint64_t ns);

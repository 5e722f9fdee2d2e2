/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pci/pci.h"

/*
 * Our ACPI tables for a firmware to install (QEMU's "linker/loader"
 * interface, which OVMF's AcpiPlatformDxe reads from fw_cfg): the RSDP
 * (etc/acpi/rsdp) and the other tables (etc/acpi/tables) as blobs whose
 * pointers hold offsets, and etc/table-loader, the commands that tell the
 * firmware where to put each blob, which fields to relocate by a blob's
 * address, and which checksums to compute afterwards.
 */
#define ACPI_LOADER_FILE_RSDP "etc/acpi/rsdp"
#define ACPI_LOADER_FILE_TABLES "etc/acpi/tables"
#define ACPI_LOADER_FILE_COMMANDS "etc/table-loader"

/* The commands, 128 bytes each, little-endian (QEMU's BiosLinkerLoaderEntry). */
#define ACPI_LOADER_ENTRY_SIZE 128
#define ACPI_LOADER_ALLOCATE 1
#define ACPI_LOADER_ADD_POINTER 2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_ZONE_HIGH 1
#define ACPI_LOADER_ZONE_FSEG 2 /* the RSDP, where legacy scans look */

struct acpi_loader_blob {
	uint8_t *data; /* malloc'd */
	size_t size;
};

struct acpi_loader {
	struct acpi_loader_blob rsdp, tables, commands;
};

int acpi_loader_build(unsigned ncpus, const struct pci_windows *pci_windows,
		      struct acpi_loader *ret);
void acpi_loader_free(struct acpi_loader *loader);

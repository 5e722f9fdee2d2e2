/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * SMBIOS tables for a firmware to install (OVMF reads them from fw_cfg's
 * etc/smbios/smbios-tables, with the SMBIOS 3.0 entry point in
 * etc/smbios/smbios-anchor telling their version): what dmidecode, systemd
 * and OS installers read about the machine. The system (type 1) with its UUID,
 * the enclosure (3), one processor per vCPU (4), the memory (16, 17, 19), the
 * boot status (32). The BIOS (type 0) is the firmware's to describe; OVMF adds
 * its own.
 */
#define SMBIOS_ANCHOR_SIZE 24
/* Enough for the most vCPUs a VM has (VM_MAX_CPUS), about 70 bytes each. */
#define SMBIOS_MAX_SIZE (32 * 1024)

struct smbios_machine {
	uint8_t uuid[16]; /* as written, big-endian: 00112233-4455-6677-8899-aabbccddeeff */
	unsigned cpus;
	uint64_t ram_below_4g, ram_above_4g; /* bytes */
	const char *version;		     /* the monitor's, as the system's version */
};

/* Returns the tables' length, or -ENOSPC when they do not fit in size bytes. */
int smbios_build(const struct smbios_machine *m, uint8_t *tables, size_t size,
		 uint8_t anchor[SMBIOS_ANCHOR_SIZE]);

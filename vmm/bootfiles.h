/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#if defined(__x86_64__)
#include "arch/x86_64/bzimage.h"
#elif defined(__aarch64__)
#include "arch/aarch64/image.h"
#endif

/* The kernel (read and validated) and the initrd (opened, read later straight into guest RAM). */
struct boot_files {
	uint8_t *kernel_data;
#if defined(__x86_64__)
	struct bzimage kernel;
#elif defined(__aarch64__)
	struct arm64_image kernel;
#endif
	int initrd_fd;
	uint64_t initrd_size;
	/* Or a firmware image: page-aligned (a KVM memory slot maps it), taken over by the VM. */
	uint8_t *firmware;
	uint64_t firmware_size;
	/* And its variable store (--nvram): the file, open read-write and locked, mapped shared. */
	int nvram_fd;
	uint8_t *nvram;
	uint64_t nvram_size;
};

/* A firmware image's size: whole 4 KiB pages, from 64 KiB (the reset vector's segment) to 16 MiB
 * (what lies between the local APIC and 4 GiB). */
#define FIRMWARE_MIN_SIZE (64ULL << 10)
#define FIRMWARE_MAX_SIZE (16ULL << 20)

/* Every failure is logged in words that name the file and what is wrong with it. */
int boot_files_open(struct boot_files *files, const char *kernel_path, const char *initrd_path,
		    const char *cmdline);
/* nvram_path may be NULL: a firmware with no variable store (OVMF then keeps them in RAM). */
int boot_files_open_firmware(struct boot_files *files, const char *firmware_path,
			     const char *nvram_path);
void boot_files_close(struct boot_files *files);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "arch/x86_64/bzimage.h"

/* The kernel (read and validated) and the initrd (opened, read later straight into guest RAM). */
struct boot_files {
	uint8_t *kernel_data;
	struct bzimage kernel;
	int initrd_fd;
	uint64_t initrd_size;
};

/* Every failure is logged in words that name the file and what is wrong with it. */
int boot_files_open(struct boot_files *files, const char *kernel_path, const char *initrd_path,
		    const char *cmdline);
void boot_files_close(struct boot_files *files);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bzimage.h"
#include "memory.h"

/* Where the loader put things, for the vCPU's first registers and for logs. */
struct boot_layout {
	uint64_t entry;	      /* 64-bit entry point */
	uint64_t boot_params; /* the zero page, passed in %rsi */
	uint64_t kernel_end;  /* end of what the kernel may use before it reads the e820 map */
	uint64_t initrd_addr;
	uint64_t initrd_size;
};

/*
 * Loads a parsed bzImage, its initrd and command line into guest RAM and
 * builds boot_params (with the e820 map and the RSDP address). The initrd
 * (initrd_fd, or -1 for none) is read straight into guest RAM. Errors:
 * -E2BIG (command line too long), -ENOSPC (kernel or initrd does not fit),
 * -EIO (the initrd could not be read), each logged with what was involved.
 */
int x86_load_linux(const struct guest_memory *mem, const struct bzimage *kernel, int initrd_fd,
		   uint64_t initrd_size, const char *cmdline, uint64_t rsdp_addr,
		   struct boot_layout *ret);

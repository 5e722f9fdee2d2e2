/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "boot.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "e820.h"
#include "layout.h"
#include "log.h"
#include "util.h"

/* boot_params (the "zero page") offsets, from Documentation/arch/x86/zero-page.rst. */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_SIZE 0x1000
/* setup header fields, at their offsets inside boot_params. */
#define BP_VID_MODE 0x1fa
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228

#define MiB(x) ((unsigned long long)((x) >> 20))

static uint64_t kernel_runtime_end(const struct bzimage *kernel, uint64_t load_end)
{
	/* A relocatable kernel decompresses itself to pref_address when loaded below it. */
	uint64_t start =
	    kernel->pref_address > GUEST_KERNEL_ADDR ? kernel->pref_address : GUEST_KERNEL_ADDR;
	uint64_t end = start + kernel->init_size;

	return end > load_end ? end : load_end;
}

static int place_initrd(const struct guest_memory *mem, const struct bzimage *kernel,
			uint64_t kernel_end, uint64_t initrd_size, uint64_t *ret_addr)
{
	/* initrd_addr_max is the address of the last byte the initrd may occupy. */
	uint64_t limit = (uint64_t)kernel->initrd_addr_max + 1;
	uint64_t addr;

	if (limit > mem->low_size)
		limit = mem->low_size;
	if (initrd_size > limit || ALIGN_DOWN(limit - initrd_size, 4096) < kernel_end)
		return log_error_errno(
		    ENOSPC,
		    "The initrd (%llu MiB) does not fit in the guest's RAM below %llu MiB "
		    "beside the kernel (which needs up to %llu MiB): give the VM more memory",
		    MiB(initrd_size + (1 << 20) - 1), MiB(limit), MiB(kernel_end));
	addr = ALIGN_DOWN(limit - initrd_size, 4096);
	*ret_addr = addr;
	return 0;
}

/*
 * The VM has no firmware, but guests still jump to the reset vector to
 * restart: Linux on a hardware-reduced ACPI platform picks the EFI reboot
 * method, finds no EFI and falls back to a real-mode jump to F000:FFF0. What
 * sits there asks the platform to reset through the ACPI reset register.
 */
static void write_reset_vector(const struct guest_memory *mem)
{
	static const uint8_t stub[] = {
		0xba,
		PORT_ACPI_RESET & 0xff,
		PORT_ACPI_RESET >> 8, /* mov dx, PORT_ACPI_RESET */
		0xb0,
		ACPI_RESET_VALUE, /* mov al, ACPI_RESET_VALUE */
		0xee,		  /* out dx, al */
		0xf4,		  /* 1: hlt */
		0xeb,
		0xfd, /* jmp 1b */
	};
	uint8_t *dst = guest_memory_ptr(mem, GUEST_RESET_VECTOR, sizeof(stub));

	if (dst)
		memcpy(dst, stub, sizeof(stub));
}

int x86_load_linux(const struct guest_memory *mem, const struct bzimage *kernel, int initrd_fd,
		   uint64_t initrd_size, const char *cmdline, uint64_t rsdp_addr,
		   struct boot_layout *ret)
{
	size_t payload_size = kernel->size - kernel->setup_size;
	size_t cmdline_len = strlen(cmdline);
	struct e820_entry e820[E820_MAX_ENTRIES];
	uint64_t kernel_end, initrd_addr = 0;
	uint8_t *bp, *dst;
	size_t n_e820;
	int r;

	if (cmdline_len > kernel->cmdline_size || cmdline_len >= GUEST_CMDLINE_MAX)
		return log_error_errno(
		    E2BIG, "The kernel command line is %zu bytes; this kernel takes at most %u",
		    cmdline_len, kernel->cmdline_size);

	kernel_end = kernel_runtime_end(kernel, GUEST_KERNEL_ADDR + payload_size);
	if (kernel_end > mem->low_size)
		return log_error_errno(
		    ENOSPC, "The kernel needs %llu MiB of RAM to boot; the VM has %llu MiB",
		    MiB(kernel_end + (1 << 20) - 1), MiB(mem->size));

	dst = guest_memory_ptr(mem, GUEST_KERNEL_ADDR, payload_size);
	if (!dst)
		return -ENOSPC;
	memcpy(dst, kernel->data + kernel->setup_size, payload_size);

	if (initrd_size > 0) {
		r = place_initrd(mem, kernel, kernel_end, initrd_size, &initrd_addr);
		if (r < 0)
			return r;
		r = pread_full(initrd_fd, guest_memory_ptr(mem, initrd_addr, initrd_size),
			       initrd_size, 0);
		if (r < 0)
			return log_error_errno(r, "Cannot read the initrd: %m");
	}

	dst = guest_memory_ptr(mem, GUEST_CMDLINE_ADDR, cmdline_len + 1);
	memcpy(dst, cmdline, cmdline_len + 1);
	write_reset_vector(mem);

	bp = guest_memory_ptr(mem, GUEST_BOOT_PARAMS_ADDR, BP_SIZE);
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BZ_SETUP_HEADER_OFFSET, kernel->data + BZ_SETUP_HEADER_OFFSET,
	       kernel->header_end - BZ_SETUP_HEADER_OFFSET);
	put_le16(bp + BP_VID_MODE, 0xffff);
	bp[BP_TYPE_OF_LOADER] = 0xff; /* "undefined" boot loader: we have no registered ID */
	bp[BP_LOADFLAGS] = kernel->loadflags | BZ_LOADFLAG_CAN_USE_HEAP;
	put_le16(bp + BP_HEAP_END_PTR, 0xfe00);
	put_le32(bp + BP_CMD_LINE_PTR, (uint32_t)GUEST_CMDLINE_ADDR);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(GUEST_CMDLINE_ADDR >> 32));
	put_le32(bp + BP_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
	put_le32(bp + BP_RAMDISK_SIZE, (uint32_t)initrd_size);
	put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
	/* Older kernels ignore this field and scan 0xe0000..0xfffff, where the RSDP also is. */
	if (kernel->version >= 0x020e)
		put_le64(bp + BP_ACPI_RSDP_ADDR, rsdp_addr);

	n_e820 = e820_build(mem, e820);
	bp[BP_E820_ENTRIES] = (uint8_t)n_e820;
	memcpy(bp + BP_E820_TABLE, e820, n_e820 * sizeof(e820[0]));

	*ret = (struct boot_layout){
		.entry = GUEST_KERNEL_ADDR + 0x200,
		.boot_params = GUEST_BOOT_PARAMS_ADDR,
		.kernel_end = kernel_end,
		.initrd_addr = initrd_addr,
		.initrd_size = initrd_size,
	};
	return 0;
}

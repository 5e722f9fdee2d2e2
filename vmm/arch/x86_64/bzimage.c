/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bzimage.h"

#include <errno.h>
#include <string.h>

/* Offsets in the image, from Documentation/arch/x86/boot.rst. */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_LOADFLAGS 0x211
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260

static int refuse(const char **ret_reason, const char *reason)
{
	*ret_reason = reason;
	return -ENOEXEC;
}

int bzimage_parse(const uint8_t *data, size_t size, struct bzimage *ret, const char **ret_reason)
{
	struct bzimage k = { .data = data, .size = size };
	unsigned setup_sects;

	if (size < 1024)
		return refuse(ret_reason, "the file is too small to be a Linux bzImage");
	if (get_le16(data + OFF_BOOT_FLAG) != 0xaa55 || memcmp(data + OFF_HEADER, "HdrS", 4) != 0)
		return refuse(ret_reason, "no Linux boot header (\"HdrS\") found: not a bzImage");

	k.version = get_le16(data + OFF_VERSION);
	if (k.version < BZ_MIN_VERSION)
		return refuse(ret_reason, "the kernel's boot protocol is older than 2.06");
	/* xloadflags exists since 2.12; without XLF_KERNEL_64 there is no 64-bit entry point. */
	k.xloadflags = k.version >= 0x020c ? get_le16(data + OFF_XLOADFLAGS) : 0;
	if (!(k.xloadflags & BZ_XLF_KERNEL_64))
		return refuse(ret_reason,
			      "the kernel has no 64-bit entry point (not an x86_64 kernel?)");

	k.loadflags = data[OFF_LOADFLAGS];
	if (!(k.loadflags & BZ_LOADFLAG_LOADED_HIGH))
		return refuse(ret_reason, "the kernel is a zImage that loads low, not a bzImage");

	setup_sects = data[OFF_SETUP_SECTS] ? data[OFF_SETUP_SECTS] : 4;
	k.setup_size = (size_t)(setup_sects + 1) * 512;
	if (k.setup_size >= size)
		return refuse(ret_reason,
			      "the setup header claims more setup code than the file holds");

	k.header_end = OFF_HEADER + data[OFF_JUMP + 1];
	if (k.header_end > BZ_SETUP_HEADER_LIMIT)
		k.header_end = BZ_SETUP_HEADER_LIMIT;
	if (k.header_end < OFF_CMDLINE_SIZE + 4)
		return refuse(ret_reason, "the setup header is truncated");

	k.initrd_addr_max = get_le32(data + OFF_INITRD_ADDR_MAX);
	k.kernel_alignment = get_le32(data + OFF_KERNEL_ALIGNMENT);
	k.relocatable = data[OFF_RELOCATABLE] != 0;
	k.cmdline_size = get_le32(data + OFF_CMDLINE_SIZE);
	if (k.header_end >= OFF_INIT_SIZE + 4) {
		k.pref_address = get_le64(data + OFF_PREF_ADDRESS);
		k.init_size = get_le32(data + OFF_INIT_SIZE);
	}

	*ret = k;
	return 0;
}

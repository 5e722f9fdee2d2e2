/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arch/aarch64/image.h"

#include <errno.h>
#include <string.h>

#include "util.h"

#define IMAGE_FLAG_BIG_ENDIAN 0x1
/* Kernels before 3.17 leave image_size zero and load at this offset. */
#define IMAGE_LEGACY_TEXT_OFFSET 0x80000

static int refuse(const char **ret_reason, const char *reason)
{
	*ret_reason = reason;
	return -ENOEXEC;
}

int arm64_image_parse(const uint8_t *data, size_t size, struct arm64_image *ret,
		      const char **ret_reason)
{
	uint64_t text_offset, image_size, flags;

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return refuse(ret_reason, "it is gzip-compressed; phyllome-vmm boots the "
					  "uncompressed Image (zcat it into a file first)");
	if (size >= 8 && data[0] == 'M' && data[1] == 'Z' && memcmp(data + 4, "zimg", 4) == 0)
		return refuse(ret_reason, "it is a compressed EFI zboot image; phyllome-vmm boots "
					  "the uncompressed Image it wraps");
	if (size < ARM64_IMAGE_HEADER_SIZE || get_le32(data + 0x38) != ARM64_IMAGE_MAGIC)
		return refuse(ret_reason, "it is not an arm64 Linux Image (no \"ARM\\x64\" magic "
					  "at offset 0x38)");
	text_offset = get_le64(data + 0x08);
	image_size = get_le64(data + 0x10);
	flags = get_le64(data + 0x18);
	if (image_size == 0) {
		text_offset = IMAGE_LEGACY_TEXT_OFFSET;
		image_size = size;
		flags = 0;
	}
	if (flags & IMAGE_FLAG_BIG_ENDIAN)
		return refuse(ret_reason,
			      "it is a big-endian kernel; KVM guests here run little-endian");
	if (text_offset >= (2ULL << 20) || text_offset % 4096)
		return refuse(ret_reason, "its text_offset is not a page inside the first 2 MiB");
	if (image_size < size)
		return refuse(ret_reason, "its header's image_size is smaller than the file");
	if (image_size > (1ULL << 30))
		return refuse(ret_reason, "its header's image_size is over 1 GiB");
	*ret = (struct arm64_image){
		.data = data,
		.size = size,
		.text_offset = text_offset,
		.image_size = image_size,
	};
	return 0;
}

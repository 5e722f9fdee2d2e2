/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile firmware on the fw_cfg ports. The input is the
 * guest's RAM image (1 KiB, where DMA requests and buffers lie)
 * followed by port accesses, 6 bytes each: port offset, size, a 32-bit value.
 * RAM is an allocation of exactly its size, so AddressSanitizer sees any
 * access the device makes past it; the items must come out unchanged unless
 * written through their writable file.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/fw_cfg.h"

#define RAM_SIZE 1024

static uint8_t *ram;

static void *ram_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	(void)opaque;
	return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa ? ram + gpa : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char readonly[] = "read-only bytes the guest must not change";
	struct fw_cfg fw;
	size_t at;

	if (size < RAM_SIZE)
		return 0;
	ram = malloc(RAM_SIZE);
	if (!ram)
		abort();
	memcpy(ram, data, RAM_SIZE);
	if (fw_cfg_init(&fw, ram_ptr, NULL) < 0 ||
	    fw_cfg_add_file(&fw, "etc/read-only", readonly, sizeof(readonly), false) < 0 ||
	    fw_cfg_add_file(&fw, "etc/writable", "0123456789", 10, true) < 0 ||
	    fw_cfg_add_u64(&fw, FW_CFG_RAM_SIZE, RAM_SIZE) < 0)
		abort();
	for (at = RAM_SIZE; at + 6 <= size; at += 6) {
		uint8_t port = data[at] % FW_CFG_PORT_COUNT;
		unsigned width = 1u << (data[at + 1] % 3);
		uint8_t bytes[4];

		memcpy(bytes, data + at + 2, 4);
		if (data[at + 1] & 0x80)
			fw_cfg_io_ops.read(&fw, port, bytes, width);
		else
			fw_cfg_io_ops.write(&fw, port, bytes, width);
	}
	if (memcmp(fw.items[FW_CFG_FILE_FIRST].data, readonly, sizeof(readonly)) != 0 ||
	    fw.items[FW_CFG_FILE_FIRST + 1].size != 10)
		abort();
	fw_cfg_done(&fw);
	free(ram);
	return 0;
}

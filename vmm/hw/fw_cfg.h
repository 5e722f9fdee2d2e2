/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/qemu_fw_cfg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

/*
 * QEMU's firmware configuration device, the way a PC firmware (OVMF, the
 * UEFI issue's) learns the machine: a selector port (0x510, 16-bit), a data
 * port (0x511) read byte by byte, and a DMA port (0x514: the guest writes the
 * big-endian guest-physical address of a struct fw_cfg_dma_access, high half
 * at 0x514, low half at 0x518, which starts the transfer). Items below
 * FW_CFG_FILE_FIRST are the numbered ones (little-endian numbers, as QEMU
 * gives them); above are named files, listed in the directory at
 * FW_CFG_FILE_DIR. The guest writes nothing through it, except into a file
 * added writable. Everything the guest hands it (selectors, lengths,
 * addresses) is checked: a bad one sets the DMA error bit, never more.
 */
#define FW_CFG_PORT_BASE 0x510
#define FW_CFG_PORT_COUNT 12 /* selector, data, (two reserved), DMA address high and low */
#define FW_CFG_FILES_MAX 64

struct fw_cfg_item {
	uint8_t *data; /* owned */
	uint32_t size;
	bool writable;
	char name[FW_CFG_MAX_FILE_PATH]; /* files only */
};

struct fw_cfg {
	pthread_mutex_t lock;
	uint16_t selector;
	uint32_t offset; /* in the selected item, for the data port and DMA */
	uint32_t dma_high;
	struct fw_cfg_item items[FW_CFG_FILE_FIRST + FW_CFG_FILES_MAX];
	unsigned files;
	/* Guest memory for DMA: NULL when [gpa, gpa + len) is not wholly guest RAM. */
	void *(*guest_ptr)(void *opaque, uint64_t gpa, uint64_t len);
	void *opaque;
};

int fw_cfg_init(struct fw_cfg *fw, void *(*guest_ptr)(void *opaque, uint64_t gpa, uint64_t len),
		void *opaque);
void fw_cfg_done(struct fw_cfg *fw);
/* A numbered item (below FW_CFG_FILE_FIRST, not the directory); the data is copied. */
int fw_cfg_add_item(struct fw_cfg *fw, uint16_t selector, const void *data, uint32_t size);
int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t selector, uint16_t value);
int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t selector, uint32_t value);
int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t selector, uint64_t value);
/* A named file, copied; -EEXIST for a name given twice, -ENOSPC past FW_CFG_FILES_MAX. */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t size,
		    bool writable);

extern const struct trap_ops fw_cfg_io_ops;

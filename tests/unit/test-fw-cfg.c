/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The firmware configuration device (hw/fw_cfg.c) as OVMF's QemuFwCfgLib drives it, and as a
 * hostile guest might. */
#include <endian.h>
#include <glib.h>
#include <string.h>

#include "hw/fw_cfg.h"

#define RAM_SIZE 0x10000
static uint8_t ram[RAM_SIZE];

static void *ram_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	(void)opaque;
	return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa ? ram + gpa : NULL;
}

static void setup(struct fw_cfg *fw)
{
	memset(ram, 0xaa, sizeof(ram));
	g_assert_cmpint(fw_cfg_init(fw, ram_ptr, NULL), ==, 0);
}

static void select_port(struct fw_cfg *fw, uint16_t selector)
{
	uint8_t bytes[2] = { (uint8_t)selector, (uint8_t)(selector >> 8) };

	fw_cfg_io_ops.write(fw, 0, bytes, 2);
}

static uint8_t data_port(struct fw_cfg *fw)
{
	uint8_t v;

	fw_cfg_io_ops.read(fw, 1, &v, 1);
	return v;
}

/* Writes the request at gpa and its address to the DMA ports; returns the control word after. */
static uint32_t dma(struct fw_cfg *fw, uint64_t gpa, uint32_t control, uint32_t length,
		    uint64_t address)
{
	struct fw_cfg_dma_access request = {
		.control = htobe32(control),
		.length = htobe32(length),
		.address = htobe64(address),
	};
	uint32_t high = htobe32((uint32_t)(gpa >> 32)), low = htobe32((uint32_t)gpa);

	if (gpa + sizeof(request) <= RAM_SIZE)
		memcpy(ram + gpa, &request, sizeof(request));
	fw_cfg_io_ops.write(fw, 4, (const uint8_t *)&high, 4);
	fw_cfg_io_ops.write(fw, 8, (const uint8_t *)&low, 4);
	if (gpa + sizeof(request) > RAM_SIZE)
		return FW_CFG_DMA_CTL_ERROR;
	memcpy(&request, ram + gpa, sizeof(request));
	return be32toh(request.control);
}

/* What QemuFwCfgLib checks first: "QEMU" through the data port, DMA in the features, and the
 * DMA port's own signature. */
static void test_signature_and_features(void)
{
	struct fw_cfg fw;
	char signature[5] = { 0 };
	uint8_t dma_port[8];
	uint32_t features = 0;

	setup(&fw);
	select_port(&fw, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		signature[i] = (char)data_port(&fw);
	g_assert_cmpstr(signature, ==, "QEMU");
	g_assert_cmpuint(data_port(&fw), ==, 0); /* past the end */
	select_port(&fw, FW_CFG_ID);
	for (int i = 0; i < 4; i++)
		features |= (uint32_t)data_port(&fw) << (8 * i);
	g_assert_cmphex(features, ==, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	fw_cfg_io_ops.read(&fw, 4, dma_port, 8);
	g_assert_cmpmem(dma_port, 8, "QEMU CFG", 8);
	/* Nothing behind a selector reads as zeroes. */
	select_port(&fw, 0x1234);
	g_assert_cmpuint(data_port(&fw), ==, 0);
	fw_cfg_done(&fw);
}

/* The file directory, then a file by DMA, in pieces, with a skip, as OVMF reads etc/e820. */
static void test_files_by_dma(void)
{
	struct fw_cfg fw;
	static const char e820[] = "0123456789abcdef";
	uint8_t *dir = ram + 0x1000;
	struct fw_cfg_file entry;
	uint16_t select;

	setup(&fw);
	g_assert_cmpint(fw_cfg_add_file(&fw, "etc/boot-fail-wait", "\x05\0\0\0", 4, false), ==, 0);
	g_assert_cmpint(fw_cfg_add_file(&fw, "etc/e820", e820, 16, false), ==, 0);
	g_assert_cmpint(fw_cfg_add_file(&fw, "etc/e820", e820, 16, false), ==, -EEXIST);
	g_assert_cmpuint(dma(&fw, 0x100,
			     FW_CFG_FILE_DIR << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			     4 + 2 * sizeof(entry), 0x1000),
			 ==, 0);
	g_assert_cmpuint(be32toh(*(uint32_t *)dir), ==, 2);
	memcpy(&entry, dir + 4 + sizeof(entry), sizeof(entry));
	g_assert_cmpstr(entry.name, ==, "etc/e820");
	g_assert_cmpuint(be32toh(entry.size), ==, 16);
	select = be16toh(entry.select);
	g_assert_cmpuint(select, ==, FW_CFG_FILE_FIRST + 1);

	g_assert_cmpuint(dma(&fw, 0x100,
			     (uint32_t)select << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			     4, 0x2000),
			 ==, 0);
	g_assert_cmpmem(ram + 0x2000, 4, "0123", 4);
	g_assert_cmpuint(dma(&fw, 0x100, FW_CFG_DMA_CTL_SKIP, 6, 0), ==, 0);
	/* The rest, and past the end: zeroes, as QEMU gives. */
	g_assert_cmpuint(dma(&fw, 0x100, FW_CFG_DMA_CTL_READ, 10, 0x2000), ==, 0);
	g_assert_cmpmem(ram + 0x2000, 10, "abcdef\0\0\0\0", 10);
	/* The data port goes on where DMA left off (here: the end). */
	g_assert_cmpuint(data_port(&fw), ==, 0);
	fw_cfg_done(&fw);
}

/* A hostile guest: buffers outside RAM, writes to read-only items, requests outside RAM, odd
 * port widths. The error bit, no more; the items stay as they were. */
static void test_hostile_requests(void)
{
	struct fw_cfg fw;
	uint8_t value = 0;

	setup(&fw);
	g_assert_cmpint(fw_cfg_add_file(&fw, "etc/ro", "abcd", 4, false), ==, 0);
	g_assert_cmpint(fw_cfg_add_file(&fw, "etc/rw", "wxyz", 4, true), ==, 0);
	/* Its buffer runs past RAM's end. */
	g_assert_cmpuint(dma(&fw, 0x100,
			     FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			     0x100, RAM_SIZE - 0x10),
			 ==, FW_CFG_DMA_CTL_ERROR);
	g_assert_cmpuint(dma(&fw, 0x100, FW_CFG_DMA_CTL_READ, 4, UINT64_MAX - 1), ==,
			 FW_CFG_DMA_CTL_ERROR);
	/* Writes: refused into a read-only file, and past a writable one's end. */
	memcpy(ram + 0x3000, "EVIL", 4);
	g_assert_cmpuint(dma(&fw, 0x100,
			     FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
			     4, 0x3000),
			 ==, FW_CFG_DMA_CTL_ERROR);
	g_assert_cmpuint(
	    dma(&fw, 0x100,
		(FW_CFG_FILE_FIRST + 1) << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 8,
		0x3000),
	    ==, FW_CFG_DMA_CTL_ERROR);
	g_assert_cmpuint(
	    dma(&fw, 0x100,
		(FW_CFG_FILE_FIRST + 1) << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 2,
		0x3000),
	    ==, 0);
	select_port(&fw, FW_CFG_FILE_FIRST);
	g_assert_cmpuint(data_port(&fw), ==, 'a');
	select_port(&fw, FW_CFG_FILE_FIRST + 1);
	g_assert_cmpuint(data_port(&fw), ==, 'E');
	g_assert_cmpuint(data_port(&fw), ==, 'V');
	g_assert_cmpuint(data_port(&fw), ==, 'y');
	/* The request itself outside RAM: nothing happens, nothing to write back into. */
	g_assert_cmpuint(dma(&fw, RAM_SIZE - 4, FW_CFG_DMA_CTL_READ, 4, 0x3000), ==,
			 FW_CFG_DMA_CTL_ERROR);
	/* A byte write to the selector port, a read of a reserved port: ignored, zero. */
	fw_cfg_io_ops.write(&fw, 0, &value, 1);
	fw_cfg_io_ops.read(&fw, 2, &value, 1);
	g_assert_cmpuint(value, ==, 0);
	/* The directory and numbers below it cannot be replaced by a file or an item. */
	g_assert_cmpint(fw_cfg_add_item(&fw, FW_CFG_FILE_DIR, "x", 1), ==, -EINVAL);
	g_assert_cmpint(fw_cfg_add_item(&fw, FW_CFG_FILE_FIRST, "x", 1), ==, -EINVAL);
	fw_cfg_done(&fw);
}

/* Names longer than the directory holds, and more files than it has slots for. */
static void test_limits(void)
{
	struct fw_cfg fw;
	char name[FW_CFG_MAX_FILE_PATH + 1];

	setup(&fw);
	memset(name, 'n', FW_CFG_MAX_FILE_PATH);
	name[FW_CFG_MAX_FILE_PATH] = '\0';
	g_assert_cmpint(fw_cfg_add_file(&fw, name, "", 0, false), ==, -ENAMETOOLONG);
	for (int i = 0; i < FW_CFG_FILES_MAX; i++) {
		g_autofree char *file = g_strdup_printf("opt/%d", i);

		g_assert_cmpint(fw_cfg_add_file(&fw, file, "", 0, false), ==, 0);
	}
	g_assert_cmpint(fw_cfg_add_file(&fw, "opt/one-more", "", 0, false), ==, -ENOSPC);
	g_assert_cmpint(fw_cfg_add_u16(&fw, FW_CFG_NB_CPUS, 4), ==, 0);
	select_port(&fw, FW_CFG_NB_CPUS);
	g_assert_cmpuint(data_port(&fw), ==, 4);
	g_assert_cmpuint(data_port(&fw), ==, 0);
	fw_cfg_done(&fw);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fw-cfg/signature-and-features", test_signature_and_features);
	g_test_add_func("/fw-cfg/files-by-dma", test_files_by_dma);
	g_test_add_func("/fw-cfg/hostile-requests", test_hostile_requests);
	g_test_add_func("/fw-cfg/limits", test_limits);
	return g_test_run();
}

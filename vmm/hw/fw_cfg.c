/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/fw_cfg.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Port offsets from FW_CFG_PORT_BASE. */
enum {
	PORT_SELECTOR = 0,
	PORT_DATA = 1,
	PORT_DMA_HIGH = 4,
	PORT_DMA_LOW = 8,
};

/* The directory is rebuilt when a file is added: big-endian count, then one entry per file. */
static int rebuild_directory(struct fw_cfg *fw)
{
	struct fw_cfg_item *dir = &fw->items[FW_CFG_FILE_DIR];
	uint32_t size = (uint32_t)(sizeof(uint32_t) + fw->files * sizeof(struct fw_cfg_file));
	uint8_t *data = calloc(1, size);
	uint32_t count = htobe32(fw->files);

	if (!data)
		return -ENOMEM;
	memcpy(data, &count, sizeof(count));
	for (unsigned i = 0; i < fw->files; i++) {
		const struct fw_cfg_item *item = &fw->items[FW_CFG_FILE_FIRST + i];
		struct fw_cfg_file entry = {
			.size = htobe32(item->size),
			.select = htobe16((uint16_t)(FW_CFG_FILE_FIRST + i)),
		};

		memcpy(entry.name, item->name, sizeof(entry.name));
		memcpy(data + sizeof(count) + i * sizeof(entry), &entry, sizeof(entry));
	}
	free(dir->data);
	dir->data = data;
	dir->size = size;
	return 0;
}

static int set_item(struct fw_cfg_item *item, const void *data, uint32_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return -ENOMEM;
	if (size)
		memcpy(copy, data, size);
	free(item->data);
	item->data = copy;
	item->size = size;
	return 0;
}

int fw_cfg_add_item(struct fw_cfg *fw, uint16_t selector, const void *data, uint32_t size)
{
	if (selector >= FW_CFG_FILE_FIRST || selector == FW_CFG_FILE_DIR)
		return -EINVAL;
	return set_item(&fw->items[selector], data, size);
}

int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t selector, uint16_t value)
{
	uint16_t le = htole16(value);

	return fw_cfg_add_item(fw, selector, &le, sizeof(le));
}

int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t selector, uint32_t value)
{
	uint32_t le = htole32(value);

	return fw_cfg_add_item(fw, selector, &le, sizeof(le));
}

int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t selector, uint64_t value)
{
	uint64_t le = htole64(value);

	return fw_cfg_add_item(fw, selector, &le, sizeof(le));
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t size,
		    bool writable)
{
	struct fw_cfg_item *item;
	int r;

	if (strlen(name) >= FW_CFG_MAX_FILE_PATH)
		return -ENAMETOOLONG;
	for (unsigned i = 0; i < fw->files; i++)
		if (strcmp(fw->items[FW_CFG_FILE_FIRST + i].name, name) == 0)
			return -EEXIST;
	if (fw->files == FW_CFG_FILES_MAX)
		return -ENOSPC;
	item = &fw->items[FW_CFG_FILE_FIRST + fw->files];
	r = set_item(item, data, size);
	if (r < 0)
		return r;
	item->writable = writable;
	strcpy(item->name, name);
	fw->files++;
	r = rebuild_directory(fw);
	if (r < 0) {
		fw->files--;
		free(item->data);
		*item = (struct fw_cfg_item){ 0 };
	}
	return r;
}

/* The selected item, or NULL for a selector with nothing behind it. */
static struct fw_cfg_item *selected(struct fw_cfg *fw)
{
	uint16_t index = fw->selector & FW_CFG_ENTRY_MASK;

	if (index >= FW_CFG_FILE_FIRST + fw->files || !fw->items[index].data)
		return NULL;
	return &fw->items[index];
}

static void select_item(struct fw_cfg *fw, uint16_t selector)
{
	fw->selector = selector;
	fw->offset = 0;
}

static uint8_t read_data_port(struct fw_cfg *fw)
{
	const struct fw_cfg_item *item = selected(fw);

	if (!item || fw->offset >= item->size)
		return 0;
	return item->data[fw->offset++];
}

/*
 * One DMA request, as QEMU serves it: select, then read (past the item's end
 * the guest's buffer is zeroed), skip, or write (only a writable file, and
 * only inside it). The control word is written back: 0, or the error bit.
 */
static void dma_transfer(struct fw_cfg *fw, uint64_t request_gpa)
{
	/* Bytes: the guest may put it at any address, aligned or not. */
	uint8_t *request = fw->guest_ptr(fw->opaque, request_gpa, sizeof(struct fw_cfg_dma_access));
	uint32_t control, length;
	uint64_t address;
	bool failed = false;

	if (!request)
		return; /* nowhere to say so */
	memcpy(&control, request + offsetof(struct fw_cfg_dma_access, control), sizeof(control));
	memcpy(&length, request + offsetof(struct fw_cfg_dma_access, length), sizeof(length));
	memcpy(&address, request + offsetof(struct fw_cfg_dma_access, address), sizeof(address));
	control = be32toh(control);
	length = be32toh(length);
	address = be64toh(address);

	if (control & FW_CFG_DMA_CTL_SELECT)
		select_item(fw, (uint16_t)(control >> 16));
	if (control & (FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE | FW_CFG_DMA_CTL_SKIP)) {
		struct fw_cfg_item *item = selected(fw);
		uint32_t available = item && fw->offset < item->size ? item->size - fw->offset : 0;
		uint32_t n = length < available ? length : available;
		uint8_t *buffer = NULL;

		if ((control & (FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE)) && length &&
		    !(buffer = fw->guest_ptr(fw->opaque, address, length)))
			failed = true;
		else if ((control & FW_CFG_DMA_CTL_READ) && length) {
			if (n)
				memcpy(buffer, item->data + fw->offset, n);
			memset(buffer + n, 0, length - n);
		} else if (control & FW_CFG_DMA_CTL_READ) {
			/* nothing asked for */
		} else if (control & FW_CFG_DMA_CTL_WRITE) {
			if (!item || !item->writable || n != length)
				failed = true;
			else if (n)
				memcpy(item->data + fw->offset, buffer, n);
		}
		if (!failed)
			fw->offset += n;
	}
	control = htobe32(failed ? FW_CFG_DMA_CTL_ERROR : 0);
	memcpy(request + offsetof(struct fw_cfg_dma_access, control), &control, sizeof(control));
}

static void fw_cfg_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct fw_cfg *fw = opaque;
	const uint64_t signature = FW_CFG_DMA_SIGNATURE;

	pthread_mutex_lock(&fw->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t port = offset + i;

		if (port == PORT_DATA)
			data[i] = read_data_port(fw);
		else if (port >= PORT_DMA_HIGH && port < PORT_DMA_HIGH + 8)
			/* "QEMU CFG", big-endian: how a driver tells the DMA interface is there. */
			data[i] = (uint8_t)(signature >> (8 * (7 - (port - PORT_DMA_HIGH))));
		else
			data[i] = 0;
	}
	pthread_mutex_unlock(&fw->lock);
}

static uint32_t big_endian_word(const uint8_t *data)
{
	return (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
}

static void fw_cfg_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct fw_cfg *fw = opaque;

	pthread_mutex_lock(&fw->lock);
	if (offset == PORT_SELECTOR && size == 2)
		select_item(fw, (uint16_t)(data[0] | data[1] << 8));
	else if (offset == PORT_DMA_HIGH && size == 4)
		fw->dma_high = big_endian_word(data);
	else if (offset == PORT_DMA_LOW && size == 4) {
		dma_transfer(fw, (uint64_t)fw->dma_high << 32 | big_endian_word(data));
		fw->dma_high = 0;
	}
	/* Writes through the data port do nothing, as in QEMU since 2.4. */
	pthread_mutex_unlock(&fw->lock);
}

const struct trap_ops fw_cfg_io_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};

int fw_cfg_init(struct fw_cfg *fw, void *(*guest_ptr)(void *opaque, uint64_t gpa, uint64_t len),
		void *opaque)
{
	static const char signature[FW_CFG_SIG_SIZE] = "QEMU";
	int r;

	*fw = (struct fw_cfg){ .guest_ptr = guest_ptr, .opaque = opaque };
	r = -pthread_mutex_init(&fw->lock, NULL);
	if (r < 0)
		return r;
	if ((r = fw_cfg_add_item(fw, FW_CFG_SIGNATURE, signature, sizeof(signature))) < 0 ||
	    (r = fw_cfg_add_u32(fw, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA)) < 0 ||
	    (r = rebuild_directory(fw)) < 0) {
		fw_cfg_done(fw);
		return r;
	}
	return 0;
}

void fw_cfg_done(struct fw_cfg *fw)
{
	for (size_t i = 0; i < sizeof(fw->items) / sizeof(fw->items[0]); i++)
		free(fw->items[i].data);
	(void)pthread_mutex_destroy(&fw->lock);
	*fw = (struct fw_cfg){ 0 };
}

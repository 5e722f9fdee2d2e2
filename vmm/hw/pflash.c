/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/pflash.h"

#include <string.h>

#include "log.h"

enum {
	CMD_READ_ARRAY = 0xff,
	CMD_READ_ARRAY_ALT = 0x00,
	CMD_PROGRAM = 0x10,
	CMD_PROGRAM_ALT = 0x40,
	CMD_BLOCK_ERASE = 0x20,
	CMD_ERASE_CONFIRM = 0xd0,
	CMD_CLEAR_STATUS = 0x50,
	CMD_READ_STATUS = 0x70,
};

#define STATUS_READY 0x80
#define STATUS_ERASE_ERROR 0x20
#define STATUS_PROGRAM_ERROR 0x10

/* The mode says what reads give; the memory slot follows it, so that array reads need no exit. */
static void set_array_mode(struct pflash *flash, bool array_mode)
{
	int r;

	if (array_mode && flash->dirty) {
		r = flash->sync(flash->opaque);
		if (r < 0)
			log_warning_errno(r, "Cannot write the firmware's variables to disk: %m");
		flash->dirty = false;
	}
	flash->array_mode = array_mode;
	if (array_mode == flash->mapped)
		return;
	r = flash->set_mapped(flash->opaque, array_mode);
	if (r < 0) {
		/* Left unmapped, array reads still come here and get the array: slower, not wrong.
		 * Left mapped, the guest reads the array where it asked for the status. */
		log_warning_errno(r, "Cannot %s the firmware's flash: %m",
				  array_mode ? "map" : "unmap");
		return;
	}
	flash->mapped = array_mode;
}

static void pflash_read(void *opaque, uint64_t offset, uint8_t *data, unsigned size)
{
	struct pflash *flash = opaque;

	pthread_mutex_lock(&flash->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = flash->array_mode || flash->pending
			      ? (offset + i < flash->size ? flash->array[offset + i] : 0xff)
			      : flash->status;
	pthread_mutex_unlock(&flash->lock);
}

static void second_cycle(struct pflash *flash, uint64_t offset, const uint8_t *data, unsigned size)
{
	uint8_t command = flash->pending;

	flash->pending = 0;
	if (command == CMD_BLOCK_ERASE) {
		if (data[0] != CMD_ERASE_CONFIRM) {
			flash->status |= STATUS_ERASE_ERROR | STATUS_PROGRAM_ERROR;
		} else {
			memset(flash->array + (offset & ~(uint64_t)(PFLASH_BLOCK_SIZE - 1)), 0xff,
			       PFLASH_BLOCK_SIZE);
			flash->dirty = true;
		}
	} else if (offset + size <= flash->size) {
		memcpy(flash->array + offset, data, size);
		flash->dirty = true;
	} else {
		flash->status |= STATUS_PROGRAM_ERROR;
	}
	flash->status |= STATUS_READY;
	set_array_mode(flash, false); /* reads give the status until Read Array */
}

static void command(struct pflash *flash, uint64_t offset, const uint8_t *data, unsigned size)
{
	if (offset >= flash->size)
		return;
	if (flash->pending) {
		second_cycle(flash, offset, data, size);
		return;
	}
	switch (data[0]) {
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
	case CMD_BLOCK_ERASE:
		/* Reads in between still see the array, as QEMU's flash gives them: the mode
		 * (and the slot) change with the second cycle. */
		flash->pending = data[0];
		break;
	case CMD_CLEAR_STATUS:
		flash->status = 0;
		set_array_mode(flash, true);
		break;
	case CMD_READ_STATUS:
		set_array_mode(flash, false);
		break;
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY_ALT:
	default: /* commands this flash does not have (CFI query, IDs, locks): back to the array */
		set_array_mode(flash, true);
		break;
	}
}

static void pflash_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned size)
{
	struct pflash *flash = opaque;

	pthread_mutex_lock(&flash->lock);
	command(flash, offset, data, size);
	pthread_mutex_unlock(&flash->lock);
}

const struct trap_ops pflash_ops = {
	.read = pflash_read,
	.write = pflash_write,
};

int pflash_init(struct pflash *flash, uint8_t *array, uint64_t size,
		int (*set_mapped)(void *opaque, bool mapped), int (*sync)(void *opaque),
		void *opaque)
{
	*flash = (struct pflash){
		.array = array,
		.size = size,
		.array_mode = true,
		.mapped = true,
		.set_mapped = set_mapped,
		.sync = sync,
		.opaque = opaque,
	};
	return -pthread_mutex_init(&flash->lock, NULL);
}

void pflash_done(struct pflash *flash)
{
	(void)pthread_mutex_destroy(&flash->lock);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

/*
 * A CFI flash (Intel command set, as QEMU's pflash_cfi01) holding a UEFI
 * firmware's variables (--nvram): OVMF probes for it with Clear Status and
 * Read Status, then programs bytes (0x10 or 0x40, then the byte) and erases
 * 4 KiB blocks (0x20, 0xd0). In read-array mode the guest reads it as memory
 * (the VM maps it as a read-only memory slot; its writes exit to us); in
 * any other mode the slot is taken away so that reads come here and return
 * the status. The array is the --nvram file mapped shared: what the guest
 * programs is in the file, and is synced to disk when the guest goes back
 * to read-array mode after a change.
 */
#define PFLASH_BLOCK_SIZE 4096

struct pflash {
	pthread_mutex_t lock; /* two vCPUs may reach it at once */
	uint8_t *array;	      /* the file's bytes, size long */
	uint64_t size;
	bool array_mode; /* reads give the array, not the status */
	bool mapped;	 /* the array is a memory slot (the VM maps it before the guest runs) */
	uint8_t pending; /* a command's first cycle, waiting for its second: 0, 0x10/0x40, 0x20 */
	uint8_t status;
	bool dirty;
	/* Map or unmap the array as guest memory; persist the array. Both return 0 or -errno. */
	int (*set_mapped)(void *opaque, bool mapped);
	int (*sync)(void *opaque);
	void *opaque;
};

int pflash_init(struct pflash *flash, uint8_t *array, uint64_t size,
		int (*set_mapped)(void *opaque, bool mapped), int (*sync)(void *opaque),
		void *opaque);
void pflash_done(struct pflash *flash);

extern const struct trap_ops pflash_ops;

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"

/*
 * The files a machine runs on (its kernel, initrd and disk images), opened
 * for its monitor by phyllomed, which is root. A VM's owner must reach
 * through it nothing she could not open herself: for a machine with an Owner
 * other than root the file is opened with the owner's credentials (fsuid,
 * fsgid and supplementary groups of phyllomed's main thread, for the open
 * alone). Only a regular file will do (a disk may also be a block device): a
 * FIFO, socket or other device is refused, at once (O_NONBLOCK). A disk opened
 * for writing must lie below images_root. Returns the fd, or -1 and error
 * (StartFailed) saying what, where and why.
 */
typedef enum {
	MACHINE_FILE_BOOT, /* kernel, initrd: read-only, regular files */
	MACHINE_FILE_DISK, /* disk images: regular files or block devices */
} MachineFileKind;

int machine_file_open(const MachineConfig *c, MachineFileKind kind, const char *path,
		      gboolean writable, const char *images_root, GError **error);

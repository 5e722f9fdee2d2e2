/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "daemon.h"

/*
 * A Firmware=uefi machine's firmware: the code (OVMF_CODE_4M.fd of
 * DaemonOptions.firmware_dir, Debian's ovmf package by default, shared and
 * read-only) and its own variable store, NAME.fd in PHYLLOME_NVRAM_DIR. The
 * store is made on the machine's first start from the template its
 * SecureBoot= names (OVMF_VARS_4M.fd, or OVMF_VARS_4M.ms.fd with Microsoft's
 * keys enrolled and Secure Boot on), and from then on holds what the firmware
 * and the guest wrote (boot entries, keys). It is root's alone (0600 in a
 * 0700 directory): the monitor gets it as a file descriptor, and the owner
 * reaches it only through the VM, so no user can swap or shrink it under a
 * running monitor.
 */
#define PHYLLOME_NVRAM_DIR PHYLLOME_IMAGES_ROOT "/nvram"
#define FIRMWARE_CODE_FILE "OVMF_CODE_4M.fd"
#define FIRMWARE_VARS_FILE "OVMF_VARS_4M.fd"
#define FIRMWARE_VARS_SECURE_BOOT_FILE "OVMF_VARS_4M.ms.fd"

/* The firmware's code, read-only; -1 and error (StartFailed) when it is missing. */
int firmware_open_code(const char *firmware_dir, GError **error);
/* The machine's variable store, read-write, made from the template when it has none. */
int firmware_open_store(const char *firmware_dir, const MachineConfig *c, GError **error);
/* Forgets the machine's store (its definition is removed, or a new one takes its name). */
gboolean firmware_remove_store(const char *name, GError **error);

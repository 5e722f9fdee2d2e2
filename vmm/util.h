/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly len bytes at offset; -EIO when the file is shorter than it said. */
int pread_full(int fd, void *buf, size_t len, off_t offset);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/*
 * Sizes as people write them, one grammar for the whole project: a decimal
 * number, then optionally a unit, B, K, M, G or T in either case, the last
 * four optionally followed by "iB" or "B" (512M = 512MiB = 512MB = 512 << 20:
 * units are binary everywhere). No sign, no spaces, no fractions.
 *
 * A bare number counts in bare_unit: the command lines (phyllome-vmm --memory,
 * phyllomectl create --memory) take MiB, as QEMU's -m does; the definition
 * keyfiles take bytes, as systemd's MemoryMax= does.
 *
 * Returns 0, -EINVAL for anything else, -ERANGE past 2^64 - 1 bytes.
 */
int size_parse(const char *s, uint64_t bare_unit, uint64_t *ret);

#define SIZE_MIB (UINT64_C(1) << 20)

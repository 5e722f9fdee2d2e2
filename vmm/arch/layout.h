/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The architecture's guest-physical address map: where RAM, PCI windows, ECAM and platform devices
 * sit. */
#if defined(__x86_64__)
#include "arch/x86_64/layout.h"
#elif defined(__aarch64__)
#include "arch/aarch64/layout.h"
#else
#error "phyllome-vmm has no port to this architecture yet"
#endif

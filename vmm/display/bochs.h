/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <pthread.h>
#include <stdint.h>

#include "display/channel.h"
#include "pci/pci.h"

/*
 * The bochs display (QEMU's "stdvga", PCI 1234:1111): a linear framebuffer
 * in BAR 0 and the VBE "DISPI" mode registers in BAR 2 (at 0x500, 16 bits
 * each), which OVMF's QemuVideoDxe drives for the firmware's screen and
 * Linux's bochs DRM driver takes over. The framebuffer is host memory mapped
 * into the guest as a KVM memory slot wherever the guest puts BAR 0, so the
 * guest draws at memory speed; its accesses exit only while the BAR is not
 * mapped (being sized or moved). The framebuffer is a memfd, sealed against
 * resizing and further writable mappings, that display listeners map
 * directly; KVM's dirty page log of its slot says which rows changed. No
 * legacy VGA: the VGA registers BAR 2
 * mirrors at 0x400 are accepted and ignored, and 8-bit palette modes are
 * not shown.
 */
#define BOCHS_VRAM_SIZE (16ULL << 20)
#define BOCHS_MAX_WIDTH 2560
#define BOCHS_MAX_HEIGHT 1600

enum {
	DISPI_ID,
	DISPI_XRES,
	DISPI_YRES,
	DISPI_BPP,
	DISPI_ENABLE,
	DISPI_BANK,
	DISPI_VIRT_WIDTH,
	DISPI_VIRT_HEIGHT,
	DISPI_X_OFFSET,
	DISPI_Y_OFFSET,
	DISPI_VIDEO_MEMORY_64K,
	DISPI_REGS,
};

#define DISPI_ID5 0xb0c5
#define DISPI_ENABLED 0x01
#define DISPI_GETCAPS 0x02
#define DISPI_NOCLEARMEM 0x80

struct bochs {
	struct pci_device pci;
	int vm_fd;
	unsigned memslot;
	int vram_fd;
	uint8_t *vram;	      /* BOCHS_VRAM_SIZE bytes */
	uint64_t mapped_at;   /* where BAR 0 is a memory slot; 0: not mapped */
	bool dirty_log;	      /* KVM logs the slot's dirty pages; without it every frame is new */
	pthread_mutex_t lock; /* the registers, between vCPUs and the main loop */
	uint16_t regs[DISPI_REGS];
	uint64_t generation;  /* changes with the mode and with where the framebuffer is */
	bool written_trapped; /* the guest wrote the framebuffer through exits */
};

/* What the guest shows: its mode, and where in the framebuffer it starts. */
struct bochs_scanout {
	unsigned width, height, bpp, stride;
	uint64_t offset;
};

int bochs_init(struct bochs *b, int vm_fd, unsigned memslot);
void bochs_done(struct bochs *b);
/* The current scanout; -ENODATA when the display is off, -ENOTSUP in a palette mode, -ERANGE
 * when the mode does not fit the framebuffer. */
int bochs_scanout(struct bochs *b, struct bochs_scanout *ret);
/* Writes the current scanout to fd as a PNG file. */
int bochs_screenshot(struct bochs *b, int fd);
/* The display channel's view of it (opaque: the struct bochs). */
extern const struct display_source_ops bochs_display_ops;

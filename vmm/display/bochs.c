/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display/bochs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "display/png.h"
#include "log.h"
#include "memory.h"

#define PCI_VENDOR_BOCHS 0x1234
#define PCI_DEVICE_BOCHS_DISPLAY 0x1111
#define PCI_CLASS_DISPLAY_VGA 0x030000
#define BAR_FRAMEBUFFER 0
#define BAR_REGISTERS 2
#define REGISTERS_SIZE 4096
#define DISPI_OFFSET 0x500

static uint16_t max_of(unsigned reg)
{
	switch (reg) {
	case DISPI_XRES:
		return BOCHS_MAX_WIDTH;
	case DISPI_YRES:
		return BOCHS_MAX_HEIGHT;
	case DISPI_BPP:
		return 32;
	default:
		return 0xffff;
	}
}

static uint16_t dispi_read(struct bochs *b, unsigned reg)
{
	switch (reg) {
	case DISPI_ID:
		return DISPI_ID5;
	case DISPI_VIDEO_MEMORY_64K:
		return (uint16_t)(BOCHS_VRAM_SIZE >> 16);
	case DISPI_XRES:
	case DISPI_YRES:
	case DISPI_BPP:
		/* With GETCAPS set, the mode registers read as the largest values they take. */
		if (b->regs[DISPI_ENABLE] & DISPI_GETCAPS)
			return max_of(reg);
		return b->regs[reg];
	default:
		return reg < DISPI_REGS ? b->regs[reg] : 0xffff;
	}
}

static void dispi_write(struct bochs *b, unsigned reg, uint16_t v)
{
	b->generation++;
	switch (reg) {
	case DISPI_ID:
	case DISPI_VIDEO_MEMORY_64K:
		break;
	case DISPI_ENABLE:
		if ((v & DISPI_ENABLED) && !(b->regs[DISPI_ENABLE] & DISPI_ENABLED) &&
		    !(v & DISPI_NOCLEARMEM))
			memset(b->vram, 0, BOCHS_VRAM_SIZE);
		b->regs[reg] = v;
		break;
	default:
		if (reg < DISPI_REGS)
			b->regs[reg] = v;
		break;
	}
}

static void registers_read(struct bochs *b, uint64_t offset, uint8_t *data, unsigned size)
{
	uint16_t v;

	memset(data, 0xff, size);
	if (offset < DISPI_OFFSET || offset >= DISPI_OFFSET + 2 * DISPI_REGS || size > 2 ||
	    (offset & 1))
		return;
	pthread_mutex_lock(&b->lock);
	v = dispi_read(b, (unsigned)(offset - DISPI_OFFSET) / 2);
	pthread_mutex_unlock(&b->lock);
	data[0] = (uint8_t)v;
	if (size == 2)
		data[1] = (uint8_t)(v >> 8);
}

static void registers_write(struct bochs *b, uint64_t offset, const uint8_t *data, unsigned size)
{
	if (offset < DISPI_OFFSET || offset >= DISPI_OFFSET + 2 * DISPI_REGS || size != 2 ||
	    (offset & 1))
		return;
	pthread_mutex_lock(&b->lock);
	dispi_write(b, (unsigned)(offset - DISPI_OFFSET) / 2, (uint16_t)(data[0] | data[1] << 8));
	pthread_mutex_unlock(&b->lock);
}

static void bochs_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			   unsigned size)
{
	struct bochs *b = dev->opaque;

	if (bar == BAR_FRAMEBUFFER && offset + size <= BOCHS_VRAM_SIZE)
		memcpy(data, b->vram + offset, size);
	else if (bar == BAR_REGISTERS)
		registers_read(b, offset, data, size);
	else
		memset(data, 0xff, size);
}

static void bochs_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
			    const uint8_t *data, unsigned size)
{
	struct bochs *b = dev->opaque;

	if (bar == BAR_FRAMEBUFFER && offset + size <= BOCHS_VRAM_SIZE) {
		memcpy(b->vram + offset, data, size);
		pthread_mutex_lock(&b->lock);
		b->written_trapped = true;
		pthread_mutex_unlock(&b->lock);
	} else if (bar == BAR_REGISTERS)
		registers_write(b, offset, data, size);
}

/* The framebuffer follows BAR 0 wherever the guest puts it (and goes while decoding is off). */
static void bochs_config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
	struct bochs *b = dev->opaque;
	uint64_t gpa = pci_device_bar_address(dev, BAR_FRAMEBUFFER);
	int r;

	if (gpa == b->mapped_at)
		return;
	pthread_mutex_lock(&b->lock);
	b->generation++; /* a new slot starts with a clean dirty log: show the whole frame */
	pthread_mutex_unlock(&b->lock);
	if (b->mapped_at)
		(void)guest_memslot_set(b->vm_fd, b->memslot, 0, 0, NULL, 0);
	b->mapped_at = 0;
	if (!gpa)
		return;
	r = -EOPNOTSUPP;
	if (b->dirty_log)
		r = guest_memslot_set(b->vm_fd, b->memslot, KVM_MEM_LOG_DIRTY_PAGES, gpa, b->vram,
				      BOCHS_VRAM_SIZE);
	if (r == -EINVAL || r == -EOPNOTSUPP) {
		/* This KVM logs no dirty pages (kvm_pvm): listeners get whole frames. */
		b->dirty_log = false;
		r = guest_memslot_set(b->vm_fd, b->memslot, 0, gpa, b->vram, BOCHS_VRAM_SIZE);
	}
	if (r < 0) {
		/* Over something else (while the guest sizes the BAR): trapped until it moves. */
		log_debug("bochs display: framebuffer at 0x%llx not mapped: %s",
			  (unsigned long long)gpa, strerror(-r));
		return;
	}
	b->mapped_at = gpa;
}

static const struct pci_device_ops bochs_ops = {
	.bar_read = bochs_bar_read,
	.bar_write = bochs_bar_write,
	.config_written = bochs_config_written,
};

int bochs_init(struct bochs *b, int vm_fd, unsigned memslot)
{
	int r;

	*b = (struct bochs){ .vm_fd = vm_fd, .memslot = memslot, .vram_fd = -1, .dirty_log = true };
	b->vram_fd = memfd_create("phyllome-framebuffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->vram_fd < 0 || ftruncate(b->vram_fd, BOCHS_VRAM_SIZE) < 0)
		return log_error_errno(errno, "Cannot allocate the display's framebuffer: %m");
	b->vram = mmap(NULL, BOCHS_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->vram_fd, 0);
	if (b->vram == MAP_FAILED) {
		b->vram = NULL;
		return log_error_errno(errno, "Cannot map the display's framebuffer: %m");
	}
	/*
	 * Listeners get this fd: sealed, none can shrink it under the others'
	 * mappings (SIGBUS) nor map it writable and draw into the guest's screen.
	 * Our own mapping, made before, stays writable.
	 */
	if (fcntl(b->vram_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return log_error_errno(errno, "Cannot seal the display's framebuffer: %m");
	pthread_mutex_init(&b->lock, NULL);
	b->regs[DISPI_XRES] = 640;
	b->regs[DISPI_YRES] = 480;
	b->regs[DISPI_BPP] = 32;
	b->regs[DISPI_VIRT_WIDTH] = 640;
	b->regs[DISPI_VIRT_HEIGHT] = 480;
	pci_device_init(&b->pci, "bochs display", PCI_VENDOR_BOCHS, PCI_DEVICE_BOCHS_DISPLAY,
			PCI_CLASS_DISPLAY_VGA, PCI_SUBSYSTEM_VENDOR_QEMU, PCI_SUBSYSTEM_QEMU,
			&bochs_ops, b);
	r = pci_device_add_bar(&b->pci, BAR_FRAMEBUFFER, BOCHS_VRAM_SIZE, PCI_BAR_MEM_PREFETCH);
	if (r >= 0)
		r = pci_device_add_bar(&b->pci, BAR_REGISTERS, REGISTERS_SIZE, 0);
	return r;
}

void bochs_done(struct bochs *b)
{
	if (b->vram_fd >= 0)
		close(b->vram_fd);
	b->vram_fd = -1;
	if (!b->vram)
		return;
	if (b->mapped_at)
		(void)guest_memslot_set(b->vm_fd, b->memslot, 0, 0, NULL, 0);
	(void)munmap(b->vram, BOCHS_VRAM_SIZE);
	b->vram = NULL;
	pthread_mutex_destroy(&b->lock);
}

int bochs_scanout(struct bochs *b, struct bochs_scanout *ret)
{
	uint16_t regs[DISPI_REGS];
	unsigned bytes;

	pthread_mutex_lock(&b->lock);
	memcpy(regs, b->regs, sizeof(regs));
	pthread_mutex_unlock(&b->lock);
	if (!(regs[DISPI_ENABLE] & DISPI_ENABLED))
		return -ENODATA;
	if (regs[DISPI_BPP] != 15 && regs[DISPI_BPP] != 16 && regs[DISPI_BPP] != 24 &&
	    regs[DISPI_BPP] != 32)
		return -ENOTSUP;
	bytes = (regs[DISPI_BPP] + 7) / 8;
	*ret = (struct bochs_scanout){
		.width = regs[DISPI_XRES],
		.height = regs[DISPI_YRES],
		.bpp = regs[DISPI_BPP],
		.stride =
		    (unsigned)(regs[DISPI_VIRT_WIDTH] > regs[DISPI_XRES] ? regs[DISPI_VIRT_WIDTH]
									 : regs[DISPI_XRES]) *
		    bytes,
	};
	ret->offset =
	    (uint64_t)regs[DISPI_Y_OFFSET] * ret->stride + (uint64_t)regs[DISPI_X_OFFSET] * bytes;
	if (!ret->width || !ret->height || ret->width > BOCHS_MAX_WIDTH ||
	    ret->height > BOCHS_MAX_HEIGHT ||
	    ret->offset + (uint64_t)ret->stride * (ret->height - 1) + (uint64_t)ret->width * bytes >
		BOCHS_VRAM_SIZE)
		return -ERANGE;
	return 0;
}

struct shot {
	const struct bochs *b;
	struct bochs_scanout s;
};

static void scanout_row(void *opaque, unsigned y, uint8_t *rgb)
{
	const struct shot *shot = opaque;
	const uint8_t *p = shot->b->vram + shot->s.offset + (uint64_t)y * shot->s.stride;

	for (unsigned x = 0; x < shot->s.width; x++, rgb += 3) {
		uint16_t v;

		switch (shot->s.bpp) {
		case 32:
		case 24:
			rgb[0] = p[2];
			rgb[1] = p[1];
			rgb[2] = p[0];
			p += shot->s.bpp / 8;
			break;
		case 16:
			v = (uint16_t)(p[0] | p[1] << 8);
			rgb[0] = (uint8_t)((v >> 11) << 3);
			rgb[1] = (uint8_t)(((v >> 5) & 0x3f) << 2);
			rgb[2] = (uint8_t)((v & 0x1f) << 3);
			p += 2;
			break;
		default: /* 15 */
			v = (uint16_t)(p[0] | p[1] << 8);
			rgb[0] = (uint8_t)(((v >> 10) & 0x1f) << 3);
			rgb[1] = (uint8_t)(((v >> 5) & 0x1f) << 3);
			rgb[2] = (uint8_t)((v & 0x1f) << 3);
			p += 2;
			break;
		}
	}
}

int bochs_screenshot(struct bochs *b, int fd)
{
	struct shot shot = { .b = b };
	struct png_source src;
	int r = bochs_scanout(b, &shot.s);

	if (r < 0)
		return r;
	src = (struct png_source){
		.width = shot.s.width, .height = shot.s.height, .row = scanout_row, .opaque = &shot
	};
	return png_write(fd, &src);
}

static uint32_t drm_format(unsigned bpp)
{
	switch (bpp) {
	case 32:
		return DISPLAY_FORMAT_XRGB8888;
	case 24:
		return DISPLAY_FORMAT_RGB888;
	case 16:
		return DISPLAY_FORMAT_RGB565;
	default:
		return DISPLAY_FORMAT_XRGB1555;
	}
}

static int source_scanout(void *opaque, struct display_scanout *ret, uint64_t *generation)
{
	struct bochs *b = opaque;
	struct bochs_scanout s;
	int r;

	pthread_mutex_lock(&b->lock);
	*generation = b->generation;
	pthread_mutex_unlock(&b->lock);
	r = bochs_scanout(b, &s);
	if (r < 0)
		return r;
	*ret = (struct display_scanout){
		.fd = b->vram_fd,
		.offset = s.offset,
		.width = s.width,
		.height = s.height,
		.stride = s.stride,
		.format = drm_format(s.bpp),
	};
	return 0;
}

/* The rows KVM saw written since the last look: one rectangle, the frame's width. */
static void source_damage(void *opaque, const struct display_scanout *s, struct display_rect *ret)
{
	struct bochs *b = opaque;
	uint64_t bitmap[BOCHS_VRAM_SIZE / 4096 / 64] = {};
	struct kvm_dirty_log log = { .slot = b->memslot, .dirty_bitmap = bitmap };
	uint64_t lo = UINT64_MAX, hi = 0, frame_end;
	bool trapped;

	pthread_mutex_lock(&b->lock);
	trapped = b->written_trapped;
	b->written_trapped = false;
	pthread_mutex_unlock(&b->lock);
	*ret = (struct display_rect){ 0, 0, s->width, s->height };
	if (trapped || !b->dirty_log || !b->mapped_at ||
	    ioctl(b->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(bitmap); i++) {
		if (!bitmap[i])
			continue;
		if (lo == UINT64_MAX)
			lo = ((uint64_t)i * 64 + (uint64_t)__builtin_ctzll(bitmap[i])) * 4096;
		hi = ((uint64_t)i * 64 + 64 - (uint64_t)__builtin_clzll(bitmap[i])) * 4096;
	}
	frame_end = s->offset + (uint64_t)s->stride * s->height;
	if (lo == UINT64_MAX || hi <= s->offset || lo >= frame_end) {
		ret->height = 0;
		return;
	}
	ret->y = lo > s->offset ? (unsigned)((lo - s->offset) / s->stride) : 0;
	ret->height = (unsigned)((hi - s->offset + s->stride - 1) / s->stride);
	if (ret->height > s->height)
		ret->height = s->height;
	ret->height -= ret->y;
}

static int source_screenshot(void *opaque, int fd)
{
	return bochs_screenshot(opaque, fd);
}

const struct display_source_ops bochs_display_ops = {
	.scanout = source_scanout,
	.damage = source_damage,
	.screenshot = source_screenshot,
};

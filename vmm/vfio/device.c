/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vfio/device.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "memory.h"

#define PAGE_SIZE 4096ULL

#define MSI_CONTROL_ENABLE 0x0001
#define MSI_CONTROL_64BIT 0x0080
#define MSI_CONTROL_MASKBIT 0x0100
#define MSIX_CONTROL_ENABLE 0x8000
#define MSIX_CONTROL_MASK_ALL 0x4000
#define MSIX_ENTRY_MASKED 1

static bool overlaps(unsigned a, unsigned a_len, unsigned b, unsigned b_len)
{
	return a < b + b_len && b < a + a_len;
}

/* ---- interrupts ---- */

static int set_irqs(struct vfio_pci *vp, unsigned index, uint32_t action, unsigned count,
		    const int *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t) * VFIO_MSIX_MAX_VECTORS];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	*set = (struct vfio_irq_set){
		.argsz = (uint32_t)(sizeof(*set) + sizeof(int32_t) * count),
		.flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) | action,
		.index = index,
		.count = count,
	};
	for (unsigned i = 0; i < count; i++)
		memcpy(set->data + sizeof(int32_t) * i, &fds[i], sizeof(int32_t));
	return ioctl(vp->device_fd, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
}

static int enable_vectors(struct vfio_pci *vp, unsigned index, const struct vfio_vector *v,
			  unsigned count)
{
	int fds[VFIO_MSIX_MAX_VECTORS];

	for (unsigned i = 0; i < count; i++)
		fds[i] = v[i].irqfd;
	return set_irqs(vp, index, VFIO_IRQ_SET_ACTION_TRIGGER, count, fds);
}

/*
 * VFIO has one kind of interrupt on at a time: the one the guest's driver
 * enabled last, INTx when it enabled none.
 */
static void switch_irqs(struct vfio_pci *vp, enum vfio_irq_mode mode, unsigned count)
{
	static const unsigned index[] = {
		[VFIO_IRQ_INTX] = VFIO_PCI_INTX_IRQ_INDEX,
		[VFIO_IRQ_MSI] = VFIO_PCI_MSI_IRQ_INDEX,
		[VFIO_IRQ_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX,
	};
	int r = 0;

	if (mode == VFIO_IRQ_INTX && !vp->intx_pin)
		mode = VFIO_IRQ_NONE;
	if (vp->irq_mode != VFIO_IRQ_NONE)
		(void)set_irqs(vp, index[vp->irq_mode], VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
	vp->irq_mode = VFIO_IRQ_NONE;
	switch (mode) {
	case VFIO_IRQ_NONE:
		return;
	case VFIO_IRQ_INTX:
		r = set_irqs(vp, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1,
			     &vp->intx_fd);
		if (r == 0)
			r = set_irqs(vp, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1,
				     &vp->intx_resample_fd);
		break;
	case VFIO_IRQ_MSI:
		r = enable_vectors(vp, VFIO_PCI_MSI_IRQ_INDEX, vp->msi, count);
		break;
	case VFIO_IRQ_MSIX:
		r = enable_vectors(vp, VFIO_PCI_MSIX_IRQ_INDEX, vp->msix, count);
		break;
	}
	if (r < 0)
		log_warning_errno(r, "%s: cannot switch its interrupts to %s: %m", vp->name,
				  mode == VFIO_IRQ_INTX	 ? "INTx"
				  : mode == VFIO_IRQ_MSI ? "MSI"
							 : "MSI-X");
	else
		vp->irq_mode = mode;
}

static void msi_update(struct vfio_pci *vp)
{
	const uint8_t *cap = vp->pci.config + vp->msi_cap;
	uint16_t control = get_le16(cap + 2);
	bool is_64 = control & MSI_CONTROL_64BIT;
	uint64_t address = get_le32(cap + 4) | (is_64 ? (uint64_t)get_le32(cap + 8) << 32 : 0);
	uint16_t data = get_le16(cap + (is_64 ? 12 : 8));
	unsigned want = (control & MSI_CONTROL_ENABLE) ? 1u << ((control >> 4) & 7) : 0;

	if (want > vp->msi_vectors)
		want = vp->msi_vectors;
	/* With several messages the device puts the vector number in the data's low bits. */
	for (unsigned v = 0; v < want; v++)
		if (irq_routing_set_msi(vp->irq, vp->msi[v].gsi, address, (data & ~(want - 1)) | v,
					pci_requester_id(&vp->pci)) < 0)
			log_warning("%s: cannot route MSI vector %u", vp->name, v);
	if (want == vp->msi_enabled)
		return;
	vp->msi_enabled = want;
	switch_irqs(vp, want ? VFIO_IRQ_MSI : VFIO_IRQ_INTX, want);
}

static uint16_t msix_control(const struct vfio_pci *vp)
{
	return get_le16(vp->pci.config + vp->msix_cap + 2);
}

/*
 * A vector's route follows its table entry while unmasked. A masked vector
 * keeps its last route: VFIO signals it regardless, so the guest may see an
 * interrupt it masked, never lose one it expects.
 */
static void msix_route(struct vfio_pci *vp, unsigned v)
{
	const uint8_t *e = vp->msix_table + 16 * v;
	uint16_t control = msix_control(vp);

	if (!(control & MSIX_CONTROL_ENABLE) || (control & MSIX_CONTROL_MASK_ALL) ||
	    (e[12] & MSIX_ENTRY_MASKED))
		return;
	if (irq_routing_set_msi(vp->irq, vp->msix[v].gsi,
				get_le32(e) | (uint64_t)get_le32(e + 4) << 32, get_le32(e + 8),
				pci_requester_id(&vp->pci)) < 0)
		log_warning("%s: cannot route MSI-X vector %u", vp->name, v);
}

static void msix_update(struct vfio_pci *vp)
{
	bool enabled = msix_control(vp) & MSIX_CONTROL_ENABLE;

	for (unsigned v = 0; v < vp->msix_vectors; v++)
		msix_route(vp, v);
	if (enabled == (vp->irq_mode == VFIO_IRQ_MSIX))
		return;
	if (enabled)
		switch_irqs(vp, VFIO_IRQ_MSIX, vp->msix_vectors);
	else
		switch_irqs(vp, vp->msi_enabled ? VFIO_IRQ_MSI : VFIO_IRQ_INTX, vp->msi_enabled);
}

static int make_vectors(struct vfio_pci *vp, struct vfio_vector *v, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int r = irq_routing_allocate(vp->irq, &v[i].gsi);
		if (r < 0)
			return log_error_errno(r, "%s: no GSI left for its interrupts", vp->name);
		r = irqfd_create(vp->vm_fd, v[i].gsi);
		if (r < 0)
			return r;
		v[i].irqfd = r;
	}
	return 0;
}

/* A level-triggered line: KVM lowers it at the guest's EOI and tells VFIO, which unmasks the
 * device. */
static int intx_init(struct vfio_pci *vp)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_INTX_IRQ_INDEX };
	struct kvm_irqfd irqfd = { .flags = KVM_IRQFD_FLAG_RESAMPLE };

	vp->intx_pin = vp->pci.config[PCI_INTERRUPT_PIN];
	if (vp->intx_pin < 1 || vp->intx_pin > 4 ||
	    ioctl(vp->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0 || info.count < 1) {
		vp->intx_pin = 0;
		vp->pci.config[PCI_INTERRUPT_PIN] = 0;
		return 0;
	}
	vp->intx_fd = eventfd(0, EFD_CLOEXEC);
	vp->intx_resample_fd = eventfd(0, EFD_CLOEXEC);
	if (vp->intx_fd < 0 || vp->intx_resample_fd < 0)
		return log_error_errno(errno, "%s: eventfd: %m", vp->name);
	irqfd.fd = (uint32_t)vp->intx_fd;
	irqfd.resamplefd = (uint32_t)vp->intx_resample_fd;
	irqfd.gsi = pci_intx_gsi(vp->pci.slot, vp->intx_pin);
	if (ioctl(vp->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return log_error_errno(errno, "%s: cannot connect INTx to GSI %u: %m", vp->name,
				       irqfd.gsi);
	vp->pci.config[PCI_INTERRUPT_LINE] = (uint8_t)irqfd.gsi;
	switch_irqs(vp, VFIO_IRQ_INTX, 1);
	return 0;
}

/* ---- BARs ---- */

/* Up to two slots per BAR: the pages before and after the trapped ones. */
static void bar_unmap(struct vfio_pci *vp, unsigned bar)
{
	for (unsigned piece = 0; piece < 2 && vp->bars[bar].mapped_at; piece++)
		(void)guest_memslot_set(vp->vm_fd, vp->first_memslot + 2 * bar + piece, 0, 0, NULL,
					0);
	vp->bars[bar].mapped_at = 0;
}

static void bar_map(struct vfio_pci *vp, unsigned bar, uint64_t gpa)
{
	struct vfio_bar *b = &vp->bars[bar];
	const uint64_t pieces[2][2] = { { 0, b->trap_start }, { b->trap_end, b->size } };

	for (unsigned piece = 0; piece < 2; piece++) {
		uint64_t start = pieces[piece][0], end = pieces[piece][1];
		int r;

		if (start >= end)
			continue;
		r = guest_memslot_set(vp->vm_fd, vp->first_memslot + 2 * bar + piece, 0,
				      gpa + start, b->map + start, end - start);
		if (r < 0) {
			/* The guest put the BAR over something else (while sizing it, say): trapped
			 * until it moves. */
			log_debug("%s: BAR %u at 0x%llx not mapped: %s", vp->name, bar,
				  (unsigned long long)gpa, strerror(-r));
			bar_unmap(vp, bar);
			return;
		}
		b->mapped_at = gpa;
	}
}

static void update_bar_maps(struct vfio_pci *vp)
{
	for (unsigned bar = 0; bar < PCI_BARS; bar++) {
		uint64_t gpa = pci_device_bar_address(&vp->pci, bar);

		if (!vp->bars[bar].map || gpa == vp->bars[bar].mapped_at)
			continue;
		bar_unmap(vp, bar);
		if (gpa)
			bar_map(vp, bar, gpa);
	}
}

static bool in_range(uint64_t offset, unsigned size, uint64_t start, uint64_t len)
{
	return offset >= start && offset - start < len && size <= len - (offset - start);
}

static void vfio_bar_read(struct pci_device *dev, unsigned bar, uint64_t offset, uint8_t *data,
			  unsigned size)
{
	struct vfio_pci *vp = dev->opaque;
	uint64_t table_len = 16ULL * vp->msix_vectors;

	if (vp->msix_cap && bar == vp->msix_table_bar &&
	    in_range(offset, size, vp->msix_table_offset, table_len)) {
		memcpy(data, vp->msix_table + (offset - vp->msix_table_offset), size);
		return;
	}
	if (vp->msix_cap && bar == vp->msix_pba_bar &&
	    in_range(offset, size, vp->msix_pba_offset, (vp->msix_vectors + 63) / 64 * 8)) {
		memset(data, 0,
		       size); /* nothing waits: masked vectors are not held back (see msix_route) */
		return;
	}
	if (offset + size > vp->bars[bar].size ||
	    pread(vp->device_fd, data, size, (off_t)(vp->bars[bar].offset + offset)) !=
		(ssize_t)size)
		memset(data, 0xff, size);
}

static void vfio_bar_write(struct pci_device *dev, unsigned bar, uint64_t offset,
			   const uint8_t *data, unsigned size)
{
	struct vfio_pci *vp = dev->opaque;
	uint64_t table_len = 16ULL * vp->msix_vectors;

	if (bar == PCI_ROM_BAR)
		return;

	if (vp->msix_cap && bar == vp->msix_table_bar &&
	    in_range(offset, size, vp->msix_table_offset, table_len)) {
		uint64_t at = offset - vp->msix_table_offset;

		memcpy(vp->msix_table + at, data, size);
		for (uint64_t v = at / 16; v <= (at + size - 1) / 16; v++)
			msix_route(vp, (unsigned)v);
		return;
	}
	if (vp->msix_cap && bar == vp->msix_pba_bar &&
	    in_range(offset, size, vp->msix_pba_offset, (vp->msix_vectors + 63) / 64 * 8))
		return;
	if (offset + size > vp->bars[bar].size ||
	    pwrite(vp->device_fd, data, size, (off_t)(vp->bars[bar].offset + offset)) !=
		(ssize_t)size)
		log_debug("%s: a write to BAR %u at 0x%llx went nowhere", vp->name, bar,
			  (unsigned long long)offset);
}

/* ---- config space ---- */

static void vfio_config_read(struct pci_device *dev, unsigned reg, uint8_t *data, unsigned size)
{
	struct vfio_pci *vp = dev->opaque;
	uint8_t device[4];

	/* Only what the device owns is read from it: BAR sizing and MSI setup never leave the
	 * monitor. */
	if (memchr(vp->emulated + reg, 0, size) &&
	    (reg + size > vp->config_size ||
	     pread(vp->device_fd, device, size, (off_t)(vp->config_offset + reg)) != (ssize_t)size))
		memset(device, reg >= 0x100 ? 0 : 0xff, size);
	for (unsigned i = 0; i < size; i++)
		data[i] = vp->emulated[reg + i] ? dev->config[reg + i] : device[i];
}

static void vfio_config_write(struct pci_device *dev, unsigned reg, const uint8_t *data,
			      unsigned size)
{
	struct vfio_pci *vp = dev->opaque;

	/* Runs of our bytes go to the shadow, runs of the device's to VFIO. */
	for (unsigned i = 0, j; i < size; i = j) {
		bool ours = vp->emulated[reg + i];

		for (j = i; j < size && vp->emulated[reg + j] == ours; j++)
			;
		if (ours)
			pci_device_config_store(dev, reg + i, data + i, j - i);
		else if (reg + j > vp->config_size ||
			 pwrite(vp->device_fd, data + i, j - i,
				(off_t)(vp->config_offset + reg + i)) != (ssize_t)(j - i))
			log_debug("%s: config write at 0x%x failed", vp->name, reg + i);
	}
	/* The command register is the device's, and ours too: memory decoding decides where BARs
	 * are mapped. */
	if (overlaps(reg, size, PCI_COMMAND, 2)) {
		unsigned from = reg > PCI_COMMAND ? reg : PCI_COMMAND;
		unsigned to = reg + size < PCI_COMMAND + 2 ? reg + size : PCI_COMMAND + 2;

		pci_device_config_store(dev, from, data + (from - reg), to - from);
	}
	if (overlaps(reg, size, PCI_COMMAND, 2) ||
	    overlaps(reg, size, PCI_BASE_ADDRESS_0, 4 * PCI_BARS))
		update_bar_maps(vp);
	if (vp->msi_cap && overlaps(reg, size, vp->msi_cap + 2, vp->msi_size - 2))
		msi_update(vp);
	if (vp->msix_cap && overlaps(reg, size, vp->msix_cap + 2, 2))
		msix_update(vp);
}

static const struct pci_device_ops vfio_pci_ops = {
	.bar_read = vfio_bar_read,
	.bar_write = vfio_bar_write,
	.config_read = vfio_config_read,
	.config_write = vfio_config_write,
};

static void emulate(struct vfio_pci *vp, unsigned reg, unsigned len)
{
	memset(vp->emulated + reg, 1, len);
}

/* The first capability with this id in the standard list, or 0. */
static unsigned find_capability(const struct vfio_pci *vp, uint8_t id)
{
	const uint8_t *c = vp->pci.config;
	unsigned at =
	    (get_le16(c + PCI_STATUS) & PCI_STATUS_CAP_LIST) ? c[PCI_CAPABILITY_LIST] & ~3u : 0;

	for (unsigned hops = 0; at >= 0x40 && at < 0x100 && hops < 48; hops++) {
		if (c[at] == id)
			return at;
		at = c[at + 1] & ~3u;
	}
	return 0;
}

static void msi_init(struct vfio_pci *vp)
{
	uint8_t *cap;
	uint16_t control;

	vp->msi_cap = find_capability(vp, PCI_CAP_ID_MSI);
	if (!vp->msi_cap)
		return;
	cap = vp->pci.config + vp->msi_cap;
	control = get_le16(cap + 2);
	vp->msi_size =
	    10 + (control & MSI_CONTROL_64BIT ? 4 : 0) + (control & MSI_CONTROL_MASKBIT ? 10 : 0);
	vp->msi_vectors = 1u << ((control >> 1) & 7);
	if (vp->msi_vectors > VFIO_MSI_MAX_VECTORS)
		vp->msi_vectors = VFIO_MSI_MAX_VECTORS;
	/* Off, one message, nothing masked: as after reset, whatever the host left there. */
	put_le16(cap + 2, control & ~(MSI_CONTROL_ENABLE | 0x0070));
	memset(cap + 4, 0, vp->msi_size - 4);
	emulate(vp, vp->msi_cap + 2, vp->msi_size - 2);
	vp->pci.wmask[vp->msi_cap + 2] = 0x71; /* enable, and how many messages */
	put_le32(vp->pci.wmask + vp->msi_cap + 4, 0xfffffffc);
	if (control & MSI_CONTROL_64BIT)
		put_le32(vp->pci.wmask + vp->msi_cap + 8, 0xffffffff);
	put_le16(vp->pci.wmask + vp->msi_cap + (control & MSI_CONTROL_64BIT ? 12 : 8), 0xffff);
	if (control & MSI_CONTROL_MASKBIT)
		put_le32(vp->pci.wmask + vp->msi_cap + (control & MSI_CONTROL_64BIT ? 16 : 12),
			 0xffffffff);
}

static int msix_init(struct vfio_pci *vp)
{
	uint8_t *cap;
	uint16_t control;
	uint32_t table, pba;
	unsigned size;

	vp->msix_cap = find_capability(vp, PCI_CAP_ID_MSIX);
	if (!vp->msix_cap)
		return 0;
	cap = vp->pci.config + vp->msix_cap;
	control = get_le16(cap + 2);
	table = get_le32(cap + 4);
	pba = get_le32(cap + 8);
	size = (control & 0x7ff) + 1u;
	vp->msix_vectors = size < VFIO_MSIX_MAX_VECTORS ? size : VFIO_MSIX_MAX_VECTORS;
	if (size > vp->msix_vectors)
		log_notice("%s: the guest gets %u of its %u MSI-X vectors", vp->name,
			   vp->msix_vectors, size);
	vp->msix_table_bar = table & 7;
	vp->msix_table_offset = table & ~7u;
	vp->msix_pba_bar = pba & 7;
	vp->msix_pba_offset = pba & ~7u;
	if (vp->msix_table_bar >= PCI_BARS || vp->msix_pba_bar >= PCI_BARS ||
	    !vp->pci.bars[vp->msix_table_bar].size || !vp->pci.bars[vp->msix_pba_bar].size)
		return log_error_errno(
		    ENOTSUP, "%s: its MSI-X table is not in a memory BAR we can give the guest",
		    vp->name);
	put_le16(cap + 2, (uint16_t)(vp->msix_vectors - 1));
	emulate(vp, vp->msix_cap + 2, 2);
	vp->pci.wmask[vp->msix_cap + 3] = 0xc0; /* enable, mask all */
	for (unsigned v = 0; v < vp->msix_vectors; v++)
		vp->msix_table[16 * v + 12] = MSIX_ENTRY_MASKED;
	return 0;
}

/* The MSI-X table and PBA pages stay trapped inside an otherwise mapped BAR. */
static void trap_pages(struct vfio_bar *b, uint64_t offset, uint64_t len)
{
	uint64_t start = ALIGN_DOWN(offset, PAGE_SIZE), end = ALIGN_UP(offset + len, PAGE_SIZE);

	if (end > b->size)
		end = b->size;
	if (b->trap_start == b->trap_end) {
		b->trap_start = start;
		b->trap_end = end;
		return;
	}
	b->trap_start = start < b->trap_start ? start : b->trap_start;
	b->trap_end = end > b->trap_end ? end : b->trap_end;
}

static int bars_init(struct vfio_pci *vp, const uint8_t *device_config)
{
	for (unsigned bar = 0; bar < PCI_BARS; bar++) {
		struct vfio_region_info info = { .argsz = sizeof(info),
						 .index = VFIO_PCI_BAR0_REGION_INDEX + bar };
		uint32_t reg = get_le32(device_config + PCI_BASE_ADDRESS_0 + 4 * bar);
		unsigned flags = reg & (PCI_BAR_MEM_64 | PCI_BAR_MEM_PREFETCH);
		uint64_t size;
		int r;

		if (ioctl(vp->device_fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0 || !info.size)
			continue;
		if (reg & PCI_BAR_IO) {
			log_notice("%s: its I/O BAR %u is not given to the guest", vp->name, bar);
			continue;
		}
		if (flags & PCI_BAR_MEM_64 && bar == PCI_BARS - 1)
			return log_error_errno(EINVAL, "%s: BAR 5 claims to be 64-bit", vp->name);
		for (size = PAGE_SIZE; size < info.size; size <<= 1)
			;
		r = pci_device_add_bar(&vp->pci, bar, size, flags);
		if (r < 0)
			return log_error_errno(r, "%s: cannot offer BAR %u (%llu bytes)", vp->name,
					       bar, (unsigned long long)info.size);
		vp->bars[bar] = (struct vfio_bar){ .offset = info.offset, .size = info.size };
		if ((info.flags & VFIO_REGION_INFO_FLAG_MMAP) && info.size % PAGE_SIZE == 0) {
			void *map = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
					 vp->device_fd, (off_t)info.offset);
			if (map != MAP_FAILED)
				vp->bars[bar].map = map;
			else
				log_debug("%s: BAR %u cannot be mapped (%m): trapped", vp->name,
					  bar);
		}
		if (flags & PCI_BAR_MEM_64)
			bar++;
	}
	return 0;
}

/* The device's expansion ROM, when it has one: a read-only BAR whose reads VFIO serves. */
static int rom_init(struct vfio_pci *vp)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = VFIO_PCI_ROM_REGION_INDEX };
	uint64_t size;
	int r;

	if (ioctl(vp->device_fd, VFIO_DEVICE_GET_REGION_INFO, &info) < 0 || !info.size)
		return 0;
	for (size = PAGE_SIZE; size < info.size; size <<= 1)
		;
	r = pci_device_add_rom(&vp->pci, size);
	if (r < 0)
		return log_error_errno(r, "%s: cannot offer its %llu-byte expansion ROM", vp->name,
				       (unsigned long long)info.size);
	vp->bars[PCI_ROM_BAR] = (struct vfio_bar){ .offset = info.offset, .size = info.size };
	return 0;
}

int vfio_pci_open(struct vfio_pci *vp, const char *bdf, int group_fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int r;

	memset(vp, 0, sizeof(*vp));
	vp->device_fd = vp->intx_fd = vp->intx_resample_fd = -1;
	for (unsigned i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		vp->msi[i].irqfd = -1;
	for (unsigned i = 0; i < VFIO_MSIX_MAX_VECTORS; i++)
		vp->msix[i].irqfd = -1;
	snprintf(vp->bdf, sizeof(vp->bdf), "%s", bdf);
	snprintf(vp->name, sizeof(vp->name), "host device %s", bdf);

	r = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, vp->bdf);
	if (r < 0)
		return log_error_errno(errno, "Cannot get %s from its IOMMU group: %m%s", bdf,
				       errno == EBUSY ? " (another program has it open)" : "");
	vp->device_fd = r;
	if (ioctl(vp->device_fd, VFIO_DEVICE_GET_INFO, &info) < 0)
		return log_error_errno(errno, "VFIO_DEVICE_GET_INFO for %s: %m", bdf);
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return log_error_errno(ENOTSUP, "%s is not a PCI device as VFIO sees it", bdf);
	vp->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	/* Whatever its last user left running stops here. */
	if (vp->can_reset && ioctl(vp->device_fd, VFIO_DEVICE_RESET) < 0)
		log_warning("%s: reset failed: %m; it starts as its last user left it", vp->name);
	else if (!vp->can_reset)
		log_notice("%s cannot be reset: it starts as its last user left it", bdf);
	return 0;
}

int vfio_pci_init(struct vfio_pci *vp, struct pci_bus *bus, int vm_fd, struct irq_routing *irq,
		  unsigned first_memslot)
{
	struct vfio_region_info config = { .argsz = sizeof(config),
					   .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint8_t device_config[PCI_CONFIG_SIZE];
	int r;

	vp->vm_fd = vm_fd;
	vp->irq = irq;
	vp->first_memslot = first_memslot;
	if (ioctl(vp->device_fd, VFIO_DEVICE_GET_REGION_INFO, &config) < 0 || config.size < 0x40)
		return log_error_errno(EIO, "%s: VFIO gives no config space", vp->name);
	vp->config_offset = config.offset;
	vp->config_size = config.size < PCI_CONFIG_SIZE ? (unsigned)config.size : PCI_CONFIG_SIZE;
	memset(device_config, 0, sizeof(device_config));
	if (pread(vp->device_fd, device_config, vp->config_size, (off_t)vp->config_offset) !=
	    (ssize_t)vp->config_size)
		return log_error_errno(EIO, "%s: cannot read its config space", vp->name);

	pci_device_init(&vp->pci, vp->name, get_le16(device_config + PCI_VENDOR_ID),
			get_le16(device_config + PCI_DEVICE_ID), 0, 0, 0, &vfio_pci_ops, vp);
	memcpy(vp->pci.config, device_config, vp->config_size);
	/* Ours: the BARs (placed on our bus), no expansion ROM, the interrupt line. */
	memset(vp->pci.config + PCI_BASE_ADDRESS_0, 0, 4 * PCI_BARS);
	memset(vp->pci.config + PCI_ROM_ADDRESS, 0, 4);
	emulate(vp, PCI_BASE_ADDRESS_0, 4 * PCI_BARS);
	emulate(vp, PCI_ROM_ADDRESS, 4);
	emulate(vp, PCI_INTERRUPT_LINE, 1);
	vp->pci.wmask[PCI_INTERRUPT_LINE] = 0xff;
	put_le16(vp->pci.config + PCI_COMMAND, 0);

	r = bars_init(vp, device_config);
	if (r < 0)
		return r;
	r = rom_init(vp);
	if (r < 0)
		return r;
	msi_init(vp);
	r = msix_init(vp);
	if (r < 0)
		return r;
	if (vp->msix_cap) {
		trap_pages(&vp->bars[vp->msix_table_bar], vp->msix_table_offset,
			   16ULL * vp->msix_vectors);
		trap_pages(&vp->bars[vp->msix_pba_bar], vp->msix_pba_offset,
			   (vp->msix_vectors + 63) / 64 * 8);
	}
	if ((r = make_vectors(vp, vp->msi, vp->msi_cap ? vp->msi_vectors : 0)) < 0 ||
	    (r = make_vectors(vp, vp->msix, vp->msix_vectors)) < 0)
		return r;
	r = pci_bus_add_device(bus, &vp->pci);
	if (r < 0)
		return r;
	r = intx_init(vp);
	if (r < 0)
		return r;
	log_info("%s (%04x:%04x) at 00:%02x.0: %s%s%s", vp->name,
		 get_le16(device_config + PCI_VENDOR_ID), get_le16(device_config + PCI_DEVICE_ID),
		 vp->pci.slot, vp->intx_pin ? "INTx " : "", vp->msi_cap ? "MSI " : "",
		 vp->msix_cap ? "MSI-X" : "");
	for (unsigned bar = 0; bar < PCI_BARS; bar++)
		if (vp->bars[bar].size)
			log_info("%s: BAR %u, %llu KiB, %s", vp->name, bar,
				 (unsigned long long)(vp->bars[bar].size >> 10),
				 vp->bars[bar].map ? "mapped into the guest" : "trapped");
	if (vp->bars[PCI_ROM_BAR].size)
		log_info("%s: expansion ROM, %llu bytes", vp->name,
			 (unsigned long long)vp->bars[PCI_ROM_BAR].size);
	return 0;
}

void vfio_pci_done(struct vfio_pci *vp)
{
	if (vp->device_fd < 0)
		return;
	switch_irqs(vp, VFIO_IRQ_NONE, 0);
	for (unsigned bar = 0; bar < PCI_BARS; bar++) {
		bar_unmap(vp, bar);
		if (vp->bars[bar].map)
			munmap(vp->bars[bar].map, vp->bars[bar].size);
		vp->bars[bar].map = NULL;
	}
	/* The next user, or the host driver it goes back to, gets it as after power-up. */
	if (vp->can_reset && ioctl(vp->device_fd, VFIO_DEVICE_RESET) < 0)
		log_warning("%s: reset at stop failed: %m", vp->name);
	for (unsigned i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		closep(&vp->msi[i].irqfd);
	for (unsigned i = 0; i < VFIO_MSIX_MAX_VECTORS; i++)
		closep(&vp->msix[i].irqfd);
	closep(&vp->intx_fd);
	closep(&vp->intx_resample_fd);
	closep(&vp->device_fd);
	vp->device_fd = -1;
}

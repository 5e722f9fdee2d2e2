/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: a hostile guest on virtio-gpu's control queue. The input
 * is the guest's RAM (2 KiB, where backing entries point) followed by
 * commands, each a 16-bit length and that many bytes; they run in order on
 * one device, so resources, backing and the scanout carry from one to the
 * next. RAM is an allocation of exactly its size, so AddressSanitizer sees
 * any access the device makes past it. After each command the scanout the
 * display channel would be given must lie within the pool.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "virtio/gpu.h"

#define RAM_SIZE 2048

/* The PCI transport is not under test here. */
int virtio_pci_init(struct virtio_pci *vp, const char *name, const struct virtio_device_ops *ops,
		    void *opaque, const struct virtio_host *host)
{
	return 0;
}
void virtio_pci_done(struct virtio_pci *vp)
{
}
void virtio_pci_queue_done(struct virtio_pci *vp, unsigned q)
{
}
void virtio_pci_needs_reset(struct virtio_pci *vp)
{
}
void virtio_pci_config_changed(struct virtio_pci *vp)
{
}

static struct guest_memory mem;
static struct virtio_gpu gpu;

/* One device for every input (its pool is a memfd: made once), emptied before each. */
static void fresh_device(void)
{
	static bool made;

	if (!made && virtio_gpu_init_core(&gpu, 1280, 800, &mem) < 0)
		abort();
	made = true;
	for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++) {
		free(gpu.resources[i].backing);
		gpu.resources[i] = (struct gpu_resource){};
	}
	gpu.scanout_resource = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t resp[VIRTIO_GPU_RESPONSE_MAX];
	size_t at;

	if (size < RAM_SIZE)
		return 0;
	mem = (struct guest_memory){ .host = malloc(RAM_SIZE),
				     .size = RAM_SIZE,
				     .low_size = RAM_SIZE };
	if (!mem.host)
		abort();
	memcpy(mem.host, data, RAM_SIZE);
	fresh_device();
	for (at = RAM_SIZE; at + 2 <= size;) {
		size_t len = data[at] | (size_t)data[at + 1] << 8;
		struct display_scanout s;
		uint64_t generation;

		at += 2;
		if (len > size - at)
			len = size - at;
		if (virtio_gpu_execute(&gpu, data + at, len, resp) > VIRTIO_GPU_RESPONSE_MAX)
			abort();
		/* The same bytes on the cursor queue: pointer images come from resources too. */
		virtio_gpu_cursor_command(&gpu, data + at, len);
		at += len;
		if (virtio_gpu_display_ops.scanout(&gpu, &s, &generation) == 0 &&
		    s.offset + (uint64_t)s.stride * (s.height - 1) + (uint64_t)s.width * 4 >
			GPU_POOL_SIZE)
			abort();
	}
	free(mem.host);
	return 0;
}

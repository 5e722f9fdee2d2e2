/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/gpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_gpu.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "display/png.h"
#include "log.h"
#include "util.h"

#define VIRTIO_ID_GPU 16
#define PCI_CLASS_DISPLAY_OTHER 0x038000
#define GPU_QUEUE_SIZE 256
#define CONTROL_QUEUE 0
#define CURSOR_QUEUE 1
#define CONFIG_SIZE 16 /* events_read, events_clear, num_scanouts, num_capsets */
#define HDR_SIZE 24
#define EDID_SIZE 128
#define REQUEST_MAX (HDR_SIZE + 8 + 16 * GPU_MAX_BACKING_ENTRIES)
#define PAGE 4096ULL

struct gpu_rect {
	uint32_t x, y, width, height;
};

/* ---- requests and responses ---- */

/* The request's readable bytes, in order, into g->request; how many (at most REQUEST_MAX). */
static size_t gather(struct virtio_gpu *g, const struct virtqueue_request *req)
{
	size_t n = 0;

	for (unsigned i = 0; i < req->count && n < REQUEST_MAX; i++) {
		size_t take = req->buf[i].len;

		if (req->buf[i].writable)
			continue;
		if (take > REQUEST_MAX - n)
			take = REQUEST_MAX - n;
		memcpy(g->request + n, req->buf[i].host, take);
		n += take;
	}
	return n;
}

/* The response into the request's writable buffers; the bytes written. */
static uint32_t respond(const struct virtqueue_request *req, const uint8_t *resp, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < req->count && done < len; i++) {
		size_t n = req->buf[i].len;

		if (!req->buf[i].writable)
			continue;
		if (n > len - done)
			n = len - done;
		memcpy(req->buf[i].host, resp + done, n);
		done += n;
	}
	return (uint32_t)done;
}

static struct gpu_rect get_rect(const uint8_t *p)
{
	return (struct gpu_rect){ get_le32(p), get_le32(p + 4), get_le32(p + 8), get_le32(p + 12) };
}

/* Whether r lies within a width x height picture and is not empty. */
static bool rect_inside(struct gpu_rect r, uint32_t width, uint32_t height)
{
	return r.width && r.height && r.x <= width && r.width <= width - r.x && r.y <= height &&
	       r.height <= height - r.y;
}

/* ---- resources ---- */

static struct gpu_resource *find(struct virtio_gpu *g, uint32_t id)
{
	if (!id)
		return NULL;
	for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++)
		if (g->resources[i].id == id)
			return &g->resources[i];
	return NULL;
}

static int compare_offsets(const void *a, const void *b)
{
	const struct gpu_resource *x = *(struct gpu_resource *const *)a;
	const struct gpu_resource *y = *(struct gpu_resource *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* First fit in the pool: the lowest gap of size bytes; UINT64_MAX when none is left. */
static uint64_t pool_alloc(struct virtio_gpu *g, uint64_t size)
{
	struct gpu_resource *used[GPU_MAX_RESOURCES];
	unsigned n = 0;
	uint64_t at = 0;

	for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++)
		if (g->resources[i].id)
			used[n++] = &g->resources[i];
	qsort(used, n, sizeof(used[0]), compare_offsets);
	for (unsigned i = 0; i < n; i++) {
		if (used[i]->offset - at >= size)
			return at;
		at = used[i]->offset + used[i]->size;
	}
	return GPU_POOL_SIZE - at >= size ? at : UINT64_MAX;
}

static void detach(struct gpu_resource *res)
{
	free(res->backing);
	res->backing = NULL;
	res->backing_count = 0;
}

static bool format_known(uint32_t format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

static uint32_t create_2d(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	uint32_t id, format, width, height;
	struct gpu_resource *slot = NULL;
	uint64_t size, offset;

	if (len < HDR_SIZE + 16)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	id = get_le32(p + HDR_SIZE);
	format = get_le32(p + HDR_SIZE + 4);
	width = get_le32(p + HDR_SIZE + 8);
	height = get_le32(p + HDR_SIZE + 12);
	if (!id || find(g, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!format_known(format) || !width || !height || width > GPU_MAX_SIDE ||
	    height > GPU_MAX_SIDE)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (unsigned i = 0; i < GPU_MAX_RESOURCES && !slot; i++)
		if (!g->resources[i].id)
			slot = &g->resources[i];
	size = ((uint64_t)width * height * 4 + PAGE - 1) & ~(PAGE - 1);
	offset = slot ? pool_alloc(g, size) : UINT64_MAX;
	if (offset == UINT64_MAX)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	*slot = (struct gpu_resource){ .id = id,
				       .format = format,
				       .width = width,
				       .height = height,
				       .offset = offset,
				       .size = size };
	/* A new resource starts black, whatever an old one left in its part of the pool. */
	memset(g->pool + offset, 0, size);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void disable_scanout(struct virtio_gpu *g)
{
	pthread_mutex_lock(&g->lock);
	g->scanout_resource = 0;
	g->generation++;
	pthread_mutex_unlock(&g->lock);
}

static uint32_t unref(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct gpu_resource *res = len >= HDR_SIZE + 8 ? find(g, get_le32(p + HDR_SIZE)) : NULL;

	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (res->id == g->scanout_resource)
		disable_scanout(g);
	detach(res);
	res->id = 0;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t attach_backing(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct gpu_resource *res;
	struct gpu_backing *backing;
	uint32_t count;

	if (len < HDR_SIZE + 8)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	res = find(g, get_le32(p + HDR_SIZE));
	count = get_le32(p + HDR_SIZE + 4);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (res->backing || !count || count > GPU_MAX_BACKING_ENTRIES ||
	    len < HDR_SIZE + 8 + (size_t)count * 16)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	backing = calloc(count, sizeof(*backing));
	if (!backing)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = p + HDR_SIZE + 8 + (size_t)i * 16;
		uint32_t elen = get_le32(e + 8);

		/* Wholly in guest RAM, or nothing: the device never reaches past it. */
		backing[i] =
		    (struct gpu_backing){ guest_memory_ptr(g->vp.mem, get_le64(e), elen), elen };
		if (!backing[i].host || !elen) {
			free(backing);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	res->backing = backing;
	res->backing_count = count;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t detach_backing(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct gpu_resource *res = len >= HDR_SIZE + 8 ? find(g, get_le32(p + HDR_SIZE)) : NULL;

	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	detach(res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Walks a resource's backing forwards: rows of a transfer come in increasing offsets. */
struct backing_cursor {
	uint32_t entry;
	uint64_t base; /* the offset where that entry starts */
};

static bool backing_copy(const struct gpu_resource *res, struct backing_cursor *c, uint64_t offset,
			 uint8_t *dst, uint64_t len)
{
	if (offset < c->base)
		*c = (struct backing_cursor){};
	while (len) {
		const struct gpu_backing *e;
		uint64_t in, n;

		while (c->entry < res->backing_count &&
		       offset >= c->base + res->backing[c->entry].len) {
			c->base += res->backing[c->entry].len;
			c->entry++;
		}
		if (c->entry >= res->backing_count)
			return false;
		e = &res->backing[c->entry];
		in = offset - c->base;
		n = e->len - in < len ? e->len - in : len;
		memcpy(dst, e->host + in, n);
		dst += n;
		offset += n;
		len -= n;
	}
	return true;
}

static uint32_t transfer_to_host(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct backing_cursor cursor = {};
	struct gpu_resource *res;
	struct gpu_rect r;
	uint64_t offset, stride;

	if (len < HDR_SIZE + 32)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	r = get_rect(p + HDR_SIZE);
	offset = get_le64(p + HDR_SIZE + 16);
	res = find(g, get_le32(p + HDR_SIZE + 24));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing || !rect_inside(r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	stride = (uint64_t)res->width * 4;
	for (uint32_t row = 0; row < r.height; row++) {
		uint8_t *dst = g->pool + res->offset + (r.y + row) * stride + (uint64_t)r.x * 4;

		/* Row by row, as the guest's own layout has it: offset, then a stride a row. */
		if (offset > UINT64_MAX - row * stride ||
		    !backing_copy(res, &cursor, offset + row * stride, dst, (uint64_t)r.width * 4))
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t set_scanout(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct gpu_resource *res;
	struct gpu_rect r;
	uint32_t id;

	if (len < HDR_SIZE + 24)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	r = get_rect(p + HDR_SIZE);
	if (get_le32(p + HDR_SIZE + 16) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	id = get_le32(p + HDR_SIZE + 20);
	if (!id) {
		disable_scanout(g);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	res = find(g, id);
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	/* A scanout larger than its resource would show what lies past it in the pool. */
	if (!rect_inside(r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	pthread_mutex_lock(&g->lock);
	g->scanout_resource = id;
	g->scanout_x = r.x;
	g->scanout_y = r.y;
	g->scanout_width = r.width;
	g->scanout_height = r.height;
	g->generation++;
	pthread_mutex_unlock(&g->lock);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t flush(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	struct gpu_resource *res;
	struct gpu_rect r;

	if (len < HDR_SIZE + 24)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	r = get_rect(p + HDR_SIZE);
	res = find(g, get_le32(p + HDR_SIZE + 16));
	if (!res)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	pthread_mutex_lock(&g->lock);
	if (res->id == g->scanout_resource) {
		/* What of the flushed rectangle the scanout shows, in its coordinates. */
		uint32_t x0 = r.x > g->scanout_x ? r.x : g->scanout_x;
		uint32_t y0 = r.y > g->scanout_y ? r.y : g->scanout_y;
		uint32_t x1 = r.x + r.width, y1 = r.y + r.height;

		if (x1 > g->scanout_x + g->scanout_width)
			x1 = g->scanout_x + g->scanout_width;
		if (y1 > g->scanout_y + g->scanout_height)
			y1 = g->scanout_y + g->scanout_height;
		if (x1 > x0 && y1 > y0) {
			struct display_rect d = { x0 - g->scanout_x, y0 - g->scanout_y, x1 - x0,
						  y1 - y0 };

			display_rect_union(&g->damage, &d);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static size_t display_info(struct virtio_gpu *g, uint8_t *resp)
{
	uint8_t *mode = resp + HDR_SIZE;

	pthread_mutex_lock(&g->lock);
	put_le32(mode + 8, g->width);
	put_le32(mode + 12, g->height);
	pthread_mutex_unlock(&g->lock);
	put_le32(mode + 16, 1); /* enabled */
	return HDR_SIZE + VIRTIO_GPU_MAX_SCANOUTS * 24;
}

/* A detailed timing for width x height at 60 Hz, with reduced blanking (as CVT-RB has it). */
static void detailed_timing(uint8_t *d, unsigned width, unsigned height)
{
	unsigned hblank = 160, hfront = 48, hsync = 32, vfront = 3, vsync = 6, vblank = 23;
	unsigned clock = (width + hblank) * (height + vblank) * 60 / 10000; /* 10 kHz units */
	unsigned hmm = width * 254 / 960, vmm = height * 254 / 960;	    /* 96 dpi */

	put_le16(d, (uint16_t)clock);
	d[2] = (uint8_t)width;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)((width >> 8) << 4 | hblank >> 8);
	d[5] = (uint8_t)height;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)((height >> 8) << 4 | vblank >> 8);
	d[8] = (uint8_t)hfront;
	d[9] = (uint8_t)hsync;
	d[10] = (uint8_t)((vfront & 0xf) << 4 | (vsync & 0xf));
	d[11] = (uint8_t)((hfront >> 8) << 6 | (hsync >> 8) << 4 | (vfront >> 4) << 2 | vsync >> 4);
	d[12] = (uint8_t)hmm;
	d[13] = (uint8_t)vmm;
	d[14] = (uint8_t)((hmm >> 8) << 4 | (vmm >> 8));
	d[17] = 0x1e; /* digital separate sync, both positive */
}

/* An EDID 1.4 base block whose preferred mode is the one offered. */
static size_t edid(struct virtio_gpu *g, uint8_t *resp)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	static const uint8_t srgb[10] = {
		0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54
	};
	uint8_t *e = resp + HDR_SIZE + 8;
	unsigned width, height;
	uint8_t sum = 0;

	pthread_mutex_lock(&g->lock);
	width = g->width;
	height = g->height;
	pthread_mutex_unlock(&g->lock);
	put_le32(resp + HDR_SIZE, EDID_SIZE);
	memcpy(e, header, sizeof(header));
	e[8] = 0x41; /* "PHY" */
	e[9] = 0x19;
	put_le16(e + 10, 1);
	e[16] = 1;
	e[17] = 2026 - 1990;
	e[18] = 1;
	e[19] = 4;
	e[20] = 0xa5; /* digital, 8 bits a colour, DisplayPort */
	e[21] = (uint8_t)(width * 254 / 96000);
	e[22] = (uint8_t)(height * 254 / 96000);
	e[23] = 120;  /* gamma 2.2 */
	e[24] = 0x06; /* sRGB; the first detailed timing is the preferred mode */
	memcpy(e + 25, srgb, sizeof(srgb));
	memset(e + 38, 0x01, 16); /* no standard timings */
	detailed_timing(e + 54, width, height);
	memcpy(e + 72, "\0\0\0\xfc\0Phyllome\n    ", 18);
	memcpy(e + 90, "\0\0\0\x10\0", 5);
	memcpy(e + 108, "\0\0\0\x10\0", 5);
	for (unsigned i = 0; i < EDID_SIZE - 1; i++)
		sum = (uint8_t)(sum + e[i]);
	e[EDID_SIZE - 1] = (uint8_t)(0x100 - sum);
	return HDR_SIZE + 8 + 1024;
}

/* ---- the queues ---- */

size_t virtio_gpu_execute(struct virtio_gpu *g, const uint8_t *p, size_t len, uint8_t *resp)
{
	size_t resp_len = HDR_SIZE;
	uint32_t type = len >= HDR_SIZE ? get_le32(p) : 0, flags, result;

	memset(resp, 0, VIRTIO_GPU_RESPONSE_MAX);
	g->commands++;
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		resp_len = display_info(g, resp);
		result = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
		break;
	case VIRTIO_GPU_CMD_GET_EDID:
		if (len >= HDR_SIZE + 8 && get_le32(p + HDR_SIZE) == 0) {
			resp_len = edid(g, resp);
			result = VIRTIO_GPU_RESP_OK_EDID;
		} else {
			result = VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
		}
		break;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		result = create_2d(g, p, len);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		result = unref(g, p, len);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		result = attach_backing(g, p, len);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		result = detach_backing(g, p, len);
		break;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		result = transfer_to_host(g, p, len);
		break;
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		result = set_scanout(g, p, len);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		result = flush(g, p, len);
		break;
	default: /* 3D, blobs, capsets: not offered */
		result = VIRTIO_GPU_RESP_ERR_UNSPEC;
		break;
	}
	if (result >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		g->errors++;
		resp_len = HDR_SIZE;
		memset(resp, 0, VIRTIO_GPU_RESPONSE_MAX);
		log_debug("virtio-gpu: command 0x%x: error 0x%x", type, result);
	}
	/* Commands run to their end here: a fence the guest asked for is already signalled. */
	flags = len >= HDR_SIZE ? get_le32(p + 4) & VIRTIO_GPU_FLAG_FENCE : 0;
	put_le32(resp, result);
	put_le32(resp + 4, flags);
	if (flags) {
		memcpy(resp + 8, p + 8, 8);
		memcpy(resp + 16, p + 16, 5); /* ctx_id, ring_idx */
	}
	return resp_len;
}

void virtio_gpu_cursor_command(struct virtio_gpu *g, const uint8_t *p, size_t len)
{
	uint32_t type = len >= HDR_SIZE + 32 ? get_le32(p) : 0;
	struct display_cursor *c = &g->cursor;
	const struct gpu_resource *res;

	if (type != VIRTIO_GPU_CMD_UPDATE_CURSOR && type != VIRTIO_GPU_CMD_MOVE_CURSOR)
		return;
	pthread_mutex_lock(&g->lock);
	c->x = (int)get_le32(p + HDR_SIZE + 4);
	c->y = (int)get_le32(p + HDR_SIZE + 8);
	g->cursor_moved++;
	if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		res = find(g, get_le32(p + HDR_SIZE + 16));
		/* A pointer image is a resource of at most 64x64 (none: the pointer is hidden). */
		c->visible =
		    res && res->width <= DISPLAY_CURSOR_MAX && res->height <= DISPLAY_CURSOR_MAX;
		if (c->visible) {
			c->width = res->width;
			c->height = res->height;
			c->hot_x = get_le32(p + HDR_SIZE + 20) < res->width
				       ? get_le32(p + HDR_SIZE + 20)
				       : 0;
			c->hot_y = get_le32(p + HDR_SIZE + 24) < res->height
				       ? get_le32(p + HDR_SIZE + 24)
				       : 0;
			memcpy(c->pixels, g->pool + res->offset,
			       (size_t)res->width * res->height * 4);
		}
		g->cursor_generation++;
	}
	pthread_mutex_unlock(&g->lock);
}

static void run_command(struct virtio_gpu *g, const struct virtqueue_request *req,
			uint32_t *written)
{
	uint8_t resp[VIRTIO_GPU_RESPONSE_MAX];
	size_t len = gather(g, req);

	*written = respond(req, resp, virtio_gpu_execute(g, g->request, len, resp));
}

static void broken(struct virtio_pci *vp, const char *which)
{
	log_warning("virtio-gpu: the guest's %s queue is broken; the device needs a reset", which);
	virtio_pci_needs_reset(vp);
}

static void gpu_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_gpu *g = vp->opaque;
	struct virtqueue *vq = &vp->queues[q];
	struct virtqueue_request req;
	bool used = false;
	int r;

	if (q != CONTROL_QUEUE && q != CURSOR_QUEUE)
		return;
	while ((r = virtqueue_pop(vq, &req)) > 0) {
		uint32_t written = 0;

		if (q == CONTROL_QUEUE)
			run_command(g, &req, &written);
		else
			virtio_gpu_cursor_command(g, g->request, gather(g, &req));
		virtqueue_push(vq, &req, written);
		used = true;
	}
	if (used)
		virtio_pci_queue_done(vp, q);
	if (r < 0)
		broken(vp, q == CONTROL_QUEUE ? "control" : "cursor");
}

static void gpu_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_gpu *g = vp->opaque;
	uint8_t c[CONFIG_SIZE] = {};

	pthread_mutex_lock(&g->lock);
	put_le32(c + 0, g->events);
	pthread_mutex_unlock(&g->lock);
	put_le32(c + 8, 1); /* one scanout */
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
	else
		memset(data, 0, size);
}

static void gpu_config_write(struct virtio_pci *vp, uint32_t offset, const uint8_t *data,
			     unsigned size)
{
	struct virtio_gpu *g = vp->opaque;

	if (offset == 4 && size == 4) { /* events_clear */
		pthread_mutex_lock(&g->lock);
		g->events &= ~get_le32(data);
		pthread_mutex_unlock(&g->lock);
	}
}

static void gpu_reset(struct virtio_pci *vp)
{
	struct virtio_gpu *g = vp->opaque;

	for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++) {
		detach(&g->resources[i]);
		g->resources[i].id = 0;
	}
	disable_scanout(g);
}

static const struct virtio_device_ops gpu_ops = {
	.device_type = VIRTIO_ID_GPU,
	.pci_class = PCI_CLASS_DISPLAY_OTHER,
	.features = 1ULL << VIRTIO_GPU_F_EDID,
	.num_queues = 2,
	.queue_max_size = GPU_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = gpu_config_read,
	.config_write = gpu_config_write,
	.queue_notify = gpu_notify,
	.reset = gpu_reset,
};

int virtio_gpu_init_core(struct virtio_gpu *g, unsigned width, unsigned height,
			 const struct guest_memory *mem)
{
	*g = (struct virtio_gpu){ .pool_fd = -1, .width = width, .height = height };
	g->vp.mem = mem;
	pthread_mutex_init(&g->lock, NULL);
	g->request = malloc(REQUEST_MAX);
	g->pool_fd = memfd_create("phyllome-gpu-resources", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (!g->request || g->pool_fd < 0 || ftruncate(g->pool_fd, (off_t)GPU_POOL_SIZE) < 0)
		return log_error_errno(errno, "Cannot allocate virtio-gpu's resource memory: %m");
	g->pool = mmap(NULL, GPU_POOL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       g->pool_fd, 0);
	if (g->pool == MAP_FAILED) {
		g->pool = NULL;
		return log_error_errno(errno, "Cannot map virtio-gpu's resource memory: %m");
	}
	/* As the bochs framebuffer: listeners can neither shrink it nor write to it. */
	if (fcntl(g->pool_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return log_error_errno(errno, "Cannot seal virtio-gpu's resource memory: %m");
	return 0;
}

int virtio_gpu_init(struct virtio_gpu *g, unsigned width, unsigned height,
		    const struct virtio_host *host)
{
	int r = virtio_gpu_init_core(g, width, height, host->mem);

	return r < 0 ? r : virtio_pci_init(&g->vp, "virtio-gpu", &gpu_ops, g, host);
}

void virtio_gpu_done(struct virtio_gpu *g)
{
	if (g->vp.ops)
		virtio_pci_done(&g->vp);
	for (unsigned i = 0; i < GPU_MAX_RESOURCES; i++)
		detach(&g->resources[i]);
	if (g->pool)
		munmap(g->pool, GPU_POOL_SIZE);
	if (g->pool_fd >= 0)
		close(g->pool_fd);
	free(g->request);
	pthread_mutex_destroy(&g->lock);
	*g = (struct virtio_gpu){ .pool_fd = -1 };
}

/* ---- the display channel's view ---- */

static uint32_t drm_format(uint32_t format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		return DISPLAY_FORMAT_XRGB8888; /* bytes B, G, R, then alpha shown opaque */
	default:
		return 0;
	}
}

/* Under g->lock. */
static int current_scanout(struct virtio_gpu *g, struct display_scanout *ret)
{
	struct gpu_resource *res = find(g, g->scanout_resource);
	uint64_t stride;

	if (!res)
		return -ENODATA;
	if (!drm_format(res->format))
		return -ENOTSUP;
	stride = (uint64_t)res->width * 4;
	*ret = (struct display_scanout){
		.fd = g->pool_fd,
		.offset = res->offset + g->scanout_y * stride + (uint64_t)g->scanout_x * 4,
		.width = g->scanout_width,
		.height = g->scanout_height,
		.stride = (unsigned)stride,
		.format = drm_format(res->format),
	};
	return 0;
}

static int source_scanout(void *opaque, struct display_scanout *ret, uint64_t *generation)
{
	struct virtio_gpu *g = opaque;
	int r;

	pthread_mutex_lock(&g->lock);
	*generation = g->generation;
	r = current_scanout(g, ret);
	pthread_mutex_unlock(&g->lock);
	return r;
}

static void source_damage(void *opaque, const struct display_scanout *s, struct display_rect *ret)
{
	struct virtio_gpu *g = opaque;

	pthread_mutex_lock(&g->lock);
	*ret = g->damage;
	g->damage = (struct display_rect){};
	pthread_mutex_unlock(&g->lock);
}

struct shot {
	const uint8_t *pixels;
	struct display_scanout s;
};

static void scanout_row(void *opaque, unsigned y, uint8_t *rgb)
{
	const struct shot *shot = opaque;
	const uint8_t *p = shot->pixels + shot->s.offset + (uint64_t)y * shot->s.stride;

	for (unsigned x = 0; x < shot->s.width; x++, rgb += 3, p += 4) {
		rgb[0] = p[2];
		rgb[1] = p[1];
		rgb[2] = p[0];
	}
}

static int source_screenshot(void *opaque, int fd)
{
	struct virtio_gpu *g = opaque;
	struct shot shot = { .pixels = g->pool };
	struct png_source src;
	int r;

	pthread_mutex_lock(&g->lock);
	r = current_scanout(g, &shot.s);
	pthread_mutex_unlock(&g->lock);
	if (r < 0)
		return r;
	src = (struct png_source){
		.width = shot.s.width, .height = shot.s.height, .row = scanout_row, .opaque = &shot
	};
	return png_write(fd, &src);
}

/* A new mode to offer: the driver hears of it through the display event. */
static void source_size_hint(void *opaque, unsigned width, unsigned height)
{
	struct virtio_gpu *g = opaque;
	struct pci_bus *bus = g->vp.pci.bus;
	bool changed;

	if (width > GPU_MAX_MODE)
		width = GPU_MAX_MODE;
	if (height > GPU_MAX_MODE)
		height = GPU_MAX_MODE;
	pthread_mutex_lock(&g->lock);
	changed = width != g->width || height != g->height;
	g->width = width;
	g->height = height;
	if (changed)
		g->events |= VIRTIO_GPU_EVENT_DISPLAY;
	pthread_mutex_unlock(&g->lock);
	if (!changed)
		return;
	pthread_mutex_lock(&bus->lock);
	virtio_pci_config_changed(&g->vp);
	pthread_mutex_unlock(&bus->lock);
}

static void source_cursor(void *opaque, struct display_cursor *ret, uint64_t *generation,
			  uint64_t *moved)
{
	struct virtio_gpu *g = opaque;

	pthread_mutex_lock(&g->lock);
	*generation = g->cursor_generation;
	*moved = g->cursor_moved;
	if (ret)
		*ret = g->cursor;
	pthread_mutex_unlock(&g->lock);
}

const struct display_source_ops virtio_gpu_display_ops = {
	.scanout = source_scanout,
	.damage = source_damage,
	.screenshot = source_screenshot,
	.size_hint = source_size_hint,
	.cursor = source_cursor,
};

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-gpu's control commands as a hostile guest sends them: bad resource
 * IDs, backing outside guest RAM, transfers past the backing, a scanout
 * larger than its resource, a flood of resources; each gets its error and
 * the device goes on. Then the good path: a picture transferred from guest
 * memory shows through the display channel's view, flushes become damage,
 * and the EDID is a valid block with the offered mode.
 */
#include <glib.h>
#include <linux/virtio_gpu.h>
#include <string.h>

#include "memory.h"
#include "util.h"
#include "virtio/gpu.h"

static struct guest_memory mem;
static struct virtio_gpu gpu;
static uint8_t resp[VIRTIO_GPU_RESPONSE_MAX];

static uint8_t *hdr(uint8_t *p, uint32_t type)
{
	memset(p, 0, 24);
	put_le32(p, type);
	return p + 24;
}

static uint32_t run(const uint8_t *req, size_t len)
{
	(void)virtio_gpu_execute(&gpu, req, len, resp);
	return get_le32(resp);
}

static uint32_t create(uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
	uint8_t req[40], *p = hdr(req, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);

	put_le32(p, id);
	put_le32(p + 4, format);
	put_le32(p + 8, w);
	put_le32(p + 12, h);
	return run(req, sizeof(req));
}

static uint32_t attach(uint32_t id, uint64_t addr, uint32_t len)
{
	uint8_t req[48], *p = hdr(req, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);

	put_le32(p, id);
	put_le32(p + 4, 1);
	put_le64(p + 8, addr);
	put_le32(p + 16, len);
	return run(req, sizeof(req));
}

static uint32_t rect_cmd(uint32_t type, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			 uint64_t offset, uint32_t id)
{
	uint8_t req[56] = {}, *p = hdr(req, type);

	put_le32(p, x);
	put_le32(p + 4, y);
	put_le32(p + 8, w);
	put_le32(p + 12, h);
	if (type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D) {
		put_le64(p + 16, offset);
		put_le32(p + 24, id);
		return run(req, 24 + 32);
	}
	if (type == VIRTIO_GPU_CMD_SET_SCANOUT) {
		put_le32(p + 16, 0); /* scanout 0 */
		put_le32(p + 20, id);
		return run(req, 24 + 24);
	}
	put_le32(p + 16, id); /* flush */
	return run(req, 24 + 24);
}

static void setup(void)
{
	g_assert_cmpint(guest_memory_init(&mem, 64 << 20), ==, 0);
	g_assert_cmpint(virtio_gpu_init_core(&gpu, 1280, 800, &mem), ==, 0);
}

static void teardown(void)
{
	virtio_gpu_done(&gpu);
	guest_memory_done(&mem);
}

static void test_hostile(void)
{
	uint8_t req[64];

	setup();
	g_assert_cmpuint(run(req, 3), ==, VIRTIO_GPU_RESP_ERR_UNSPEC); /* shorter than a header */
	g_assert_cmpuint(create(0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	g_assert_cmpuint(create(1, 999, 64, 64), ==, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(create(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 64), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(create(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpuint(create(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID); /* the same ID twice */
	/* Backing outside guest RAM, or straddling its end. */
	g_assert_cmpuint(attach(1, 1ULL << 40, 4096), ==, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(attach(1, (64 << 20) - 4096, 8192), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(attach(7, 0x100000, 4096), ==, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* A transfer without backing, then past a backing too small for it. */
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 64, 64, 0, 1), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(attach(1, 0x100000, 4096), ==, VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 64, 64, 0, 1), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 64, 4, 0, 1), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	/* A rectangle past the resource, one that wraps around, an offset that wraps. */
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 60, 0, 8, 1, 0, 1), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0xffffffff, 0, 2, 1, 0, 1),
			 ==, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(
	    rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 1, 2, UINT64_MAX - 8, 1), ==,
	    VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* A scanout larger than its resource; another scanout; a resource that is not there. */
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 0, 0, 65, 64, 0, 1), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 0, 0, 64, 64, 0, 9), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0, 0, 64, 64, 0, 9), ==,
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* An attach that claims more entries than it carries. */
	memset(req, 0, sizeof(req));
	put_le32(hdr(req, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 1);
	put_le32(req + 28, 1000);
	g_assert_cmpuint(run(req, 48), ==, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* Commands of 3D and capsets: not offered. */
	hdr(req, VIRTIO_GPU_CMD_CTX_CREATE);
	g_assert_cmpuint(run(req, 64), ==, VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* A flood: the pool ends it, with ERR_OUT_OF_MEMORY, and unref makes room again. */
	{
		uint32_t id = 100, r;

		while ((r = create(id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4096, 4096)) ==
		       VIRTIO_GPU_RESP_OK_NODATA)
			id++;
		g_assert_cmpuint(r, ==, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
		g_assert_cmpuint(id - 100, <=, GPU_POOL_SIZE / (4096ULL * 4096 * 4));
		hdr(req, VIRTIO_GPU_CMD_RESOURCE_UNREF);
		put_le32(req + 24, 100);
		g_assert_cmpuint(run(req, 32), ==, VIRTIO_GPU_RESP_OK_NODATA);
		g_assert_cmpuint(create(id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4096, 4096), ==,
				 VIRTIO_GPU_RESP_OK_NODATA);
		while (id > 100) {
			put_le32(req + 24, id--);
			(void)run(req, 32);
		}
	}
	/* Many small ones: the resource table ends it too. */
	{
		uint32_t id = 10000, r;

		while ((r = create(id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1, 1)) ==
		       VIRTIO_GPU_RESP_OK_NODATA)
			id++;
		g_assert_cmpuint(r, ==, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	}
	teardown();
}

static void test_picture(void)
{
	struct display_scanout s;
	struct display_rect damage;
	uint64_t generation;
	uint8_t *src;
	uint8_t req[24 + 8];

	setup();
	/* The guest's 32x16 picture at 1 MiB of its RAM: orange. */
	src = guest_memory_ptr(&mem, 0x100000, 32 * 16 * 4);
	for (unsigned i = 0; i < 32 * 16; i++)
		put_le32(src + i * 4, 0x00ff8000);
	g_assert_cmpint(virtio_gpu_display_ops.scanout(&gpu, &s, &generation), ==, -ENODATA);
	g_assert_cmpuint(create(5, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 32, 16), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpuint(attach(5, 0x100000, 32 * 16 * 4), ==, VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 32, 16, 0, 5), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 8, 4, 16, 8, 0, 5), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpint(virtio_gpu_display_ops.scanout(&gpu, &s, &generation), ==, 0);
	g_assert_cmpuint(s.width, ==, 16);
	g_assert_cmpuint(s.height, ==, 8);
	g_assert_cmpuint(s.stride, ==, 128);
	g_assert_cmpuint(get_le32(gpu.pool + s.offset), ==, 0x00ff8000);
	/* A flush of the whole resource is damage of what the scanout shows, in its coordinates. */
	g_assert_cmpuint(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0, 0, 32, 16, 0, 5), ==,
			 VIRTIO_GPU_RESP_OK_NODATA);
	virtio_gpu_display_ops.damage(&gpu, &s, &damage);
	g_assert_cmpuint(damage.x, ==, 0);
	g_assert_cmpuint(damage.width, ==, 16);
	g_assert_cmpuint(damage.height, ==, 8);
	virtio_gpu_display_ops.damage(&gpu, &s, &damage);
	g_assert_cmpuint(damage.height, ==, 0);
	/* A fence comes back with its ID. */
	hdr(req, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	put_le32(req + 4, VIRTIO_GPU_FLAG_FENCE);
	put_le64(req + 8, 0x1234);
	g_assert_cmpuint(run(req, 24), ==, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	g_assert_cmpuint(get_le32(resp + 4), ==, VIRTIO_GPU_FLAG_FENCE);
	g_assert_cmpuint(get_le64(resp + 8), ==, 0x1234);
	g_assert_cmpuint(get_le32(resp + 24 + 8), ==, 1280);
	/* The EDID: its header, its checksum, the preferred mode in its first detailed timing. */
	hdr(req, VIRTIO_GPU_CMD_GET_EDID);
	put_le32(req + 24, 0);
	g_assert_cmpuint(run(req, 32), ==, VIRTIO_GPU_RESP_OK_EDID);
	{
		const uint8_t *e = resp + 32;
		uint8_t sum = 0;

		g_assert_cmpuint(get_le32(resp + 24), ==, 128);
		g_assert_cmpmem(e, 8, "\0\xff\xff\xff\xff\xff\xff\0", 8);
		for (unsigned i = 0; i < 128; i++)
			sum = (uint8_t)(sum + e[i]);
		g_assert_cmpuint(sum, ==, 0);
		g_assert_cmpuint(e[54 + 2] | (e[54 + 4] >> 4) << 8, ==, 1280);
		g_assert_cmpuint(e[54 + 5] | (e[54 + 7] >> 4) << 8, ==, 800);
	}
	/* A pointer image: a resource of at most 64x64 through the cursor queue; a larger one
	 * hides the pointer. */
	{
		struct display_cursor c;
		uint64_t image, moved;
		uint8_t cur[24 + 32] = {};

		g_assert_cmpuint(create(6, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), ==,
				 VIRTIO_GPU_RESP_OK_NODATA);
		g_assert_cmpuint(create(7, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 65, 64), ==,
				 VIRTIO_GPU_RESP_OK_NODATA);
		put_le32(hdr(cur, VIRTIO_GPU_CMD_UPDATE_CURSOR) + 4, 100); /* x */
		put_le32(cur + 24 + 16, 6);
		put_le32(cur + 24 + 20, 3);  /* hot spot */
		put_le32(cur + 24 + 24, 99); /* past the image: taken as 0 */
		virtio_gpu_cursor_command(&gpu, cur, sizeof(cur));
		virtio_gpu_display_ops.cursor(&gpu, &c, &image, &moved);
		g_assert_true(c.visible);
		g_assert_cmpuint(c.width, ==, 64);
		g_assert_cmpuint(c.hot_x, ==, 3);
		g_assert_cmpuint(c.hot_y, ==, 0);
		g_assert_cmpint(c.x, ==, 100);
		put_le32(cur + 24 + 16, 7);
		virtio_gpu_cursor_command(&gpu, cur, sizeof(cur));
		virtio_gpu_display_ops.cursor(&gpu, &c, &image, &moved);
		g_assert_false(c.visible);
		virtio_gpu_cursor_command(&gpu, cur, 10); /* short: ignored */
	}
	/* Unref of what the scanout shows turns it off. */
	hdr(req, VIRTIO_GPU_CMD_RESOURCE_UNREF);
	put_le32(req + 24, 5);
	g_assert_cmpuint(run(req, 32), ==, VIRTIO_GPU_RESP_OK_NODATA);
	g_assert_cmpint(virtio_gpu_display_ops.scanout(&gpu, &s, &generation), ==, -ENODATA);
	teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-gpu/hostile", test_hostile);
	g_test_add_func("/virtio-gpu/picture", test_picture);
	return g_test_run();
}

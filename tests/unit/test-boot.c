/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bzImage header parsing, e820 building and loading into guest RAM. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/e820.h"
#include "arch/x86_64/layout.h"

#define IMAGE_SIZE 8192

/* A minimal header a 64-bit Linux would have: protocol 2.15, setup_sects 1, XLF_KERNEL_64. */
static uint8_t *make_image(void)
{
	uint8_t *img = g_malloc0(IMAGE_SIZE);

	img[0x1f1] = 1;
	put_le16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;
	memcpy(img + 0x202, "HdrS", 4);
	put_le16(img + 0x206, 0x020f);
	img[0x211] = BZ_LOADFLAG_LOADED_HIGH;
	put_le32(img + 0x22c, 0x7fffffff);
	put_le32(img + 0x230, 0x200000);
	img[0x234] = 1;
	put_le16(img + 0x236, BZ_XLF_KERNEL_64);
	put_le32(img + 0x238, 2047);
	put_le64(img + 0x258, 0x1000000);
	put_le32(img + 0x260, 0x200000);
	return img;
}

static void test_parse_valid(void)
{
	g_autofree uint8_t *img = make_image();
	struct bzimage k;
	const char *reason = NULL;

	g_assert_cmpint(bzimage_parse(img, IMAGE_SIZE, &k, &reason), ==, 0);
	g_assert_cmpuint(k.version, ==, 0x020f);
	g_assert_cmpuint(k.setup_size, ==, 1024);
	g_assert_cmpuint(k.header_end, ==, 0x26c);
	g_assert_cmpuint(k.cmdline_size, ==, 2047);
	g_assert_cmpuint(k.pref_address, ==, 0x1000000);
	g_assert_cmpuint(k.init_size, ==, 0x200000);
	g_assert_true(k.relocatable);
}

static void test_parse_setup_sects_zero_means_four(void)
{
	g_autofree uint8_t *img = make_image();
	struct bzimage k;
	const char *reason = NULL;

	img[0x1f1] = 0;
	g_assert_cmpint(bzimage_parse(img, IMAGE_SIZE, &k, &reason), ==, 0);
	g_assert_cmpuint(k.setup_size, ==, 5 * 512);
}

static void expect_refusal(uint8_t *img, size_t size, const char *needle)
{
	struct bzimage k;
	const char *reason = NULL;

	g_assert_cmpint(bzimage_parse(img, size, &k, &reason), ==, -ENOEXEC);
	g_assert_nonnull(reason);
	g_assert_nonnull(strstr(reason, needle));
}

static void test_parse_refusals(void)
{
	g_autofree uint8_t *img = make_image();

	expect_refusal(img, 512, "too small");
	img[0x202] = 'X';
	expect_refusal(img, IMAGE_SIZE, "HdrS");
	img[0x202] = 'H';
	put_le16(img + 0x1fe, 0);
	expect_refusal(img, IMAGE_SIZE, "HdrS");
	put_le16(img + 0x1fe, 0xaa55);
	put_le16(img + 0x206, 0x0205);
	expect_refusal(img, IMAGE_SIZE, "older than 2.06");
	put_le16(img + 0x206, 0x020b); /* before xloadflags existed: no 64-bit entry to trust */
	expect_refusal(img, IMAGE_SIZE, "64-bit entry");
	put_le16(img + 0x206, 0x020f);
	put_le16(img + 0x236, 0);
	expect_refusal(img, IMAGE_SIZE, "64-bit entry");
	put_le16(img + 0x236, BZ_XLF_KERNEL_64);
	img[0x211] = 0;
	expect_refusal(img, IMAGE_SIZE, "zImage");
	img[0x211] = BZ_LOADFLAG_LOADED_HIGH;
	img[0x1f1] = 100;
	expect_refusal(img, IMAGE_SIZE, "more setup code");
	img[0x1f1] = 1;
	img[0x201] = 0x10;
	expect_refusal(img, IMAGE_SIZE, "truncated");
}

static void test_e820_small(void)
{
	struct guest_memory mem = { .size = 256ULL << 20, .low_size = 256ULL << 20 };
	struct e820_entry e[E820_MAX_ENTRIES];
	size_t n = e820_build(&mem, e);

	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpuint(e[0].addr, ==, 0);
	g_assert_cmpuint(e[0].size, ==, GUEST_EBDA_START);
	g_assert_cmpuint(e[0].type, ==, E820_RAM);
	g_assert_cmpuint(e[1].type, ==, E820_RESERVED);
	g_assert_cmpuint(e[1].addr + e[1].size, ==, GUEST_HIGH_MEMORY);
	g_assert_cmpuint(e[2].addr, ==, GUEST_HIGH_MEMORY);
	g_assert_cmpuint(e[2].addr + e[2].size, ==, 256ULL << 20);
	/* ECAM, reserved so that the guest trusts the MCFG. */
	g_assert_cmpuint(e[3].addr, ==, GUEST_PCI_ECAM_BASE);
	g_assert_cmpuint(e[3].size, ==, GUEST_PCI_ECAM_SIZE);
	g_assert_cmpuint(e[3].type, ==, E820_RESERVED);
	g_assert_cmpuint(sizeof(struct e820_entry), ==, 20);
}

static void test_e820_across_hole(void)
{
	struct guest_memory mem = { .size = 4ULL << 30, .low_size = GUEST_MMIO_HOLE_START };
	struct e820_entry e[E820_MAX_ENTRIES];
	size_t n = e820_build(&mem, e);
	uint64_t ram = 0;

	g_assert_cmpuint(n, ==, 5);
	g_assert_cmpuint(e[2].addr + e[2].size, ==, GUEST_MMIO_HOLE_START);
	g_assert_cmpuint(e[4].addr, ==, GUEST_MMIO_HOLE_END);
	for (size_t i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			ram += e[i].size;
	/* Every byte of RAM but the legacy hole is reported. */
	g_assert_cmpuint(ram, ==, mem.size - (GUEST_HIGH_MEMORY - GUEST_EBDA_START));
}

static void test_memory_ptr_bounds(void)
{
	struct guest_memory mem;

	g_assert_cmpint(guest_memory_init(&mem, 3ULL << 30 | 64ULL << 20), ==, 0);
	g_assert_nonnull(guest_memory_ptr(&mem, 0, 4096));
	g_assert_nonnull(guest_memory_ptr(&mem, GUEST_MMIO_HOLE_START - 4096, 4096));
	g_assert_null(guest_memory_ptr(&mem, GUEST_MMIO_HOLE_START - 4096, 4097));
	g_assert_null(guest_memory_ptr(&mem, GUEST_MMIO_HOLE_START, 1));
	g_assert_nonnull(guest_memory_ptr(&mem, GUEST_MMIO_HOLE_END, 64ULL << 20));
	g_assert_null(guest_memory_ptr(&mem, GUEST_MMIO_HOLE_END, (64ULL << 20) + 1));
	g_assert_null(guest_memory_ptr(&mem, UINT64_MAX - 10, 20));
	g_assert_true((uint8_t *)guest_memory_ptr(&mem, GUEST_MMIO_HOLE_END, 1) ==
		      mem.host + GUEST_MMIO_HOLE_START);
	guest_memory_done(&mem);
	g_assert_cmpint(guest_memory_init(&mem, 4ULL << 20), ==, -ERANGE);
}

static int memfd_with(size_t size)
{
	int fd = memfd_create("initrd", MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	return fd;
}

static void test_load(void)
{
	g_autofree uint8_t *img = make_image();
	struct guest_memory mem;
	struct bzimage k;
	struct boot_layout layout;
	const char *reason;
	uint8_t *bp;
	int fd = memfd_with(1 << 20);

	memset(img + 1024, 0x90, IMAGE_SIZE - 1024);
	g_assert_cmpint(bzimage_parse(img, IMAGE_SIZE, &k, &reason), ==, 0);
	g_assert_cmpint(guest_memory_init(&mem, 64ULL << 20), ==, 0);
	g_assert_cmpint(
	    x86_load_linux(&mem, &k, fd, 1 << 20, "console=ttyS0", GUEST_ACPI_ADDR, &layout), ==,
	    0);

	g_assert_cmpuint(layout.entry, ==, GUEST_KERNEL_ADDR + 0x200);
	g_assert_cmpuint(layout.initrd_addr % 4096, ==, 0);
	g_assert_cmpuint(layout.initrd_addr + layout.initrd_size, <=, 64ULL << 20);
	g_assert_cmpuint(layout.initrd_addr, >=, layout.kernel_end);
	g_assert_cmpmem(guest_memory_ptr(&mem, GUEST_KERNEL_ADDR, 4), 4, img + 1024, 4);
	g_assert_cmpstr(guest_memory_ptr(&mem, GUEST_CMDLINE_ADDR, 1), ==, "console=ttyS0");
	/* The reset vector writes the ACPI reset register: mov dx, 0x602; mov al, 1; out dx, al. */
	g_assert_cmpmem(guest_memory_ptr(&mem, GUEST_RESET_VECTOR, 6), 6,
			"\xba\x02\x06\xb0\x01\xee", 6);

	bp = guest_memory_ptr(&mem, GUEST_BOOT_PARAMS_ADDR, 4096);
	g_assert_cmpmem(bp + 0x202, 4, "HdrS", 4);
	g_assert_cmpuint(bp[0x210], ==, 0xff);
	g_assert_cmpuint(get_le32(bp + 0x228), ==, GUEST_CMDLINE_ADDR);
	g_assert_cmpuint(get_le32(bp + 0x218), ==, layout.initrd_addr);
	g_assert_cmpuint(get_le32(bp + 0x21c), ==, 1 << 20);
	g_assert_cmpuint(get_le64(bp + 0x70), ==, GUEST_ACPI_ADDR);
	g_assert_cmpuint(bp[0x1e8], ==, 4);

	/* Too big an initrd, too long a command line, too little RAM for the kernel. */
	g_assert_cmpint(x86_load_linux(&mem, &k, fd, 80ULL << 20, "", GUEST_ACPI_ADDR, &layout), ==,
			-ENOSPC);
	g_autofree char *longline = g_strnfill(3000, 'x');
	g_assert_cmpint(x86_load_linux(&mem, &k, -1, 0, longline, GUEST_ACPI_ADDR, &layout), ==,
			-E2BIG);
	put_le32(img + 0x260, 0x4000000);
	g_assert_cmpint(bzimage_parse(img, IMAGE_SIZE, &k, &reason), ==, 0);
	g_assert_cmpint(x86_load_linux(&mem, &k, -1, 0, "", GUEST_ACPI_ADDR, &layout), ==, -ENOSPC);
	/* An initrd file shorter than its announced size is an I/O error, not garbage in the guest.
	 */
	put_le32(img + 0x260, 0x200000);
	g_assert_cmpint(bzimage_parse(img, IMAGE_SIZE, &k, &reason), ==, 0);
	g_assert_cmpint(x86_load_linux(&mem, &k, fd, 2 << 20, "", GUEST_ACPI_ADDR, &layout), ==,
			-EIO);

	close(fd);
	guest_memory_done(&mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/bzimage/parse-valid", test_parse_valid);
	g_test_add_func("/bzimage/setup-sects-zero", test_parse_setup_sects_zero_means_four);
	g_test_add_func("/bzimage/refusals", test_parse_refusals);
	g_test_add_func("/e820/small", test_e820_small);
	g_test_add_func("/e820/across-hole", test_e820_across_hole);
	g_test_add_func("/memory/ptr-bounds", test_memory_ptr_bounds);
	g_test_add_func("/boot/load", test_load);
	return g_test_run();
}

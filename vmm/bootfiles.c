/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bootfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "log.h"
#include "options.h"
#include "util.h"

/* Larger than any kernel or initramfs we would boot, small enough to catch a wrong file. */
#define KERNEL_MAX_SIZE (256ULL << 20)

/*
 * "fd:N" names a file descriptor the VMM inherited (from phyllomed, which opened the file);
 * a path is opened with flags (O_RDONLY or O_RDWR).
 */
static int open_path_or_fd(const char *what, const char *path, int flags)
{
	int fd;

	if (strncmp(path, "fd:", 3) != 0) {
		fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return log_error_errno(errno, "Cannot open the %s %s%s: %m", what, path,
					       (flags & O_ACCMODE) == O_RDONLY ? ""
									       : " for writing");
		return fd;
	}
	if (parse_fd(path + 3, &fd) < 0)
		return log_error_errno(EBADF, "The %s %s is not an open file descriptor", what,
				       path);
	/* Ours now: the loader closes it once read, like a file it opened, so the guest never holds
	 * it. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_error_errno(errno, "Cannot use the %s %s: %m", what, path);
	return fd;
}

static int open_regular(const char *what, const char *path, int flags, struct stat *ret_st)
{
	_cleanup_close_ int fd = open_path_or_fd(what, path, flags);

	if (fd < 0)
		return fd;
	if (fstat(fd, ret_st) < 0)
		return log_error_errno(errno, "Cannot stat the %s %s: %m", what, path);
	if (!S_ISREG(ret_st->st_mode))
		return log_error_errno(EINVAL, "The %s %s is not a regular file", what, path);
	return TAKE_FD(fd);
}

int boot_files_open(struct boot_files *files, const char *kernel_path, const char *initrd_path,
		    const char *cmdline)
{
	_cleanup_close_ int kernel_fd = -1, initrd_fd = -1;
	_cleanup_free_ uint8_t *data = NULL;
	const char *reason = NULL;
	uint32_t cmdline_max;
	struct stat st;
	int r;

	memset(files, 0, sizeof(*files));
	files->initrd_fd = files->nvram_fd = -1;

	kernel_fd = open_regular("kernel", kernel_path, O_RDONLY, &st);
	if (kernel_fd < 0)
		return kernel_fd;
	if ((uint64_t)st.st_size > KERNEL_MAX_SIZE)
		return log_error_errno(EFBIG, "The kernel %s is %lld MiB: too large to be a kernel",
				       kernel_path, (long long)st.st_size >> 20);
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data)
		return log_error_errno(ENOMEM, "Cannot read the kernel %s: %m", kernel_path);
	r = pread_full(kernel_fd, data, (size_t)st.st_size, 0);
	if (r < 0)
		return log_error_errno(r, "Cannot read the kernel %s: %m", kernel_path);
#if defined(__x86_64__)
	r = bzimage_parse(data, (size_t)st.st_size, &files->kernel, &reason);
	cmdline_max = files->kernel.cmdline_size;
#elif defined(__aarch64__)
	r = arm64_image_parse(data, (size_t)st.st_size, &files->kernel, &reason);
	cmdline_max = ARM64_CMDLINE_MAX;
#endif
	if (r < 0)
		return log_error_errno(r, "Cannot boot %s: %s", kernel_path, reason);
	if (strlen(cmdline) > cmdline_max)
		return log_error_errno(E2BIG,
				       "The kernel command line is %zu bytes; %s takes at most %u",
				       strlen(cmdline), kernel_path, cmdline_max);

	if (initrd_path) {
		initrd_fd = open_regular("initrd", initrd_path, O_RDONLY, &st);
		if (initrd_fd < 0)
			return initrd_fd;
		files->initrd_size = (uint64_t)st.st_size;
		if (files->initrd_size == 0)
			return log_error_errno(EINVAL, "The initrd %s is empty", initrd_path);
	}

	files->kernel_data = TAKE_PTR(data);
	files->kernel.data = files->kernel_data;
	files->initrd_fd = TAKE_FD(initrd_fd);
	return 0;
}

/*
 * The variable store: written by the guest, so opened read-write (an inherited
 * descriptor must be so too), locked as a disk image is (two VMs writing one
 * store corrupt it), and no larger than what is left below the firmware.
 */
static int open_nvram(struct boot_files *files, const char *path)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;
	_cleanup_close_ int fd = open_regular("nvram", path, O_RDWR, &st);
	void *store;
	int flags;

	if (fd < 0)
		return fd;
	if ((flags = fcntl(fd, F_GETFL)) < 0 || (flags & O_ACCMODE) != O_RDWR)
		return log_error_errno(EBADF, "The nvram %s is not open for reading and writing",
				       path);
	if (st.st_size == 0 || st.st_size % 4096 ||
	    (uint64_t)st.st_size > FIRMWARE_MAX_SIZE - files->firmware_size)
		return log_error_errno(
		    EINVAL,
		    "The nvram %s is %lld bytes: a variable store is whole 4 KiB "
		    "pages, at most %llu KiB beside this firmware",
		    path, (long long)st.st_size, (FIRMWARE_MAX_SIZE - files->firmware_size) >> 10);
	if (fcntl(fd, F_OFD_SETLK, &lock) < 0)
		return log_error_errno(errno == EAGAIN || errno == EACCES ? EBUSY : errno,
				       "Cannot lock the nvram %s: %m (another VM uses it?)", path);
	store = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (store == MAP_FAILED)
		return log_error_errno(errno, "Cannot map the nvram %s: %m", path);
	files->nvram = store;
	files->nvram_size = (uint64_t)st.st_size;
	files->nvram_fd = TAKE_FD(fd);
	return 0;
}

int boot_files_open_firmware(struct boot_files *files, const char *firmware_path,
			     const char *nvram_path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	void *image;
	int r;

	memset(files, 0, sizeof(*files));
	files->initrd_fd = files->nvram_fd = -1;
	fd = open_regular("firmware", firmware_path, O_RDONLY, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size < FIRMWARE_MIN_SIZE || (uint64_t)st.st_size > FIRMWARE_MAX_SIZE ||
	    st.st_size % 4096)
		return log_error_errno(EINVAL,
				       "The firmware %s is %lld bytes: a firmware image is whole 4 "
				       "KiB pages, from %llu KiB to %llu MiB",
				       firmware_path, (long long)st.st_size,
				       FIRMWARE_MIN_SIZE >> 10, FIRMWARE_MAX_SIZE >> 20);
	image = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (image == MAP_FAILED)
		return log_error_errno(errno, "Cannot read the firmware %s: %m", firmware_path);
	r = pread_full(fd, image, (size_t)st.st_size, 0);
	if (r < 0) {
		(void)munmap(image, (size_t)st.st_size);
		return log_error_errno(r, "Cannot read the firmware %s: %m", firmware_path);
	}
	files->firmware = image;
	files->firmware_size = (uint64_t)st.st_size;
	return nvram_path ? open_nvram(files, nvram_path) : 0;
}

void boot_files_close(struct boot_files *files)
{
	if (files->firmware)
		(void)munmap(files->firmware, files->firmware_size);
	files->firmware = NULL;
	if (files->nvram)
		(void)munmap(files->nvram, files->nvram_size);
	files->nvram = NULL;
	if (files->nvram_fd >= 0)
		close(files->nvram_fd);
	files->nvram_fd = -1;
	free(files->kernel_data);
	files->kernel_data = NULL;
	if (files->initrd_fd >= 0)
		close(files->initrd_fd);
	files->initrd_fd = -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "util.h"

#define VIRTIO_ID_BLOCK 2
#define PCI_CLASS_STORAGE_SCSI 0x010000

#define VIRTIO_BLK_F_SEG_MAX (1ULL << 2)
#define VIRTIO_BLK_F_RO (1ULL << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ULL << 6)
#define VIRTIO_BLK_F_FLUSH (1ULL << 9)
#define VIRTIO_BLK_F_DISCARD (1ULL << 13)
#define VIRTIO_BLK_F_WRITE_ZEROES (1ULL << 14)

#define MAX_ERRORS_LOGGED 10

/* struct virtio_blk_config (5.2.4), the fields we offer. */
enum {
	CONFIG_CAPACITY = 0,
	CONFIG_SEG_MAX = 12,
	CONFIG_BLK_SIZE = 20,
	CONFIG_NUM_QUEUES = 34,
	CONFIG_MAX_DISCARD_SECTORS = 36,
	CONFIG_MAX_DISCARD_SEG = 40,
	CONFIG_DISCARD_SECTOR_ALIGNMENT = 44,
	CONFIG_MAX_WRITE_ZEROES_SECTORS = 48,
	CONFIG_MAX_WRITE_ZEROES_SEG = 52,
	CONFIG_WRITE_ZEROES_MAY_UNMAP = 56,
	CONFIG_SIZE = 60,
};

static struct virtio_blk *blk_of(struct virtio_pci *vp)
{
	return vp->opaque;
}

/* ---- opening the image ---- */

static int lock_image(struct virtio_blk *blk)
{
	struct flock lock = { .l_type = blk->config->readonly ? F_RDLCK : F_WRLCK,
			      .l_whence = SEEK_SET };

	/* Open file description locks, as QEMU takes them: two writers on one image corrupt it. */
	if (fcntl(blk->fd, F_OFD_SETLK, &lock) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return log_error_errno(
		    EBUSY, "Disk image %s is in use: another VM or program holds a lock on it",
		    blk->config->path);
	return log_error_errno(errno, "Cannot lock disk image %s: %m", blk->config->path);
}

static int open_image(struct virtio_blk *blk, int flags)
{
	const struct disk_config *config = blk->config;

	blk->fd = open(config->path, flags);
	if (blk->fd >= 0)
		return 0;
	if (errno == ENOENT)
		return log_error_errno(ENOENT, "Disk image %s does not exist", config->path);
	if (errno == EISDIR)
		return log_error_errno(
		    EISDIR,
		    "Disk image %s is a directory; a disk is a raw image file or a block device",
		    config->path);
	if (!config->readonly && (errno == EACCES || errno == EROFS || errno == EPERM))
		return log_error_errno(errno,
				       "Disk image %s cannot be opened for writing (%m); add "
				       ",readonly to give it to the "
				       "guest read-only",
				       config->path);
	if (config->direct && errno == EINVAL)
		return log_error_errno(
		    EINVAL,
		    "Disk image %s: its file system does not support O_DIRECT; drop ,direct",
		    config->path);
	return log_error_errno(errno, "Cannot open disk image %s: %m", config->path);
}

/* An image phyllomed opened for us: it must be open for what the options say. */
static int adopt_image(struct virtio_blk *blk)
{
	const struct disk_config *config = blk->config;
	int flags = fcntl(config->fd, F_GETFL);

	blk->fd = config->fd;
	if (flags < 0 || fcntl(blk->fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_error_errno(errno, "Disk %s: %m", config->path);
	if (!config->readonly && (flags & O_ACCMODE) != O_RDWR)
		return log_error_errno(EBADF, "Disk %s is open read-only; add ,readonly",
				       config->path);
	if (config->direct && !(flags & O_DIRECT) && fcntl(blk->fd, F_SETFL, flags | O_DIRECT) < 0)
		return log_error_errno(
		    errno, "Disk %s: cannot use O_DIRECT on it (%m); drop ,direct", config->path);
	return 0;
}

int virtio_blk_open(struct virtio_blk *blk, const struct disk_config *config, unsigned index)
{
	int flags =
	    (config->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (config->direct ? O_DIRECT : 0);
	struct stat st;
	uint64_t size;
	int r;

	memset(blk, 0, sizeof(*blk));
	blk->config = config;
	blk->fd = -1;
	blk->completions.fd = -1;
	snprintf(blk->name, sizeof(blk->name), "virtio-blk");
	if (config->fd >= 0) {
		r = adopt_image(blk);
		if (r < 0)
			return r;
	} else {
		r = open_image(blk, flags);
		if (r < 0)
			return r;
	}
	if (fstat(blk->fd, &st) < 0)
		return log_error_errno(errno, "Cannot stat disk image %s: %m", config->path);
	if (S_ISBLK(st.st_mode)) {
		blk->block_device = true;
		if (ioctl(blk->fd, BLKGETSIZE64, &size) < 0)
			return log_error_errno(errno, "Cannot get the size of block device %s: %m",
					       config->path);
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		return log_error_errno(
		    EINVAL, "Disk image %s is neither a raw image file nor a block device",
		    config->path);
	}
	if (size < BLK_SECTOR_SIZE)
		return log_error_errno(EINVAL,
				       "Disk image %s is empty (a disk needs at least 512 bytes)",
				       config->path);
	if (size % BLK_SECTOR_SIZE)
		log_warning("Disk image %s is not a whole number of 512-byte sectors; the guest "
			    "sees the last %llu "
			    "bytes as missing",
			    config->path, (unsigned long long)(size % BLK_SECTOR_SIZE));
	blk->sectors = size / BLK_SECTOR_SIZE;
	blk->disk.sectors = blk->sectors;
	blk->disk.readonly = config->readonly;
	memcpy(blk->disk.serial, config->serial, sizeof(blk->disk.serial));
	r = lock_image(blk);
	if (r < 0)
		return r;
	log_info("Disk %u: %s, %llu MiB%s%s%s", index, config->path,
		 (unsigned long long)(size >> 20), config->readonly ? ", read-only" : "",
		 config->direct ? ", O_DIRECT" : "", blk->block_device ? ", block device" : "");
	return 0;
}

/* ---- the ring ---- */

static void log_io_error(struct virtio_blk *blk, const struct blk_op *op, int res)
{
	static const char *const what[] = {
		[VIRTIO_BLK_T_IN] = "read",
		[VIRTIO_BLK_T_OUT] = "write",
		[VIRTIO_BLK_T_FLUSH] = "flush",
		[VIRTIO_BLK_T_DISCARD] = "discard",
		[VIRTIO_BLK_T_WRITE_ZEROES] = "write-zeroes",
	};
	const char *name = op->type < sizeof(what) / sizeof(what[0]) && what[op->type]
			       ? what[op->type]
			       : "request";

	if (blk->errors_logged == MAX_ERRORS_LOGGED)
		return;
	if (res < 0)
		log_warning(
		    "Disk %s: %s of %llu bytes at %llu failed: %s; the guest gets an I/O error",
		    blk->config->path, name, (unsigned long long)op->length,
		    (unsigned long long)op->offset, strerror(-res));
	else
		log_warning("Disk %s: %s of %llu bytes at %llu moved only %d bytes (the image "
			    "shrank?); the guest "
			    "gets an I/O error",
			    blk->config->path, name, (unsigned long long)op->length,
			    (unsigned long long)op->offset, res);
	if (++blk->errors_logged == MAX_ERRORS_LOGGED)
		log_warning("Disk %s: further I/O errors are not logged", blk->config->path);
}

static void release(struct virtio_blk *blk, struct blk_request *r)
{
	r->next_free = blk->free_requests;
	blk->free_requests = r;
}

/* Gives the request back to the driver with its status. */
static void complete(struct virtio_blk *blk, struct blk_request *r, uint8_t status)
{
	uint32_t written = 0;

	if (r->op.status_byte) {
		*r->op.status_byte = status;
		written = status == VIRTIO_BLK_S_OK ? r->op.written : 1;
	}
	virtqueue_push(&blk->vp.queues[0], &r->req, written);
	release(blk, r);
}

/* The ring has a slot per request, so there is always an entry. */
static void submit_op(struct virtio_blk *blk, struct blk_request *r, int fallocate_mode)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&blk->ring);
	struct blk_op *op = &r->op;

	if (!sqe) {
		complete(blk, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	switch (op->action) {
	case BLK_READ:
		io_uring_prep_readv(sqe, 0, op->iov, op->iov_count, op->offset);
		break;
	case BLK_WRITE:
		io_uring_prep_writev(sqe, 0, op->iov, op->iov_count, op->offset);
		break;
	case BLK_FLUSH:
		/* Durable when the guest's fsync returns: the data and what is needed to read it
		 * back. */
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		break;
	case BLK_FALLOCATE:
		io_uring_prep_fallocate(sqe, 0, fallocate_mode, op->offset, op->length);
		break;
	case BLK_ANSWER:
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	blk->in_flight++;
}

static void start_request(struct virtio_blk *blk, struct blk_request *r)
{
	blk_request_decode(&blk->disk, &r->req, &r->op);
	if (r->op.action != BLK_ANSWER) {
		submit_op(blk, r, r->op.fallocate_mode);
		return;
	}
	if (!r->op.status_byte && blk->errors_logged < MAX_ERRORS_LOGGED) {
		blk->errors_logged++;
		log_warning("Disk %s: the guest sent a request without a status byte",
			    blk->config->path);
	}
	complete(blk, r, r->op.status);
}

static void finish(struct virtio_blk *blk, struct blk_request *r, int res)
{
	uint64_t expected =
	    r->op.action == BLK_READ || r->op.action == BLK_WRITE ? r->op.length : 0;

	blk->in_flight--;
	if (res == -EOPNOTSUPP && r->op.type == VIRTIO_BLK_T_WRITE_ZEROES &&
	    !(r->op.fallocate_mode & FALLOC_FL_PUNCH_HOLE)) {
		/* Some file systems cannot zero a range in place (tmpfs); a hole reads back as
		 * zeroes too. */
		submit_op(blk, r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
		return;
	}
	if (res == -EOPNOTSUPP && r->op.type == VIRTIO_BLK_T_DISCARD) {
		complete(blk, r, VIRTIO_BLK_S_OK); /* discarding is a hint */
		return;
	}
	if (res < 0 || (uint64_t)res != expected) {
		log_io_error(blk, &r->op, res);
		complete(blk, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	complete(blk, r, VIRTIO_BLK_S_OK);
}

static void submit(struct virtio_blk *blk)
{
	int r = io_uring_submit(&blk->ring);

	if (r < 0)
		log_warning("Disk %s: io_uring_submit: %s", blk->config->path, strerror(-r));
}

/* Takes every request the driver queued, as far as we have room. */
static void take_requests(struct virtio_blk *blk)
{
	struct virtqueue *vq = &blk->vp.queues[0];
	bool used = false;
	int r = 0;

	blk->waiting_for_slot = false;
	for (;;) {
		struct blk_request *req = blk->free_requests;

		if (!req) {
			blk->waiting_for_slot = true;
			break;
		}
		r = virtqueue_pop(vq, &req->req);
		if (r <= 0)
			break;
		blk->free_requests = req->next_free;
		start_request(blk, req);
		used = true;
	}
	if (used)
		submit(blk);
	/* Requests answered at once (GET_ID, bad ones) are in the used ring already. */
	virtio_pci_queue_done(&blk->vp, 0);
	if (r < 0) {
		log_warning(
		    "Disk %s: the guest's request queue is broken; the device needs a reset",
		    blk->config->path);
		virtio_pci_needs_reset(&blk->vp);
	}
}

/* Bus lock held. */
static void reap(struct virtio_blk *blk)
{
	struct io_uring_cqe *cqe;
	bool any = false;

	while (io_uring_peek_cqe(&blk->ring, &cqe) == 0) {
		struct blk_request *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&blk->ring, cqe);
		finish(blk, r, res);
		any = true;
	}
	if (!any)
		return;
	submit(blk); /* write-zeroes retried as a hole */
	virtio_pci_queue_done(&blk->vp, 0);
}

static void completions_ready(struct watch *w, uint32_t events)
{
	struct virtio_blk *blk = container_of(w, struct virtio_blk, completions);
	struct pci_bus *bus = blk->vp.pci.bus;

	/* (The completion queue says what is done; the count only needs to go.) */
	(void)eventfd_drain(w->fd);
	pthread_mutex_lock(&bus->lock);
	reap(blk);
	if (blk->waiting_for_slot && (blk->vp.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(blk->vp.status & VIRTIO_STATUS_NEEDS_RESET))
		take_requests(blk);
	pthread_mutex_unlock(&bus->lock);
}

static void blk_notify(struct virtio_pci *vp, unsigned q)
{
	take_requests(blk_of(vp));
}

/* What is in flight writes into guest memory the driver may reuse after a reset: wait for it. */
static void drain(struct virtio_blk *blk)
{
	while (blk->ring_ready && blk->in_flight) {
		struct io_uring_cqe *cqe;
		struct blk_request *req;
		int r = io_uring_wait_cqe(&blk->ring, &cqe);

		if (r < 0) {
			if (r == -EINTR)
				continue;
			log_error("Disk %s: waiting for in-flight I/O: %s", blk->config->path,
				  strerror(-r));
			return;
		}
		req = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&blk->ring, cqe);
		blk->in_flight--;
		release(blk, req);
	}
}

static void blk_reset(struct virtio_pci *vp)
{
	struct virtio_blk *blk = blk_of(vp);

	if (!blk)
		return; /* virtio_pci_init() resets before we are set up */
	drain(blk);
	blk->waiting_for_slot = false;
}

static void blk_config_read(struct virtio_pci *vp, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_blk *blk = blk_of(vp);
	uint8_t c[CONFIG_SIZE] = {};

	put_le64(c + CONFIG_CAPACITY, blk->sectors);
	put_le32(c + CONFIG_SEG_MAX, VIRTQUEUE_MAX_SEGMENTS - 2); /* and the header and status */
	/* O_DIRECT wants aligned I/O; 4 KiB blocks make the guest send only that. */
	put_le32(c + CONFIG_BLK_SIZE, blk->config->direct ? 4096 : BLK_SECTOR_SIZE);
	put_le16(c + CONFIG_NUM_QUEUES, 1);
	put_le32(c + CONFIG_MAX_DISCARD_SECTORS, BLK_MAX_RANGE_SECTORS);
	put_le32(c + CONFIG_MAX_DISCARD_SEG, 1);
	put_le32(c + CONFIG_DISCARD_SECTOR_ALIGNMENT, 4096 / BLK_SECTOR_SIZE);
	put_le32(c + CONFIG_MAX_WRITE_ZEROES_SECTORS, BLK_MAX_RANGE_SECTORS);
	put_le32(c + CONFIG_MAX_WRITE_ZEROES_SEG, 1);
	c[CONFIG_WRITE_ZEROES_MAY_UNMAP] = 1;
	if (offset + size <= CONFIG_SIZE)
		memcpy(data, c + offset, size);
}

static const struct virtio_device_ops blk_ops = {
	.device_type = VIRTIO_ID_BLOCK,
	.pci_class = PCI_CLASS_STORAGE_SCSI,
	.features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH |
		    VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES,
	.num_queues = 1,
	.queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
	.config_size = CONFIG_SIZE,
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
	.reset = blk_reset,
};

/* The ring may touch only the image, and only to read, write, sync and allocate. */
static int restrict_ring(struct virtio_blk *blk)
{
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FALLOCATE },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED, .sqe_flags = IOSQE_FIXED_FILE },
	};
	int r;

	/* Debian's liburing 2.3 leaves io_uring_register_restrictions() and io_uring_enable_rings()
	 * out of its ABI. */
	if ((r = io_uring_register_files(&blk->ring, &blk->fd, 1)) < 0 ||
	    (r = io_uring_register_eventfd(&blk->ring, blk->completions.fd)) < 0 ||
	    (r = io_uring_register((unsigned)blk->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res,
				   sizeof(res) / sizeof(res[0]))) < 0 ||
	    (r = io_uring_register((unsigned)blk->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
				   0)) < 0)
		return r;
	return 0;
}

int virtio_blk_init(struct virtio_blk *blk, const struct virtio_host *host)
{
	int r;

	for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		release(blk, &blk->requests[i]);
	blk->completions = (struct watch){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
					   .ready = completions_ready };
	if (blk->completions.fd < 0)
		return log_error_errno(errno, "eventfd: %m");
	r = io_uring_queue_init(VIRTIO_BLK_QUEUE_SIZE, &blk->ring, IORING_SETUP_R_DISABLED);
	if (r < 0)
		return log_error_errno(
		    r, "Disk %s: cannot set up io_uring: %m (is io_uring disabled on this host?)",
		    blk->config->path);
	blk->ring_ready = true;
	r = restrict_ring(blk);
	if (r < 0)
		return log_error_errno(r, "Disk %s: cannot restrict its io_uring ring: %m",
				       blk->config->path);
	r = event_loop_add(&host->io->loop, &blk->completions, EPOLLIN);
	if (r < 0)
		return log_error_errno(r, "Disk %s: cannot watch its completions: %m",
				       blk->config->path);
	r = virtio_pci_init(&blk->vp, blk->name, &blk_ops, blk, host);
	if (r < 0)
		return r;
	/* A read-only disk says so, and offers nothing that writes. */
	if (blk->config->readonly)
		blk->vp.features = (blk->vp.features | VIRTIO_BLK_F_RO) &
				   ~(VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES);
	return 0;
}

void virtio_blk_done(struct virtio_blk *blk)
{
	drain(blk);
	if (blk->vp.ops)
		virtio_pci_done(&blk->vp);
	if (blk->completions.fd >= 0 && blk->vp.host.io)
		event_loop_remove(&blk->vp.host.io->loop, &blk->completions);
	if (blk->ring_ready)
		io_uring_queue_exit(&blk->ring);
	blk->ring_ready = false;
	if (blk->completions.fd >= 0)
		close(blk->completions.fd);
	blk->completions.fd = -1;
	if (blk->fd >= 0)
		close(blk->fd);
	blk->fd = -1;
}

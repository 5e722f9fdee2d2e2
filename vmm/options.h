/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum serial_kind {
	SERIAL_STDIO,
	SERIAL_FILE,
	SERIAL_SOCKET,
	SERIAL_SOCKET_FD, /* an inherited listening socket: serial_fd */
	SERIAL_NONE,
};

#define VM_MAX_DISKS 16
#define DISK_SERIAL_MAX 20 /* virtio-blk's GET_ID answer */

struct disk_config {
	char path[4096]; /* or "fd:N" */
	int fd;		 /* an inherited image fd (fd:N), or -1 */
	bool readonly;
	bool direct; /* O_DIRECT: the host's page cache is bypassed */
	char serial[DISK_SERIAL_MAX + 1];
};

#define VM_MAX_NICS 8

enum vhost_mode {
	VHOST_AUTO, /* vhost-net when /dev/vhost-net can be used, else the device thread */
	VHOST_ON,
	VHOST_OFF,
};

struct net_config {
	char tap[16]; /* interface name (IFNAMSIZ), or empty when fd is set */
	int fd;	      /* an inherited tap file descriptor, or -1 */
	uint8_t mac[6];
	bool mac_set;
	enum vhost_mode vhost;
	int vhost_fd; /* an inherited /dev/vhost-net fd, or -1 */
};

#define VM_MAX_VFIO 8
#define PCI_BDF_MAX 12 /* "0000:00:00.0" */

/* A host PCI device given to the guest through VFIO. */
struct vfio_config {
	char bdf[PCI_BDF_MAX + 1]; /* domain:bus:slot.function, normalized */
	int group_fd;		   /* an inherited /dev/vfio/N, or -1 to open it */
};

enum display_kind {
	DISPLAY_NONE,
	DISPLAY_BOCHS,
	DISPLAY_VIRTIO_GPU,
};

struct vm_config {
	const char *name;
	const char *kernel;
	const char *firmware; /* instead of kernel: an image to start at the reset vector */
	const char *nvram;    /* with firmware: its variable store, a flash below it */
	uint8_t uuid[16];     /* with firmware: the SMBIOS system UUID (all zeros: none given) */
	enum display_kind display; /* --display: what the firmware and the OS draw on */
	unsigned resolution_width, resolution_height; /* --resolution (0: the default) */
	bool input; /* --input: a virtio keyboard and tablet (default: with a display) */
	const char *initrd;
	const char *cmdline;
	unsigned cpus;
	uint64_t memory;
	enum serial_kind serial;
	const char *serial_path;
	int serial_fd;
	int kvm_fd;		   /* inherited /dev/kvm, or -1 to open it */
	const char *control_path;  /* control socket to create, or NULL */
	int control_fd;		   /* inherited control socket, or -1 */
	unsigned shutdown_timeout; /* seconds between the power button and a hard stop */
	bool sandbox;		   /* confine the monitor before the guest runs (--sandbox) */
	struct disk_config disks[VM_MAX_DISKS];
	unsigned disk_count;
	struct net_config nics[VM_MAX_NICS];
	unsigned nic_count;
	uint64_t vsock_cid; /* --vsock cid=N; 0: no vsock device */
	int vsock_vhost_fd; /* an inherited /dev/vhost-vsock fd, or -1 */
	struct vfio_config vfio[VM_MAX_VFIO];
	unsigned vfio_count;
	int vfio_container_fd; /* an inherited /dev/vfio/vfio, or -1 to open it */
	bool hvc;	       /* a virtio-console (--console), with its host end: */
	enum serial_kind hvc_kind;
	const char *hvc_path;
	int hvc_fd;
	/* Test builds only; also read from the guest's command line (phyllome.test-hook=VALUE, for
	 * monitors that phyllomed starts): */
	const char *test_forbidden_syscall; /* main|vcpu|io|signal:PID, see sandbox.h */
	bool test_console_pass_fd;	    /* each console client is sent an fd (console.h) */
	int log_level;
};

/* xAPIC IDs are 8 bits and 0xff is broadcast; one more ID goes to the IOAPIC. */
#define VM_MAX_CPUS 254
#define VM_DEFAULT_MEMORY (512ULL << 20)
#define VM_DEFAULT_SHUTDOWN_TIMEOUT 30

enum options_action {
	OPTIONS_RUN,
	OPTIONS_HELP,
	OPTIONS_VERSION,
};

/* The project's size grammar (common/size.h); a bare number means MiB. */
int parse_size(const char *s, uint64_t *ret);
/* A file descriptor number above 2 that is open in this process. */
int parse_fd(const char *s, int *ret);
int parse_serial(const char *s, enum serial_kind *ret_kind, const char **ret_path);
/* PATH|fd:N[,readonly][,serial=ID][,direct]; on -EINVAL *ret_error says what is wrong. */
int parse_disk(const char *s, struct disk_config *ret, const char **ret_error);

/* tap=NAME|fd=N[,mac=MAC][,vhost=on|off][,vhost-fd=N]; on -EINVAL *ret_error says what is wrong. */
int parse_net(const char *s, struct net_config *ret, const char **ret_error);

/* A PCI address, [DOMAIN:]BUS:SLOT.FUNCTION in hex, into its full lower-case form. */
int parse_pci_bdf(const char *s, size_t len, char ret[static PCI_BDF_MAX + 1]);
/* BDF|group-fd=N,device=BDF; on -EINVAL *ret_error says what is wrong. */
int parse_vfio(const char *s, struct vfio_config *ret, const char **ret_error);

/* The file descriptors the options name: those the monitor keeps. */
#define OPTIONS_MAX_FDS (10 + 2 * VM_MAX_NICS + VM_MAX_DISKS + VM_MAX_VFIO)
size_t options_inherited_fds(const struct vm_config *c, int fds[static OPTIONS_MAX_FDS]);

/* Fills *ret; on a usage error prints why to stderr and returns -EINVAL. */
int options_parse(int argc, char **argv, struct vm_config *ret, enum options_action *ret_action);
void options_help(const char *program);

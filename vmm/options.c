/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "memory.h"
#include "size.h"

int parse_size(const char *s, uint64_t *ret)
{
	return size_parse(s, SIZE_MIB, ret);
}

int parse_serial(const char *s, enum serial_kind *ret_kind, const char **ret_path)
{
	if (strcmp(s, "stdio") == 0) {
		*ret_kind = SERIAL_STDIO;
		*ret_path = NULL;
	} else if (strcmp(s, "none") == 0) {
		*ret_kind = SERIAL_NONE;
		*ret_path = NULL;
	} else if (strncmp(s, "file:", 5) == 0 && s[5]) {
		*ret_kind = SERIAL_FILE;
		*ret_path = s + 5;
	} else if (strncmp(s, "socket:", 7) == 0 && s[7]) {
		*ret_kind = SERIAL_SOCKET;
		*ret_path = s + 7;
	} else if (strncmp(s, "fd:", 3) == 0 && s[3]) {
		*ret_kind = SERIAL_SOCKET_FD;
		*ret_path = s + 3;
	} else {
		return -EINVAL;
	}
	return 0;
}

int parse_disk(const char *s, struct disk_config *ret, const char **ret_error)
{
	const char *comma = strchr(s, ',');
	size_t path_len = comma ? (size_t)(comma - s) : strlen(s);
	struct disk_config d = { .fd = -1 };

	if (path_len == 0) {
		*ret_error = "expected PATH[,readonly][,serial=ID][,direct]";
		return -EINVAL;
	}
	if (path_len >= sizeof(d.path)) {
		*ret_error = "the path is too long";
		return -EINVAL;
	}
	memcpy(d.path, s, path_len);
	if (strncmp(d.path, "fd:", 3) == 0 && parse_fd(d.path + 3, &d.fd) < 0) {
		*ret_error = "fd:N takes an open file descriptor number above 2";
		return -EINVAL;
	}
	while (comma) {
		const char *item = comma + 1, *end;
		size_t len;

		comma = strchr(item, ',');
		end = comma ? comma : item + strlen(item);
		len = (size_t)(end - item);
		if (len == 8 && strncmp(item, "readonly", 8) == 0) {
			d.readonly = true;
		} else if (len == 6 && strncmp(item, "direct", 6) == 0) {
			d.direct = true;
		} else if (len >= 7 && strncmp(item, "serial=", 7) == 0) {
			if (len == 7 || len - 7 > DISK_SERIAL_MAX) {
				*ret_error = "serial=ID takes 1 to 20 characters";
				return -EINVAL;
			}
			for (const char *c = item + 7; c < end; c++)
				if (*c < 0x21 || *c > 0x7e) {
					*ret_error =
					    "serial=ID takes printable ASCII without spaces";
					return -EINVAL;
				}
			memcpy(d.serial, item + 7, len - 7);
		} else {
			*ret_error =
			    "unknown option after the path: expected readonly, serial=ID or direct";
			return -EINVAL;
		}
	}
	*ret = d;
	return 0;
}

static int parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	unsigned v[6];
	char buf[18], tail;

	if (len != 17)
		return -EINVAL;
	memcpy(buf, s, 17);
	buf[17] = '\0';
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int parse_unsigned(const char *s, unsigned long max, unsigned *ret);

/* cid=N[,vhost-fd=M]: 0-2 are the hypervisor, local and host; 2^32-1 is VMADDR_CID_ANY. */
static int parse_vsock(const char *s, uint64_t *ret_cid, int *ret_fd)
{
	const char *comma = strchr(s, ',');
	unsigned long long cid;
	char *end;

	if (strncmp(s, "cid=", 4) != 0 || s[4] < '0' || s[4] > '9')
		return -EINVAL;
	errno = 0;
	cid = strtoull(s + 4, &end, 10);
	if (errno || (*end && end != comma) || cid < 3 || cid >= 0xffffffffULL)
		return -EINVAL;
	*ret_fd = -1;
	if (comma && (strncmp(comma + 1, "vhost-fd=", 9) != 0 || parse_fd(comma + 10, ret_fd) < 0))
		return -EINVAL;
	*ret_cid = cid;
	return 0;
}

int parse_pci_bdf(const char *s, size_t len, char ret[static PCI_BDF_MAX + 1])
{
	unsigned domain = 0, bus, slot, function;
	char buf[PCI_BDF_MAX + 2], tail;

	if (len > PCI_BDF_MAX || strspn(s, "0123456789abcdefABCDEF:.") < len)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &function, &tail) != 4 &&
	    (domain = 0, sscanf(buf, "%2x:%2x.%1x%c", &bus, &slot, &function, &tail) != 3))
		return -EINVAL;
	if (slot > 31 || function > 7)
		return -EINVAL;
	snprintf(ret, PCI_BDF_MAX + 1, "%04x:%02x:%02x.%x", domain, bus, slot, function);
	return 0;
}

int parse_vfio(const char *s, struct vfio_config *ret, const char **ret_error)
{
	struct vfio_config v = { .group_fd = -1 };
	const char *item = s;

	*ret_error = "expected a PCI address such as 0000:01:00.0, or group-fd=N,device=ADDRESS";
	if (parse_pci_bdf(s, strlen(s), v.bdf) == 0) {
		*ret = v;
		return 0;
	}
	while (item) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);

		if (len > 9 && strncmp(item, "group-fd=", 9) == 0 && v.group_fd < 0) {
			char num[16] = {};

			if (len - 9 >= sizeof(num) ||
			    (memcpy(num, item + 9, len - 9), parse_fd(num, &v.group_fd)) < 0) {
				*ret_error =
				    "group-fd= takes an open file descriptor number above 2";
				return -EINVAL;
			}
		} else if (len > 7 && strncmp(item, "device=", 7) == 0 && !v.bdf[0]) {
			if (parse_pci_bdf(item + 7, len - 7, v.bdf) < 0) {
				*ret_error = "device= takes a PCI address such as 0000:01:00.0";
				return -EINVAL;
			}
		} else {
			return -EINVAL;
		}
		item = comma ? comma + 1 : NULL;
	}
	if (v.group_fd < 0 || !v.bdf[0]) {
		*ret_error = "group-fd=N and device=ADDRESS go together";
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int parse_net(const char *s, struct net_config *ret, const char **ret_error)
{
	struct net_config n = { .fd = -1, .vhost_fd = -1 };
	const char *item = s;

	*ret_error = "expected tap=NAME or fd=N, then [,mac=MAC][,vhost=on|off][,vhost-fd=N]";
	while (item) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);

		if (len > 4 && strncmp(item, "tap=", 4) == 0 && !n.tap[0] && n.fd < 0) {
			if (len - 4 >= sizeof(n.tap)) {
				*ret_error = "a tap interface name has at most 15 characters";
				return -EINVAL;
			}
			memcpy(n.tap, item + 4, len - 4);
		} else if (len > 3 && strncmp(item, "fd=", 3) == 0 && !n.tap[0] && n.fd < 0) {
			char num[16] = {};
			unsigned fd;

			if (len - 3 >= sizeof(num) ||
			    (memcpy(num, item + 3, len - 3), parse_unsigned(num, INT_MAX, &fd)) <
				0 ||
			    fd <= 2 || fcntl((int)fd, F_GETFD) < 0) {
				*ret_error = "fd=N takes an open file descriptor number above 2";
				return -EINVAL;
			}
			n.fd = (int)fd;
		} else if (len > 4 && strncmp(item, "mac=", 4) == 0) {
			if (parse_mac(item + 4, len - 4, n.mac) < 0 || (n.mac[0] & 1)) {
				*ret_error = "mac= takes a unicast address like 52:54:00:12:34:56";
				return -EINVAL;
			}
			n.mac_set = true;
		} else if (len > 9 && strncmp(item, "vhost-fd=", 9) == 0) {
			char num[16] = {};

			if (len - 9 >= sizeof(num) ||
			    (memcpy(num, item + 9, len - 9), parse_fd(num, &n.vhost_fd)) < 0) {
				*ret_error =
				    "vhost-fd=N takes an open file descriptor number above 2";
				return -EINVAL;
			}
		} else if (len == 8 && strncmp(item, "vhost=on", 8) == 0) {
			n.vhost = VHOST_ON;
		} else if (len == 9 && strncmp(item, "vhost=off", 9) == 0) {
			n.vhost = VHOST_OFF;
		} else {
			return -EINVAL;
		}
		item = comma ? comma + 1 : NULL;
	}
	if (!n.tap[0] && n.fd < 0)
		return -EINVAL;
	if (n.vhost == VHOST_OFF && n.vhost_fd >= 0) {
		*ret_error = "vhost=off and vhost-fd= contradict each other";
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

static int parse_unsigned(const char *s, unsigned long max, unsigned *ret)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno == ERANGE || v > max)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int parse_fd(const char *s, int *ret)
{
	unsigned v;

	if (parse_unsigned(s, INT_MAX, &v) < 0 || v <= 2 || fcntl((int)v, F_GETFD) < 0)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static void add_fd_path(const char *path, int *fds, size_t *n)
{
	int fd;

	if (path && strncmp(path, "fd:", 3) == 0 && parse_fd(path + 3, &fd) == 0)
		fds[(*n)++] = fd;
}

size_t options_inherited_fds(const struct vm_config *c, int fds[static OPTIONS_MAX_FDS])
{
	size_t n = 0;

	for (unsigned i = 0; i < c->nic_count; i++) {
		if (c->nics[i].fd >= 0)
			fds[n++] = c->nics[i].fd;
		if (c->nics[i].vhost_fd >= 0)
			fds[n++] = c->nics[i].vhost_fd;
	}
	for (unsigned i = 0; i < c->disk_count; i++)
		if (c->disks[i].fd >= 0)
			fds[n++] = c->disks[i].fd;
	if (c->vsock_vhost_fd >= 0)
		fds[n++] = c->vsock_vhost_fd;
	for (unsigned i = 0; i < c->vfio_count; i++)
		if (c->vfio[i].group_fd >= 0)
			fds[n++] = c->vfio[i].group_fd;
	if (c->vfio_container_fd >= 0)
		fds[n++] = c->vfio_container_fd;
	add_fd_path(c->kernel, fds, &n);
	add_fd_path(c->firmware, fds, &n);
	add_fd_path(c->nvram, fds, &n);
	add_fd_path(c->initrd, fds, &n);
	if (c->kvm_fd >= 0)
		fds[n++] = c->kvm_fd;
	if (c->control_fd >= 0)
		fds[n++] = c->control_fd;
	if (c->serial_fd >= 0)
		fds[n++] = c->serial_fd;
	if (c->hvc_fd >= 0)
		fds[n++] = c->hvc_fd;
	return n;
}

void options_help(const char *program)
{
	printf(
	    "Usage: %s --kernel PATH|--firmware PATH [OPTIONS]\n"
	    "\n"
	    "Run one virtual machine under KVM: boot a 64-bit Linux bzImage.\n"
	    "\n"
	    "  -k, --kernel PATH            Linux bzImage to boot (x86_64, boot protocol >= "
	    "2.06);\n"
	    "                               fd:N reads it from the inherited file descriptor N\n"
	    "      --firmware PATH          a PC firmware image (or fd:N) to start at the reset\n"
	    "                               vector instead of a kernel; up to 16 MiB, mapped\n"
	    "                               read-only below 4 GiB\n"
	    "      --nvram PATH             the firmware's variable store (or fd:N), writable:\n"
	    "                               a CFI flash just below the firmware\n"
	    "      --uuid UUID              with --firmware: the machine's UUID, as its SMBIOS\n"
	    "                               tables give it (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)\n"
	    "      --display KIND           what the firmware and the OS draw on, shown through\n"
	    "                               the control channel's display interface:\n"
	    "                               virtio-gpu (2D; Linux's virtio_gpu, OVMF's\n"
	    "                               VirtioGpuDxe; its mode follows the viewer's size),\n"
	    "                               bochs (a linear framebuffer, PCI 1234:1111; Linux's\n"
	    "                               bochs DRM driver), or none (default)\n"
	    "      --resolution WxH         virtio-gpu: the mode it offers first (default\n"
	    "                               1280x800)\n"
	    "      --input on|off           a virtio-input keyboard and tablet the display\n"
	    "                               channel's clients type and point with (default:\n"
	    "                               on with a display)\n"
	    "  -i, --initrd PATH            initial ramdisk (or fd:N)\n"
	    "  -a, --cmdline STRING         kernel command line\n"
	    "  -c, --cpus N                 vCPUs, 1..%d (default 1)\n"
	    "  -m, --memory SIZE            guest RAM with K/M/G suffix, a bare number is MiB\n"
	    "                               (default 512M, at least 8M)\n"
	    "  -s, --serial KIND            the COM1 console: stdio (default), file:PATH,\n"
	    "                               socket:PATH (unix socket to connect to), fd:N (such\n"
	    "                               a socket, listening, inherited as N), none\n"
	    "  -d, --disk PATH[,readonly][,serial=ID][,direct]\n"
	    "                               a virtio-blk disk on a raw image file or block device\n"
	    "                               (or fd:N, inherited open)\n"
	    "                               (repeatable, up to %d); serial= is what the guest "
	    "reads\n"
	    "                               as its ID (1-20 characters); direct bypasses the "
	    "host's\n"
	    "                               page cache (O_DIRECT)\n"
	    "      --net tap=NAME|fd=N[,mac=MAC][,vhost=on|off][,vhost-fd=N]\n"
	    "                               a virtio-net NIC on a tap interface (or an inherited "
	    "tap\n"
	    "                               fd); repeatable, up to %d. vhost-net moves packets in "
	    "the\n"
	    "                               kernel when /dev/vhost-net can be used (default), "
	    "vhost=on\n"
	    "                               insists, vhost=off never; mac= defaults to one made "
	    "from\n"
	    "                               the name; vhost-fd= an inherited /dev/vhost-net\n"
	    "      --vsock cid=N[,vhost-fd=N]\n"
	    "                               a virtio-vsock device through vhost-vsock (or an\n"
	    "                               inherited /dev/vhost-vsock fd), the guest's context\n"
	    "                               ID N (3 to 4294967294)\n"
	    "      --vfio ADDRESS|group-fd=N,device=ADDRESS\n"
	    "                               give the host PCI device ADDRESS (bound to vfio-pci)\n"
	    "                               to the guest, its IOMMU group opened here or "
	    "inherited\n"
	    "                               as fd N (repeatable, up to 8)\n"
	    "      --console KIND           a virtio-console (the guest's hvc0) beside COM1, its "
	    "host\n"
	    "                               end as --serial's: stdio, file:PATH, socket:PATH, "
	    "fd:N\n"
	    "  -n, --name NAME              name of the VM, for logs\n"
	    "      --kvm-fd N               use the inherited /dev/kvm file descriptor N\n"
	    "      --vfio-container-fd N    use the inherited /dev/vfio/vfio file descriptor N\n"
	    "      --control PATH           serve the control API (org.phyllome.VMM1, "
	    "peer-to-peer\n"
	    "                               D-Bus) on a unix socket created at PATH\n"
	    "      --control-fd N           serve it on the inherited socket N (listening or "
	    "connected)\n"
	    "      --shutdown-timeout SEC   after SIGTERM pressed the power button, how long the\n"
	    "                               guest has to power off before a hard stop (default "
	    "%d)\n"
	    "      --sandbox on|off         confine the monitor before the guest runs: close "
	    "other\n"
	    "                               fds, drop capabilities, no_new_privs, seccomp "
	    "allow-lists\n"
	    "                               (default on; off only to debug, e.g. under strace)\n"
	    "  -v, --verbose                log more (repeat for debug messages)\n"
	    "  -h, --help                   show this help\n"
	    "  -V, --version                show the version\n"
	    "\n"
	    "On a terminal, Ctrl-A x stops the VM at once and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	    "SIGTERM presses the ACPI power button; a second SIGTERM stops the VM at once.\n"
	    "\n"
	    "Exit status: 0 guest powered off, 1 VMM error, 2 usage or boot file error,\n"
	    "3 guest rebooted, 4 guest crashed (triple fault, KVM error), 5 stopped hard,\n"
	    "6 guest kernel panicked (pvpanic).\n",
	    program, VM_MAX_CPUS, VM_MAX_DISKS, VM_MAX_NICS, VM_DEFAULT_SHUTDOWN_TIMEOUT);
}

enum {
	OPT_SHUTDOWN_TIMEOUT = 0x100,
	OPT_KVM_FD,
	OPT_VFIO_CONTAINER_FD,
	OPT_CONTROL,
	OPT_CONTROL_FD,
	OPT_SANDBOX,
	OPT_TEST_FORBIDDEN_SYSCALL,
	OPT_TEST_CONSOLE_PASS_FD,
	OPT_NET,
	OPT_CONSOLE,
	OPT_VSOCK,
	OPT_VFIO,
	OPT_FIRMWARE,
	OPT_NVRAM,
	OPT_UUID,
	OPT_DISPLAY,
	OPT_INPUT,
	OPT_RESOLUTION,
};

static int usage_error(const char *program, const char *what, const char *value, const char *hint)
{
	fprintf(stderr, "%s: invalid %s '%s': %s\n", program, what, value, hint);
	return -EINVAL;
}

/* WIDTHxHEIGHT, each what an EDID's detailed timing can say. */
static int parse_resolution(const char *s, unsigned *width, unsigned *height)
{
	char *x = strchr(s, 'x');
	char w[8];

	if (!x || (size_t)(x - s) >= sizeof(w))
		return -EINVAL;
	memcpy(w, s, (size_t)(x - s));
	w[x - s] = '\0';
	if (parse_unsigned(w, 4095, width) < 0 || parse_unsigned(x + 1, 4095, height) < 0 ||
	    *width < 16 || *height < 16)
		return -EINVAL;
	return 0;
}

/* One of two words; *ret is whether it was the first. */
static int parse_choice(const char *program, const char *what, const char *value, const char *yes,
			const char *no, bool *ret)
{
	char hint[64];

	if (strcmp(value, yes) == 0 || strcmp(value, no) == 0) {
		*ret = strcmp(value, yes) == 0;
		return 0;
	}
	snprintf(hint, sizeof(hint), "expected %s or %s", yes, no);
	return usage_error(program, what, value, hint);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 8-4-4-4-12 form; the bytes in the order written. */
static bool parse_uuid(const char *text, uint8_t uuid[16])
{
	unsigned byte = 0;

	if (strlen(text) != 36)
		return false;
	for (unsigned i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i++] != '-')
				return false;
			continue;
		}
		hi = hex_digit(text[i]);
		lo = hex_digit(text[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		uuid[byte++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return byte == 16;
}

static bool forbidden_syscall_hook_valid(const char *value)
{
	return strcmp(value, "main") == 0 || strcmp(value, "vcpu") == 0 ||
	       strcmp(value, "io") == 0 || strncmp(value, "signal:", 7) == 0;
}

#ifdef PHYLLOME_TEST_HOOKS
/*
 * phyllomed passes no test options, so a test of a monitor it starts names its
 * hook in the machine's Cmdline= instead: phyllome.test-hook=VALUE, VALUE being
 * console-pass-fd or what --test-forbidden-syscall takes.
 */
static int test_hooks_from_cmdline(const char *program, struct vm_config *c)
{
	static const char key[] = "phyllome.test-hook=";
	static char forbidden[64];

	for (const char *word = strstr(c->cmdline, key); word; word = strstr(word + 1, key)) {
		const char *value = word + strlen(key);
		size_t len = strcspn(value, " ");

		if (word != c->cmdline && word[-1] != ' ')
			continue;
		if (len == strlen("console-pass-fd") &&
		    strncmp(value, "console-pass-fd", len) == 0) {
			c->test_console_pass_fd = true;
			continue;
		}
		if (len >= sizeof(forbidden))
			len = sizeof(forbidden) - 1;
		memcpy(forbidden, value, len);
		forbidden[len] = '\0';
		if (!forbidden_syscall_hook_valid(forbidden))
			return usage_error(
			    program, "test hook in the command line", forbidden,
			    "expected console-pass-fd, main, vcpu, io or signal:PID");
		c->test_forbidden_syscall = forbidden;
	}
	return 0;
}
#endif

int options_parse(int argc, char **argv, struct vm_config *ret, enum options_action *ret_action)
{
	static const struct option long_options[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "firmware", required_argument, NULL, OPT_FIRMWARE },
		{ "nvram", required_argument, NULL, OPT_NVRAM },
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "resolution", required_argument, NULL, OPT_RESOLUTION },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'a' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "serial", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, OPT_NET },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "vfio", required_argument, NULL, OPT_VFIO },
		{ "name", required_argument, NULL, 'n' },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "kvm-fd", required_argument, NULL, OPT_KVM_FD },
		{ "vfio-container-fd", required_argument, NULL, OPT_VFIO_CONTAINER_FD },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
#ifdef PHYLLOME_TEST_HOOKS
		{ "test-forbidden-syscall", required_argument, NULL, OPT_TEST_FORBIDDEN_SYSCALL },
		{ "test-console-pass-fd", no_argument, NULL, OPT_TEST_CONSOLE_PASS_FD },
#endif
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *program = argv[0];
	struct vm_config c = {
		.name = "vm",
		.cmdline = "",
		.cpus = 1,
		.memory = VM_DEFAULT_MEMORY,
		.serial = SERIAL_STDIO,
		.shutdown_timeout = VM_DEFAULT_SHUTDOWN_TIMEOUT,
		.kvm_fd = -1,
		.control_fd = -1,
		.serial_fd = -1,
		.hvc_fd = -1,
		.vsock_vhost_fd = -1,
		.vfio_container_fd = -1,
		.sandbox = true,
		.log_level = LOG_NOTICE,
	};
	bool uuid_given = false;
	bool input_given = false;
	int opt, r;

	*ret_action = OPTIONS_RUN;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "k:i:a:c:m:s:d:n:vhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			c.kernel = optarg;
			break;
		case OPT_FIRMWARE:
			c.firmware = optarg;
			break;
		case OPT_NVRAM:
			c.nvram = optarg;
			break;
		case OPT_UUID:
			if (!parse_uuid(optarg, c.uuid))
				return usage_error(program, "UUID", optarg,
						   "must be 32 hex digits as "
						   "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
			uuid_given = true;
			break;
		case OPT_DISPLAY:
			if (strcmp(optarg, "virtio-gpu") == 0)
				c.display = DISPLAY_VIRTIO_GPU;
			else if (strcmp(optarg, "bochs") == 0)
				c.display = DISPLAY_BOCHS;
			else if (strcmp(optarg, "none") == 0)
				c.display = DISPLAY_NONE;
			else
				return usage_error(program, "display", optarg,
						   "expected virtio-gpu, bochs or none");
			break;
		case OPT_RESOLUTION:
			if (parse_resolution(optarg, &c.resolution_width, &c.resolution_height) < 0)
				return usage_error(program, "resolution", optarg,
						   "expected WIDTHxHEIGHT, each 16 to 4095");
			break;
		case OPT_INPUT:
			if (parse_choice(program, "input setting", optarg, "on", "off", &c.input) <
			    0)
				return -EINVAL;
			input_given = true;
			break;
		case 'i':
			c.initrd = optarg;
			break;
		case 'a':
			c.cmdline = optarg;
			break;
		case 'c':
			r = parse_unsigned(optarg, VM_MAX_CPUS, &c.cpus);
			if (r < 0 || c.cpus == 0)
				return usage_error(program, "vCPU count", optarg,
						   "expected a number from 1 to 254");
			break;
		case 'm':
			r = parse_size(optarg, &c.memory);
			if (r == -EINVAL)
				return usage_error(
				    program, "memory size", optarg,
				    "expected a number with an optional K, M, G or T suffix");
			if (r < 0 || c.memory < GUEST_MEMORY_MIN || c.memory > GUEST_MEMORY_MAX)
				return usage_error(program, "memory size", optarg,
						   "the VM needs at least 8M and at most 1T");
			if (c.memory % 4096)
				return usage_error(program, "memory size", optarg,
						   "must be a multiple of 4 KiB");
			break;
		case 's':
			if (parse_serial(optarg, &c.serial, &c.serial_path) < 0)
				return usage_error(
				    program, "serial console", optarg,
				    "expected stdio, file:PATH, socket:PATH, fd:N or none");
			if (c.serial == SERIAL_SOCKET_FD) {
				if (parse_fd(c.serial_path, &c.serial_fd) < 0)
					return usage_error(
					    program, "serial console", optarg,
					    "expected an open file descriptor number above 2");
				c.serial_path = NULL;
			}
			break;
		case 'd': {
			const char *why = NULL;

			if (c.disk_count == VM_MAX_DISKS)
				return usage_error(program, "disk", optarg,
						   "a VM takes at most 16 disks");
			if (parse_disk(optarg, &c.disks[c.disk_count], &why) < 0)
				return usage_error(program, "disk", optarg, why);
			c.disk_count++;
			break;
		}
		case OPT_NET: {
			const char *why = NULL;

			if (c.nic_count == VM_MAX_NICS)
				return usage_error(program, "network device", optarg,
						   "a VM takes at most 8");
			if (parse_net(optarg, &c.nics[c.nic_count], &why) < 0)
				return usage_error(program, "network device", optarg, why);
			c.nic_count++;
			break;
		}
		case OPT_VFIO: {
			const char *why = NULL;

			if (c.vfio_count == VM_MAX_VFIO)
				return usage_error(program, "VFIO device", optarg,
						   "a VM takes at most 8");
			if (parse_vfio(optarg, &c.vfio[c.vfio_count], &why) < 0)
				return usage_error(program, "VFIO device", optarg, why);
			for (unsigned i = 0; i < c.vfio_count; i++)
				if (strcmp(c.vfio[i].bdf, c.vfio[c.vfio_count].bdf) == 0)
					return usage_error(program, "VFIO device", optarg,
							   "is given twice");
			c.vfio_count++;
			break;
		}
		case OPT_VSOCK:
			if (parse_vsock(optarg, &c.vsock_cid, &c.vsock_vhost_fd) < 0)
				return usage_error(program, "vsock device", optarg,
						   "expected cid=N with N from 3 to 4294967294, "
						   "then [,vhost-fd=N]");
			break;
		case OPT_CONSOLE:
			if (parse_serial(optarg, &c.hvc_kind, &c.hvc_path) < 0 ||
			    c.hvc_kind == SERIAL_NONE)
				return usage_error(
				    program, "console", optarg,
				    "expected stdio, file:PATH, socket:PATH or fd:N");
			if (c.hvc_kind == SERIAL_SOCKET_FD) {
				if (parse_fd(c.hvc_path, &c.hvc_fd) < 0)
					return usage_error(
					    program, "console", optarg,
					    "expected an open file descriptor number above 2");
				c.hvc_path = NULL;
			}
			c.hvc = true;
			break;
		case 'n':
			if (!*optarg)
				return usage_error(program, "name", optarg, "must not be empty");
			c.name = optarg;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (parse_unsigned(optarg, 24 * 3600, &c.shutdown_timeout) < 0)
				return usage_error(program, "shutdown timeout", optarg,
						   "expected seconds, 0 to 86400");
			break;
		case OPT_VFIO_CONTAINER_FD:
			if (parse_fd(optarg, &c.vfio_container_fd) < 0)
				return usage_error(
				    program, "VFIO container file descriptor", optarg,
				    "expected an open file descriptor number above 2");
			break;
		case OPT_KVM_FD:
			if (parse_fd(optarg, &c.kvm_fd) < 0)
				return usage_error(
				    program, "KVM file descriptor", optarg,
				    "expected an open file descriptor number above 2");
			break;
		case OPT_CONTROL:
			if (!*optarg)
				return usage_error(program, "control socket", optarg,
						   "must not be empty");
			c.control_path = optarg;
			break;
		case OPT_CONTROL_FD:
			if (parse_fd(optarg, &c.control_fd) < 0)
				return usage_error(
				    program, "control file descriptor", optarg,
				    "expected an open file descriptor number above 2");
			break;
		case OPT_SANDBOX:
			if (parse_choice(program, "sandbox setting", optarg, "on", "off",
					 &c.sandbox) < 0)
				return -EINVAL;
			break;
		case OPT_TEST_FORBIDDEN_SYSCALL:
			if (!forbidden_syscall_hook_valid(optarg))
				return usage_error(program, "test hook", optarg,
						   "expected main, vcpu, io or signal:PID");
			c.test_forbidden_syscall = optarg;
			break;
		case OPT_TEST_CONSOLE_PASS_FD:
			c.test_console_pass_fd = true;
			break;
		case 'v':
			c.log_level = c.log_level < LOG_DEBUG ? c.log_level + 1 : LOG_DEBUG;
			break;
		case 'h':
			*ret_action = OPTIONS_HELP;
			return 0;
		case 'V':
			*ret_action = OPTIONS_VERSION;
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", program);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'. Try '%s --help'.\n", program,
			argv[optind], program);
		return -EINVAL;
	}
	if (c.hvc && c.hvc_kind == SERIAL_STDIO && c.serial == SERIAL_STDIO) {
		fprintf(stderr,
			"%s: --serial and --console cannot both use stdio; give one of them "
			"--serial none, a file "
			"or a socket\n",
			program);
		return -EINVAL;
	}
#ifdef PHYLLOME_TEST_HOOKS
	r = test_hooks_from_cmdline(program, &c);
	if (r < 0)
		return r;
#endif
	if (!c.kernel && !c.firmware) {
		fprintf(stderr,
			"%s: nothing to boot: use --kernel PATH or --firmware PATH. Try '%s "
			"--help'.\n",
			program, program);
		return -EINVAL;
	}
	if (c.resolution_width && c.display != DISPLAY_VIRTIO_GPU) {
		fprintf(stderr,
			"%s: --resolution is the mode virtio-gpu offers: it needs --display "
			"virtio-gpu\n",
			program);
		return -EINVAL;
	}
	if (uuid_given && !c.firmware) {
		fprintf(stderr,
			"%s: --uuid is what a firmware's SMBIOS tables say: it needs --firmware\n",
			program);
		return -EINVAL;
	}
	if (c.nvram && !c.firmware) {
		fprintf(stderr, "%s: --nvram holds a firmware's variables: it needs --firmware\n",
			program);
		return -EINVAL;
	}
	/* A firmware boots what it finds on the disks; it loads no kernel handed in here. */
	if (c.firmware && (c.kernel || c.initrd || *c.cmdline)) {
		fprintf(stderr,
			"%s: --firmware boots from the disks: --kernel, --initrd and --cmdline "
			"are for direct kernel boot\n",
			program);
		return -EINVAL;
	}
	if (!input_given)
		c.input = c.display != DISPLAY_NONE;
	*ret = c;
	return 0;
}

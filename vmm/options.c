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

int parse_size(const char *s, uint64_t *ret)
{
	unsigned long long value, shift = 20;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	value = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'B':
	case 'b':
		shift = 0;
		end++;
		break;
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	case 'T':
	case 't':
		shift = 40;
		end++;
		break;
	default:
		return -EINVAL;
	}
	/* Accept "512MiB" and "512MB" as people write them; both mean binary units here. */
	if (shift > 0 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0')
		return -EINVAL;
	if (value > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = value << shift;
	return 0;
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
	struct disk_config d = {};

	if (path_len == 0) {
		*ret_error = "expected PATH[,readonly][,serial=ID][,direct]";
		return -EINVAL;
	}
	if (path_len >= sizeof(d.path)) {
		*ret_error = "the path is too long";
		return -EINVAL;
	}
	memcpy(d.path, s, path_len);
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
					*ret_error = "serial=ID takes printable ASCII without spaces";
					return -EINVAL;
				}
			memcpy(d.serial, item + 7, len - 7);
		} else {
			*ret_error = "unknown option after the path: expected readonly, serial=ID or direct";
			return -EINVAL;
		}
	}
	*ret = d;
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

size_t options_inherited_fds(const struct vm_config *c, int fds[static 8])
{
	size_t n = 0;

	add_fd_path(c->kernel, fds, &n);
	add_fd_path(c->initrd, fds, &n);
	if (c->kvm_fd >= 0)
		fds[n++] = c->kvm_fd;
	if (c->control_fd >= 0)
		fds[n++] = c->control_fd;
	if (c->serial_fd >= 0)
		fds[n++] = c->serial_fd;
	return n;
}

void options_help(const char *program)
{
	printf("Usage: %s --kernel PATH [OPTIONS]\n"
	       "\n"
	       "Run one virtual machine under KVM: boot a 64-bit Linux bzImage.\n"
	       "\n"
	       "  -k, --kernel PATH            Linux bzImage to boot (x86_64, boot protocol >= 2.06);\n"
	       "                               fd:N reads it from the inherited file descriptor N\n"
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
	       "                               (repeatable, up to %d); serial= is what the guest reads\n"
	       "                               as its ID (1-20 characters); direct bypasses the host's\n"
	       "                               page cache (O_DIRECT)\n"
	       "  -n, --name NAME              name of the VM, for logs\n"
	       "      --kvm-fd N               use the inherited /dev/kvm file descriptor N\n"
	       "      --control PATH           serve the control API (org.phyllome.VMM1, peer-to-peer\n"
	       "                               D-Bus) on a unix socket created at PATH\n"
	       "      --control-fd N           serve it on the inherited socket N (listening or connected)\n"
	       "      --shutdown-timeout SEC   after SIGTERM pressed the power button, how long the\n"
	       "                               guest has to power off before a hard stop (default %d)\n"
	       "      --sandbox on|off         confine the monitor before the guest runs: close other\n"
	       "                               fds, drop capabilities, no_new_privs, seccomp allow-lists\n"
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
	       program, VM_MAX_CPUS, VM_MAX_DISKS, VM_DEFAULT_SHUTDOWN_TIMEOUT);
}

enum {
	OPT_SHUTDOWN_TIMEOUT = 0x100,
	OPT_KVM_FD,
	OPT_CONTROL,
	OPT_CONTROL_FD,
	OPT_SANDBOX,
	OPT_TEST_FORBIDDEN_SYSCALL,
};

static int usage_error(const char *program, const char *what, const char *value, const char *hint)
{
	fprintf(stderr, "%s: invalid %s '%s': %s\n", program, what, value, hint);
	return -EINVAL;
}

int options_parse(int argc, char **argv, struct vm_config *ret, enum options_action *ret_action)
{
	static const struct option long_options[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'a' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "serial", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "kvm-fd", required_argument, NULL, OPT_KVM_FD },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
#ifdef PHYLLOME_TEST_HOOKS
		{ "test-forbidden-syscall", required_argument, NULL, OPT_TEST_FORBIDDEN_SYSCALL },
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
		.sandbox = true,
		.log_level = LOG_NOTICE,
	};
	int opt, r;

	*ret_action = OPTIONS_RUN;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "k:i:a:c:m:s:d:n:vhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			c.kernel = optarg;
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
				return usage_error(program, "vCPU count", optarg, "expected a number from 1 to 254");
			break;
		case 'm':
			r = parse_size(optarg, &c.memory);
			if (r == -EINVAL)
				return usage_error(program, "memory size", optarg,
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
				return usage_error(program, "serial console", optarg,
						   "expected stdio, file:PATH, socket:PATH, fd:N or none");
			if (c.serial == SERIAL_SOCKET_FD) {
				if (parse_fd(c.serial_path, &c.serial_fd) < 0)
					return usage_error(program, "serial console", optarg,
							   "expected an open file descriptor number above 2");
				c.serial_path = NULL;
			}
			break;
		case 'd': {
			const char *why = NULL;

			if (c.disk_count == VM_MAX_DISKS)
				return usage_error(program, "disk", optarg, "a VM takes at most 16 disks");
			if (parse_disk(optarg, &c.disks[c.disk_count], &why) < 0)
				return usage_error(program, "disk", optarg, why);
			c.disk_count++;
			break;
		}
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
		case OPT_KVM_FD:
			if (parse_fd(optarg, &c.kvm_fd) < 0)
				return usage_error(program, "KVM file descriptor", optarg,
						   "expected an open file descriptor number above 2");
			break;
		case OPT_CONTROL:
			if (!*optarg)
				return usage_error(program, "control socket", optarg, "must not be empty");
			c.control_path = optarg;
			break;
		case OPT_CONTROL_FD:
			if (parse_fd(optarg, &c.control_fd) < 0)
				return usage_error(program, "control file descriptor", optarg,
						   "expected an open file descriptor number above 2");
			break;
		case OPT_SANDBOX:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return usage_error(program, "sandbox setting", optarg, "expected on or off");
			c.sandbox = strcmp(optarg, "on") == 0;
			break;
		case OPT_TEST_FORBIDDEN_SYSCALL:
			if (strcmp(optarg, "main") != 0 && strcmp(optarg, "vcpu") != 0 && strcmp(optarg, "io") != 0)
				return usage_error(program, "test hook", optarg, "expected main, vcpu or io");
			c.test_forbidden_syscall = optarg;
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
		fprintf(stderr, "%s: unexpected argument '%s'. Try '%s --help'.\n", program, argv[optind],
			program);
		return -EINVAL;
	}
	if (!c.kernel) {
		fprintf(stderr, "%s: no kernel given: use --kernel PATH. Try '%s --help'.\n", program, program);
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

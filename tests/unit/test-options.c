/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command-line parsing: sizes, serial specs, defaults. */
#include <errno.h>
#include <glib.h>
#include <unistd.h>
#include <syslog.h>

#include "options.h"

static void test_sizes(void)
{
	uint64_t v;

	g_assert_cmpint(parse_size("512", &v), ==, 0);
	g_assert_cmpuint(v, ==, 512ULL << 20);
	g_assert_cmpint(parse_size("512M", &v), ==, 0);
	g_assert_cmpuint(v, ==, 512ULL << 20);
	g_assert_cmpint(parse_size("2G", &v), ==, 0);
	g_assert_cmpuint(v, ==, 2ULL << 30);
	g_assert_cmpint(parse_size("65536k", &v), ==, 0);
	g_assert_cmpuint(v, ==, 64ULL << 20);
	g_assert_cmpint(parse_size("1GiB", &v), ==, 0);
	g_assert_cmpuint(v, ==, 1ULL << 30);
	g_assert_cmpint(parse_size("4096B", &v), ==, 0);
	g_assert_cmpuint(v, ==, 4096);
	g_assert_cmpint(parse_size("1T", &v), ==, 0);
	g_assert_cmpuint(v, ==, 1ULL << 40);
	g_assert_cmpint(parse_size("", &v), ==, -EINVAL);
	g_assert_cmpint(parse_size("-1M", &v), ==, -EINVAL);
	g_assert_cmpint(parse_size("12Q", &v), ==, -EINVAL);
	g_assert_cmpint(parse_size("1.5G", &v), ==, -EINVAL);
	g_assert_cmpint(parse_size("1Gx", &v), ==, -EINVAL);
	g_assert_cmpint(parse_size("99999999999999999999", &v), ==, -ERANGE);
	g_assert_cmpint(parse_size("17179869184G", &v), ==, -ERANGE);
}

static void test_serial(void)
{
	enum serial_kind kind;
	const char *path;

	g_assert_cmpint(parse_serial("stdio", &kind, &path), ==, 0);
	g_assert_cmpint(kind, ==, SERIAL_STDIO);
	g_assert_cmpint(parse_serial("none", &kind, &path), ==, 0);
	g_assert_cmpint(kind, ==, SERIAL_NONE);
	g_assert_cmpint(parse_serial("file:/tmp/x", &kind, &path), ==, 0);
	g_assert_cmpint(kind, ==, SERIAL_FILE);
	g_assert_cmpstr(path, ==, "/tmp/x");
	g_assert_cmpint(parse_serial("socket:/run/s", &kind, &path), ==, 0);
	g_assert_cmpint(kind, ==, SERIAL_SOCKET);
	g_assert_cmpstr(path, ==, "/run/s");
	g_assert_cmpint(parse_serial("fd:7", &kind, &path), ==, 0);
	g_assert_cmpint(kind, ==, SERIAL_SOCKET_FD);
	g_assert_cmpstr(path, ==, "7");
	g_assert_cmpint(parse_serial("fd:", &kind, &path), ==, -EINVAL);
	g_assert_cmpint(parse_serial("file:", &kind, &path), ==, -EINVAL);
	g_assert_cmpint(parse_serial("tcp:1", &kind, &path), ==, -EINVAL);
}

static void test_defaults_and_values(void)
{
	/* options and their values, as on a command line */
	/* clang-format off */
	char *argv[] = { "vmm", "--kernel", "k", "--cpus", "4", "-m", "1G", "--serial", "none",
			 "--name", "desktop", "--shutdown-timeout", "5", "-v", NULL };
	/* clang-format on */
	struct vm_config c;
	enum options_action action;

	g_assert_cmpint(options_parse(G_N_ELEMENTS(argv) - 1, argv, &c, &action), ==, 0);
	g_assert_cmpint(action, ==, OPTIONS_RUN);
	g_assert_cmpstr(c.kernel, ==, "k");
	g_assert_null(c.initrd);
	g_assert_cmpstr(c.cmdline, ==, "");
	g_assert_cmpuint(c.cpus, ==, 4);
	g_assert_cmpuint(c.memory, ==, 1ULL << 30);
	g_assert_cmpint(c.serial, ==, SERIAL_NONE);
	g_assert_cmpstr(c.name, ==, "desktop");
	g_assert_cmpuint(c.shutdown_timeout, ==, 5);
	g_assert_cmpint(c.log_level, ==, LOG_INFO);

	char *minimal[] = { "vmm", "-k", "k", NULL };
	g_assert_cmpint(options_parse(3, minimal, &c, &action), ==, 0);
	g_assert_cmpuint(c.cpus, ==, 1);
	g_assert_cmpuint(c.memory, ==, VM_DEFAULT_MEMORY);
	g_assert_cmpint(c.serial, ==, SERIAL_STDIO);
	g_assert_cmpuint(c.shutdown_timeout, ==, VM_DEFAULT_SHUTDOWN_TIMEOUT);
	g_assert_true(c.sandbox);
}

static void test_disk(void)
{
	struct disk_config d;
	const char *why = NULL;

	g_assert_cmpint(parse_disk("/var/lib/vm.img", &d, &why), ==, 0);
	g_assert_cmpstr(d.path, ==, "/var/lib/vm.img");
	g_assert_false(d.readonly);
	g_assert_false(d.direct);
	g_assert_cmpstr(d.serial, ==, "");

	g_assert_cmpint(parse_disk("a.img,readonly,serial=root-01,direct", &d, &why), ==, 0);
	g_assert_cmpstr(d.path, ==, "a.img");
	g_assert_true(d.readonly);
	g_assert_true(d.direct);
	g_assert_cmpstr(d.serial, ==, "root-01");

	/* Exactly 20 characters fit GET_ID's answer; 21 do not. */
	g_assert_cmpint(parse_disk("a,serial=12345678901234567890", &d, &why), ==, 0);
	g_assert_cmpstr(d.serial, ==, "12345678901234567890");
	g_assert_cmpint(parse_disk("a,serial=123456789012345678901", &d, &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "1 to 20"));
	g_assert_cmpint(parse_disk("a,serial=", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk("a,serial=x\ty", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk("", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk(",readonly", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk("a,", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk("a,ro", &d, &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "unknown option"));
	g_assert_cmpint(parse_disk("a,readonlyx", &d, &why), ==, -EINVAL);

	/* An inherited image, as phyllomed passes it. */
	int fd = dup(STDERR_FILENO);
	g_autofree char *by_fd = g_strdup_printf("fd:%d,readonly", fd);
	g_assert_cmpint(parse_disk(by_fd, &d, &why), ==, 0);
	g_assert_cmpint(d.fd, ==, fd);
	g_assert_true(d.readonly);
	close(fd);
	g_assert_cmpint(parse_disk("fd:1", &d, &why), ==, -EINVAL);
	g_assert_cmpint(parse_disk("a.img", &d, &why), ==, 0);
	g_assert_cmpint(d.fd, ==, -1);

	char *argv[] = { "vmm", "-k", "k", "--disk", "one.img", "-d", "two.img,readonly", NULL };
	struct vm_config c;
	enum options_action action;

	g_assert_cmpint(options_parse(G_N_ELEMENTS(argv) - 1, argv, &c, &action), ==, 0);
	g_assert_cmpuint(c.disk_count, ==, 2);
	g_assert_cmpstr(c.disks[0].path, ==, "one.img");
	g_assert_cmpstr(c.disks[1].path, ==, "two.img");
	g_assert_true(c.disks[1].readonly);
}

static void test_net(void)
{
	struct net_config n;
	const char *why = NULL;
	int fd = dup(STDERR_FILENO);
	g_autofree char *by_fd = g_strdup_printf("fd=%d,vhost=off", fd);

	g_assert_cmpint(parse_net("tap=tap0", &n, &why), ==, 0);
	g_assert_cmpstr(n.tap, ==, "tap0");
	g_assert_cmpint(n.fd, ==, -1);
	g_assert_false(n.mac_set);
	g_assert_cmpint(n.vhost, ==, VHOST_AUTO);

	g_assert_cmpint(parse_net("tap=vm0,mac=52:54:00:AB:cd:01,vhost=on", &n, &why), ==, 0);
	g_assert_true(n.mac_set);
	g_assert_cmpuint(n.mac[3], ==, 0xab);
	g_assert_cmpuint(n.mac[5], ==, 0x01);
	g_assert_cmpint(n.vhost, ==, VHOST_ON);

	g_assert_cmpint(parse_net(by_fd, &n, &why), ==, 0);
	g_assert_cmpint(n.fd, ==, fd);
	g_assert_cmpint(n.vhost, ==, VHOST_OFF);
	g_assert_cmpint(n.vhost_fd, ==, -1);
	g_autofree char *vhost_fd = g_strdup_printf("tap=t,vhost-fd=%d", fd);
	g_assert_cmpint(parse_net(vhost_fd, &n, &why), ==, 0);
	g_assert_cmpint(n.vhost_fd, ==, fd);
	g_autofree char *both = g_strdup_printf("tap=t,vhost=off,vhost-fd=%d", fd);
	g_assert_cmpint(parse_net(both, &n, &why), ==, -EINVAL);
	close(fd);

	g_assert_cmpint(parse_net("", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("mac=52:54:00:00:00:01", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("tap=a,tap=b", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("tap=a,mac=01:00:5e:00:00:01", &n, &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "unicast"));
	g_assert_cmpint(parse_net("tap=a,mac=52:54:00:00:00:01:02", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("tap=a,mac=52:54:00:00:00:zz", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("tap=a,vhost=yes", &n, &why), ==, -EINVAL);
	g_assert_cmpint(parse_net("tap=0123456789abcdef", &n, &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "15 characters"));
	g_assert_cmpint(parse_net("fd=1", &n, &why), ==, -EINVAL);
}

static void test_vfio(void)
{
	struct vfio_config v;
	const char *why = NULL;
	char bdf[PCI_BDF_MAX + 1];
	int fd = dup(STDERR_FILENO);
	g_autofree char *by_fd = g_strdup_printf("group-fd=%d,device=01:00.1", fd);
	g_autofree char *fd_only = g_strdup_printf("group-fd=%d", fd);
	char *twice[] = { "vmm", "-k", "k", "--vfio", "01:00.0", "--vfio", "0000:01:00.0", NULL };
	struct vm_config c;
	enum options_action action;

	g_assert_cmpint(parse_pci_bdf("0000:03:1f.7", 12, bdf), ==, 0);
	g_assert_cmpstr(bdf, ==, "0000:03:1f.7");
	g_assert_cmpint(parse_pci_bdf("0A:00.0", 7, bdf), ==, 0);
	g_assert_cmpstr(bdf, ==, "0000:0a:00.0");
	g_assert_cmpint(parse_pci_bdf("00:20.0", 7, bdf), ==, -EINVAL); /* slot 32 */
	g_assert_cmpint(parse_pci_bdf("00:01.8", 7, bdf), ==, -EINVAL);
	g_assert_cmpint(parse_pci_bdf("00:01.0x", 8, bdf), ==, -EINVAL);
	g_assert_cmpint(parse_pci_bdf("00:01", 5, bdf), ==, -EINVAL);
	g_assert_cmpint(parse_pci_bdf("../../x", 7, bdf), ==, -EINVAL);

	g_assert_cmpint(parse_vfio("01:00.0", &v, &why), ==, 0);
	g_assert_cmpstr(v.bdf, ==, "0000:01:00.0");
	g_assert_cmpint(v.group_fd, ==, -1);
	g_assert_cmpint(parse_vfio(by_fd, &v, &why), ==, 0);
	g_assert_cmpstr(v.bdf, ==, "0000:01:00.1");
	g_assert_cmpint(v.group_fd, ==, fd);
	g_assert_cmpint(parse_vfio(fd_only, &v, &why), ==, -EINVAL);
	g_assert_nonnull(strstr(why, "go together"));
	g_assert_cmpint(parse_vfio("device=01:00.0", &v, &why), ==, -EINVAL);
	g_assert_cmpint(parse_vfio("group-fd=1,device=01:00.0", &v, &why), ==, -EINVAL);
	g_assert_cmpint(parse_vfio("", &v, &why), ==, -EINVAL);
	g_assert_cmpint(parse_vfio("/dev/vfio/3", &v, &why), ==, -EINVAL);
	g_assert_cmpint(options_parse(G_N_ELEMENTS(twice) - 1, twice, &c, &action), ==, -EINVAL);
	{
		g_autofree char *fd_text = g_strdup_printf("%d", fd);
		/* options and their values */
		/* clang-format off */
		char *with_container[] = { "vmm", "-k", "k", "--vfio", by_fd,
					   "--vfio-container-fd", fd_text, NULL };
		/* clang-format on */
		char *bad_container[] = { "vmm", "-k", "k", "--vfio-container-fd", "1", NULL };
		int fds[OPTIONS_MAX_FDS];

		g_assert_cmpint(
		    options_parse(G_N_ELEMENTS(with_container) - 1, with_container, &c, &action),
		    ==, 0);
		g_assert_cmpint(c.vfio_container_fd, ==, fd);
		/* The group and the container are both kept open by the sandbox. */
		g_assert_cmpuint(options_inherited_fds(&c, fds), ==, 2);
		g_assert_cmpint(
		    options_parse(G_N_ELEMENTS(bad_container) - 1, bad_container, &c, &action), ==,
		    -EINVAL);
	}
	close(fd);
}

static void test_vsock_and_console(void)
{
	/* options and their values */
	/* clang-format off */
	char *ok[] = { "vmm", "-k", "k", "--vsock", "cid=42", "--console", "socket:/run/hvc",
		       "--serial", "none", NULL };
	/* clang-format on */
	char *cid2[] = { "vmm", "-k", "k", "--vsock", "cid=2", NULL };
	char *cidx[] = { "vmm", "-k", "k", "--vsock", "42", NULL };
	char *two_stdio[] = { "vmm", "-k", "k", "--console", "stdio", NULL };
	char *hvc_none[] = { "vmm", "-k", "k", "--console", "none", NULL };
	struct vm_config c;
	enum options_action action;

	g_assert_cmpint(options_parse(G_N_ELEMENTS(ok) - 1, ok, &c, &action), ==, 0);
	g_assert_cmpuint(c.vsock_cid, ==, 42);
	g_assert_true(c.hvc);
	g_assert_cmpint(c.hvc_kind, ==, SERIAL_SOCKET);
	g_assert_cmpstr(c.hvc_path, ==, "/run/hvc");
	/* Usage errors print to stderr; the status is what counts here. */
	g_assert_cmpint(options_parse(G_N_ELEMENTS(cid2) - 1, cid2, &c, &action), ==, -EINVAL);
	g_assert_cmpint(options_parse(G_N_ELEMENTS(cidx) - 1, cidx, &c, &action), ==, -EINVAL);
	g_assert_cmpint(options_parse(G_N_ELEMENTS(two_stdio) - 1, two_stdio, &c, &action), ==,
			-EINVAL);
	g_assert_cmpint(options_parse(G_N_ELEMENTS(hvc_none) - 1, hvc_none, &c, &action), ==,
			-EINVAL);
}

/* The fds the options name are the ones the sandbox keeps open. */
static void test_inherited_fds(void)
{
	char *argv[] = { "vmm", "--kernel", "fd:0", "--initrd", "fd:1", "--sandbox", "off", NULL };
	struct vm_config c;
	enum options_action action;
	int fds[OPTIONS_MAX_FDS];

	/* parse_fd wants numbers above 2 that are open: stand-ins made by dup. */
	int a = dup(STDERR_FILENO), b = dup(STDERR_FILENO);
	g_autofree char *kernel = g_strdup_printf("fd:%d", a);
	g_autofree char *initrd = g_strdup_printf("fd:%d", b);

	argv[2] = kernel;
	argv[4] = initrd;
	g_assert_cmpint(options_parse(G_N_ELEMENTS(argv) - 1, argv, &c, &action), ==, 0);
	g_assert_false(c.sandbox);
	g_assert_cmpuint(options_inherited_fds(&c, fds), ==, 2);
	g_assert_cmpint(fds[0], ==, a);
	g_assert_cmpint(fds[1], ==, b);
	close(a);
	close(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options/sizes", test_sizes);
	g_test_add_func("/options/serial", test_serial);
	g_test_add_func("/options/disk", test_disk);
	g_test_add_func("/options/net", test_net);
	g_test_add_func("/options/vfio", test_vfio);
	g_test_add_func("/options/vsock-and-console", test_vsock_and_console);
	g_test_add_func("/options/defaults-and-values", test_defaults_and_values);
	g_test_add_func("/options/inherited-fds", test_inherited_fds);
	return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* phyllomed's machine definitions, names and object paths. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"
#include "grant.h"
#include "daemon.h"
#include "phyllome-error.h"

static void test_names(void)
{
	const char *good[] = { "desktop", "a", "win-11", "vm.example", "A0", NULL };
	const char *bad[] = { "",    ".",      "..",  "-x",  ".x", "x.", "a..b",
			      "a/b", "../etc", "a b", "a_b", "é",  NULL };
	g_autofree char *long_name = g_strnfill(65, 'a');
	g_autofree char *max_name = g_strnfill(64, 'a');

	for (const char **n = good; *n; n++)
		g_assert_true(machine_name_is_valid(*n));
	for (const char **n = bad; *n; n++)
		g_assert_false(machine_name_is_valid(*n));
	g_assert_false(machine_name_is_valid(NULL));
	g_assert_false(machine_name_is_valid(long_name));
	g_assert_true(machine_name_is_valid(max_name));
}

static void test_object_paths(void)
{
	g_autofree char *plain = machine_object_path("desktop");
	g_autofree char *dashed = machine_object_path("win-11.x");

	g_assert_cmpstr(plain, ==, "/org/phyllome/VM1/machine/desktop");
	g_assert_cmpstr(dashed, ==, "/org/phyllome/VM1/machine/win_2d11_2ex");
	g_assert_true(g_variant_is_object_path(dashed));
	g_autofree char *grant = grant_object_path(dashed, "0000:01:00.0");
	g_assert_cmpstr(grant, ==, "/org/phyllome/VM1/machine/win_2d11_2ex/grant/0000_01_00_0");
	g_assert_true(g_variant_is_object_path(grant));
}

static void test_sizes(void)
{
	guint64 v;

	g_assert_true(parse_size("512M", &v));
	g_assert_cmpuint(v, ==, 512ULL << 20);
	g_assert_true(parse_size("4G", &v));
	g_assert_cmpuint(v, ==, 4ULL << 30);
	g_assert_true(parse_size("2GiB", &v));
	g_assert_cmpuint(v, ==, 2ULL << 30);
	g_assert_true(parse_size("67108864", &v));
	g_assert_cmpuint(v, ==, 64ULL << 20);
	g_assert_false(parse_size("", &v));
	g_assert_false(parse_size("-1", &v));
	g_assert_false(parse_size("12X", &v));
	g_assert_false(parse_size("99999999999999999999", &v));
	g_assert_false(parse_size("17179869184G", &v));
}

static MachineConfig *parse(const char *text, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_assert_true(g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL));
	return machine_config_from_keyfile(kf, "vm", error);
}

static void test_parse(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) c =
	    parse("[Machine]\nKernel=/boot/vmlinuz\nInitrd=/boot/initrd.img\n"
		  "Cmdline=console=ttyS0 quiet\nCPUs=4\nMemory=2G\nOwner=1000\n"
		  "Autostart=login\nDisks=/var/lib/vm.img;/srv/cd.iso,readonly,serial=cd\n"
		  "Networks=tap=vm0,mac=52:54:00:12:34:56\nVSockCID=42\n"
		  "Devices=0000:01:00.0;0000:01:00.1\nReturnDevices=false\n"
		  "StopOnLogout=false\nStopOnLogoutDelay=120\n"
		  "[Resources]\nMemoryMax=3G\nCPUWeight=200\nTasksMax=64\n",
		  &error);

	g_assert_no_error(error);
	g_assert_cmpstr(c->kernel, ==, "/boot/vmlinuz");
	g_assert_cmpstr(c->initrd, ==, "/boot/initrd.img");
	g_assert_cmpstr(c->cmdline, ==, "console=ttyS0 quiet");
	g_assert_cmpuint(c->cpus, ==, 4);
	g_assert_cmpuint(c->memory, ==, 2ULL << 30);
	g_assert_cmpuint(c->owner, ==, 1000);
	g_assert_cmpint(c->autostart, ==, AUTOSTART_LOGIN);
	g_assert_cmpuint(c->memory_max, ==, 3ULL << 30);
	g_assert_cmpuint(c->cpu_weight, ==, 200);
	g_assert_cmpuint(c->tasks_max, ==, 64);
	g_assert_cmpuint(g_strv_length(c->disks), ==, 2);
	g_assert_cmpstr(c->disks[1], ==, "/srv/cd.iso,readonly,serial=cd");
	g_assert_cmpstr(c->networks[0], ==, "tap=vm0,mac=52:54:00:12:34:56");
	g_assert_cmpuint(c->vsock_cid, ==, 42);
	g_assert_cmpuint(g_strv_length(c->devices), ==, 2);
	g_assert_cmpstr(c->devices[1], ==, "0000:01:00.1");
	g_assert_false(c->return_devices);
	g_assert_false(c->stop_on_logout);
	g_assert_cmpuint(c->stop_on_logout_delay, ==, 120);
}

static void test_pci_addresses(void)
{
	g_autofree char *full = pci_address_normalize("0000:0A:1f.7");
	g_autofree char *short_form = pci_address_normalize("01:00.0");

	g_assert_cmpstr(full, ==, "0000:0a:1f.7");
	g_assert_cmpstr(short_form, ==, "0000:01:00.0");
	g_assert_null(pci_address_normalize("01:20.0"));
	g_assert_null(pci_address_normalize("01:00.8"));
	g_assert_null(pci_address_normalize("../../etc"));
	g_assert_null(pci_address_normalize("0000:01:00.0x"));
	g_assert_null(pci_address_normalize(""));
}

static void test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) c = parse("[Machine]\nKernel=/k\n", &error);

	g_assert_no_error(error);
	g_assert_null(c->initrd);
	g_assert_cmpstr(c->cmdline, ==, MACHINE_DEFAULT_CMDLINE);
	g_assert_cmpstr(c->architecture, ==, MACHINE_HOST_ARCHITECTURE);
	g_assert_cmpuint(c->cpus, ==, 1);
	g_assert_cmpuint(c->memory, ==, MACHINE_DEFAULT_MEMORY);
	g_assert_cmpint(c->autostart, ==, AUTOSTART_NO);
	g_assert_true(c->return_devices);
	g_assert_true(c->stop_on_logout);
	g_assert_cmpuint(c->stop_on_logout_delay, ==, MACHINE_DEFAULT_LOGOUT_DELAY);
}

/* Firmware=, SecureBoot= and UUID=, and what an absent key means. */
static void test_firmware(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) bare = parse("[Machine]\nDisks=/d.img\n", &error);
	g_autoptr(MachineConfig) again = parse("[Machine]\nDisks=/d.img\n", &error);
	g_autoptr(MachineConfig) kernel = parse("[Machine]\nKernel=/k\n", &error);
	g_autoptr(MachineConfig) secure =
	    parse("[Machine]\nFirmware=uefi\nSecureBoot=yes\n"
		  "UUID=0B6E5C1A-4D2F-4F4E-9A57-3C2D1E0F9A8B\nKernel=\n",
		  &error);
	g_autoptr(GKeyFile) kf = NULL;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	/* No kernel: the firmware boots the disks. */
	g_assert_cmpint(machine_config_firmware(bare), ==, FIRMWARE_UEFI);
	g_assert_false(bare->secure_boot);
	g_assert_cmpint(machine_config_firmware(kernel), ==, FIRMWARE_NONE);
	g_assert_cmpint(machine_config_firmware(secure), ==, FIRMWARE_UEFI);
	/* A firmware has a screen by default; a kernel handed in, its serial console. */
	g_assert_cmpint(machine_config_display(bare), ==, DISPLAY_VIRTIO_GPU);
	g_assert_cmpint(machine_config_display(kernel), ==, DISPLAY_NONE);
	g_assert_true(secure->secure_boot);
	g_assert_null(secure->kernel);
	g_assert_cmpstr(secure->uuid, ==, "0b6e5c1a-4d2f-4f4e-9a57-3c2d1e0f9a8b");
	/* Without UUID=, one derived from the name: the same at every load, another per name. */
	g_assert_true(g_uuid_string_is_valid(bare->uuid));
	g_assert_cmpstr(bare->uuid, ==, again->uuid);
	{
		g_autoptr(GKeyFile) other_kf = g_key_file_new();
		g_autoptr(MachineConfig) other = NULL;

		g_assert_true(g_key_file_load_from_data(other_kf, "[Machine]\nDisks=/d.img\n", -1,
							G_KEY_FILE_NONE, NULL));
		other = machine_config_from_keyfile(other_kf, "other", &error);
		g_assert_no_error(error);
		g_assert_cmpstr(other->uuid, !=, bare->uuid);
	}
	/* A new machine gets a random one. */
	{
		g_autoptr(MachineConfig) a = machine_config_new("vm");
		g_autoptr(MachineConfig) b = machine_config_new("vm");

		g_assert_true(g_uuid_string_is_valid(a->uuid));
		g_assert_cmpstr(a->uuid, !=, b->uuid);
	}
	/* Written back: the firmware, its keys and the UUID; no kernel command line. */
	kf = machine_config_to_keyfile(secure);
	text = g_key_file_to_data(kf, NULL, NULL);
	g_assert_nonnull(strstr(text, "Firmware=uefi\n"));
	g_assert_nonnull(strstr(text, "SecureBoot=yes\n"));
	g_assert_nonnull(strstr(text, "UUID=0b6e5c1a-4d2f-4f4e-9a57-3c2d1e0f9a8b\n"));
	g_assert_null(strstr(text, "Kernel="));
	g_assert_null(strstr(text, "Cmdline="));
}

static void test_broken(void)
{
	struct {
		const char *text, *message;
	} cases[] = {
		{ "[Other]\nKernel=/k\n", "no [Machine] section" },
		{ "[Machine]\nFirmware=none\n", "Kernel=: an absolute path is required" },
		{ "[Machine]\nFirmware=bios\n", "Firmware=bios: expected uefi or none" },
		{ "[Machine]\nFirmware=auto\n", "Firmware=auto: expected uefi or none" },
		{ "[Machine]\nFirmware=uefi\nKernel=/k\n",
		  "Kernel=/k: Firmware=uefi boots from the disks" },
		{ "[Machine]\nInitrd=/i\n", "Initrd=/i: Firmware=uefi boots from the disks" },
		{ "[Machine]\nKernel=/k\nSecureBoot=yes\n", "SecureBoot=yes: needs Firmware=uefi" },
		{ "[Machine]\nSecureBoot=perhaps\n", "SecureBoot=perhaps: expected yes or no" },
		{ "[Machine]\nUUID=not-a-uuid\n", "UUID=not-a-uuid: expected a UUID" },
		{ "[Machine]\nDisplay=vga\n", "Display=vga: expected virtio-gpu, bochs or none" },
		{ "[Machine]\nResolution=1920x\n", "Resolution=1920x: expected WIDTHxHEIGHT" },
		{ "[Machine]\nResolution=8192x8192\n",
		  "Resolution=8192x8192: expected WIDTHxHEIGHT" },
		{ "[Machine]\nDisplay=bochs\nResolution=1920x1080\n",
		  "Resolution=1920x1080: is virtio-gpu's first mode: needs Display=virtio-gpu" },
		{ "[Machine]\nUUID=0b6e5c1a-4d2f-4f4e-9a57-3c2d1e0f9a8\n", "expected a UUID" },
		{ "[Machine]\nKernel=vmlinuz\n", "Kernel=vmlinuz: an absolute path" },
		{ "[Machine]\nKernel=/k\nInitrd=initrd\n", "Initrd=initrd" },
		{ "[Machine]\nKernel=/k\nCPUs=0\n", "CPUs=0" },
		{ "[Machine]\nKernel=/k\nCPUs=lots\n", "CPUs=lots" },
		{ "[Machine]\nKernel=/k\nCPUs=255\n", "CPUs=255" },
		{ "[Machine]\nKernel=/k\nMemory=1M\n", "must be 16M to 1T" },
		{ "[Machine]\nKernel=/k\nMemory=2T\n", "must be 16M to 1T" },
		{ "[Machine]\nKernel=/k\nMemory=much\n", "Memory=much" },
		{ "[Machine]\nKernel=/k\nAutostart=sometimes\n", "Autostart=sometimes" },
		{ "[Machine]\nKernel=/k\nOwner=no-such-user-here\n",
		  "Owner=no-such-user-here: no such user" },
		{ "[Machine]\nKernel=/k\n[Resources]\nCPUWeight=20000\n", "CPUWeight=20000" },
		{ "[Machine]\nKernel=/k\nDisks=vm.img\n",
		  "Disks=vm.img: expected an absolute PATH" },
		{ "[Machine]\nKernel=/k\nDisks=/vm.img,fast\n",
		  "Disks=/vm.img,fast: unknown option" },
		{ "[Machine]\nKernel=/k\nDisks=/vm.img,serial=123456789012345678901\n",
		  "unknown option" },
		{ "[Machine]\nKernel=/k\nNetworks=br0\n", "Networks=br0: expected tap=NAME" },
		{ "[Machine]\nKernel=/k\nNetworks=tap=a b\n", "expected tap=NAME" },
		{ "[Machine]\nKernel=/k\nNetworks=tap=vm0,mac=01:00:5e:00:00:01\n", "unicast MAC" },
		{ "[Machine]\nKernel=/k\nVSockCID=2\n", "VSockCID=2" },
		{ "[Machine]\nKernel=/k\nDevices=01:00.0\n",
		  "Devices=01:00.0: expected a PCI address" },
		{ "[Machine]\nKernel=/k\nDevices=/dev/vfio/3\n", "expected a PCI address" },
		{ "[Machine]\nKernel=/k\nReturnDevices=maybe\n",
		  "ReturnDevices=maybe: expected yes or no" },
		{ "[Machine]\nKernel=/k\nStopOnLogout=later\n",
		  "StopOnLogout=later: expected yes or no" },
		{ "[Machine]\nKernel=/k\nStopOnLogoutDelay=86401\n", "StopOnLogoutDelay=86401" },
		{ "[Machine]\nKernel=/k\nStopOnLogoutDelay=-1\n", "StopOnLogoutDelay=-1" },
		{ "[Machine]\nKernel=/k\nArchitecture=mips\n",
		  "Architecture=mips: expected x86_64 or aarch64" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(MachineConfig) c = parse(cases[i].text, &error);

		g_assert_null(c);
		g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_INVALID_CONFIG);
		if (!strstr(error->message, cases[i].message))
			g_error("case %u: '%s' lacks '%s'", i, error->message, cases[i].message);
	}
}

/* A definition names its architecture; KVM runs the host's only, and another is refused by name. */
static void test_architecture(void)
{
#if defined(__x86_64__)
	const char *other = "[Machine]\nKernel=/k\nArchitecture=arm64\n", *other_name = "aarch64";
	const char *same = "[Machine]\nKernel=/k\nArchitecture=amd64\n";
#else
	const char *other = "[Machine]\nKernel=/k\nArchitecture=amd64\n", *other_name = "x86_64";
	const char *same = "[Machine]\nKernel=/k\nArchitecture=arm64\n";
#endif
	g_autoptr(GError) error = NULL;
	g_autoptr(MachineConfig) c = parse(same, &error);
	g_autoptr(MachineConfig) refused = NULL;
	g_autoptr(GKeyFile) kf = NULL;
	g_autofree char *saved = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(architecture_normalize(c->architecture), ==, MACHINE_HOST_ARCHITECTURE);
	/* Saved under its canonical name. */
	kf = machine_config_to_keyfile(c);
	saved = g_key_file_get_string(kf, "Machine", "Architecture", NULL);
	g_assert_cmpstr(saved, ==, MACHINE_HOST_ARCHITECTURE);

	refused = parse(other, &error);
	g_assert_null(refused);
	g_assert_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_WRONG_ARCHITECTURE);
	g_assert_nonnull(strstr(error->message, other_name));
	g_assert_nonnull(strstr(error->message, "this host runs " MACHINE_HOST_ARCHITECTURE));
}

static void test_save_load(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("phyllome-config-XXXXXX", &error);
	g_autofree char *path = NULL;
	g_autoptr(MachineConfig) c = machine_config_new("round-trip");
	g_autoptr(MachineConfig) back = NULL;

	g_assert_no_error(error);
	c->kernel = g_strdup("/boot/vmlinuz");
	c->cmdline = (g_free(c->cmdline), g_strdup("console=ttyS0 a=\"b c\" \\\\ end"));
	c->cpus = 3;
	c->memory = 768ULL << 20;
	c->owner = 4242;
	c->tasks_max = 99;
	c->disks = g_strsplit("/a.img,direct|/b.img,readonly", "|", -1);
	c->networks = g_strsplit("tap=t0", "|", -1);
	c->vsock_cid = 7;
	c->devices = g_strsplit("0000:03:00.0", "|", -1);
	c->autostart = AUTOSTART_LOGIN;
	c->stop_on_logout = FALSE;
	c->stop_on_logout_delay = 0;
	g_assert_true(machine_config_save(c, dir, &error));
	g_assert_no_error(error);
	path = g_build_filename(dir, "round-trip.conf", NULL);
	back = machine_config_load(path, "round-trip", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(back->cmdline, ==, c->cmdline);
	g_assert_cmpuint(back->cpus, ==, 3);
	g_assert_cmpuint(back->memory, ==, c->memory);
	g_assert_cmpuint(back->owner, ==, 4242);
	g_assert_cmpint(back->autostart, ==, AUTOSTART_LOGIN);
	g_assert_false(back->stop_on_logout);
	g_assert_cmpuint(back->stop_on_logout_delay, ==, 0);
	g_assert_cmpuint(back->tasks_max, ==, 99);
	g_assert_cmpstr(back->disks[0], ==, "/a.img,direct");
	g_assert_cmpstr(back->disks[1], ==, "/b.img,readonly");
	g_assert_null(back->disks[2]);
	g_assert_cmpstr(back->networks[0], ==, "tap=t0");
	g_assert_cmpuint(back->vsock_cid, ==, 7);
	g_assert_cmpstr(back->devices[0], ==, "0000:03:00.0");
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/daemon/config/names", test_names);
	g_test_add_func("/daemon/config/object-paths", test_object_paths);
	g_test_add_func("/daemon/config/sizes", test_sizes);
	g_test_add_func("/daemon/config/pci-addresses", test_pci_addresses);
	g_test_add_func("/daemon/config/parse", test_parse);
	g_test_add_func("/daemon/config/defaults", test_defaults);
	g_test_add_func("/daemon/config/firmware", test_firmware);
	g_test_add_func("/daemon/config/broken", test_broken);
	g_test_add_func("/daemon/config/save-load", test_save_load);
	g_test_add_func("/daemon/config/architecture", test_architecture);
	return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verbs that change machines: create, remove, start, stop, kill, restart. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phyllome-names.h"
#include "size.h"
#include "phyllomectl.h"

/* Start and stop reply when done; a guest may take its time. */
#define LONG_CALL_MS (10 * 60 * 1000)

static gboolean parse_size(const char *s, guint64 *ret)
{
	/* A bare number is MiB, as for phyllome-vmm. */
	return size_parse(s, SIZE_MIB, ret) == 0;
}

gboolean ctl_parse_user(const char *s, guint32 *ret)
{
	struct passwd *pw = getpwnam(s);
	guint64 uid;

	if (pw) {
		*ret = pw->pw_uid;
		return TRUE;
	}
	if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32 - 1, &uid, NULL))
		return FALSE;
	*ret = (guint32)uid;
	return TRUE;
}

int cmd_create(Ctl *ctl, int argc, char **argv)
{
	g_autofree char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *memory = NULL,
			*owner = NULL;
	g_autofree char *autostart = NULL, *memory_max = NULL, *path = NULL, *firmware = NULL,
			*uuid = NULL, *display = NULL, *resolution = NULL, *architecture = NULL;
	g_auto(GStrv) disks = NULL, networks = NULL;
	gboolean secure_boot = FALSE;
	gint cpus = 0, cpu_weight = 0, vsock_cid = 0;
	gint64 tasks_max = 0;
	g_autoptr(GOptionContext) context = g_option_context_new("NAME - define a machine");
	g_autoptr(GError) error = NULL;
	g_autoptr(PhyllomeManager) manager = NULL;
	GVariantBuilder config;
	guint64 size;
	guint32 uid;
	const GOptionEntry entries[] = {
		{ "firmware", 0, 0, G_OPTION_ARG_STRING, &firmware,
		  "uefi: boot the disks through UEFI firmware; none: boot --kernel (default: none "
		  "with --kernel, else uefi)",
		  "uefi|none" },
		{ "secure-boot", 0, 0, G_OPTION_ARG_NONE, &secure_boot,
		  "With uefi: Microsoft's keys enrolled, Secure Boot on", NULL },
		{ "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid,
		  "The machine's UUID, as its SMBIOS says (default: a new one)", "UUID" },
		{ "display", 0, 0, G_OPTION_ARG_STRING, &display,
		  "virtio-gpu or bochs: a screen, keyboard and tablet (phyllomectl view); none: "
		  "the "
		  "serial console only (default: virtio-gpu with uefi, else none)",
		  "virtio-gpu|bochs|none" },
		{ "resolution", 0, 0, G_OPTION_ARG_STRING, &resolution,
		  "virtio-gpu: the mode it offers first (default 1280x800)", "WxH" },
		{ "architecture", 0, 0, G_OPTION_ARG_STRING, &architecture,
		  "What the guest runs on: the host's, the only one KVM runs (the default)",
		  "x86_64|aarch64" },
		{ "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel,
		  "A Linux bzImage to boot directly (--firmware none)", "PATH" },
		{ "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial ramdisk", "PATH" },
		{ "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline,
		  "Kernel command line (default console=ttyS0)", "S" },
		{ "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "vCPUs (default 1)", "N" },
		{ "memory", 0, 0, G_OPTION_ARG_STRING, &memory,
		  "RAM, e.g. 512M or 4G (default 512M)", "SIZE" },
		{ "owner", 0, 0, G_OPTION_ARG_STRING, &owner,
		  "Owner, a user name or uid (default: you)", "USER" },
		{ "autostart", 0, 0, G_OPTION_ARG_STRING, &autostart,
		  "no, boot or login (default no)", "WHEN" },
		{ "memory-max", 0, 0, G_OPTION_ARG_STRING, &memory_max, "The scope's MemoryMax",
		  "SIZE" },
		{ "cpu-weight", 0, 0, G_OPTION_ARG_INT, &cpu_weight,
		  "The scope's CPUWeight (1-10000)", "N" },
		{ "tasks-max", 0, 0, G_OPTION_ARG_INT64, &tasks_max, "The scope's TasksMax", "N" },
		{ "disk", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disks,
		  "A disk: raw image or block device (repeatable)",
		  "PATH[,readonly][,serial=ID][,direct]" },
		{ "net", 0, 0, G_OPTION_ARG_STRING_ARRAY, &networks, "A NIC on a tap (repeatable)",
		  "tap=NAME[,mac=MAC]" },
		{ "vsock-cid", 0, 0, G_OPTION_ARG_INT, &vsock_cid,
		  "The guest's AF_VSOCK context ID", "N" },
		{ NULL },
	};

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("phyllomectl: create: %s\n", error->message);
		return EXIT_USAGE;
	}
	if (argc != 2) {
		g_printerr(
		    "phyllomectl: create needs a NAME (and --disk PATH to boot through UEFI, "
		    "or --kernel PATH)\n");
		return EXIT_USAGE;
	}
	if (firmware && !g_str_equal(firmware, "uefi") && !g_str_equal(firmware, "none")) {
		g_printerr("phyllomectl: create: --firmware is uefi or none, not '%s'\n", firmware);
		return EXIT_USAGE;
	}
	g_variant_builder_init(&config, G_VARIANT_TYPE_VARDICT);
	if (firmware)
		g_variant_builder_add(&config, "{sv}", "firmware", g_variant_new_string(firmware));
	if (secure_boot)
		g_variant_builder_add(&config, "{sv}", "secure-boot", g_variant_new_boolean(TRUE));
	if (uuid)
		g_variant_builder_add(&config, "{sv}", "uuid", g_variant_new_string(uuid));
	if (display)
		g_variant_builder_add(&config, "{sv}", "display", g_variant_new_string(display));
	if (resolution)
		g_variant_builder_add(&config, "{sv}", "resolution",
				      g_variant_new_string(resolution));
	if (architecture)
		g_variant_builder_add(&config, "{sv}", "architecture",
				      g_variant_new_string(architecture));
	/* Relative paths mean something only here: the daemon gets absolute ones. */
	if (kernel) {
		g_autofree char *abs = g_canonicalize_filename(kernel, NULL);

		g_variant_builder_add(&config, "{sv}", "kernel", g_variant_new_string(abs));
	}
	if (initrd) {
		g_autofree char *abs = g_canonicalize_filename(initrd, NULL);

		g_variant_builder_add(&config, "{sv}", "initrd", g_variant_new_string(abs));
	}
	if (cmdline)
		g_variant_builder_add(&config, "{sv}", "cmdline", g_variant_new_string(cmdline));
	if (disks) {
		/* The image's path is absolute for the daemon; its options go as they are. */
		for (guint i = 0; disks[i]; i++) {
			char *comma = strchr(disks[i], ',');
			g_autofree char *image = g_strndup(
			    disks[i], comma ? (gsize)(comma - disks[i]) : strlen(disks[i]));
			g_autofree char *abs = g_canonicalize_filename(image, NULL);
			char *spec = g_strconcat(abs, comma ? comma : "", NULL);

			g_free(disks[i]);
			disks[i] = spec;
		}
		g_variant_builder_add(&config, "{sv}", "disks",
				      g_variant_new_strv((const char *const *)disks, -1));
	}
	if (networks)
		g_variant_builder_add(&config, "{sv}", "networks",
				      g_variant_new_strv((const char *const *)networks, -1));
	if (vsock_cid < 0) {
		g_printerr("phyllomectl: create: --vsock-cid must be positive\n");
		return EXIT_USAGE;
	}
	if (vsock_cid)
		g_variant_builder_add(&config, "{sv}", "vsock-cid",
				      g_variant_new_uint32((guint32)vsock_cid));
	if (cpus < 0) {
		g_printerr("phyllomectl: create: --cpus must be positive\n");
		return EXIT_USAGE;
	}
	if (cpus)
		g_variant_builder_add(&config, "{sv}", "cpus", g_variant_new_uint32((guint32)cpus));
	if (memory) {
		if (!parse_size(memory, &size)) {
			g_printerr("phyllomectl: create: invalid --memory '%s' (e.g. 512M, 4G)\n",
				   memory);
			return EXIT_USAGE;
		}
		g_variant_builder_add(&config, "{sv}", "memory", g_variant_new_uint64(size));
	}
	if (owner) {
		if (!ctl_parse_user(owner, &uid)) {
			g_printerr("phyllomectl: create: no user '%s'\n", owner);
			return EXIT_USAGE;
		}
		g_variant_builder_add(&config, "{sv}", "owner", g_variant_new_uint32(uid));
	}
	if (autostart)
		g_variant_builder_add(&config, "{sv}", "autostart",
				      g_variant_new_string(autostart));
	if (memory_max) {
		if (!parse_size(memory_max, &size)) {
			g_printerr("phyllomectl: create: invalid --memory-max '%s'\n", memory_max);
			return EXIT_USAGE;
		}
		g_variant_builder_add(&config, "{sv}", "memory-max", g_variant_new_uint64(size));
	}
	if (cpu_weight)
		g_variant_builder_add(&config, "{sv}", "cpu-weight",
				      g_variant_new_uint32((guint32)cpu_weight));
	if (tasks_max)
		g_variant_builder_add(&config, "{sv}", "tasks-max",
				      g_variant_new_uint64((guint64)tasks_max));

	manager = ctl_manager(ctl, &error);
	if (!manager || !phyllome_manager_call_create_machine_sync(
			    manager, argv[1], ctl_options(ctl, &config), &path, NULL, &error))
		return ctl_error(argv[1], error);
	return EXIT_OK;
}

typedef gboolean (*MachineCall)(PhyllomeMachine *m, GVariant *options, GError **error);

static gboolean call_start(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_start_sync(m, options, NULL, error);
}

static gboolean call_stop(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_stop_sync(m, options, NULL, error);
}

static gboolean call_kill(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_kill_sync(m, options, NULL, error);
}

static gboolean call_restart(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_restart_sync(m, options, NULL, error);
}

static gboolean call_pause(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_pause_sync(m, options, NULL, error);
}

static gboolean call_resume(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_resume_sync(m, options, NULL, error);
}

static gboolean call_delete(PhyllomeMachine *m, GVariant *options, GError **error)
{
	return phyllome_machine_call_delete_sync(m, options, NULL, error);
}

/* Runs one method on each named machine; the worst status wins. */
static int for_each_machine(Ctl *ctl, int argc, char **argv, const char *verb, MachineCall call,
			    gboolean force, gint timeout)
{
	int worst = EXIT_OK;

	if (argc < 2) {
		g_printerr("phyllomectl: %s needs at least one machine name\n", verb);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		g_autoptr(PhyllomeMachine) m = NULL;
		g_autoptr(GError) error = NULL;
		GVariantBuilder options;
		int status = EXIT_OK;

		if (argv[i][0] == '-') {
			g_printerr("phyllomectl: %s: unknown option '%s'\n", verb, argv[i]);
			return EXIT_USAGE;
		}
		m = ctl_machine(ctl, argv[i], &status);
		if (m) {
			g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(m), LONG_CALL_MS);
			g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
			if (force)
				g_variant_builder_add(&options, "{sv}", PHYLLOME_OPTION_FORCE,
						      g_variant_new_boolean(TRUE));
			if (timeout >= 0)
				g_variant_builder_add(&options, "{sv}", PHYLLOME_OPTION_TIMEOUT,
						      g_variant_new_uint32((guint32)timeout));
			if (!call(m, ctl_options(ctl, &options), &error))
				status = ctl_error(argv[i], error);
		}
		worst = MAX(worst, status);
	}
	return worst;
}

/* Takes --force and --timeout SEC out of argv. */
static int stop_options(int *argc, char **argv, gboolean *force, gint *timeout)
{
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		if (g_str_equal(argv[i], "--force") || g_str_equal(argv[i], "-f")) {
			*force = TRUE;
		} else if (g_str_equal(argv[i], "--timeout") && i + 1 < *argc) {
			guint64 v;

			if (!g_ascii_string_to_unsigned(argv[++i], 10, 0, 86400, &v, NULL)) {
				g_printerr(
				    "phyllomectl: invalid --timeout '%s' (seconds, 0-86400)\n",
				    argv[i]);
				return EXIT_USAGE;
			}
			*timeout = (gint)v;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	return EXIT_OK;
}

int cmd_remove(Ctl *ctl, int argc, char **argv)
{
	return for_each_machine(ctl, argc, argv, "remove", call_delete, FALSE, -1);
}

int cmd_start(Ctl *ctl, int argc, char **argv)
{
	return for_each_machine(ctl, argc, argv, "start", call_start, FALSE, -1);
}

int cmd_stop(Ctl *ctl, int argc, char **argv)
{
	gboolean force = FALSE;
	gint timeout = -1;

	if (stop_options(&argc, argv, &force, &timeout) != EXIT_OK)
		return EXIT_USAGE;
	return for_each_machine(ctl, argc, argv, "stop", call_stop, force, timeout);
}

int cmd_kill(Ctl *ctl, int argc, char **argv)
{
	return for_each_machine(ctl, argc, argv, "kill", call_kill, FALSE, -1);
}

int cmd_restart(Ctl *ctl, int argc, char **argv)
{
	gboolean force = FALSE;
	gint timeout = -1;

	if (stop_options(&argc, argv, &force, &timeout) != EXIT_OK)
		return EXIT_USAGE;
	return for_each_machine(ctl, argc, argv, "restart", call_restart, force, timeout);
}

int cmd_pause(Ctl *ctl, int argc, char **argv)
{
	return for_each_machine(ctl, argc, argv, "pause", call_pause, FALSE, -1);
}

int cmd_resume(Ctl *ctl, int argc, char **argv)
{
	return for_each_machine(ctl, argc, argv, "resume", call_resume, FALSE, -1);
}

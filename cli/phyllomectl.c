/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "phyllomectl.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phyllome-error.h"
#include "phyllome-names.h"

static const Command commands[] = {
	{ "list", "", "List machines and their states", cmd_list },
	{ "status", "NAME", "Show a machine's state and definition", cmd_status },
	{ "create",
	  "NAME [--firmware uefi [--secure-boot] | --kernel PATH [--initrd PATH] [--cmdline S]]\n"
	  "                 [--cpus N] [--memory SIZE] [--uuid UUID] [--display "
	  "virtio-gpu|bochs|none]\n"
	  "                 [--resolution WxH] [--architecture x86_64|aarch64]\n"
	  "                 [--owner USER] [--autostart no|boot|login] [--disk PATH[,OPTIONS]]...\n"
	  "                 [--net tap=NAME[,mac=MAC]]... [--vsock-cid N]",
	  "Define a machine", cmd_create },
	{ "set", "NAME KEY=VALUE...",
	  "Change a stopped machine's definition (keys as in phyllome.conf(5))", cmd_set },
	{ "remove", "NAME", "Delete a stopped machine's definition", cmd_remove },
	{ "start", "NAME...", "Start machines", cmd_start },
	{ "stop", "NAME... [--force] [--timeout SEC]", "Shut machines down cleanly (power button)",
	  cmd_stop },
	{ "kill", "NAME...", "Kill machines' monitors at once", cmd_kill },
	{ "restart", "NAME...", "Stop (if running) and start machines", cmd_restart },
	{ "pause", "NAME...", "Pause machines (their vCPUs stop, their clocks hold still)",
	  cmd_pause },
	{ "resume", "NAME...", "Let paused machines run on", cmd_resume },
	{ "enable", "NAME [--at=login|boot] [--stop-on-logout=yes|no] [--logout-delay=SEC]",
	  "Start a machine by itself: at its owner's login (default) or at boot", cmd_enable },
	{ "disable", "NAME", "Start a machine only when asked", cmd_disable },
	{ "console", "NAME", "Attach to a machine's serial console (Ctrl-] three times to leave)",
	  cmd_console },
	{ "view", "NAME [--fullscreen]",
	  "Show a machine's screen in a window, with its keyboard and pointer", cmd_view },
	{ "screenshot", "NAME FILE", "Write what a machine's display shows as a PNG file",
	  cmd_screenshot },
	{ "logs", "NAME [--follow] [--lines N]",
	  "Show a machine's journal: phyllomed's lines about it and its monitor's", cmd_logs },
	{ "monitor", "", "Print machine events as they happen", cmd_monitor },
	{ "devices", "", "List the host's PCI devices: IOMMU groups, drivers, grants",
	  cmd_devices },
	{ "grant", "NAME DEVICE [--persistent]",
	  "Give a host PCI device to a machine (from its next start)", cmd_grant },
	{ "revoke", "NAME DEVICE [--force]",
	  "Take a granted device back (--force: from a running machine)", cmd_revoke },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: phyllomectl [OPTIONS] COMMAND ...\n\nManage Phyllome virtual "
		     "machines.\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-8s %s\n           %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(out,
		"\nOptions:\n"
		"  --json              machine-readable output of list, status, devices and logs\n"
		"  --no-legend         no table header\n"
		"  --no-ask-password   do not ask for a password when polkit wants one\n"
		"  -h, --help          this help\n"
		"\nExit status: 0 success, 1 failure, 2 usage, 3 not running (status), 4 no "
		"such machine,\n"
		"5 not authorized.\n");
}

PhyllomeManager *ctl_manager(Ctl *ctl, GError **error)
{
	return phyllome_manager_proxy_new_sync(ctl->bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
					       PHYLLOME_BUS_NAME, PHYLLOME_MANAGER_PATH, NULL,
					       error);
}

int ctl_error(const char *what, GError *error)
{
	g_autofree char *remote = g_dbus_error_get_remote_error(error);
	int status = EXIT_FAILED;

	if (g_error_matches(error, PHYLLOME_ERROR, PHYLLOME_ERROR_NO_SUCH_MACHINE))
		status = EXIT_NO_SUCH;
	else if (g_error_matches(error, PHYLLOME_ERROR, PHYLLOME_ERROR_NOT_AUTHORIZED) ||
		 g_strcmp0(remote, "org.freedesktop.DBus.Error.AccessDenied") == 0)
		status = EXIT_DENIED;
	g_dbus_error_strip_remote_error(error);
	if (remote && g_str_equal(remote, "org.freedesktop.DBus.Error.ServiceUnknown"))
		g_printerr("phyllomectl: %s: phyllomed is not running (%s)\n", what,
			   error->message);
	else
		g_printerr("phyllomectl: %s: %s\n", what, error->message);
	return status;
}

PhyllomeMachine *ctl_machine(Ctl *ctl, const char *name, int *ret_status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PhyllomeManager) manager = ctl_manager(ctl, &error);
	g_autofree char *path = NULL;
	PhyllomeMachine *machine;

	if (!manager ||
	    !phyllome_manager_call_get_machine_sync(manager, name, &path, NULL, &error)) {
		*ret_status = ctl_error(name, error);
		return NULL;
	}
	machine = phyllome_machine_proxy_new_sync(ctl->bus, G_DBUS_PROXY_FLAGS_NONE,
						  PHYLLOME_BUS_NAME, path, NULL, &error);
	if (!machine)
		*ret_status = ctl_error(name, error);
	return machine;
}

/* Like systemctl: on a terminal, a text agent answers polkit's questions. */
static void start_polkit_agent(void)
{
	static gboolean started;
	int notify[2];
	char c;
	pid_t pid;

	if (started)
		return;
	started = TRUE;
	if (!g_file_test("/usr/bin/pkttyagent", G_FILE_TEST_IS_EXECUTABLE) || pipe(notify) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		g_autofree char *pid_arg = g_strdup_printf("%d", (int)getppid());
		g_autofree char *fd_arg = g_strdup_printf("%d", notify[1]);

		close(notify[0]);
		execl("/usr/bin/pkttyagent", "pkttyagent", "--process", pid_arg, "--notify-fd",
		      fd_arg, "--fallback", (char *)NULL);
		_exit(127);
	}
	close(notify[1]);
	/* The agent closes the fd once it is registered. */
	while (pid > 0 && read(notify[0], &c, 1) > 0)
		;
	close(notify[0]);
}

GVariant *ctl_options(Ctl *ctl, GVariantBuilder *extra)
{
	GVariantBuilder own;
	GVariantBuilder *b = extra;
	gboolean interactive = !ctl->no_ask_password && isatty(STDIN_FILENO);

	if (!b) {
		g_variant_builder_init(&own, G_VARIANT_TYPE_VARDICT);
		b = &own;
	}
	if (interactive)
		start_polkit_agent();
	g_variant_builder_add(b, "{sv}", PHYLLOME_OPTION_INTERACTIVE,
			      g_variant_new_boolean(interactive));
	return g_variant_builder_end(b);
}

void json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			g_string_append_printf(out, "\\u%04x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	g_string_append_c(out, '"');
}

char *format_bytes(guint64 bytes)
{
	if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "G", bytes >> 30);
	if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "M", bytes >> 20);
	return g_strdup_printf("%" G_GUINT64_FORMAT, bytes);
}

int main(int argc, char **argv)
{
	Ctl ctl = { 0 };
	g_autoptr(GError) error = NULL;
	int i, status;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	/* Global options come before the verb; the verb parses its own. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (g_str_equal(argv[i], "--json"))
			ctl.json = TRUE;
		else if (g_str_equal(argv[i], "--no-legend"))
			ctl.no_legend = TRUE;
		else if (g_str_equal(argv[i], "--no-ask-password"))
			ctl.no_ask_password = TRUE;
		else if (g_str_equal(argv[i], "-h") || g_str_equal(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			g_printerr("phyllomectl: unknown option '%s' (see --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	(void)PHYLLOME_ERROR; /* so that remote errors map back to PhyllomeError codes */
	for (size_t c = 0; c < G_N_ELEMENTS(commands); c++) {
		if (!g_str_equal(argv[i], commands[c].name))
			continue;
		ctl.bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
		if (!ctl.bus) {
			g_printerr("phyllomectl: cannot connect to the system bus: %s\n",
				   error->message);
			return EXIT_FAILED;
		}
		status = commands[c].run(&ctl, argc - i, argv + i);
		g_object_unref(ctl.bus);
		return status;
	}
	g_printerr("phyllomectl: unknown command '%s' (see --help)\n", argv[i]);
	return EXIT_USAGE;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a machine's monitor starts with: its runtime directory, sockets, devices and command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "devices.h"
#include "files.h"
#include "firmware.h"
#include "spawn.h"
#include "passthrough.h"
#include "phyllome-error.h"

static int open_input(const char *path, int flags, GError **error)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno, "Cannot open %s",
				   path);
	return fd;
}

/*
 * The machine's runtime directory is root's alone: phyllomed trusts what is in
 * it (the state file, the sockets it connects to), and the monitor needs
 * nothing from it (its sockets are passed as fds). One left by an older
 * phyllomed, which gave it to the monitors' user, is taken back.
 */
static gboolean prepare_runtime_dir(const char *dir, GError **error)
{
	g_autofree char *console = g_build_filename(dir, "console", NULL);
	g_autofree char *control = g_build_filename(dir, "control", NULL);
	int fd;

	if (g_mkdir_with_parents(dir, 0700) < 0)
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, errno,
					  "Cannot prepare %s", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, 0, 0) < 0 || fchmod(fd, 0700) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err,
					  "Cannot prepare %s", dir);
	}
	close(fd);
	(void)g_unlink(console);
	(void)g_unlink(control);
	return TRUE;
}

/* The control socket, made by us so that we can connect before the monitor serves it. */
/* The monitor's sockets are ours: made here, root's alone, and passed to it as listening fds. */
static int listen_socket(const char *what, const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The path %s is too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err,
				   "Cannot create the %s socket %s", what, path);
		return -1;
	}
	return fd;
}

/* fd (or -1 after a failure already in *error) becomes the monitor's fd 3 + its index, named after
 * option. */
static gboolean pass_fd(GArray *fds, GPtrArray *argv, int fd, const char *option)
{
	if (fd < 0)
		return FALSE;
	g_array_append_val(fds, fd);
	g_ptr_array_add(argv, g_strdup_printf("%s%u", option, 3 + fds->len - 1));
	return TRUE;
}

static void close_fd(gpointer fd)
{
	(void)close(*(int *)fd);
}

/* Firmware=uefi: the firmware's code, the machine's variable store and its UUID. */
static gboolean add_firmware(const MonitorLaunch *l, GPtrArray *argv, GArray *fds, GError **error)
{
	const char *dir = l->options->firmware_dir;

	if (!pass_fd(fds, argv, firmware_open_code(dir, error), "--firmware=fd:") ||
	    !pass_fd(fds, argv, firmware_open_store(dir, l->config, error), "--nvram=fd:"))
		return FALSE;
	g_ptr_array_add(argv, g_strdup_printf("--uuid=%s", l->config->uuid));
	return TRUE;
}

/* Firmware=none: the kernel (the owner's file, opened as her), its initrd and command line. */
static gboolean add_kernel(const MachineConfig *c, GPtrArray *argv, GArray *fds, GError **error)
{
	if (!pass_fd(fds, argv,
		     machine_file_open(c, MACHINE_FILE_BOOT, c->kernel, FALSE, PHYLLOME_IMAGES_ROOT,
				       error),
		     "--kernel=fd:") ||
	    (c->initrd && !pass_fd(fds, argv,
				   machine_file_open(c, MACHINE_FILE_BOOT, c->initrd, FALSE,
						     PHYLLOME_IMAGES_ROOT, error),
				   "--initrd=fd:")))
		return FALSE;
	g_ptr_array_add(argv, g_strdup_printf("--cmdline=%s", c->cmdline ? c->cmdline : ""));
	return TRUE;
}

/* The monitor opens nothing itself: it runs unprivileged on what we open for it (fd 3 + index). */
static gboolean add_arguments(const MonitorLaunch *l, GPtrArray *argv, GArray *fds, GError **error)
{
	const MachineConfig *c = l->config;
	g_autofree char *console = g_build_filename(l->runtime_dir, "console", NULL);
	g_autofree char *control = g_build_filename(l->runtime_dir, "control", NULL);

	g_ptr_array_add(argv, g_strdup(l->options->vmm_path));
	g_ptr_array_add(argv, g_strdup_printf("--name=%s", c->name));
	if (!(machine_config_firmware(c) == FIRMWARE_UEFI ? add_firmware(l, argv, fds, error)
							  : add_kernel(c, argv, fds, error)) ||
	    !pass_fd(fds, argv, open_input("/dev/kvm", O_RDWR, error), "--kvm-fd="))
		return FALSE;
	g_ptr_array_add(argv, g_strdup_printf("--cpus=%u", c->cpus));
	if (machine_config_display(c) == DISPLAY_BOCHS)
		g_ptr_array_add(argv, g_strdup("--display=bochs"));
	if (machine_config_display(c) == DISPLAY_VIRTIO_GPU)
		g_ptr_array_add(argv, g_strdup("--display=virtio-gpu"));
	if (c->resolution_width)
		g_ptr_array_add(argv, g_strdup_printf("--resolution=%ux%u", c->resolution_width,
						      c->resolution_height));
	g_ptr_array_add(argv, g_strdup_printf("--memory=%" G_GUINT64_FORMAT "B", c->memory));
	return pass_fd(fds, argv, listen_socket("console", console, error), "--serial=fd:") &&
	       pass_fd(fds, argv, listen_socket("control", control, error), "--control-fd=") &&
	       devices_open(c, fds, argv, error);
}

static gboolean fork_monitor(const MonitorLaunch *l, GPtrArray *argv, GArray *fds, Spawn *ret,
			     GError **error)
{
	g_autofree char *identifier = g_strdup_printf("phyllome-vmm@%s", l->config->name);
	int output_fd = sd_journal_stream_fd(identifier, LOG_INFO, 1);
	SpawnParams params;
	gboolean ok;

	/* phyllomed keeps the clock of a stop; the monitor's own stays out of the way. */
	g_ptr_array_add(argv, g_strdup("--shutdown-timeout=86400"));
	/* Info lines too: the journal keeps priorities, and readers filter. */
	g_ptr_array_add(argv, g_strdup("--verbose"));
	g_ptr_array_add(argv, NULL);
	if (output_fd < 0)
		output_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	params = (SpawnParams){ .path = l->options->vmm_path,
				.argv = (char **)argv->pdata,
				.fds = (int *)(void *)fds->data,
				.n_fds = fds->len,
				.output_fd = output_fd,
				.uid = l->monitor_id,
				.gid = (gid_t)l->monitor_id };
	ok = spawn_prepare(&params, ret, error);
	if (output_fd >= 0)
		close(output_fd);
	return ok;
}

gboolean monitor_spawn(const MonitorLaunch *l, Spawn *ret, char ***ret_moved, GError **error)
{
	const DaemonOptions *o = l->options;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
	gboolean took_devices = FALSE, ok;

	/* Ours are passed to the child by spawn_prepare; these copies go when we are done. */
	g_array_set_clear_func(fds, close_fd);
	/* Never root's: a monitor runs as the id it was given, or not at all. */
	g_return_val_if_fail(l->monitor_id != 0, FALSE);
	ok = prepare_runtime_dir(l->runtime_dir, error) && add_arguments(l, argv, fds, error);
	if (!ok)
		passthrough_give_back(o->sysfs_root, l->config->name, l->kept);
	ok = ok &&
	     (took_devices = passthrough_take(o->sysfs_root, l->config->name, l->granted, l->kept,
					      fds, argv, moved, error)) &&
	     fork_monitor(l, argv, fds, ret, error);
	g_ptr_array_add(moved, NULL);
	if (ok)
		*ret_moved = g_strdupv((char **)moved->pdata);
	else if (took_devices)
		passthrough_give_back(o->sysfs_root, l->config->name,
				      (const char *const *)moved->pdata);
	return ok;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a machine's monitor starts with: its runtime directory, sockets, devices and command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "devices.h"
#include "machine-private.h"
#include "passthrough.h"
#include "phyllome-error.h"

static int open_input(const char *path, int flags, GError **error)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "Cannot open %s: %s", path, g_strerror(errno));
	return fd;
}

static gboolean prepare_runtime_dir(Machine *m, const struct passwd *pw, GError **error)
{
	g_autofree char *dir = machine_runtime_path(m, NULL);
	g_autofree char *console = machine_runtime_path(m, "console");
	g_autofree char *control = machine_runtime_path(m, "control");

	if (g_mkdir_with_parents(dir, 0750) < 0 || chown(dir, pw->pw_uid, pw->pw_gid) < 0 ||
	    chmod(dir, 0750) < 0) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "Cannot prepare %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
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
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "Cannot create the %s socket %s: %s", what, path, g_strerror(err));
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

gboolean machine_spawn_monitor(Machine *m, GError **error)
{
	const MachineConfig *c = m->config;
	const DaemonOptions *o = &m->daemon->options;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *console = machine_runtime_path(m, "console");
	g_autofree char *control = machine_runtime_path(m, "control");
	g_autofree char *identifier = NULL;
	g_autoptr(GPtrArray) granted = g_ptr_array_new();
	g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
	gboolean took_devices = FALSE;
	int output_fd;
	struct passwd *pw;
	SpawnParams params;
	gboolean ok = FALSE;

	pw = getpwnam(o->vm_user);
	if (!pw) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The user '%s' that monitors run as does not exist (see "
			    "sysusers.d/phyllome.conf)",
			    o->vm_user);
		return FALSE;
	}
	if (!prepare_runtime_dir(m, pw, error))
		return FALSE;

	/* The monitor opens nothing itself: it runs unprivileged on what we open for it (fd 3 +
	 * index in fds). */
	g_ptr_array_add(argv, g_strdup(o->vmm_path));
	g_ptr_array_add(argv, g_strdup_printf("--name=%s", c->name));
	if (!pass_fd(fds, argv, open_input(c->kernel, O_RDONLY, error), "--kernel=fd:") ||
	    (c->initrd &&
	     !pass_fd(fds, argv, open_input(c->initrd, O_RDONLY, error), "--initrd=fd:")) ||
	    !pass_fd(fds, argv, open_input("/dev/kvm", O_RDWR, error), "--kvm-fd="))
		goto out;
	g_ptr_array_add(argv, g_strdup_printf("--cmdline=%s", c->cmdline ? c->cmdline : ""));
	g_ptr_array_add(argv, g_strdup_printf("--cpus=%u", c->cpus));
	g_ptr_array_add(argv, g_strdup_printf("--memory=%" G_GUINT64_FORMAT "B", c->memory));
	if (!pass_fd(fds, argv, listen_socket("console", console, error), "--serial=fd:") ||
	    !pass_fd(fds, argv, listen_socket("control", control, error), "--control-fd=") ||
	    !devices_open(c, fds, argv, error))
		goto out;
	for (guint i = 0; i < m->grants->len; i++)
		g_ptr_array_add(granted, (gpointer)grant_get_device(m->grants->pdata[i]));
	g_ptr_array_add(granted, NULL);
	if (!passthrough_take(o->sysfs_root, m->name, (const char *const *)granted->pdata, fds,
			      argv, moved, error))
		goto out;
	took_devices = TRUE;
	/* phyllomed keeps the clock of a stop (m->stop_timeout); the monitor's own stays out of the
	 * way. */
	g_ptr_array_add(argv, g_strdup("--shutdown-timeout=86400"));
	/* Info lines too: the journal keeps priorities, and readers filter. */
	g_ptr_array_add(argv, g_strdup("--verbose"));
	g_ptr_array_add(argv, NULL);

	identifier = g_strdup_printf("phyllome-vmm@%s", m->name);
	output_fd = sd_journal_stream_fd(identifier, LOG_INFO, 1);
	if (output_fd < 0)
		output_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	params = (SpawnParams){ .path = o->vmm_path,
				.argv = (char **)argv->pdata,
				.fds = (int *)(void *)fds->data,
				.n_fds = fds->len,
				.output_fd = output_fd,
				.uid = pw->pw_uid,
				.gid = pw->pw_gid };
	ok = spawn_prepare(&params, &m->spawn, error);
	if (output_fd >= 0)
		close(output_fd);
out:
	g_ptr_array_add(moved, NULL);
	if (ok) {
		m->moved_devices = g_strdupv((char **)moved->pdata);
		machine_grants_set_active(m, TRUE);
	} else if (took_devices) {
		passthrough_give_back(o->sysfs_root, m->name, (const char *const *)moved->pdata);
	}
	for (guint i = 0; i < fds->len; i++)
		close(g_array_index(fds, int, i));
	return ok;
}

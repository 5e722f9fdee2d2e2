/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <grp.h>
#include <net/if.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon.h"
#include "files.h"
#include "phyllome-error.h"

static int add_fd(GArray *fds, int fd)
{
	g_array_append_val(fds, fd);
	return 3 + (int)fds->len - 1;
}

static gboolean fail(GError **error, const char *what, const char *path, int err)
{
	return daemon_errno_error(error, PHYLLOME_ERROR_START_FAILED, err, "Cannot open %s %s",
				  what, path);
}

static gboolean open_disk(const MachineConfig *c, const char *spec, GArray *fds, GPtrArray *argv,
			  GError **error)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", 2);
	const char *options = parts[1] ? parts[1] : "";
	gboolean readonly = FALSE;
	g_auto(GStrv) opts = g_strsplit(options, ",", -1);
	int fd;

	for (guint i = 0; opts[i]; i++)
		readonly |= g_str_equal(opts[i], "readonly");
	fd = machine_file_open(c, MACHINE_FILE_DISK, parts[0], !readonly, PHYLLOME_IMAGES_ROOT,
			       error);
	if (fd < 0)
		return FALSE;
	fd = add_fd(fds, fd);
	g_ptr_array_add(argv,
			g_strdup_printf("--disk=fd:%d%s%s", fd, *options ? "," : "", options));
	return TRUE;
}

/* -1 with errno ENOENT when the host has no such device: not every host has vhost. */
static int open_optional(const char *path)
{
	return open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
}

/*
 * The uid or gid a persistent tap was made for (ip tuntap ... user U, group
 * G; attribute "owner" or "group"), or -1 when it has none. Attaching as root
 * succeeds whoever it belongs to; phyllomed must not hand one user's tap to
 * another's VM.
 */
static long tap_attribute(const char *name, const char *attribute)
{
	g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s", name, attribute);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	return strtol(text, NULL, 10);
}

/* Whether the user uid is in the group gid (her primary group or a supplementary one). */
static gboolean user_in_group(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	gid_t groups[256];
	int n = G_N_ELEMENTS(groups);

	if (gid == 0 && uid == 0)
		return TRUE;
	if (!pw)
		return FALSE;
	if (pw->pw_gid == gid)
		return TRUE;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return FALSE;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return TRUE;
	return FALSE;
}

/* A persistent tap made for a user or a group is only for that user's or a member's machines. */
static gboolean check_tap_owner(const MachineConfig *c, const char *name, GError **error)
{
	long owner = tap_attribute(name, "owner"), group = tap_attribute(name, "group");

	if (owner >= 0 && owner != 0 && owner != (long)c->owner) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The tap %s belongs to uid %ld, not to the machine's owner (uid %u)",
			    name, owner, (unsigned)c->owner);
		return FALSE;
	}
	/* (Where it has an owner too, the owner alone decides.) */
	if (owner < 0 && group >= 0 && group != 0 && !user_in_group(c->owner, (gid_t)group)) {
		g_set_error(error, PHYLLOME_ERROR, PHYLLOME_ERROR_START_FAILED,
			    "The tap %s belongs to gid %ld, which the machine's owner (uid %u) is "
			    "not in",
			    name, group, (unsigned)c->owner);
		return FALSE;
	}
	return TRUE;
}

static gboolean open_network(const MachineConfig *c, const char *spec, GArray *fds, GPtrArray *argv,
			     GError **error)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", 2);
	const char *name = parts[0] + strlen("tap=");
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	g_autofree char *vhost = NULL;
	int tap, fd;

	tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tap < 0)
		return fail(error, "the tun device for tap", name, errno);
	g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
		int err = errno;

		close(tap);
		return fail(error, "tap", name, err);
	}
	if (!check_tap_owner(c, name, error)) {
		close(tap);
		return FALSE;
	}
	tap = add_fd(fds, tap);
	fd = open_optional("/dev/vhost-net");
	if (fd >= 0)
		vhost = g_strdup_printf(",vhost-fd=%d", add_fd(fds, fd));
	g_ptr_array_add(argv, g_strdup_printf("--net=fd=%d%s%s%s", tap, parts[1] ? "," : "",
					      parts[1] ? parts[1] : "", vhost ? vhost : ""));
	return TRUE;
}

gboolean devices_open(const MachineConfig *c, GArray *fds, GPtrArray *argv, GError **error)
{
	for (guint i = 0; c->disks && c->disks[i]; i++)
		if (!open_disk(c, c->disks[i], fds, argv, error))
			return FALSE;
	for (guint i = 0; c->networks && c->networks[i]; i++)
		if (!open_network(c, c->networks[i], fds, argv, error))
			return FALSE;
	if (c->vsock_cid) {
		int fd = open_optional("/dev/vhost-vsock");

		if (fd < 0)
			return fail(error, "the vsock device", "/dev/vhost-vsock", errno);
		g_ptr_array_add(argv, g_strdup_printf("--vsock=cid=%u,vhost-fd=%d", c->vsock_cid,
						      add_fd(fds, fd)));
	}
	return TRUE;
}

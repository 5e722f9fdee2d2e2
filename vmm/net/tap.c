/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

static int setup(int fd, const char *name)
{
	int size = TAP_VNET_HDR_SIZE;
	int flags = fcntl(fd, F_GETFL);

	if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0)
		return log_error_errno(errno, "Tap %s: cannot set the virtio net header size: %m",
				       name);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return log_error_errno(errno, "Tap %s: cannot make it non-blocking: %m", name);
	/* No offloads until the guest says which it takes. */
	return tap_set_offload(fd, 0);
}

int tap_open(const char *name)
{
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int r;

	if (fd < 0)
		return log_error_errno(errno,
				       "Cannot open /dev/net/tun: %m (is the tun module loaded?)");
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (errno == EPERM)
			return log_error_errno(
			    EPERM,
			    "Cannot open tap %s: it does not exist and creating it needs "
			    "CAP_NET_ADMIN, "
			    "or it belongs to another user (ip tuntap add %s mode tap user USER)",
			    name, name);
		if (errno == EINVAL || errno == EBUSY)
			return log_error_errno(
			    errno,
			    "Cannot open tap %s: %m (is it a tun device, or a tap in use "
			    "without multiqueue?)",
			    name);
		return log_error_errno(errno, "Cannot open tap %s: %m", name);
	}
	r = setup(fd, name);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int tap_adopt(int fd, char ret_name[IFNAMSIZ])
{
	struct ifreq ifr = {};

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return log_error_errno(EINVAL, "File descriptor %d is not a tap device", fd);
	if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_NO_PI))
		return log_error_errno(EINVAL,
				       "File descriptor %d is a tun device, not a tap without "
				       "packet info (IFF_TAP|IFF_NO_PI)",
				       fd);
	if (!(ifr.ifr_flags & IFF_VNET_HDR))
		return log_error_errno(EINVAL, "Tap %s (fd %d) was opened without IFF_VNET_HDR",
				       ifr.ifr_name, fd);
	memcpy(ret_name, ifr.ifr_name, IFNAMSIZ);
	ret_name[IFNAMSIZ - 1] = '\0';
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return setup(fd, ret_name);
}

int tap_set_offload(int fd, unsigned flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0)
		return -errno;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* How a machine starts by itself. */
typedef enum {
	AUTOSTART_NO,
	AUTOSTART_BOOT,
	AUTOSTART_LOGIN,
} Autostart;

/* What a machine boots: a kernel handed to it, or a UEFI firmware that boots from its disks. */
typedef enum {
	FIRMWARE_AUTO, /* no Firmware= key: none when Kernel= is set, else uefi */
	FIRMWARE_NONE,
	FIRMWARE_UEFI,
} Firmware;

/* The machine's screen. */
typedef enum {
	DISPLAY_AUTO, /* no Display= key: virtio-gpu with Firmware=uefi, else none */
	DISPLAY_NONE,
	DISPLAY_BOCHS,
	DISPLAY_VIRTIO_GPU,
} Display;

/* One machine definition: /etc/phyllome/machines/NAME.conf. */
typedef struct {
	char *name;
	char *kernel; /* NULL: none (a firmware boots the disks) */
	char *initrd; /* NULL: none */
	char *cmdline;
	guint cpus;
	guint64 memory;
	uid_t owner;
	Autostart autostart;
	guint64 memory_max; /* 0: no limit */
	guint cpu_weight;   /* 0: systemd's default */
	guint64 tasks_max;  /* 0: systemd's default */
	char **disks;	 /* "PATH[,readonly][,serial=ID][,direct]", NULL-terminated; phyllomed opens
			    them */
	char **networks; /* "tap=NAME[,mac=MAC]": taps phyllomed opens (or creates) */
	guint vsock_cid; /* 0: no vsock device */
	char *
	    *devices; /* host PCI devices granted persistently ("0000:01:00.0"), NULL-terminated */
	gboolean return_devices; /* after a run, host devices go back to their drivers (else stay on
				    vfio-pci) */
	gboolean stop_on_logout; /* Autostart=login: stop when the owner's last session ends */
	guint stop_on_logout_delay; /* seconds after that end, in case the owner comes back */
	Firmware firmware;
	gboolean secure_boot; /* Firmware=uefi: the variable store starts with Microsoft's keys */
	char *uuid; /* the machine's UUID (SMBIOS, machined): UUID=, or one derived from the name */
	Display display;
	guint resolution_width, resolution_height; /* Resolution= (virtio-gpu's first mode); 0: its
						      default */
	char *architecture; /* Architecture=: what the guest runs on; KVM runs the host's only */
} MachineConfig;

/* The architecture this phyllomed's machines run on, as uname -m names it. */
#if defined(__x86_64__)
#define MACHINE_HOST_ARCHITECTURE "x86_64"
#define MACHINE_DEFAULT_CMDLINE "console=ttyS0"
#elif defined(__aarch64__)
#define MACHINE_HOST_ARCHITECTURE "aarch64"
#define MACHINE_DEFAULT_CMDLINE "console=ttyAMA0"
#endif
/* "x86_64" or "aarch64" (Debian's "amd64" and "arm64" too): the canonical name, or NULL. */
const char *architecture_normalize(const char *s);

#define MACHINE_NAME_MAX 64
#define MACHINE_MIN_MEMORY (16ULL << 20)
#define MACHINE_MAX_MEMORY (1ULL << 40)
#define MACHINE_DEFAULT_MEMORY (512ULL << 20)
#define MACHINE_MAX_CPUS 254
#define MACHINE_MAX_DISKS 16
#define MACHINE_MAX_NETWORKS 8
#define MACHINE_MAX_DEVICES 8
#define MACHINE_DEFAULT_LOGOUT_DELAY 10
#define MACHINE_MAX_LOGOUT_DELAY 86400

/* One Disks= or Networks= entry; on FALSE *ret_why says what is wrong. */
gboolean machine_disk_is_valid(const char *spec, const char **ret_why);
gboolean machine_network_is_valid(const char *spec, const char **ret_why);
/* A PCI address, [DOMAIN:]BUS:SLOT.FUNCTION; its full lower-case form, or NULL when it is not one.
 */
char *pci_address_normalize(const char *address);

void machine_config_free(MachineConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MachineConfig, machine_config_free)

/* 1-64 of [A-Za-z0-9.-], a valid host name (machined needs one): no leading "-", no empty
 * dot-separated label. */
gboolean machine_name_is_valid(const char *name);

const char *autostart_to_string(Autostart autostart);
/* What c boots with, FIRMWARE_AUTO resolved. */
Firmware machine_config_firmware(const MachineConfig *c);
const char *firmware_to_string(Firmware firmware);
gboolean firmware_from_string(const char *s, Firmware *ret);
/* What c shows its screen on, DISPLAY_AUTO resolved. */
Display machine_config_display(const MachineConfig *c);
const char *display_to_string(Display display);
gboolean display_from_string(const char *s, Display *ret);
/* "WIDTHxHEIGHT", each 16 to 4095. */
gboolean resolution_from_string(const char *s, guint *width, guint *height);
/* A UUID in its canonical form (lower case, with dashes), or NULL when s is none. */
char *uuid_normalize(const char *s);
gboolean autostart_from_string(const char *s, Autostart *ret);

/* "512M", "2G", a bare number of bytes. */
gboolean parse_size(const char *s, guint64 *ret);

MachineConfig *machine_config_new(const char *name);
/* Parses and checks a definition; errors are PHYLLOME_ERROR_INVALID_CONFIG with the key and value.
 */
MachineConfig *machine_config_load(const char *path, const char *name, GError **error);
MachineConfig *machine_config_from_keyfile(GKeyFile *kf, const char *name, GError **error);
GKeyFile *machine_config_to_keyfile(const MachineConfig *config);
/* Checks values that cannot be wrong in a loaded definition (ranges, absolute paths). */
gboolean machine_config_check(const MachineConfig *config, GError **error);
/* Writes NAME.conf in dir atomically (temporary file + rename). */
gboolean machine_config_save(const MachineConfig *config, const char *dir, GError **error);

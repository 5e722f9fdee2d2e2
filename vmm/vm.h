/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bootfiles.h"
#include "console.h"
#include "control.h"
#include "display/bochs.h"
#include "event.h"
#include "hw/acpi_pm.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/pflash.h"
#include "hw/pl011.h"
#include "hw/pl031.h"
#include "hw/pl061.h"
#include "hw/pvpanic.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "trap.h"
#include "iothread.h"
#include "irq-routing.h"
#include "memory.h"
#include "options.h"
#include "gate.h"
#include "pci/i440fx.h"
#include "pci/pci.h"
#include "sandbox.h"
#include "stop-reason.h"
#include "vcpu.h"
#include "virtio/blk.h"
#include "virtio/hvc.h"
#include "virtio/gpu.h"
#include "virtio/input.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vfio/container.h"
#include "vfio/device.h"

struct arch_cpu_model;
struct arch_platform;

struct vm {
	const struct vm_config *config;
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct guest_memory mem;
	uint8_t *firmware; /* --firmware's image, mapped read-only below 4 GiB */
	uint64_t firmware_size;
	struct fw_cfg fw_cfg;
	bool fw_cfg_ready;
	int nvram_fd; /* --nvram, mapped shared at nvram, a flash just below the firmware */
	uint8_t *nvram;
	uint64_t nvram_size;
	struct pflash nvram_flash;
	bool nvram_ready;
	struct arch_cpu_model *cpu_model;
	struct arch_platform *platform; /* the interrupt controllers' KVM devices, where kept */
	struct vcpu *vcpus;
	unsigned vcpu_count;

	struct trap_table pio;
	struct trap_table mmio;
	struct pci_bus pci;
	struct pc_chipset chipset; /* with a firmware only */
	bool pci_ready;
	bool chipset_ready;
	struct irq_routing irq;
	bool irq_ready;
	struct iothread iothread;
	bool iothread_ready;
	struct virtio_rng rng;
	bool rng_ready;
	struct virtio_blk *disks; /* config->disk_count of them */
	unsigned disks_open;
	struct virtio_vsock vsock;
	bool vsock_open;
	struct virtio_net *nics; /* config->nic_count of them */
	unsigned nics_open;
	struct vfio_container vfio;
	struct vfio_pci *host_devices; /* config->vfio_count of them */
	unsigned host_devices_open;
	struct serial serial;
	struct i8042 i8042;
	struct rtc rtc;
	bool rtc_ready;
	struct acpi_pm pm;
	struct pvpanic pvpanic;
	struct pl011 uart;  /* aarch64: the console */
	struct pl031 pl031; /* aarch64: the real-time clock */
	bool pl031_ready;
	struct pl061 gpio; /* aarch64: the power button's line */
	struct console console;
	struct console hvc_console; /* the host end of the virtio-console, with --console */
	struct virtio_console hvc;
	bool hvc_ready;
	struct bochs display; /* with --display bochs */
	bool display_ready;
	struct virtio_gpu gpu; /* with --display virtio-gpu */
	bool gpu_ready;
	struct display_channel display_channel; /* served on the control channel */
	struct virtio_input keyboard, tablet;	/* with --input */
	bool input_ready;
	struct control control;
	struct control_ops control_ops;
	size_t devices_reached; /* rows of the device table that opening got to */

	struct event_loop loop;
	struct watch signal_watch;
	struct watch stop_watch;     /* eventfd: a vCPU or device asked to stop */
	struct watch shutdown_timer; /* timerfd: the guest's time to honour the power button */
	struct watch panic_watch;    /* eventfd: a vCPU saw the guest report a panic */
	atomic_uint panic_events;    /* what it reported (PVPANIC_*), 0 before any panic */
	bool panic_announced;
	bool power_button_pressed;
	bool config_error; /* vm_create() failed because of what was asked, not because of the host
			    */
	atomic_int stop_reason;
	struct vcpu_gate gate; /* where the vCPUs wait while paused */
	struct kvm_clock_data paused_clock;
	bool paused_clock_saved;
	struct vcpu_host vcpu_host;
	struct sandbox_config sandbox;
};

/* Opens KVM and builds the whole machine; nothing runs yet. */
/* Takes over the firmware image of files, if any. */
int vm_create(struct vm *vm, const struct vm_config *config, struct boot_files *files);
/* Runs until the guest or the host stops it; returns the stop reason. */
enum vm_stop_reason vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason);
/* Presses the ACPI power button and arms the shutdown timeout; why goes to the log. */
void vm_press_power_button(struct vm *vm, const char *why);
bool vm_stopping(struct vm *vm);
/* vm-devices.c: the device table's open (before KVM), init (with KVM) and done (backwards). */
int vm_devices_open(struct vm *vm);
/* On the vCPU thread that learnt it: stops the VM (unless a crash kernel takes over, events has
 * PVPANIC_CRASH_LOADED) and has the main loop tell the control channel's clients. */
void vm_guest_panicked(struct vm *vm, uint8_t events);
int vm_devices_init(struct vm *vm);
void vm_devices_done(struct vm *vm);
/* vm-control.c: serves org.phyllome.VMM1 on the configured socket. */
int vm_control_open(struct vm *vm);
/* Main thread. Returns 0, or -errno; pausing a paused VM does nothing. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);

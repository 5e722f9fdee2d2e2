/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bootfiles.h"
#include "console.h"
#include "control.h"
#include "event.h"
#include "hw/acpi_pm.h"
#include "hw/i8042.h"
#include "hw/pvpanic.h"
#include "hw/serial.h"
#include "io.h"
#include "iothread.h"
#include "irq-routing.h"
#include "memory.h"
#include "mmio.h"
#include "options.h"
#include "pause.h"
#include "pci/pci.h"
#include "sandbox.h"
#include "virtio/blk.h"
#include "virtio/hvc.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vfio/container.h"
#include "vfio/device.h"

/* Why the VM stopped; the first reason reported wins. */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_CRASH,
	VM_STOP_HOST,
	VM_STOP_ERROR,
	VM_STOP_PANIC,
};

struct vcpu;

struct vm {
	const struct vm_config *config;
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct guest_memory mem;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned vcpu_count;

	struct io_bus io;
	struct mmio_bus mmio;
	struct pci_bus pci;
	bool pci_ready;
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
	struct acpi_pm pm;
	struct pvpanic pvpanic;
	struct console console;
	struct console hvc_console; /* the host end of the virtio-console, with --console */
	struct virtio_console hvc;
	bool hvc_ready;
	struct control control;

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
	struct pause_state pause;
	struct sandbox_config sandbox;
};

/* Opens KVM and builds the whole machine; nothing runs yet. */
int vm_create(struct vm *vm, const struct vm_config *config, const struct boot_files *files);
/* Runs until the guest or the host stops it; returns the stop reason. */
enum vm_stop_reason vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason);
/* Presses the ACPI power button and arms the shutdown timeout; why goes to the log. */
void vm_press_power_button(struct vm *vm, const char *why);
bool vm_stopping(struct vm *vm);

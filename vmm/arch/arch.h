/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the machine-independent VM (vm.c, vm-devices.c) asks of the
 * architecture: the KVM features it needs, the in-kernel interrupt
 * controllers and timers, the firmware tables and kernel in guest memory,
 * and each vCPU's first state. arch/x86_64/arch.c and arch/aarch64/arch.c
 * implement it. The architecture's address map
 * (where platform devices, PCI windows and ECAM sit) comes with it.
 */
#include <stdbool.h>
#include <stdint.h>

#include "bootfiles.h"
#include "memory.h"
#include "options.h"

#include "arch/layout.h"

/* Where the loader put things: for the boot vCPU's first registers, and for the log. */
struct arch_boot {
	uint64_t entry;
	uint64_t boot_params; /* what the entry gets in its boot register (x86: %rsi) */
	uint64_t initrd_addr;
	uint64_t initrd_size;
	bool firmware; /* a firmware image starts at the reset vector instead */
};

/* The vCPUs' model, read once from KVM and fitted to each vCPU. */
struct arch_cpu_model;

/* 0, or -ENOTSUP after saying which capability /dev/kvm lacks. */
int arch_check_kvm(int kvm_fd);
/* The in-kernel interrupt controllers and timers, and what KVM needs before vCPUs exist; *ret
 * (NULL where nothing needs keeping) goes to arch_finish_platform() once every vCPU exists. */
struct arch_platform;
int arch_create_platform(int vm_fd, unsigned cpus, struct arch_platform **ret);
int arch_finish_platform(struct arch_platform *platform);
void arch_platform_free(struct arch_platform *platform);
/* Firmware tables and the kernel (with its initrd and command line) in guest memory. */
int arch_load_guest(const struct guest_memory *mem, const struct vm_config *config,
		    const struct boot_files *files, struct arch_boot *ret);

/* What a firmware reads through fw_cfg about this machine: CPUs, memory map. */
struct fw_cfg;
int arch_firmware_config(struct fw_cfg *fw, const struct guest_memory *mem,
			 const struct vm_config *config);

int arch_cpu_model_get(int kvm_fd, int vm_fd, struct arch_cpu_model **ret);
void arch_cpu_model_free(struct arch_cpu_model *model);
/* vCPU index of count: its model and registers; the boot vCPU gets boot's entry state. */
int arch_vcpu_init(const struct arch_cpu_model *model, int vcpu_fd, unsigned index, unsigned count,
		   const struct arch_boot *boot);
/* The vCPU's registers in one line of the log: a crashed or hung guest's first clue. */
void arch_vcpu_log_state(int vcpu_fd, unsigned index, int level);

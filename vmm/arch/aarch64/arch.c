/* SPDX-License-Identifier: GPL-2.0-or-later */
/* aarch64 behind arch/arch.h: the vGICv3, the Image loader, the device tree, vCPUs through PSCI. */
#include "arch/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/random.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/image.h"
#include "cleanup.h"
#include "log.h"
#include "pci/pci.h"
#include "util.h"

struct arch_cpu_model {
	struct kvm_vcpu_init init; /* KVM's preferred target for this host's CPUs */
};

struct arch_platform {
	struct aarch64_gic gic;
};

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (an in-kernel GIC)" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2 (PSCI for CPU_ON and SYSTEM_OFF)" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

/* What the kernel command line gets unless it names a reboot mode itself. */
#define PANIC_REBOOT_MODE "reboot=panic_warm"

#define CORE_REG(name)                                                                             \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(name))

int arch_check_kvm(int kvm_fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return log_error_errno(ENOTSUP, "This host's KVM lacks %s",
					       required_caps[i].name);
	return 0;
}

int arch_create_platform(int vm_fd, unsigned cpus, struct arch_platform **ret)
{
	_cleanup_free_ struct arch_platform *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = aarch64_gic_create(vm_fd, cpus, &p->gic);
	if (r < 0)
		return r;
	/* With an ITS, every MSI route and KVM_SIGNAL_MSI names its device. */
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MSI_DEVID) <= 0) {
		aarch64_gic_done(&p->gic);
		return log_error_errno(ENOTSUP, "This host's KVM lacks KVM_CAP_MSI_DEVID");
	}
	*ret = TAKE_PTR(p);
	return 0;
}

int arch_finish_platform(struct arch_platform *platform)
{
	return aarch64_gic_finish(&platform->gic);
}

void arch_platform_free(struct arch_platform *platform)
{
	if (!platform)
		return;
	aarch64_gic_done(&platform->gic);
	free(platform);
}

static uint64_t align_down(uint64_t value, uint64_t alignment)
{
	return value & ~(alignment - 1);
}

/*
 * RAM from 1 GiB: the Image at its text_offset from the start, the device tree
 * in the last 2 MiB block of the first 512 MiB (or of RAM, when smaller), the
 * initrd right below it.
 */
int arch_load_guest(const struct guest_memory *mem, const struct vm_config *config,
		    const struct boot_files *files, struct arch_boot *ret)
{
	const struct arm64_image *image = &files->kernel;
	uint64_t kernel_addr = GUEST_RAM_BASE + image->text_offset;
	uint64_t kernel_end = kernel_addr + image->image_size;
	uint64_t top =
	    GUEST_RAM_BASE + (mem->size < GUEST_FDT_WINDOW ? mem->size : GUEST_FDT_WINDOW);
	uint64_t fdt_addr = align_down(top, GUEST_KERNEL_ALIGN) - GUEST_FDT_MAX;
	uint64_t initrd_addr = fdt_addr;
	struct fdt_machine machine = { .cpus = config->cpus,
				       .ram_size = mem->size,
				       .cmdline = config->cmdline };
	struct pci_windows windows;
	char cmdline[ARM64_CMDLINE_MAX + 1];
	uint8_t *dest;
	int size;

	if (files->firmware)
		return log_error_errno(EOPNOTSUPP, "--firmware: UEFI firmware on aarch64 is not "
						   "supported yet; boot a kernel with --kernel");
	if (config->cpus > GUEST_GIC_REDIST_MAX_CPUS)
		return log_error_errno(E2BIG,
				       "--cpus %u: the GIC's redistributors serve at most %u vCPUs",
				       config->cpus, GUEST_GIC_REDIST_MAX_CPUS);
	guest_memory_pci_windows(mem, &windows);
	if (windows.mmio64_base + GUEST_PCI_MMIO64_SIZE > GUEST_IPA_LIMIT)
		return log_error_errno(E2BIG,
				       "%llu MiB of RAM leaves no room for the PCI window in "
				       "KVM's 40-bit guest address space",
				       (unsigned long long)(mem->size >> 20));
	if (fdt_addr < GUEST_RAM_BASE || kernel_end > fdt_addr)
		return log_error_errno(E2BIG,
				       "The kernel takes %llu MiB once running (its "
				       "image_size), more than %llu MiB of RAM holds beside "
				       "its device tree",
				       (unsigned long long)(image->image_size >> 20),
				       (unsigned long long)(mem->size >> 20));
	dest = guest_memory_ptr(mem, kernel_addr, image->size);
	if (!dest)
		return -EFAULT;
	memcpy(dest, image->data, image->size);

	if (files->initrd_fd >= 0) {
		int r;

		if (files->initrd_size <= fdt_addr - kernel_end)
			initrd_addr = align_down(fdt_addr - files->initrd_size, 4096);
		if (files->initrd_size > fdt_addr - kernel_end || initrd_addr < kernel_end)
			return log_error_errno(E2BIG,
					       "The initrd (%llu MiB) does not fit in RAM "
					       "between the kernel and its device tree "
					       "(%llu MiB there)",
					       (unsigned long long)(files->initrd_size >> 20),
					       (unsigned long long)((fdt_addr - kernel_end) >> 20));
		dest = guest_memory_ptr(mem, initrd_addr, files->initrd_size);
		if (!dest)
			return -EFAULT;
		r = pread_full(files->initrd_fd, dest, files->initrd_size, 0);
		if (r < 0)
			return log_error_errno(r, "Cannot read the initrd: %m");
		machine.initrd_start = initrd_addr;
		machine.initrd_size = files->initrd_size;
	}

	/* A panic then resets warm, which the vCPU takes for the panic report (vcpu.c). */
	if (!strstr(config->cmdline, "reboot=") &&
	    (size_t)snprintf(cmdline, sizeof(cmdline), "%s%s%s", config->cmdline,
			     *config->cmdline ? " " : "", PANIC_REBOOT_MODE) < sizeof(cmdline))
		machine.cmdline = cmdline;
	machine.pci_mmio32_base = windows.mmio32_base;
	machine.pci_mmio64_base = windows.mmio64_base;
	if (getrandom(machine.rng_seed, sizeof(machine.rng_seed), 0) != sizeof(machine.rng_seed))
		return log_error_errno(errno, "Cannot seed the guest's entropy: %m");
	dest = guest_memory_ptr(mem, fdt_addr, GUEST_FDT_MAX);
	if (!dest)
		return -EFAULT;
	size = aarch64_fdt_build(&machine, dest, GUEST_FDT_MAX);
	if (size < 0)
		return log_error_errno(size, "Cannot build the device tree%s: %m",
				       size == -E2BIG ? " (over its 2 MiB)" : "");
	*ret = (struct arch_boot){
		.entry = kernel_addr,
		.boot_params = fdt_addr,
		.initrd_addr = machine.initrd_start,
		.initrd_size = machine.initrd_size,
	};
	return 0;
}

/* No firmware boots on aarch64 yet, so nothing asks. */
int arch_firmware_config(struct fw_cfg *fw, const struct guest_memory *mem,
			 const struct vm_config *config)
{
	return -EOPNOTSUPP;
}

int arch_cpu_model_get(int kvm_fd, int vm_fd, struct arch_cpu_model **ret)
{
	struct arch_cpu_model *model = calloc(1, sizeof(*model));

	if (!model)
		return -ENOMEM;
	if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &model->init) < 0) {
		int r = log_error_errno(errno, "KVM_ARM_PREFERRED_TARGET: %m");

		free(model);
		return r;
	}
	*ret = model;
	return 0;
}

void arch_cpu_model_free(struct arch_cpu_model *model)
{
	free(model);
}

static int set_reg(int vcpu_fd, uint64_t id, uint64_t value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&value };

	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

/*
 * Every vCPU speaks PSCI 0.2+ through KVM; the others start powered off and
 * the guest brings them up with CPU_ON, which KVM handles itself. The boot
 * vCPU enters the Image at EL1 with the MMU off, the device tree in x0.
 */
int arch_vcpu_init(const struct arch_cpu_model *model, int vcpu_fd, unsigned index, unsigned count,
		   const struct arch_boot *boot)
{
	struct kvm_vcpu_init init = model->init;
	int r;

	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (index > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu_fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return log_error_errno(errno, "vCPU %u: KVM_ARM_VCPU_INIT: %m", index);
	if (index > 0)
		return 0;
	if ((r = set_reg(vcpu_fd, CORE_REG(regs.pc), boot->entry)) < 0 ||
	    (r = set_reg(vcpu_fd, CORE_REG(regs.regs[0]), boot->boot_params)) < 0)
		return log_error_errno(r, "vCPU 0: KVM_SET_ONE_REG: %m");
	return 0;
}

static uint64_t get_reg(int vcpu_fd, uint64_t id)
{
	uint64_t value = 0;
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&value };

	(void)ioctl(vcpu_fd, KVM_GET_ONE_REG, &reg);
	return value;
}

void arch_vcpu_log_state(int vcpu_fd, unsigned index, int level)
{
	log_internal(level, 0, "vCPU %u: pc=0x%llx pstate=0x%llx sp_el1=0x%llx elr_el1=0x%llx",
		     index, (unsigned long long)get_reg(vcpu_fd, CORE_REG(regs.pc)),
		     (unsigned long long)get_reg(vcpu_fd, CORE_REG(regs.pstate)),
		     (unsigned long long)get_reg(vcpu_fd, CORE_REG(sp_el1)),
		     (unsigned long long)get_reg(vcpu_fd, CORE_REG(elr_el1)));
}

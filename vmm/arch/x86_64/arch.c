/* SPDX-License-Identifier: GPL-2.0-or-later */
/* x86_64 behind arch/arch.h: ACPI tables, the bzImage loader, CPUID, the TSS and the PIT. */
#include "arch/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86_64/acpi-loader.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/e820.h"
#include "hw/fw_cfg.h"
#include "hw/smbios.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

struct arch_cpu_model {
	struct kvm_cpuid2 *cpuid; /* what KVM supports, before each vCPU's fix-ups */
};

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel interrupt controllers)" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel PIT)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

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
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = GUEST_IDENTITY_MAP_ADDR;

	/*
	 * KVM's default identity map lies at 0xfffbc000, inside a firmware's image. Only
	 * Intel hosts without unrestricted guests use it: where KVM will not move it (a
	 * KVM without one), the default stays, harmless but for such a host under a firmware.
	 */
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
		(void)log_internal(LOG_INFO, errno,
				   "KVM_SET_IDENTITY_MAP_ADDR: %m; KVM keeps its own");
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)GUEST_TSS_ADDR) < 0)
		return log_error_errno(errno, "KVM_SET_TSS_ADDR: %m");
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_error_errno(errno, "KVM_CREATE_IRQCHIP: %m");
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_error_errno(errno, "KVM_CREATE_PIT2: %m");
	*ret = NULL;
	return 0;
}

/* The PIC, IOAPIC and PIT are whole before any vCPU exists. */
int arch_finish_platform(struct arch_platform *platform)
{
	return 0;
}

void arch_platform_free(struct arch_platform *platform)
{
}

int arch_load_guest(const struct guest_memory *mem, const struct vm_config *config,
		    const struct boot_files *files, struct arch_boot *ret)
{
	uint8_t *acpi = guest_memory_ptr(mem, GUEST_ACPI_ADDR, GUEST_ACPI_MAX);
	struct boot_layout layout;
	struct pci_windows pci_windows;
	size_t acpi_size;
	int r;

	/* The firmware finds the machine through fw_cfg and lays out guest memory itself. */
	if (files->firmware) {
		*ret = (struct arch_boot){ .entry = GUEST_FIRMWARE_END - 16, .firmware = true };
		return 0;
	}

	guest_memory_pci_windows(mem, &pci_windows);
	r = acpi_build_tables(acpi, GUEST_ACPI_MAX, GUEST_ACPI_ADDR, config->cpus, &pci_windows,
			      &acpi_size);
	if (r < 0)
		return log_error_errno(r, "Cannot build the ACPI tables: %m");
	r = x86_write_boot_structures(mem);
	if (r < 0)
		return log_error_errno(r, "Cannot write page tables and GDT: %m");
	r = x86_load_linux(mem, &files->kernel, files->initrd_fd, files->initrd_size,
			   config->cmdline, GUEST_ACPI_ADDR, &layout);
	if (r < 0)
		return r;
	*ret = (struct arch_boot){
		.entry = layout.entry,
		.boot_params = layout.boot_params,
		.initrd_addr = layout.initrd_addr,
		.initrd_size = layout.initrd_size,
	};
	return 0;
}

/*
 * etc/e820 holds RAM and what a firmware must leave alone (ECAM, KVM's TSS and
 * identity map); the legacy areas below 1 MiB are the firmware's to describe. The
 * ACPI tables go through the table loader (acpi-loader.h): the firmware places them.
 */
int arch_firmware_config(struct fw_cfg *fw, const struct guest_memory *mem,
			 const struct vm_config *config)
{
	const struct e820_entry map[] = {
		{ .addr = 0, .size = mem->low_size, .type = E820_RAM },
		{ .addr = GUEST_PCI_ECAM_BASE, .size = GUEST_PCI_ECAM_SIZE, .type = E820_RESERVED },
		{ .addr = GUEST_IDENTITY_MAP_ADDR,
		  .size = GUEST_TSS_ADDR + 3 * 4096 - GUEST_IDENTITY_MAP_ADDR,
		  .type = E820_RESERVED },
		{ .addr = GUEST_MMIO_HOLE_END,
		  .size = guest_memory_high_size(mem),
		  .type = E820_RAM },
	};
	size_t entries = ARRAY_SIZE(map) - (guest_memory_high_size(mem) ? 0 : 1);
	struct smbios_machine machine = {
		.cpus = config->cpus,
		.ram_below_4g = mem->low_size,
		.ram_above_4g = guest_memory_high_size(mem),
		.version = PHYLLOME_VERSION,
	};
	uint8_t smbios[SMBIOS_MAX_SIZE], smbios_anchor[SMBIOS_ANCHOR_SIZE];
	struct pci_windows pci_windows;
	struct acpi_loader acpi;
	int smbios_size, r;

	memcpy(machine.uuid, config->uuid, sizeof(machine.uuid));
	smbios_size = smbios_build(&machine, smbios, sizeof(smbios), smbios_anchor);
	if (smbios_size < 0)
		return log_error_errno(smbios_size, "Cannot build the SMBIOS tables: %m");
	guest_memory_pci_windows(mem, &pci_windows);
	r = acpi_loader_build(config->cpus, &pci_windows, &acpi);
	if (r < 0)
		return log_error_errno(r, "Cannot build the ACPI tables for the firmware: %m");
	if ((r = fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, (uint16_t)config->cpus)) < 0 ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, (uint16_t)config->cpus)) < 0 ||
	    (r = fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, mem->size)) < 0 ||
	    (r = fw_cfg_add_file(fw, "etc/e820", map, (uint32_t)(entries * sizeof(map[0])),
				 false)) < 0 ||
	    (r = fw_cfg_add_file(fw, ACPI_LOADER_FILE_RSDP, acpi.rsdp.data,
				 (uint32_t)acpi.rsdp.size, false)) < 0 ||
	    (r = fw_cfg_add_file(fw, ACPI_LOADER_FILE_TABLES, acpi.tables.data,
				 (uint32_t)acpi.tables.size, false)) < 0 ||
	    (r = fw_cfg_add_file(fw, ACPI_LOADER_FILE_COMMANDS, acpi.commands.data,
				 (uint32_t)acpi.commands.size, false)) < 0 ||
	    (r = fw_cfg_add_file(fw, "etc/smbios/smbios-tables", smbios, (uint32_t)smbios_size,
				 false)) < 0 ||
	    (r = fw_cfg_add_file(fw, "etc/smbios/smbios-anchor", smbios_anchor, SMBIOS_ANCHOR_SIZE,
				 false)) < 0) {
		acpi_loader_free(&acpi);
		return log_error_errno(r, "Cannot describe the machine to the firmware: %m");
	}
	acpi_loader_free(&acpi);
	return 0;
}

int arch_cpu_model_get(int kvm_fd, int vm_fd, struct arch_cpu_model **ret)
{
	struct arch_cpu_model *model = calloc(1, sizeof(*model));
	int r;

	if (!model)
		return -ENOMEM;
	r = cpuid_get_supported(kvm_fd, &model->cpuid);
	if (r < 0) {
		free(model);
		return r;
	}
	*ret = model;
	return 0;
}

void arch_cpu_model_free(struct arch_cpu_model *model)
{
	if (!model)
		return;
	free(model->cpuid);
	free(model);
}

int arch_vcpu_init(const struct arch_cpu_model *model, int vcpu_fd, unsigned index, unsigned count,
		   const struct arch_boot *boot)
{
	size_t cpuid_size =
	    sizeof(struct kvm_cpuid2) + model->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *cpuid = malloc(cpuid_size);
	int r;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, model->cpuid, cpuid_size);
	cpuid_fixup(cpuid, index, count);
	r = x86_vcpu_init(vcpu_fd, cpuid);
	if (r < 0)
		return r;
	/* The others wait for the guest's INIT/SIPI, as application processors do; under a firmware
	 * the boot vCPU starts as after a reset, in real mode at the reset vector (KVM's initial
	 * state). */
	if (index == 0 && !boot->firmware)
		return x86_vcpu_set_boot_regs(vcpu_fd, boot->entry, boot->boot_params);
	return 0;
}

void arch_vcpu_log_state(int vcpu_fd, unsigned index, int level)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	log_internal(
	    level, 0,
	    "vCPU %u: rip=0x%llx (cs 0x%x base 0x%llx) rsp=0x%llx rflags=0x%llx cr0=0x%llx "
	    "cr3=0x%llx cr4=0x%llx efer=0x%llx",
	    index, regs.rip, sregs.cs.selector, sregs.cs.base, regs.rsp, regs.rflags, sregs.cr0,
	    sregs.cr3, sregs.cr4, sregs.efer);
}

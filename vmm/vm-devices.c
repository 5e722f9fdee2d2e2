/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM's devices: how each is wired to the VM, opened, set up and torn down. */
#include "vm.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

static int irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return log_error_errno(errno, "KVM_IRQ_LINE %u: %m", irq);
	return 0;
}

#if defined(__aarch64__)
/* A GIC shared peripheral interrupt: KVM_IRQ_LINE takes its type and INTID. */
static void spi_line(struct vm *vm, unsigned spi, int level)
{
	(void)irq_line(vm, KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT | (32 + spi), level);
}
#endif

void vm_guest_panicked(struct vm *vm, uint8_t events)
{
	int r;

	if (atomic_fetch_or(&vm->panic_events, events) != 0)
		return;
	if (events & PVPANIC_CRASH_LOADED) {
		log_error("The guest kernel panicked; its crash kernel takes over");
	} else {
		log_error("The guest kernel panicked");
		vm_request_stop(vm, VM_STOP_PANIC);
	}
	r = eventfd_signal(vm->panic_watch.fd);
	if (r < 0)
		log_warning_errno(r, "Cannot tell the main loop of the panic: %m");
}

/* Callbacks that wire the platform devices to the VM. */

static void serial_output(void *opaque, const uint8_t *data, size_t len)
{
	struct vm *vm = opaque;

	console_write(&vm->console, data, len);
}

#if defined(__x86_64__)
static void serial_set_irq(void *opaque, int level)
{
	(void)irq_line(opaque, IRQ_COM1, level);
}

static void guest_reset(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_RESET);
}

static void guest_power_off(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_POWEROFF);
}

static void pulse_irq(void *opaque, unsigned gsi)
{
	if (irq_line(opaque, gsi, 1) == 0)
		(void)irq_line(opaque, gsi, 0);
}

static size_t console_input(void *opaque, const uint8_t *data, size_t len)
{
	struct vm *vm = opaque;

	return serial_receive(&vm->serial, data, len);
}

static size_t console_input_space(void *opaque)
{
	struct vm *vm = opaque;

	return serial_rx_space(&vm->serial);
}
#elif defined(__aarch64__)
static void uart_set_irq(void *opaque, int level)
{
	spi_line(opaque, SPI_UART, level);
}

static void gpio_set_irq(void *opaque, int level)
{
	spi_line(opaque, SPI_GPIO, level);
}

static size_t console_input(void *opaque, const uint8_t *data, size_t len)
{
	struct vm *vm = opaque;

	return pl011_receive(&vm->uart, data, len);
}

static size_t console_input_space(void *opaque)
{
	struct vm *vm = opaque;

	return pl011_rx_space(&vm->uart);
}
#endif

static void console_hard_stop(void *opaque)
{
	log_notice("Stopping the VM at once (Ctrl-A x)");
	vm_request_stop(opaque, VM_STOP_HOST);
}

static const struct console_ops vm_console_ops = {
	.input = console_input,
	.input_space = console_input_space,
	.hard_stop = console_hard_stop,
};

static size_t hvc_input(void *opaque, const uint8_t *data, size_t len)
{
	struct vm *vm = opaque;

	return vm->hvc_ready ? virtio_console_input(&vm->hvc, data, len) : 0;
}

static size_t hvc_input_space(void *opaque)
{
	struct vm *vm = opaque;

	return vm->hvc_ready ? virtio_console_input_space(&vm->hvc) : 0;
}

static const struct console_ops vm_hvc_ops = {
	.input = hvc_input,
	.input_space = hvc_input_space,
	.hard_stop = console_hard_stop,
};

static int serial_open(struct vm *vm)
{
	int r = console_open(&vm->console, vm->config->serial, vm->config->serial_path,
			     vm->config->serial_fd, &vm->loop, &vm_console_ops, vm);

	vm->console.test_pass_fd = vm->config->test_console_pass_fd;
	return r;
}

#if defined(__x86_64__)
static int serial_device_init(struct vm *vm)
{
	serial_init(&vm->serial, serial_output, serial_set_irq, vm);
	return trap_register(&vm->pio, "COM1", PORT_COM1, 8, &serial_io_ops, &vm->serial);
}

static void serial_device_done(struct vm *vm)
{
	if (vm->serial.set_irq)
		serial_done(&vm->serial);
	if (vm->console.loop)
		console_close(&vm->console);
}

static int i8042_device_init(struct vm *vm)
{
	vm->i8042 = (struct i8042){ .reset = guest_reset, .opaque = vm };
	return trap_register(&vm->pio, "i8042", PORT_I8042_DATA,
			     PORT_I8042_COMMAND - PORT_I8042_DATA + 1, &i8042_io_ops, &vm->i8042);
}

static int rtc_device_init(struct vm *vm)
{
	int r = rtc_init(&vm->rtc, vm->mem.low_size, guest_memory_high_size(&vm->mem));

	if (r < 0)
		return r;
	vm->rtc_ready = true;
	return trap_register(&vm->pio, "RTC", PORT_RTC_INDEX, 2, &rtc_io_ops, &vm->rtc);
}

static void rtc_device_done(struct vm *vm)
{
	if (vm->rtc_ready)
		rtc_done(&vm->rtc);
	vm->rtc_ready = false;
}

static void *fw_cfg_guest_ptr(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vm *vm = opaque;

	return guest_memory_ptr(&vm->mem, gpa, len);
}

/* Only for a firmware: a Linux booted directly has its tables and memory map already. */
static int fw_cfg_device_init(struct vm *vm)
{
	int r;

	if (!vm->firmware)
		return 0;
	r = fw_cfg_init(&vm->fw_cfg, fw_cfg_guest_ptr, vm);
	if (r < 0)
		return r;
	vm->fw_cfg_ready = true;
	r = arch_firmware_config(&vm->fw_cfg, &vm->mem, vm->config);
	if (r < 0)
		return r;
	return trap_register(&vm->pio, "fw_cfg", FW_CFG_PORT_BASE, FW_CFG_PORT_COUNT,
			     &fw_cfg_io_ops, &vm->fw_cfg);
}

static void fw_cfg_device_done(struct vm *vm)
{
	if (vm->fw_cfg_ready)
		fw_cfg_done(&vm->fw_cfg);
	vm->fw_cfg_ready = false;
}

static uint64_t nvram_gpa(const struct vm *vm)
{
	return GUEST_FIRMWARE_END - vm->firmware_size - vm->nvram_size;
}

static int nvram_set_mapped(void *opaque, bool mapped)
{
	struct vm *vm = opaque;

	return guest_nvram_map(vm->vm_fd, nvram_gpa(vm), vm->nvram, mapped ? vm->nvram_size : 0);
}

static int nvram_sync(void *opaque)
{
	struct vm *vm = opaque;

	return msync(vm->nvram, vm->nvram_size, MS_SYNC) < 0 ? -errno : 0;
}

/* The firmware's variables: a flash just below it, read as memory, written through commands. */
static int nvram_device_init(struct vm *vm)
{
	int r;

	if (!vm->nvram)
		return 0;
	r = pflash_init(&vm->nvram_flash, vm->nvram, vm->nvram_size, nvram_set_mapped, nvram_sync,
			vm);
	if (r < 0)
		return r;
	vm->nvram_ready = true;
	r = nvram_set_mapped(vm, true);
	if (r < 0)
		return log_error_errno(r, "Cannot map the firmware's variable store: %m");
	return trap_register(&vm->mmio, "nvram flash", nvram_gpa(vm), vm->nvram_size, &pflash_ops,
			     &vm->nvram_flash);
}

static void nvram_device_done(struct vm *vm)
{
	if (vm->nvram_ready)
		pflash_done(&vm->nvram_flash);
	vm->nvram_ready = false;
}

static int acpi_pm_device_init(struct vm *vm)
{
	vm->pm = (struct acpi_pm){
		.power_off = guest_power_off,
		.reset = guest_reset,
		.pulse_irq = pulse_irq,
		.opaque = vm,
	};
	return trap_register(&vm->pio, "ACPI PM", PORT_ACPI_SLEEP_CONTROL,
			     PORT_ACPI_RESET - PORT_ACPI_SLEEP_CONTROL + 1, &acpi_pm_io_ops,
			     &vm->pm);
}

static void pvpanic_event(void *opaque, uint8_t events)
{
	vm_guest_panicked(opaque, events);
}

static int pvpanic_device_init(struct vm *vm)
{
	vm->pvpanic = (struct pvpanic){ .event = pvpanic_event, .opaque = vm };
	return trap_register(&vm->pio, "pvpanic", PORT_PVPANIC, 1, &pvpanic_io_ops, &vm->pvpanic);
}
#elif defined(__aarch64__)
static int uart_device_init(struct vm *vm)
{
	pl011_init(&vm->uart, serial_output, uart_set_irq, vm);
	return trap_register(&vm->mmio, "PL011 UART", GUEST_UART_ADDR, GUEST_PLATFORM_DEVICE_SIZE,
			     &pl011_ops, &vm->uart);
}

static void uart_device_done(struct vm *vm)
{
	if (vm->uart.set_irq)
		pl011_done(&vm->uart);
	if (vm->console.loop)
		console_close(&vm->console);
}

static int pl031_device_init(struct vm *vm)
{
	pl031_init(&vm->pl031);
	vm->pl031_ready = true;
	return trap_register(&vm->mmio, "PL031 RTC", GUEST_RTC_ADDR, GUEST_PLATFORM_DEVICE_SIZE,
			     &pl031_ops, &vm->pl031);
}

static void pl031_device_done(struct vm *vm)
{
	if (vm->pl031_ready)
		pl031_done(&vm->pl031);
	vm->pl031_ready = false;
}

static int gpio_device_init(struct vm *vm)
{
	pl061_init(&vm->gpio, gpio_set_irq, vm);
	return trap_register(&vm->mmio, "PL061 GPIO", GUEST_GPIO_ADDR, GUEST_PLATFORM_DEVICE_SIZE,
			     &pl061_ops, &vm->gpio);
}

static void gpio_device_done(struct vm *vm)
{
	if (vm->gpio.set_irq)
		pl061_done(&vm->gpio);
}
#endif

static int control_channel_open(struct vm *vm)
{
	display_channel_init(&vm->display_channel, &vm->loop);
	return vm_control_open(vm);
}

static void control_channel_done(struct vm *vm)
{
	if (vm->control.loop)
		control_close(&vm->control);
	display_channel_done(&vm->display_channel);
}

static int pci_init(struct vm *vm)
{
	struct pci_windows windows;
	int r;

	guest_memory_pci_windows(&vm->mem, &windows);
	r = pci_bus_init(&vm->pci, &vm->pio, &vm->mmio, &windows);

	vm->pci_ready = true;
	return r;
}

static void pci_done(struct vm *vm)
{
	if (vm->pci_ready)
		pci_bus_done(&vm->pci);
	vm->pci_ready = false;
}

#if defined(__x86_64__)
/* A firmware recognizes the machine by its chipset; a Linux booted directly needs none. */
static int chipset_init(struct vm *vm)
{
	int r;

	if (!vm->firmware)
		return 0;
	r = pc_chipset_init(&vm->chipset, &vm->pci, &vm->pio, &vm->pm);
	vm->chipset_ready = true;
	return r;
}

static void chipset_done(struct vm *vm)
{
	if (vm->chipset_ready)
		pc_chipset_done(&vm->chipset);
	vm->chipset_ready = false;
}
#endif

static void iothread_failed(void *opaque)
{
	log_error("The device thread stopped; stopping the VM");
	vm_request_stop(opaque, VM_STOP_ERROR);
}

/* What the virtio devices share: interrupt routing and the device thread. */
static int virtio_init(struct vm *vm)
{
	int r = irq_routing_init(&vm->irq, vm->vm_fd);

	if (r < 0)
		return r;
	vm->irq_ready = true;
	r = iothread_init(&vm->iothread, &vm->sandbox, iothread_failed, vm);
	vm->iothread_ready = true;
	return r;
}

static void virtio_done(struct vm *vm)
{
	if (vm->iothread_ready)
		iothread_done(&vm->iothread);
	vm->iothread_ready = false;
	if (vm->irq_ready)
		irq_routing_done(&vm->irq);
	vm->irq_ready = false;
}

static struct virtio_host virtio_host(struct vm *vm)
{
	return (struct virtio_host){
		.vm_fd = vm->vm_fd, .mem = &vm->mem, .irq = &vm->irq, .io = &vm->iothread
	};
}

static int rng_device_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r = virtio_rng_init(&vm->rng, &host);

	vm->rng_ready = true;
	return r < 0 ? r : pci_bus_add_device(&vm->pci, &vm->rng.vp.pci);
}

static void rng_device_done(struct vm *vm)
{
	if (vm->rng_ready)
		virtio_pci_done(&vm->rng.vp);
	vm->rng_ready = false;
}

static int disks_open(struct vm *vm)
{
	if (vm->config->disk_count) {
		vm->disks = calloc(vm->config->disk_count, sizeof(*vm->disks));
		if (!vm->disks)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->disk_count; i++) {
		int r = virtio_blk_open(&vm->disks[i], &vm->config->disks[i], i);

		vm->disks_open++;
		if (r < 0)
			return r;
	}
	return 0;
}

static void disks_done(struct vm *vm)
{
	for (unsigned i = 0; i < vm->disks_open; i++)
		virtio_blk_done(&vm->disks[i]);
	free(vm->disks);
	vm->disks = NULL;
	vm->disks_open = 0;
}

/*
 * With two disks or more, the firmware tries them in command-line order:
 * `bootorder` holds their OpenFirmware paths as QEMU writes them for virtio-blk,
 * which OVMF maps to its boot options. Not with one: OVMF drops the boot options
 * that bootorder does not name (the UEFI shell, those the guest's OS made), and
 * with one disk its own order in the variable store already starts there.
 */
static int disks_boot_order(struct vm *vm)
{
	char order[PCI_SLOTS * 32] = "";
	size_t len = 0;

	if (!vm->fw_cfg_ready || vm->disks_open < 2)
		return 0;
	for (unsigned i = 0; i < vm->disks_open; i++)
		len += (size_t)snprintf(order + len, sizeof(order) - len,
					"/pci@i0cf8/scsi@%x/disk@0,0\n", vm->disks[i].vp.pci.slot);
	return fw_cfg_add_file(&vm->fw_cfg, "bootorder", order, (uint32_t)len + 1, false);
}

static int disks_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);

	for (unsigned i = 0; i < vm->disks_open; i++) {
		int r = virtio_blk_init(&vm->disks[i], &host);
		if (r < 0)
			return r;
		r = pci_bus_add_device(&vm->pci, &vm->disks[i].vp.pci);
		if (r < 0)
			return r;
	}
	return disks_boot_order(vm);
}

static int nics_open(struct vm *vm)
{
	if (vm->config->nic_count) {
		vm->nics = calloc(vm->config->nic_count, sizeof(*vm->nics));
		if (!vm->nics)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->nic_count; i++) {
		int r = virtio_net_open(&vm->nics[i], &vm->config->nics[i], vm->config->name, i,
					&vm->mem);

		vm->nics_open++;
		if (r < 0)
			return r;
	}
	return 0;
}

static void nics_done(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nics_open; i++)
		virtio_net_done(&vm->nics[i]);
	free(vm->nics);
	vm->nics = NULL;
	vm->nics_open = 0;
}

static int nics_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);

	for (unsigned i = 0; i < vm->nics_open; i++) {
		int r = virtio_net_init(&vm->nics[i], &host);
		if (r < 0)
			return r;
		r = pci_bus_add_device(&vm->pci, &vm->nics[i].vp.pci);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vsock_open(struct vm *vm)
{
	int r;

	if (!vm->config->vsock_cid)
		return 0;
	r = virtio_vsock_open(&vm->vsock, vm->config->vsock_cid, vm->config->vsock_vhost_fd,
			      &vm->mem);
	vm->vsock_open = true;
	return r;
}

static void vsock_done(struct vm *vm)
{
	if (vm->vsock_open)
		virtio_vsock_done(&vm->vsock);
	vm->vsock_open = false;
}

static int vsock_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r;

	if (!vm->vsock_open)
		return 0;
	r = virtio_vsock_init(&vm->vsock, &host);
	return r < 0 ? r : pci_bus_add_device(&vm->pci, &vm->vsock.vp.pci);
}

/* Each host device's BARs take 2 * PCI_BARS memory slots, after guest RAM's and the firmware's. */
#define HOST_DEVICE_FIRST_MEMSLOT GUEST_FIRST_FREE_MEMSLOT

static int host_devices_open(struct vm *vm)
{
	if (vm->config->vfio_count) {
		vm->host_devices = calloc(vm->config->vfio_count, sizeof(*vm->host_devices));
		if (!vm->host_devices)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->vfio_count; i++) {
		const struct vfio_config *v = &vm->config->vfio[i];
		int r = vfio_container_add_device(&vm->vfio, v->bdf, v->group_fd);

		if (r < 0)
			return r;
		r = vfio_pci_open(&vm->host_devices[i], v->bdf, r);
		vm->host_devices_open++;
		if (r < 0)
			return r;
	}
	return 0;
}

static void host_devices_done(struct vm *vm)
{
	for (unsigned i = 0; i < vm->host_devices_open; i++)
		vfio_pci_done(&vm->host_devices[i]);
	free(vm->host_devices);
	vm->host_devices = NULL;
	vm->host_devices_open = 0;
	vfio_container_done(&vm->vfio);
}

static int host_devices_init(struct vm *vm)
{
	int r;

	if (!vm->host_devices_open)
		return 0;
	if ((r = vfio_container_map_memory(&vm->vfio, &vm->mem)) < 0 ||
	    (r = vfio_container_attach_kvm(&vm->vfio, vm->vm_fd)) < 0)
		return r;
	for (unsigned i = 0; i < vm->host_devices_open; i++) {
		r = vfio_pci_init(&vm->host_devices[i], &vm->pci, vm->vm_fd, &vm->irq,
				  HOST_DEVICE_FIRST_MEMSLOT + i * 2 * PCI_BARS);
		if (r < 0)
			return r;
	}
	return 0;
}

static int hvc_open(struct vm *vm)
{
	if (!vm->config->hvc)
		return 0;
	return console_open(&vm->hvc_console, vm->config->hvc_kind, vm->config->hvc_path,
			    vm->config->hvc_fd, &vm->loop, &vm_hvc_ops, vm);
}

static void hvc_done(struct vm *vm)
{
	if (vm->hvc.vp.ops)
		virtio_pci_done(&vm->hvc.vp);
	vm->hvc_ready = false;
	if (vm->hvc_console.loop)
		console_close(&vm->hvc_console);
}

static int hvc_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r;

	if (!vm->config->hvc)
		return 0;
	r = virtio_console_init(&vm->hvc, &vm->hvc_console, &host);
	if (r < 0)
		return r;
	r = pci_bus_add_device(&vm->pci, &vm->hvc.vp.pci);
	vm->hvc_ready = r == 0;
	return r;
}

static int display_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r;

	switch (vm->config->display) {
	case DISPLAY_BOCHS:
		r = bochs_init(&vm->display, vm->vm_fd, GUEST_DISPLAY_MEMSLOT);
		vm->display_ready = true;
		if (r >= 0)
			r = pci_bus_add_device(&vm->pci, &vm->display.pci);
		return r < 0 ? r
			     : display_channel_set_source(&vm->display_channel, &bochs_display_ops,
							  &vm->display);
	case DISPLAY_VIRTIO_GPU:
		r = virtio_gpu_init(&vm->gpu,
				    vm->config->resolution_width ? vm->config->resolution_width
								 : GPU_DEFAULT_WIDTH,
				    vm->config->resolution_height ? vm->config->resolution_height
								  : GPU_DEFAULT_HEIGHT,
				    &host);
		vm->gpu_ready = true;
		if (r >= 0)
			r = pci_bus_add_device(&vm->pci, &vm->gpu.vp.pci);
		return r < 0 ? r
			     : display_channel_set_source(&vm->display_channel,
							  &virtio_gpu_display_ops, &vm->gpu);
	default:
		return 0;
	}
}

static void display_done(struct vm *vm)
{
	(void)display_channel_set_source(&vm->display_channel, NULL, NULL);
	if (vm->display_ready)
		bochs_done(&vm->display);
	vm->display_ready = false;
	if (vm->gpu_ready)
		virtio_gpu_done(&vm->gpu);
	vm->gpu_ready = false;
}

static int input_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r;

	if (!vm->config->input)
		return 0;
	/* Both set up before either can fail: input_done undoes them as a pair. */
	r = virtio_input_init(&vm->keyboard, VIRTIO_INPUT_KEYBOARD, &host);
	if (r >= 0)
		r = virtio_input_init(&vm->tablet, VIRTIO_INPUT_TABLET, &host);
	vm->input_ready = true;
	if (r >= 0)
		r = pci_bus_add_device(&vm->pci, &vm->keyboard.vp.pci);
	if (r >= 0)
		r = pci_bus_add_device(&vm->pci, &vm->tablet.vp.pci);
	if (r >= 0)
		display_channel_set_input(&vm->display_channel, &vm->keyboard, &vm->tablet);
	return r;
}

static void input_done(struct vm *vm)
{
	display_channel_set_input(&vm->display_channel, NULL, NULL);
	if (vm->input_ready) {
		virtio_pci_done(&vm->tablet.vp);
		virtio_pci_done(&vm->keyboard.vp);
	}
	vm->input_ready = false;
}

/*
 * Every device, in the order it is set up: open (before KVM: what the
 * configuration names, so its errors are the user's to fix), then init (onto
 * the buses, with KVM and guest memory there). Teardown walks the table
 * backwards; each done undoes whichever of the two ran, and nothing when
 * neither did.
 */
static const struct {
	const char *name;
	int (*open)(struct vm *vm);
	int (*init)(struct vm *vm);
	void (*done)(struct vm *vm);
} devices[] = {
#if defined(__x86_64__)
	{ "serial port COM1", serial_open, serial_device_init, serial_device_done },
	{ "i8042 reset controller", NULL, i8042_device_init, NULL },
	{ "real-time clock", NULL, rtc_device_init, rtc_device_done },
	{ "firmware configuration (fw_cfg)", NULL, fw_cfg_device_init, fw_cfg_device_done },
	{ "firmware variables (nvram flash)", NULL, nvram_device_init, nvram_device_done },
	{ "ACPI power management", NULL, acpi_pm_device_init, NULL },
	{ "pvpanic device", NULL, pvpanic_device_init, NULL },
#elif defined(__aarch64__)
	{ "PL011 UART", serial_open, uart_device_init, uart_device_done },
	{ "PL031 real-time clock", NULL, pl031_device_init, pl031_device_done },
	{ "PL061 GPIO (the power button)", NULL, gpio_device_init, gpio_device_done },
#endif
	{ "control channel", control_channel_open, NULL, control_channel_done },
	{ "PCIe host bridge", NULL, pci_init, pci_done },
#if defined(__x86_64__)
	{ "PC chipset (i440FX, PIIX4 power management)", NULL, chipset_init, chipset_done },
#endif
	{ "interrupt routing and device thread", NULL, virtio_init, virtio_done },
	{ "virtio-rng", NULL, rng_device_init, rng_device_done },
	{ "virtio-blk disks", disks_open, disks_init, disks_done },
	{ "virtio-net NICs", nics_open, nics_init, nics_done },
	{ "virtio-console", hvc_open, hvc_init, hvc_done },
	{ "virtio-vsock", vsock_open, vsock_init, vsock_done },
	{ "display", NULL, display_init, display_done },
	{ "virtio-input keyboard and tablet", NULL, input_init, input_done },
	{ "host devices (VFIO)", host_devices_open, host_devices_init, host_devices_done },
};

int vm_devices_open(struct vm *vm)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		int r;

		vm->devices_reached = i + 1;
		if (devices[i].open && (r = devices[i].open(vm)) < 0)
			return r;
	}
	return 0;
}

int vm_devices_init(struct vm *vm)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		int r;

		if (devices[i].init && (r = devices[i].init(vm)) < 0)
			return log_error_errno(r, "Cannot set up the %s: %m", devices[i].name);
	}
	return 0;
}

void vm_devices_done(struct vm *vm)
{
	for (size_t i = vm->devices_reached; i-- > 0;)
		if (devices[i].done)
			devices[i].done(vm);
	vm->devices_reached = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/layout.h"
#include "cleanup.h"
#include "log.h"
#include "vcpu.h"

#define KVM_API_VERSION_REQUIRED 12
/* While console input waits for the guest to drain the UART, look again this often. */
#define INPUT_RETRY_MS 20

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

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)reason))
		(void)write(vm->stop_watch.fd, &one, sizeof(one));
}

bool vm_stopping(struct vm *vm)
{
	return atomic_load(&vm->stop_reason) != VM_RUNNING;
}

static int irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return log_error_errno(errno, "KVM_IRQ_LINE %u: %m", irq);
	return 0;
}

/* Callbacks that wire the platform devices to the VM. */

static void serial_output(void *opaque, const uint8_t *data, size_t len)
{
	struct vm *vm = opaque;

	console_write(&vm->console, data, len);
}

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

static int serial_device_init(struct vm *vm)
{
	serial_init(&vm->serial, serial_output, serial_set_irq, vm);
	return io_bus_register(&vm->io, "COM1", PORT_COM1, 8, &serial_io_ops, &vm->serial);
}

static int i8042_device_init(struct vm *vm)
{
	vm->i8042 = (struct i8042){ .reset = guest_reset, .opaque = vm };
	return io_bus_register(&vm->io, "i8042", PORT_I8042_DATA,
			       PORT_I8042_COMMAND - PORT_I8042_DATA + 1, &i8042_io_ops, &vm->i8042);
}

static int acpi_pm_device_init(struct vm *vm)
{
	vm->pm = (struct acpi_pm){
		.power_off = guest_power_off,
		.reset = guest_reset,
		.pulse_irq = pulse_irq,
		.opaque = vm,
	};
	return io_bus_register(&vm->io, "ACPI PM", PORT_ACPI_SLEEP_CONTROL,
			       PORT_ACPI_RESET - PORT_ACPI_SLEEP_CONTROL + 1, &acpi_pm_io_ops,
			       &vm->pm);
}

/* On the vCPU thread that took the write: the main loop tells the control channel's clients. */
static void guest_panicked(void *opaque, uint8_t events)
{
	struct vm *vm = opaque;
	uint64_t one = 1;

	if (atomic_fetch_or(&vm->panic_events, events) != 0)
		return;
	if (events & PVPANIC_CRASH_LOADED) {
		log_error("The guest kernel panicked; its crash kernel takes over");
	} else {
		log_error("The guest kernel panicked");
		vm_request_stop(vm, VM_STOP_PANIC);
	}
	(void)write(vm->panic_watch.fd, &one, sizeof(one));
}

static int pvpanic_device_init(struct vm *vm)
{
	vm->pvpanic = (struct pvpanic){ .event = guest_panicked, .opaque = vm };
	return io_bus_register(&vm->io, "pvpanic", PORT_PVPANIC, 1, &pvpanic_io_ops, &vm->pvpanic);
}

static int pci_init(struct vm *vm)
{
	int r = pci_bus_init(&vm->pci, &vm->io, &vm->mmio, guest_memory_mmio64_base(&vm->mem));

	vm->pci_ready = true;
	return r;
}

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
	return 0;
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

static int vsock_init(struct vm *vm)
{
	struct virtio_host host = virtio_host(vm);
	int r;

	if (!vm->vsock_open)
		return 0;
	r = virtio_vsock_init(&vm->vsock, &host);
	return r < 0 ? r : pci_bus_add_device(&vm->pci, &vm->vsock.vp.pci);
}

/* Memory slots 0 and 1 are guest RAM; each host device's BARs take 2 * PCI_BARS after them. */
#define HOST_DEVICE_FIRST_MEMSLOT 2

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

/* The platform, in the order devices are set up. */
static const struct {
	const char *name;
	int (*init)(struct vm *vm);
} platform_devices[] = {
	{ "serial port COM1", serial_device_init },
	{ "i8042 reset controller", i8042_device_init },
	{ "ACPI power management", acpi_pm_device_init },
	{ "pvpanic device", pvpanic_device_init },
	{ "PCIe host bridge", pci_init },
	{ "interrupt routing and device thread", virtio_init },
	{ "virtio-rng", rng_device_init },
	{ "virtio-blk disks", disks_init },
	{ "virtio-net NICs", nics_init },
	{ "virtio-console", hvc_init },
	{ "virtio-vsock", vsock_init },
	{ "host devices (VFIO)", host_devices_init },
};

static int check_kvm(struct vm *vm)
{
	int version, max_vcpus;

	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION_REQUIRED)
		return log_error_errno(ENOTSUP, "/dev/kvm speaks KVM API %d; phyllome-vmm needs %d",
				       version, KVM_API_VERSION_REQUIRED);
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return log_error_errno(ENOTSUP, "This host's KVM lacks %s",
					       required_caps[i].name);

	max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max_vcpus > 0 && vm->config->cpus > (unsigned)max_vcpus) {
		vm->config_error = true;
		return log_error_errno(
		    E2BIG, "This host's KVM runs at most %d vCPUs in a VM; %u were asked for",
		    max_vcpus, vm->config->cpus);
	}

	vm->run_size = (size_t)ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((ssize_t)vm->run_size <= 0)
		return log_error_errno(errno, "KVM_GET_VCPU_MMAP_SIZE: %m");
	return 0;
}

static int create_platform(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)GUEST_TSS_ADDR) < 0)
		return log_error_errno(errno, "KVM_SET_TSS_ADDR: %m");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_error_errno(errno, "KVM_CREATE_IRQCHIP: %m");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_error_errno(errno, "KVM_CREATE_PIT2: %m");
	for (size_t i = 0; i < ARRAY_SIZE(platform_devices); i++) {
		int r = platform_devices[i].init(vm);
		if (r < 0)
			return log_error_errno(r, "Cannot set up the %s: %m",
					       platform_devices[i].name);
	}
	return 0;
}

static int load_guest(struct vm *vm, const struct boot_files *files, struct boot_layout *ret_layout)
{
	uint8_t *acpi = guest_memory_ptr(&vm->mem, GUEST_ACPI_ADDR, GUEST_ACPI_MAX);
	size_t acpi_size;
	int r;

	r = acpi_build_tables(acpi, GUEST_ACPI_MAX, GUEST_ACPI_ADDR, vm->config->cpus,
			      guest_memory_mmio64_base(&vm->mem), &acpi_size);
	if (r < 0)
		return log_error_errno(r, "Cannot build the ACPI tables: %m");
	r = x86_write_boot_structures(&vm->mem);
	if (r < 0)
		return log_error_errno(r, "Cannot write page tables and GDT: %m");
	return x86_load_linux(&vm->mem, &files->kernel, files->initrd_fd, files->initrd_size,
			      vm->config->cmdline, GUEST_ACPI_ADDR, ret_layout);
}

static int create_vcpus(struct vm *vm, const struct boot_layout *layout)
{
	size_t cpuid_size =
	    sizeof(struct kvm_cpuid2) + vm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *cpuid = malloc(cpuid_size);
	int r;

	if (!cpuid)
		return -ENOMEM;
	vm->vcpus = calloc(vm->config->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->config->cpus; i++) {
		r = vcpu_create(vm, i, &vm->vcpus[i]);
		if (r < 0)
			return r;
		vm->vcpu_count++;
		memcpy(cpuid, vm->cpuid, cpuid_size);
		cpuid_fixup(cpuid, i, vm->config->cpus);
		r = x86_vcpu_init(vm->vcpus[i].fd, cpuid);
		if (r < 0)
			return r;
	}
	/* The others wait for the guest's INIT/SIPI, as application processors do. */
	return x86_vcpu_set_boot_regs(vm->vcpus[0].fd, layout->entry, layout->boot_params);
}

static void stop_ready(struct watch *w, uint32_t events)
{
	uint64_t count;

	(void)read(w->fd, &count, sizeof(count));
}

static void arm_shutdown_timer(struct vm *vm)
{
	struct itimerspec its = { .it_value = { .tv_sec = vm->config->shutdown_timeout } };

	(void)timerfd_settime(vm->shutdown_timer.fd, 0, &its, NULL);
}

static void signal_ready(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, signal_watch);
	struct signalfd_siginfo si;

	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (vm->power_button_pressed || vm->config->shutdown_timeout == 0) {
		log_notice("Stopping the VM at once (%s)", strsignal((int)si.ssi_signo));
		vm_request_stop(vm, VM_STOP_HOST);
		return;
	}
	vm_press_power_button(vm, strsignal((int)si.ssi_signo));
}

void vm_press_power_button(struct vm *vm, const char *why)
{
	log_notice("Pressing the power button (%s); the guest has %u s to power off", why,
		   vm->config->shutdown_timeout);
	vm->power_button_pressed = true;
	acpi_pm_press_power_button(&vm->pm);
	arm_shutdown_timer(vm);
	control_state_changed(&vm->control);
}

static void announce_panic(struct vm *vm)
{
	unsigned events = atomic_load(&vm->panic_events);

	if (!events || vm->panic_announced)
		return;
	vm->panic_announced = true;
	control_guest_panicked(&vm->control, events & PVPANIC_CRASH_LOADED);
}

static void panic_ready(struct watch *w, uint32_t events)
{
	uint64_t count;

	(void)read(w->fd, &count, sizeof(count));
	announce_panic(container_of(w, struct vm, panic_watch));
}

static void shutdown_timer_ready(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, shutdown_timer);
	uint64_t expirations;

	(void)read(w->fd, &expirations, sizeof(expirations));
	log_notice("The guest did not power off within %u s; stopping it",
		   vm->config->shutdown_timeout);
	vm_request_stop(vm, VM_STOP_HOST);
}

static int setup_main_loop(struct vm *vm)
{
	sigset_t mask;
	int r;

	r = event_loop_init(&vm->loop);
	if (r < 0)
		return r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	vm->signal_watch = (struct watch){ .fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK),
					   .ready = signal_ready };
	vm->stop_watch =
	    (struct watch){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .ready = stop_ready };
	vm->shutdown_timer =
	    (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
			    .ready = shutdown_timer_ready };
	vm->panic_watch =
	    (struct watch){ .fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .ready = panic_ready };
	if (vm->signal_watch.fd < 0 || vm->stop_watch.fd < 0 || vm->shutdown_timer.fd < 0 ||
	    vm->panic_watch.fd < 0)
		return log_error_errno(errno, "Cannot create the main loop's fds: %m");
	if ((r = event_loop_add(&vm->loop, &vm->signal_watch, EPOLLIN)) < 0 ||
	    (r = event_loop_add(&vm->loop, &vm->stop_watch, EPOLLIN)) < 0 ||
	    (r = event_loop_add(&vm->loop, &vm->panic_watch, EPOLLIN)) < 0 ||
	    (r = event_loop_add(&vm->loop, &vm->shutdown_timer, EPOLLIN)) < 0)
		return log_error_errno(r, "Cannot watch the main loop's fds: %m");
	return 0;
}

/* Everything that depends only on the configuration comes first: its errors are the user's to fix.
 */
static int prepare_guest(struct vm *vm, const struct boot_files *files,
			 struct boot_layout *ret_layout)
{
	int r;

	r = guest_memory_init(&vm->mem, vm->config->memory);
	if (r < 0)
		return r;
	vm->config_error = true;
	r = load_guest(vm, files, ret_layout);
	if (r < 0)
		return r;
	r = console_open(&vm->console, vm->config->serial, vm->config->serial_path,
			 vm->config->serial_fd, &vm->loop, &vm_console_ops, vm);
	if (r < 0)
		return r;
	if (vm->config->hvc) {
		r = console_open(&vm->hvc_console, vm->config->hvc_kind, vm->config->hvc_path,
				 vm->config->hvc_fd, &vm->loop, &vm_hvc_ops, vm);
		if (r < 0)
			return r;
	}
	r = control_open(&vm->control, vm, &vm->loop, vm->config->control_path,
			 vm->config->control_fd);
	if (r < 0)
		return r;
	if (vm->config->disk_count) {
		vm->disks = calloc(vm->config->disk_count, sizeof(*vm->disks));
		if (!vm->disks)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->disk_count; i++) {
		r = virtio_blk_open(&vm->disks[i], &vm->config->disks[i], i);
		vm->disks_open++;
		if (r < 0)
			return r;
	}
	if (vm->config->nic_count) {
		vm->nics = calloc(vm->config->nic_count, sizeof(*vm->nics));
		if (!vm->nics)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->nic_count; i++) {
		r = virtio_net_open(&vm->nics[i], &vm->config->nics[i], vm->config->name, i,
				    &vm->mem);
		vm->nics_open++;
		if (r < 0)
			return r;
	}
	if (vm->config->vsock_cid) {
		r = virtio_vsock_open(&vm->vsock, vm->config->vsock_cid, vm->config->vsock_vhost_fd,
				      &vm->mem);
		vm->vsock_open = true;
		if (r < 0)
			return r;
	}
	if (vm->config->vfio_count) {
		vm->host_devices = calloc(vm->config->vfio_count, sizeof(*vm->host_devices));
		if (!vm->host_devices)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->config->vfio_count; i++) {
		const struct vfio_config *v = &vm->config->vfio[i];

		r = vfio_container_add_device(&vm->vfio, v->bdf, v->group_fd);
		if (r < 0)
			return r;
		r = vfio_pci_open(&vm->host_devices[i], v->bdf, r);
		vm->host_devices_open++;
		if (r < 0)
			return r;
	}
	vm->config_error = false;
	return 0;
}

static int open_kvm(struct vm *vm)
{
	int r;

	if (vm->config->kvm_fd >= 0) {
		/* Ours from now on, and not passed on to anything we might start. */
		vm->kvm_fd = vm->config->kvm_fd;
		if (fcntl(vm->kvm_fd, F_SETFD, FD_CLOEXEC) < 0)
			return log_error_errno(errno, "The inherited KVM file descriptor: %m");
	} else {
		vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (vm->kvm_fd < 0)
			return log_error_errno(
			    errno,
			    "Cannot open /dev/kvm: %m (is KVM enabled, and may this user use it?)");
	}
	r = check_kvm(vm);
	if (r < 0)
		return r;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return log_error_errno(errno, "KVM_CREATE_VM: %m");
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *config, const struct boot_files *files)
{
	struct boot_layout layout;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->config = config;
	vm->sandbox = (struct sandbox_config){
		.enabled = config->sandbox,
		.removes_files = config->control_path || config->serial == SERIAL_SOCKET ||
				 (config->hvc && config->hvc_kind == SERIAL_SOCKET),
		.test_forbidden_syscall = config->test_forbidden_syscall,
	};
	vm->kvm_fd = vm->vm_fd = -1;
	vfio_container_init(&vm->vfio, config->vfio_container_fd);
	vm->signal_watch.fd = vm->stop_watch.fd = vm->shutdown_timer.fd = vm->panic_watch.fd = -1;
	vm->loop.epoll_fd = -1;
	atomic_init(&vm->stop_reason, VM_RUNNING);
	atomic_init(&vm->panic_events, 0);
	pause_init(&vm->pause);

	r = setup_main_loop(vm);
	if (r < 0)
		return r;
	r = prepare_guest(vm, files, &layout);
	if (r < 0)
		return r;
	log_info("Kernel entry 0x%llx, initrd at 0x%llx (%llu bytes), %u vCPUs, %llu MiB",
		 (unsigned long long)layout.entry, (unsigned long long)layout.initrd_addr,
		 (unsigned long long)layout.initrd_size, config->cpus,
		 (unsigned long long)(config->memory >> 20));

	r = open_kvm(vm);
	if (r < 0)
		return r;
	r = guest_memory_register(&vm->mem, vm->vm_fd);
	if (r < 0)
		return r;
	r = create_platform(vm);
	if (r < 0)
		return r;
	r = cpuid_get_supported(vm->kvm_fd, &vm->cpuid);
	if (r < 0)
		return r;
	return create_vcpus(vm, &layout);
}

static void stop_vcpus(struct vm *vm)
{
	/* Parked vCPUs wait on the pause condition, not in KVM_RUN. */
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.changed);
	pthread_mutex_unlock(&vm->pause.lock);
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_join(&vm->vcpus[i]);
}

enum vm_stop_reason vm_run(struct vm *vm)
{
	/* Inherited by the vCPU threads; each confines itself before it runs the guest. */
	if (vm->sandbox.enabled && sandbox_drop_privileges() < 0)
		return VM_STOP_ERROR;
	if (iothread_start(&vm->iothread) < 0)
		return VM_STOP_ERROR;
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		if (vcpu_start(&vm->vcpus[i]) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
	/* Nothing the guest controls has reached this thread yet: that starts in the loop. */
	if (sandbox_enter(&vm->sandbox, SANDBOX_MAIN) < 0)
		vm_request_stop(vm, VM_STOP_ERROR);

	while (!vm_stopping(vm)) {
		int timeout =
		    vm->console.input_paused || vm->hvc_console.input_paused ? INPUT_RETRY_MS : -1;

		if (event_loop_dispatch(&vm->loop, timeout) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
		console_resume_input(&vm->console);
		if (vm->hvc_console.loop)
			console_resume_input(&vm->hvc_console);
	}
	/* A panic that stopped the loop before its eventfd was read is still news to clients. */
	announce_panic(vm);
	stop_vcpus(vm);
	iothread_stop(&vm->iothread);
	return (enum vm_stop_reason)atomic_load(&vm->stop_reason);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vm_destroy(struct vm *vm)
{
	stop_vcpus(vm);
	if (vm->iothread_ready)
		iothread_stop(&vm->iothread);
	for (unsigned i = 0; i < vm->disks_open; i++)
		virtio_blk_done(&vm->disks[i]);
	free(vm->disks);
	vm->disks = NULL;
	vm->disks_open = 0;
	for (unsigned i = 0; i < vm->host_devices_open; i++)
		vfio_pci_done(&vm->host_devices[i]);
	free(vm->host_devices);
	vm->host_devices = NULL;
	vm->host_devices_open = 0;
	vfio_container_done(&vm->vfio);
	for (unsigned i = 0; i < vm->nics_open; i++)
		virtio_net_done(&vm->nics[i]);
	free(vm->nics);
	vm->nics = NULL;
	vm->nics_open = 0;
	if (vm->rng_ready)
		virtio_pci_done(&vm->rng.vp);
	if (vm->hvc.vp.ops)
		virtio_pci_done(&vm->hvc.vp);
	if (vm->vsock_open)
		virtio_vsock_done(&vm->vsock);
	vm->vsock_open = false;
	vm->rng_ready = false;
	if (vm->iothread_ready)
		iothread_done(&vm->iothread);
	vm->iothread_ready = false;
	if (vm->irq_ready)
		irq_routing_done(&vm->irq);
	vm->irq_ready = false;
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->vcpu_count = 0;
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->control.loop)
		control_close(&vm->control);
	if (vm->console.loop)
		console_close(&vm->console);
	vm->hvc_ready = false;
	if (vm->hvc_console.loop)
		console_close(&vm->hvc_console);
	if (vm->serial.set_irq)
		serial_done(&vm->serial);
	if (vm->pci_ready)
		pci_bus_done(&vm->pci);
	close_fd(&vm->vm_fd);
	close_fd(&vm->kvm_fd);
	guest_memory_done(&vm->mem);
	close_fd(&vm->signal_watch.fd);
	close_fd(&vm->stop_watch.fd);
	close_fd(&vm->shutdown_timer.fd);
	close_fd(&vm->panic_watch.fd);
	event_loop_done(&vm->loop);
	pause_done(&vm->pause);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM: KVM, guest memory, vCPUs and the main loop; its devices are in vm-devices.c. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/arch.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define KVM_API_VERSION_REQUIRED 12
/* While console input waits for the guest to drain the UART, look again this often. */
#define INPUT_RETRY_MS 20

static void vcpu_request_stop(void *opaque, enum vm_stop_reason reason)
{
	vm_request_stop(opaque, reason);
}

static void vcpu_guest_panicked(void *opaque)
{
	vm_guest_panicked(opaque, PVPANIC_PANICKED);
}

static int check_kvm(struct vm *vm)
{
	int version, max_vcpus, r;

	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION_REQUIRED)
		return log_error_errno(ENOTSUP, "/dev/kvm speaks KVM API %d; phyllome-vmm needs %d",
				       version, KVM_API_VERSION_REQUIRED);
	r = arch_check_kvm(vm->kvm_fd);
	if (r < 0)
		return r;

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

static int create_vcpus(struct vm *vm, const struct arch_boot *boot)
{
	int r;

	vm->vcpu_host = (struct vcpu_host){
		.vm_fd = vm->vm_fd,
		.run_size = vm->run_size,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.gate = &vm->gate,
		.sandbox = &vm->sandbox,
		.request_stop = vcpu_request_stop,
		.guest_panicked = vcpu_guest_panicked,
		.opaque = vm,
	};
	vm->vcpus = calloc(vm->config->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->config->cpus; i++) {
		r = vcpu_create(&vm->vcpu_host, i, &vm->vcpus[i]);
		if (r < 0)
			return r;
		vm->vcpu_count++;
		r = arch_vcpu_init(vm->cpu_model, vm->vcpus[i].fd, i, vm->config->cpus, boot);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An eventfd's watcher: what woke it is in the VM's state; the count only needs to go. */
static void drain(struct watch *w, const char *what)
{
	int64_t r = eventfd_drain(w->fd);

	if (r < 0 && r != -EAGAIN)
		log_warning_errno((int)-r, "Cannot read the %s event: %m", what);
}

static void stop_ready(struct watch *w, uint32_t events)
{
	drain(w, "stop");
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
	drain(w, "panic");
	announce_panic(container_of(w, struct vm, panic_watch));
}

static void shutdown_timer_ready(struct watch *w, uint32_t events)
{
	struct vm *vm = container_of(w, struct vm, shutdown_timer);
	drain(w, "shutdown timer");
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
static int prepare_guest(struct vm *vm, const struct boot_files *files, struct arch_boot *ret_boot)
{
	int r;

	r = guest_memory_init(&vm->mem, vm->config->memory);
	if (r < 0)
		return r;
	vm->config_error = true;
	r = arch_load_guest(&vm->mem, vm->config, files, ret_boot);
	if (r < 0)
		return r;
	r = vm_devices_open(vm);
	if (r < 0)
		return r;
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

int vm_create(struct vm *vm, const struct vm_config *config, struct boot_files *files)
{
	struct arch_boot boot;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->config = config;
	vm->sandbox = (struct sandbox_config){
		.enabled = config->sandbox,
		.removes_files = config->control_path || config->serial == SERIAL_SOCKET ||
				 (config->hvc && config->hvc_kind == SERIAL_SOCKET),
		.test_forbidden_syscall = config->test_forbidden_syscall,
		.kick_signal = VCPU_KICK_SIGNAL,
	};
	vm->kvm_fd = vm->vm_fd = vm->nvram_fd = -1;
	vfio_container_init(&vm->vfio, config->vfio_container_fd);
	vm->signal_watch.fd = vm->stop_watch.fd = vm->shutdown_timer.fd = vm->panic_watch.fd = -1;
	vm->loop.epoll_fd = -1;
	trap_table_init(&vm->pio, "I/O port", 0x10000, false);
	trap_table_init(&vm->mmio, "MMIO", UINT64_MAX, true);
	atomic_init(&vm->stop_reason, VM_RUNNING);
	atomic_init(&vm->panic_events, 0);
	gate_init(&vm->gate);

	r = setup_main_loop(vm);
	if (r < 0)
		return r;
	r = prepare_guest(vm, files, &boot);
	if (r < 0)
		return r;
	/* The firmware's image is the guest's for as long as the VM lives. */
	vm->firmware = TAKE_PTR(files->firmware);
	vm->firmware_size = files->firmware_size;
	vm->nvram = TAKE_PTR(files->nvram);
	vm->nvram_size = files->nvram_size;
	vm->nvram_fd = TAKE_FD(files->nvram_fd);
	if (boot.firmware)
		log_info(
		    "Firmware of %llu KiB below 4 GiB, reset vector 0x%llx, %u vCPUs, %llu MiB",
		    (unsigned long long)(vm->firmware_size >> 10), (unsigned long long)boot.entry,
		    config->cpus, (unsigned long long)(config->memory >> 20));
	else
		log_info("Kernel entry 0x%llx, initrd at 0x%llx (%llu bytes), %u vCPUs, %llu MiB",
			 (unsigned long long)boot.entry, (unsigned long long)boot.initrd_addr,
			 (unsigned long long)boot.initrd_size, config->cpus,
			 (unsigned long long)(config->memory >> 20));

	r = open_kvm(vm);
	if (r < 0)
		return r;
	r = guest_memory_register(&vm->mem, vm->vm_fd);
	if (r < 0)
		return r;
	if (vm->firmware) {
		r = guest_firmware_register(vm->vm_fd, vm->firmware, vm->firmware_size);
		if (r < 0)
			return r;
	}
	/* The interrupt controllers, whole once every vCPU exists (aarch64's vGIC takes no irqfd
	 * before), then the devices. */
	if ((r = arch_create_platform(vm->vm_fd, config->cpus, &vm->platform)) < 0 ||
	    (r = arch_cpu_model_get(vm->kvm_fd, vm->vm_fd, &vm->cpu_model)) < 0 ||
	    (r = create_vcpus(vm, &boot)) < 0 || (r = arch_finish_platform(vm->platform)) < 0)
		return r;
	return vm_devices_init(vm);
}

static void stop_vcpus(struct vm *vm)
{
	/* Parked vCPUs wait at the gate, not in KVM_RUN. */
	gate_stop(&vm->gate);
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
	/*
	 * The vCPUs confine themselves, then wait at the closed gate: no guest code
	 * runs until this thread is confined too (its allow-list cannot be
	 * inherited by theirs, so it enters it after they started).
	 */
	(void)gate_close(&vm->gate);
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		if (vcpu_start(&vm->vcpus[i]) < 0) {
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
	if (sandbox_enter(&vm->sandbox, SANDBOX_MAIN) < 0)
		vm_request_stop(vm, VM_STOP_ERROR);
	(void)gate_open(&vm->gate);

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
	/* What runs stops first: nothing touches a device while it goes. */
	stop_vcpus(vm);
	if (vm->iothread_ready)
		iothread_stop(&vm->iothread);
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->vcpu_count = 0;
	arch_cpu_model_free(vm->cpu_model);
	vm->cpu_model = NULL;
	vm_devices_done(vm);
	arch_platform_free(vm->platform);
	vm->platform = NULL;
	/* An inherited VFIO container that no device used. */
	vfio_container_done(&vm->vfio);
	close_fd(&vm->vm_fd);
	close_fd(&vm->kvm_fd);
	guest_memory_done(&vm->mem);
	if (vm->firmware)
		(void)munmap(vm->firmware, vm->firmware_size);
	vm->firmware = NULL;
	if (vm->nvram)
		(void)munmap(vm->nvram, vm->nvram_size);
	vm->nvram = NULL;
	close_fd(&vm->nvram_fd);
	close_fd(&vm->signal_watch.fd);
	close_fd(&vm->stop_watch.fd);
	close_fd(&vm->shutdown_timer.fd);
	close_fd(&vm->panic_watch.fd);
	event_loop_done(&vm->loop);
	gate_done(&vm->gate);
}

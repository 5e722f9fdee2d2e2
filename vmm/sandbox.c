/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"

#include <linux/if_tun.h>
#include <linux/vfio.h>
#include <linux/vhost.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What every thread does: memory for malloc, locks, stdio and the log,
 * signals it was sent, the clock, and ending.
 */
static const int common_syscalls[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(futex),
	SCMP_SYS(sched_yield),
	SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(munmap),
	SCMP_SYS(madvise),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

/* A vCPU thread runs the guest and the device models its exits reach. */
static const int vcpu_syscalls[] = {
	SCMP_SYS(sendto),	  /* console output to socket clients */
	SCMP_SYS(io_uring_enter), /* a driver reset a disk: its in-flight I/O ends first */
	SCMP_SYS(pread64),	  /* a host device's config space and trapped BARs, through VFIO */
	SCMP_SYS(pwrite64),
	SCMP_SYS(msync), /* the firmware's variables, once it has written them */
};

/* The device thread: its event loop, the disks' io_uring rings (set up before), virtio-rng. */
static const int io_syscalls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(io_uring_enter),
	SCMP_SYS(getrandom),  SCMP_SYS(readv), /* frames from a tap */
	SCMP_SYS(sendto),		       /* virtio-console output to socket clients */
};

/* The main thread: the event loop, console and control clients, pause, and tearing down. */
static const int main_syscalls[] = {
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(ppoll),
	SCMP_SYS(poll),
	SCMP_SYS(accept4),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(shutdown),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(getrandom),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(io_uring_enter), /* at exit: the disks' last I/O */
};

/* Removing the socket files the monitor made itself, at exit. */
static const int remove_file_syscalls[] = {
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
};

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds only (CI's second pass): the leak checker stops the world
 * at exit (a tracer thread, ptrace, /proc/self/maps), and reports read
 * /proc. Release builds never allow any of this.
 */
static const int sanitizer_syscalls[] = {
	SCMP_SYS(clone),
	SCMP_SYS(clone3),
	SCMP_SYS(ptrace),
	SCMP_SYS(wait4),
	SCMP_SYS(prctl),
	SCMP_SYS(open),
	SCMP_SYS(openat),
	SCMP_SYS(getdents64),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(lseek),
	SCMP_SYS(pread64),
	SCMP_SYS(uname),
	SCMP_SYS(getppid),
	SCMP_SYS(mincore),
	SCMP_SYS(getrlimit),
	SCMP_SYS(prlimit64),
	SCMP_SYS(pipe2),
	SCMP_SYS(dup2),
};
#endif

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer's check at exit stops the world with a ptrace tracer thread,
 * and inside the allow-lists that hangs. A confined monitor skips it; runs
 * with --sandbox off keep it (the tests make such runs).
 */
static bool confined;

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return confined;
}
#endif

static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, /* device interrupts */
	KVM_SIGNAL_MSI,
	KVM_SET_GSI_ROUTING, /* a driver unmasked an MSI-X vector that had an interrupt waiting */
	KVM_IOEVENTFD,	     /* a driver moved a virtio device's BAR */
	/* A virtio-net driver starts or resets its device: the tap's offloads, vhost-net's rings.
	 */
	TUNSETOFFLOAD, VHOST_SET_FEATURES, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
	VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_GET_VRING_BASE,
	VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING,
	/* A host device's driver moved a BAR or switched interrupts (INTx, MSI, MSI-X). */
	KVM_SET_USER_MEMORY_REGION, VFIO_DEVICE_SET_IRQS,
#if defined(__aarch64__)
	KVM_GET_ONE_REG, /* the registers of a guest that crashed, for the log */
#else
	KVM_GET_REGS, /* the registers of a guest that crashed, for the log */
	KVM_GET_SREGS,
#endif
	TCGETS, /* isatty(): the log's format */
};

static const unsigned long io_ioctls[] = {
	KVM_SET_GSI_ROUTING,	/* an MSI-X vector's first interrupt, or one the driver moved */
	KVM_SIGNAL_MSI, TCGETS, /* isatty(): the log's format */
};

static const unsigned long main_ioctls[] = {
	KVM_IRQ_LINE, /* console input, the power button */
	KVM_SIGNAL_MSI,
	KVM_SET_GSI_ROUTING, /* console input for the virtio-console */
	KVM_GET_CLOCK,	     /* pause */
	KVM_SET_CLOCK,	     /* resume */
	KVM_KVMCLOCK_CTRL,   /* pause: tell the guest */
	KVM_GET_DIRTY_LOG,   /* what the guest drew on its display, for its listeners */
	/* At exit: host devices quiet and reset for their next user. */
	KVM_SET_USER_MEMORY_REGION,
	VFIO_DEVICE_SET_IRQS,
	VFIO_DEVICE_RESET,
	TCGETS, /* the terminal: raw mode, restored at exit */
	TCSETS,
	TCSETSW,
	TCSETSF,
	FIONREAD,
	FIONBIO,
};

static __thread const char *thread_role = "main";
static bool stderr_is_tty;

/* Appends s to the line being built in buf (of size bytes, holding *len), cutting it short. */
static void append_str(char *buf, size_t size, size_t *len, const char *s)
{
	while (*s && *len < size - 1)
		buf[(*len)++] = *s++;
	buf[*len] = '\0';
}

/* Async-signal-safe: no stdio, no malloc. */
static void format_unsigned(unsigned long v, char *buf, size_t size)
{
	char tmp[24];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	while (n && i < size - 1)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
}

/*
 * SIGSYS from our own filter. Says which call, then makes it again: the
 * handler was one-shot (SA_RESETHAND), so the filter's second trap meets the
 * default action and the kernel kills the process with SIGSYS.
 */
static void forbidden_syscall(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
#if defined(__x86_64__)
	greg_t *g = uc->uc_mcontext.gregs;
	const unsigned long long r[6] = { g[REG_RDI], g[REG_RSI], g[REG_RDX],
					  g[REG_R10], g[REG_R8],  g[REG_R9] };
#elif defined(__aarch64__)
	const unsigned long long *r = uc->uc_mcontext.regs;
#endif
	char number[24], line[256];
	size_t len = 0;

	format_unsigned((unsigned long)info->si_syscall, number, sizeof(number));
	/* One write: the other threads go on writing (the guest's console shares stderr's
	 * file), and a line written in pieces came out with their bytes inside it. */
	append_str(line, sizeof(line), &len,
		   stderr_is_tty ? "phyllome-vmm: " : "<2>phyllome-vmm: ");
	append_str(line, sizeof(line), &len, "sandbox: the ");
	append_str(line, sizeof(line), &len, thread_role);
	append_str(line, sizeof(line), &len, " thread made system call ");
	append_str(line, sizeof(line), &len, number);
	append_str(
	    line, sizeof(line), &len,
	    " (scmp_sys_resolver names it), which its allow-list forbids; killing the monitor");
	append_str(line, sizeof(line), &len, stderr_is_tty ? "\r\n" : "\n");
	(void)!write(STDERR_FILENO, line, len);
	syscall(info->si_syscall, r[0], r[1], r[2], r[3], r[4], r[5]);
	_exit(EXIT_FAILURE);
}

static int install_sigsys_handler(void)
{
	struct sigaction sa = { .sa_sigaction = forbidden_syscall,
				.sa_flags = SA_SIGINFO | SA_RESETHAND };
	sigset_t sigsys;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&sigsys);
	sigaddset(&sigsys, SIGSYS);
	return -pthread_sigmask(SIG_UNBLOCK, &sigsys, NULL);
}

static int allow_all(scmp_filter_ctx ctx, const int *syscalls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		/* libseccomp's pseudo-number for a call this architecture lacks (aarch64 has no
		 * open, poll, unlink, readlink or dup2): nothing to allow. */
		if (syscalls[i] < 0)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscalls[i], 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The request is an int in the kernel: compare the low 32 bits only. */
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, requests[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Memory, but never new executable memory: the code the monitor runs is all loaded by now. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				 SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0));

	if (r < 0)
		return r;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, (scmp_datum_t)PROT_EXEC, 0));
}

/*
 * Only to the monitor's own threads: other processes of the same uid (another
 * VM's monitor) are not its to signal, even with a signal it may send itself.
 */
static int allow_signal(scmp_filter_ctx ctx, int sig)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()),
				SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)sig));
}

static int build_filter(scmp_filter_ctx ctx, const struct sandbox_config *config,
			enum sandbox_role role)
{
	int r;

	/* abort() on a failed assertion must still end the process as SIGABRT, not SIGSYS. */
	if ((r = allow_all(ctx, common_syscalls, ARRAY_LEN(common_syscalls))) < 0 ||
	    (r = allow_memory(ctx)) < 0 || (r = allow_signal(ctx, SIGABRT)) < 0)
		return r;
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizers' runtime signals the process itself, with any signal; still only itself.
	 */
	if ((r = allow_all(ctx, sanitizer_syscalls, ARRAY_LEN(sanitizer_syscalls))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) < 0)
		return r;
#endif
	if (role == SANDBOX_VCPU)
		return (r = allow_all(ctx, vcpu_syscalls, ARRAY_LEN(vcpu_syscalls))) < 0
			   ? r
			   : allow_ioctls(ctx, vcpu_ioctls, ARRAY_LEN(vcpu_ioctls));
	if (role == SANDBOX_IO)
		return (r = allow_all(ctx, io_syscalls, ARRAY_LEN(io_syscalls))) < 0
			   ? r
			   : allow_ioctls(ctx, io_ioctls, ARRAY_LEN(io_ioctls));

	if ((r = allow_all(ctx, main_syscalls, ARRAY_LEN(main_syscalls))) < 0 ||
	    (r = allow_ioctls(ctx, main_ioctls, ARRAY_LEN(main_ioctls))) < 0 ||
	    (r = allow_signal(ctx, config->kick_signal)) < 0)
		return r;
	if (config->removes_files)
		return allow_all(ctx, remove_file_syscalls, ARRAY_LEN(remove_file_syscalls));
	return 0;
}

/* "signal:PID": the kick signal, which the main thread may send its own threads, at PID. */
static void try_signal_other(const char *target, int sig)
{
	long pid = strtol(target, NULL, 10);

	log_notice("Test hook: the main thread sends signal %d to PID %ld, not one of its threads",
		   sig, pid);
	if (pid > 0 && syscall(SYS_tgkill, (pid_t)pid, (pid_t)pid, sig) == 0)
		log_error(
		    "Test hook: the signal to PID %ld went through: the sandbox does not hold",
		    pid);
}

static void try_forbidden_syscall(void)
{
	int fd;

	log_notice("Test hook: the %s thread opens a network socket, which its allow-list forbids",
		   thread_role);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	log_error("Test hook: the forbidden socket() returned %d: the sandbox does not hold", fd);
	if (fd >= 0)
		close(fd);
}

int sandbox_enter(const struct sandbox_config *config, enum sandbox_role role)
{
	/* libseccomp keeps global state while it builds and loads; vCPU threads enter at once. */
	static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;
	static const char *const names[] = {
		[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vCPU", [SANDBOX_IO] = "device"
	};
	static const char *const hooks[] = {
		[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_IO] = "io"
	};
	const char *name = names[role];
	scmp_filter_ctx ctx;
	int r;

	if (!config->enabled)
		return 0;
	thread_role = name;
	stderr_is_tty = isatty(STDERR_FILENO);
#if defined(__SANITIZE_ADDRESS__)
	confined = true;
#endif
	r = install_sigsys_handler();
	if (r < 0)
		return log_error_errno(r, "Sandbox: cannot catch SIGSYS: %m");

	pthread_mutex_lock(&build_lock);
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		pthread_mutex_unlock(&build_lock);
		return log_error_errno(ENOMEM, "Sandbox: seccomp_init failed");
	}
	r = build_filter(ctx, config, role);
	if (r < 0)
		log_error_errno(r, "Sandbox: cannot build the %s thread's allow-list: %m", name);
	else if ((r = seccomp_load(ctx)) < 0)
		log_error_errno(r, "Sandbox: cannot install the %s thread's allow-list: %m", name);
	seccomp_release(ctx);
	pthread_mutex_unlock(&build_lock);
	if (r < 0)
		return r;

	if (config->test_forbidden_syscall &&
	    strcmp(config->test_forbidden_syscall, hooks[role]) == 0)
		try_forbidden_syscall();
	if (config->test_forbidden_syscall && role == SANDBOX_MAIN &&
	    strncmp(config->test_forbidden_syscall, "signal:", 7) == 0)
		try_signal_other(config->test_forbidden_syscall + 7, config->kick_signal);
	return 0;
}

int sandbox_drop_privileges(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};

	/* The bounding set shrinks only with CAP_SETPCAP; without it we hold no capability to lose.
	 */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return log_error_errno(
			    errno, "Sandbox: cannot drop capability %d from the bounding set: %m",
			    cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return log_error_errno(errno, "Sandbox: cannot clear the ambient capabilities: %m");
	if (syscall(SYS_capset, &header, none) < 0)
		return log_error_errno(errno, "Sandbox: cannot drop capabilities: %m");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(errno, "Sandbox: cannot set no_new_privs: %m");
	return 0;
}

static int compare_fds(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int sandbox_close_other_fds(const int *keep, size_t n_keep)
{
	int sorted[64];
	unsigned next = 3;

	if (n_keep > ARRAY_LEN(sorted))
		return -E2BIG;
	memcpy(sorted, keep, n_keep * sizeof(*keep));
	qsort(sorted, n_keep, sizeof(*sorted), compare_fds);
	for (size_t i = 0; i < n_keep; i++) {
		if (sorted[i] < (int)next)
			continue;
		if ((unsigned)sorted[i] > next && close_range(next, (unsigned)sorted[i] - 1, 0) < 0)
			return log_error_errno(errno, "close_range: %m");
		next = (unsigned)sorted[i] + 1;
	}
	if (close_range(next, ~0U, 0) < 0)
		return log_error_errno(errno, "close_range: %m");
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pause.h"

#include <errno.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vcpu.h"
#include "vm.h"

void pause_init(struct pause_state *p)
{
	*p = (struct pause_state){ 0 };
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
}

void pause_done(struct pause_state *p)
{
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->lock);
}

void vcpu_thread_began(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.running++;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vcpu_thread_ended(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.running--;
	pthread_cond_broadcast(&vm->pause.changed);
	pthread_mutex_unlock(&vm->pause.lock);
}

void vcpu_park_if_paused(struct vcpu *vcpu)
{
	struct pause_state *p = &vcpu->vm->pause;

	pthread_mutex_lock(&p->lock);
	if (p->requested && !vm_stopping(vcpu->vm)) {
		p->parked++;
		pthread_cond_broadcast(&p->changed);
		while (p->requested && !vm_stopping(vcpu->vm))
			pthread_cond_wait(&p->changed, &p->lock);
		p->parked--;
	}
	/* The kick that parked us must not bounce the next KVM_RUN; a stop sets it again. */
	if (!vm_stopping(vcpu->vm))
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&p->lock);
}

bool vm_paused(struct vm *vm)
{
	bool paused;

	pthread_mutex_lock(&vm->pause.lock);
	paused = vm->pause.paused;
	pthread_mutex_unlock(&vm->pause.lock);
	return paused;
}

int vm_pause(struct vm *vm)
{
	struct pause_state *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (p->requested) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	p->requested = true;
	pthread_mutex_unlock(&p->lock);

	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vcpu_kick(&vm->vcpus[i]);

	pthread_mutex_lock(&p->lock);
	while (p->parked < p->running && !vm_stopping(vm))
		pthread_cond_wait(&p->changed, &p->lock);
	p->paused = true;
	pthread_mutex_unlock(&p->lock);

	/* The guest's clock stops here and goes on from here on resume. */
	p->clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &p->clock) == 0;
	if (!p->clock_saved)
		log_warning("KVM_GET_CLOCK: %m; the guest's clock will jump over the pause");
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		/* Tells a kvmclock guest it was stopped, so its watchdogs stay quiet; others ignore
		 * it. */
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
			log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %m", i);
	log_info("Paused");
	return 0;
}

int vm_resume(struct vm *vm)
{
	struct pause_state *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (!p->requested) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);

	if (p->clock_saved) {
		struct kvm_clock_data clock = { .clock = p->clock.clock };

		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			log_warning("KVM_SET_CLOCK: %m; the guest's clock jumps over the pause");
	}
	pthread_mutex_lock(&p->lock);
	p->requested = false;
	p->paused = false;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	log_info("Resumed");
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gate vCPU threads wait at while their VM is paused, with real threads. */
#include <glib.h>

#include "gate.h"

typedef struct {
	struct vcpu_gate *gate;
	volatile unsigned char immediate_exit;
	gint passes;
	gint running; /* 1 while inside the "KVM_RUN" part */
} Vcpu;

static gpointer vcpu_thread(gpointer data)
{
	Vcpu *v = data;

	gate_thread_began(v->gate);
	while (gate_pass(v->gate, &v->immediate_exit)) {
		g_atomic_int_inc(&v->passes);
		g_usleep(200);
	}
	gate_thread_ended(v->gate);
	return NULL;
}

static void test_pause_resume_stop(void)
{
	struct vcpu_gate gate;
	Vcpu v[3];
	GThread *threads[3];
	gint before[3];

	gate_init(&gate);
	for (int i = 0; i < 3; i++) {
		v[i] = (Vcpu){ .gate = &gate };
		threads[i] = g_thread_new("vcpu", vcpu_thread, &v[i]);
	}
	while (g_atomic_int_get(&v[2].passes) < 10)
		g_usleep(100);

	g_assert_true(gate_close(&gate));
	g_assert_false(gate_close(&gate)); /* a second pause does nothing */
	gate_wait_parked(&gate);
	g_assert_true(gate_all_parked(&gate));
	for (int i = 0; i < 3; i++)
		before[i] = g_atomic_int_get(&v[i].passes);
	g_usleep(20000);
	/* Paused: nobody runs. */
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(g_atomic_int_get(&v[i].passes), ==, before[i]);

	v[0].immediate_exit = 1; /* a kick that parked it */
	g_assert_true(gate_open(&gate));
	g_assert_false(gate_all_parked(&gate));
	while (g_atomic_int_get(&v[0].passes) == before[0])
		g_usleep(100);
	g_assert_cmpuint(v[0].immediate_exit, ==, 0);

	/* A stop while paused lets everyone out for good. */
	g_assert_true(gate_close(&gate));
	gate_wait_parked(&gate);
	v[1].immediate_exit = 1;
	gate_stop(&gate);
	for (int i = 0; i < 3; i++)
		g_thread_join(threads[i]);
	g_assert_true(gate_stopped(&gate));
	g_assert_cmpuint(v[1].immediate_exit, ==, 1); /* a stopping vCPU keeps its kick */
	gate_done(&gate);
}

static void test_wait_with_no_vcpus(void)
{
	struct vcpu_gate gate;

	gate_init(&gate);
	g_assert_true(gate_close(&gate));
	gate_wait_parked(&gate);
	g_assert_true(gate_all_parked(&gate));
	g_assert_true(gate_open(&gate));
	g_assert_false(gate_open(&gate));
	gate_done(&gate);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gate/pause-resume-stop", test_pause_resume_stop);
	g_test_add_func("/gate/no-vcpus", test_wait_with_no_vcpus);
	return g_test_run();
}

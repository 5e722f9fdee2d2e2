/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPUID fix-ups: APIC IDs and topology per vCPU. */
#include <glib.h>
#include <stdlib.h>

#include "arch/x86_64/cpuid.h"

static struct kvm_cpuid2 *table(void)
{
	static const struct kvm_cpuid_entry2 entries[] = {
		{ .function = 0x1, .ebx = 0x00000800, .ecx = 0, .edx = 0 },
		{ .function = 0x4,
		  .index = 0,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		  .eax = 0x121 },
		{ .function = 0x4,
		  .index = 3,
		  .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		  .eax = 0x163 },
		{ .function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX },
		{ .function = 0xb, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX },
		{ .function = 0xb, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX },
		{ .function = 0x80000008, .eax = 0x3030, .ecx = 0xffff },
		{ .function = 0x8000001e },
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(entries));

	c->nent = G_N_ELEMENTS(entries);
	memcpy(c->entries, entries, sizeof(entries));
	return c;
}

static void test_apic_ids_and_counts(void)
{
	for (unsigned count = 1; count <= 8; count *= 2) {
		for (unsigned i = 0; i < count; i++) {
			g_autofree struct kvm_cpuid2 *c = table();
			struct kvm_cpuid_entry2 *e;

			cpuid_fixup(c, i, count);
			e = cpuid_find(c, 0x1, 0);
			g_assert_cmpuint(e->ebx >> 24, ==, i);
			g_assert_cmpuint((e->ebx >> 16) & 0xff, ==, count);
			g_assert_cmpuint(e->ebx & 0xffff, ==, 0x0800); /* CLFLUSH size kept */
			g_assert_true(e->ecx & (1u << 31));
			g_assert_cmpuint(!!(e->edx & (1u << 28)), ==, count > 1);

			e = cpuid_find(c, 0xb, 1);
			g_assert_cmpuint(e->ebx, ==, count);
			g_assert_cmpuint(e->edx, ==, i);
			g_assert_cmpuint((e->ecx >> 8) & 0xff, ==, 2);
			g_assert_cmpuint(1u << e->eax, >=, count);
			e = cpuid_find(c, 0xb, 0);
			g_assert_cmpuint(e->ebx, ==, 1);
			e = cpuid_find(c, 0xb, 2);
			g_assert_cmpuint((e->ecx >> 8) & 0xff, ==,
					 0); /* invalid level ends the walk */

			e = cpuid_find(c, 0x4, 0);
			g_assert_cmpuint(e->eax >> 26, ==, count - 1);
			e = cpuid_find(c, 0x80000008, 0);
			g_assert_cmpuint(e->ecx & 0xff, ==, count - 1);
			g_assert_cmpuint(e->eax, ==, 0x3030);
			e = cpuid_find(c, 0x8000001e, 0);
			g_assert_cmpuint(e->eax, ==, i);
		}
	}
}

static void test_find(void)
{
	g_autofree struct kvm_cpuid2 *c = table();

	g_assert_nonnull(cpuid_find(c, 0x4, 3));
	g_assert_null(cpuid_find(c, 0x4, 2));
	g_assert_null(cpuid_find(c, 0x7, 0));
	g_assert_nonnull(cpuid_find(c, 0x80000008, 5)); /* index ignored where not significant */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cpuid/apic-ids-and-counts", test_apic_ids_and_counts);
	g_test_add_func("/cpuid/find", test_find);
	return g_test_run();
}

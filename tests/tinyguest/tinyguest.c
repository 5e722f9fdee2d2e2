/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tiny guest programs that exercise phyllome-vmm's platform in a few
 * thousand instructions: it boots as a bzImage through the VMM's real boot
 * path and chooses what to do from "test=NAME" on its command line.
 * Every line it prints starts with "TINY ", for the test scripts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define COM1 0x3f8
#define PVPANIC_PORT 0x505
#define LAPIC 0xfee00000ULL
#define IOAPIC 0xfec00000ULL
#define VECTOR_SERIAL 0x24
#define VECTOR_POWER_BUTTON 0x30
#define GSI_SERIAL 4
#define GSI_POWER_BUTTON 16
#define AP_TRAMPOLINE_ADDR 0x10000

extern char ap_trampoline[], ap_trampoline_end[];
extern const uint64_t ap_counter_offset;
extern char isr_serial[], isr_power_button[], isr_unexpected[];

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void put_dec(uint64_t v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc(buf[--i]);
}

static void put_hex(uint64_t v)
{
	puts("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int mem_eq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ACPI: find tables through the RSDP the VMM passed in boot_params. */
static const uint8_t *rsdp;

static const uint8_t *acpi_table(const char sig[4])
{
	const uint8_t *xsdt = (const uint8_t *)*(const uint64_t *)(rsdp + 24);
	uint32_t len = *(const uint32_t *)(xsdt + 4);

	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		const uint8_t *t = (const uint8_t *)*(const uint64_t *)(xsdt + off);
		if (mem_eq(t, sig, 4))
			return t;
	}
	return NULL;
}

static uint16_t fadt_port(unsigned gas_offset)
{
	const uint8_t *fadt = acpi_table("FACP");

	return fadt ? (uint16_t) * (const uint64_t *)(fadt + gas_offset + 4) : 0;
}

static void acpi_power_off(void)
{
	uint16_t port = fadt_port(244); /* SLEEP_CONTROL_REG */

	puts("TINY powering off through port ");
	put_hex(port);
	puts("\n");
	outb(port, 5 << 2 | 0x20); /* SLP_TYP = S5, SLP_EN */
	puts("TINY still running after power off\n");
	halt_forever();
}

static void acpi_reset(void)
{
	const uint8_t *fadt = acpi_table("FACP");

	puts("TINY resetting through the ACPI reset register\n");
	outb(fadt_port(116), fadt[128]);
	puts("TINY still running after reset\n");
	halt_forever();
}

static unsigned madt_cpu_count(void)
{
	const uint8_t *madt = acpi_table("APIC");
	uint32_t len = *(const uint32_t *)(madt + 4);
	unsigned n = 0;

	for (uint32_t off = 44; off + 2 <= len && madt[off + 1]; off += madt[off + 1])
		if (madt[off] == 0 && (madt[off + 4] & 1))
			n++;
	return n;
}

/* Interrupts: an IDT whose every vector reports itself as unexpected, but ours. */
struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
} __attribute__((packed));

static struct idt_gate idt[256];

static void set_gate(unsigned vector, void *handler)
{
	uint64_t a = (uint64_t)handler;

	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)a,
		.selector = 0x10,
		.type = 0x8e,
		.offset_mid = (uint16_t)(a >> 16),
		.offset_high = (uint32_t)(a >> 32),
	};
}

static void interrupts_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	/* The 8259s would deliver ISA interrupts through LINT0 (ExtINT): mask them, as an OS does.
	 */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_unexpected);
	set_gate(VECTOR_SERIAL, isr_serial);
	set_gate(VECTOR_POWER_BUTTON, isr_power_button);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	mmio_write(LAPIC + 0x80, 0);	 /* TPR: accept everything */
	mmio_write(LAPIC + 0xf0, 0x1ff); /* software-enable, spurious vector 0xff */
}

static void ioapic_route(unsigned gsi, uint8_t vector)
{
	mmio_write(IOAPIC, 0x10 + 2 * gsi + 1);
	mmio_write(IOAPIC + 0x10, 0); /* destination: APIC ID 0 */
	mmio_write(IOAPIC, 0x10 + 2 * gsi);
	mmio_write(IOAPIC + 0x10, vector); /* fixed, physical, active high, edge, unmasked */
}

static void lapic_eoi(void)
{
	mmio_write(LAPIC + 0xb0, 0);
}

/* Received bytes, from the interrupt handler to the echo loop; none is dropped while a line is
 * handled. */
#define RX_RING_SIZE 256
static volatile char rx_ring[RX_RING_SIZE];
static volatile unsigned rx_head, rx_tail;
static volatile int power_button_pressed;

void on_serial_interrupt(void);
void on_power_button_interrupt(void);
void on_unexpected_interrupt(void);

void on_serial_interrupt(void)
{
	while (inb(COM1 + 5) & 0x01) {
		char c = (char)inb(COM1);

		if (rx_head - rx_tail < RX_RING_SIZE)
			rx_ring[rx_head++ % RX_RING_SIZE] = c;
	}
	lapic_eoi();
}

void on_power_button_interrupt(void)
{
	power_button_pressed = 1;
	lapic_eoi();
}

void on_unexpected_interrupt(void)
{
	puts("TINY unexpected interrupt or exception\n");
	halt_forever();
}

/* Sleeps until an interrupt handler set *flag; interrupts stay off outside hlt. */
static void wait_for(volatile int *flag)
{
	for (;;) {
		__asm__ volatile("cli");
		if (*flag)
			return;
		__asm__ volatile("sti; hlt");
	}
}

static char rx_get(void)
{
	char c;

	for (;;) {
		__asm__ volatile("cli");
		if (rx_head != rx_tail)
			break;
		__asm__ volatile("sti; hlt");
	}
	c = rx_ring[rx_tail % RX_RING_SIZE];
	rx_tail++;
	__asm__ volatile("sti");
	return c;
}

static void test_echo(void)
{
	interrupts_init();
	ioapic_route(GSI_SERIAL, VECTOR_SERIAL);
	outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2 */
	outb(COM1 + 1, 0x01); /* interrupt on received data */
	puts("TINY echo ready\n");
	for (;;) {
		char line[128];
		unsigned n;

		n = 0;
		for (;;) {
			char c = rx_get();

			if (c == '\r' || c == '\n') {
				if (n)
					break;
			} else if (n < sizeof(line) - 1) {
				line[n++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
			}
		}
		line[n] = 0;
		puts("TINY echo: ");
		puts(line);
		puts("\n");
		if (str_eq(line, "QUIT"))
			acpi_power_off();
	}
}

/* A line every 50 million TSC ticks: output that stops while the VM is paused. */
static void test_tick(void)
{
	uint64_t next = rdtsc();

	for (uint64_t n = 1;; n++) {
		while (rdtsc() < next)
			__asm__ volatile("pause");
		next = rdtsc() + 50000000ULL;
		puts("TINY tick ");
		put_dec(n);
		puts("\n");
	}
}

/* Runs a moment (20 ticks), then resets the machine: a guest that reboots in a loop. */
static void test_tick_reset(void)
{
	uint64_t next = rdtsc();

	for (int n = 0; n < 20; n++) {
		while (rdtsc() < next)
			__asm__ volatile("pause");
		next = rdtsc() + 50000000ULL;
	}
	puts("TINY resetting\n");
	acpi_reset();
}

static void test_power_button(void)
{
	interrupts_init();
	ioapic_route(GSI_POWER_BUTTON, VECTOR_POWER_BUTTON);
	puts("TINY power button armed\n");
	wait_for(&power_button_pressed);
	puts("TINY power button pressed\n");
	acpi_power_off();
}

static void test_smp(void)
{
	unsigned expected = madt_cpu_count() - 1;
	volatile uint16_t *counter;
	uint64_t start;
	char *dst = (char *)AP_TRAMPOLINE_ADDR;

	for (char *src = ap_trampoline; src < ap_trampoline_end; src++)
		*dst++ = *src;
	counter = (volatile uint16_t *)(AP_TRAMPOLINE_ADDR + ap_counter_offset);
	*counter = 0;

	/* INIT then STARTUP to all but ourselves, as firmware and Linux do. */
	mmio_write(LAPIC + 0x310, 0);
	mmio_write(LAPIC + 0x300, 0x000c4500);
	mmio_write(LAPIC + 0x300, 0x000c4600 | (AP_TRAMPOLINE_ADDR >> 12));
	start = rdtsc();
	while (*counter < expected && rdtsc() - start < 20000000000ULL)
		__asm__ volatile("pause");

	puts("TINY cpus=");
	put_dec(expected + 1);
	puts(" started=");
	put_dec(*counter + 1u);
	puts("\n");
	acpi_power_off();
}

/*
 * Reports a kernel panic through the pvpanic port as Linux does; with kdump,
 * goes on ticking. after_key: first waits for a byte on COM1, so that a test
 * can listen for the report before it is made.
 */
static void test_panic(bool crash_loaded, bool after_key)
{
	uint8_t supported = inb(PVPANIC_PORT);

	if (after_key) {
		puts("TINY panic on a key\n");
		while (!(inb(COM1 + 5) & 0x01))
			__asm__ volatile("pause");
	}

	puts("TINY pvpanic supports ");
	put_dec(supported);
	puts("\n");
	outb(PVPANIC_PORT, crash_loaded ? 2 : 1);
	puts("TINY still running after the panic report\n");
	if (crash_loaded)
		test_tick();
}

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) null_idt = { 0, 0 };

	puts("TINY triple faulting\n");
	/*
	 * A load from a non-canonical address raises #GP, which the empty IDT
	 * cannot deliver: #GP, then #DF, then the shutdown. Not int3: KVM's
	 * instruction emulator (all a software kvm-pvm has) refuses INT n outside
	 * real mode with an emulation failure, while every KVM raises this #GP.
	 */
	__asm__ volatile("lidt %0; movq (%1), %%rax"
			 :
			 : "m"(null_idt), "r"(0x8000000000000000ull)
			 : "rax", "memory");
	puts("TINY survived a triple fault\n");
	halt_forever();
}

/* "test=NAME" from the command line, copied out; "" when absent. */
static void test_name(const char *cmdline, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && mem_eq(p, "test=", 5)) {
			p += 5;
			while (*p && *p != ' ' && n < size - 1)
				out[n++] = *p++;
			break;
		}
	}
	out[n] = 0;
}

void tiny_main(const uint8_t *boot_params);

void tiny_main(const uint8_t *boot_params)
{
	const char *cmdline = (const char *)(uint64_t) * (const uint32_t *)(boot_params + 0x228);
	char test[32];

	rsdp = (const uint8_t *)*(const uint64_t *)(boot_params + 0x70);
	test_name(cmdline, test, sizeof(test));
	puts("TINY hello, cmdline: ");
	puts(cmdline);
	puts("\n");
	if (!rsdp || !mem_eq(rsdp, "RSD PTR ", 8)) {
		puts("TINY no RSDP in boot_params\n");
		halt_forever();
	}

	if (str_eq(test, "poweroff") || str_eq(test, ""))
		acpi_power_off();
	else if (str_eq(test, "reset"))
		acpi_reset();
	else if (str_eq(test, "kbdreset")) {
		puts("TINY resetting through the i8042\n");
		outb(0x64, 0xfe);
		puts("TINY still running after reset\n");
	} else if (str_eq(test, "triplefault"))
		triple_fault();
	else if (str_eq(test, "smp"))
		test_smp();
	else if (str_eq(test, "echo"))
		test_echo();
	else if (str_eq(test, "powerbutton"))
		test_power_button();
	else if (str_eq(test, "ignore"))
		puts("TINY ignoring everything\n");
	else if (str_eq(test, "panic"))
		test_panic(false, false);
	else if (str_eq(test, "keypanic"))
		test_panic(false, true);
	else if (str_eq(test, "keycrashloaded"))
		test_panic(true, true);
	else if (str_eq(test, "tick"))
		test_tick();
	else if (str_eq(test, "tickreset"))
		test_tick_reset();
	else
		puts("TINY unknown test\n");
	halt_forever();
}

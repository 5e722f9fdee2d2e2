/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PC chipset (pci/i440fx.c) as OVMF's PlatformPei and AcpiTimerLib find and use it. */
#include <glib.h>
#include <string.h>
#include <time.h>

#include "arch/x86_64/layout.h"
#include "pci/i440fx.h"
#include "pci/pci.h"
#include "util.h"

struct machine {
	struct trap_table pio, mmio;
	struct pci_bus bus;
	struct pc_chipset chipset;
	struct acpi_pm acpi_pm;
	int power_offs;
};

static void power_off(void *opaque)
{
	struct machine *m = opaque;
	m->power_offs++;
}

static void setup(struct machine *m)
{
	static const struct pci_windows windows = { .mmio32_base = 0x80000000,
						    .mmio64_base = 8ULL << 30 };

	memset(m, 0, sizeof(*m));
	trap_table_init(&m->pio, "port", 0x10000, false);
	trap_table_init(&m->mmio, "MMIO", UINT64_MAX, false);
	m->acpi_pm.power_off = power_off;
	m->acpi_pm.opaque = m;
	g_assert_cmpint(pci_bus_init(&m->bus, &m->pio, &m->mmio, &windows), ==, 0);
	g_assert_cmpint(pc_chipset_init(&m->chipset, &m->bus, &m->pio, &m->acpi_pm), ==, 0);
}

static void teardown(struct machine *m)
{
	pc_chipset_done(&m->chipset);
	pci_bus_done(&m->bus);
}

static uint32_t in(struct machine *m, uint16_t port, unsigned size)
{
	uint8_t data[4] = { 0 };
	trap_access(&m->pio, port, data, size, false);
	return get_le32(data);
}

static void out(struct machine *m, uint16_t port, uint32_t value, unsigned size)
{
	uint8_t data[4];
	put_le32(data, value);
	trap_access(&m->pio, port, data, size, true);
}

/* PciRead through 0xCF8/0xCFC, as OVMF's PEI phase does before it knows of ECAM. */
static uint32_t config(struct machine *m, unsigned slot, unsigned fn, unsigned reg, unsigned size)
{
	out(m, PORT_PCI_CONFIG_ADDRESS, 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc), 4);
	return in(m, (uint16_t)(PORT_PCI_CONFIG_ADDRESS + 4 + (reg & 3)), size);
}

static void config_write(struct machine *m, unsigned slot, unsigned fn, unsigned reg,
			 uint32_t value, unsigned size)
{
	out(m, PORT_PCI_CONFIG_ADDRESS, 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc), 4);
	out(m, (uint16_t)(PORT_PCI_CONFIG_ADDRESS + 4 + (reg & 3)), value, size);
}

/* PlatformPei takes the platform by the host bridge's device ID: i440FX, or it gives up. */
static void test_identity(void)
{
	struct machine m;

	setup(&m);
	g_assert_cmphex(config(&m, 0, 0, 0, 4), ==, 0x12378086);
	g_assert_cmphex(config(&m, 1, 0, 0, 4), ==, 0x70008086);
	g_assert_cmphex(config(&m, 1, 0, 0x0a, 2), ==, 0x0601); /* ISA bridge: OVMF's SIO bus */
	g_assert_cmphex(config(&m, 1, 0, 0x0e, 1) & 0x80, ==, 0x80); /* multi-function */
	/* OVMF's SioBusDxe takes only an ISA bridge that decodes I/O and memory. */
	g_assert_cmphex(config(&m, 1, 0, 0x04, 2) & 3, ==, 3);
	g_assert_cmphex(config(&m, 1, 3, 0, 4), ==, 0x71138086);
	/* Functions that are not there read as all ones, so that a scan moves on. */
	g_assert_cmphex(config(&m, 1, 1, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(config(&m, 1, 7, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(config(&m, 0, 1, 0, 4), ==, 0xffffffff);
	teardown(&m);
}

/* PMBA is set and enabled as a BIOS would leave it: PlatformMiscInitialization skips its own
 * setup, and what it might write anyway does not move the block. */
static void test_pm_base_fixed(void)
{
	struct machine m;

	setup(&m);
	g_assert_cmphex(config(&m, 1, 3, 0x40, 4), ==, PORT_PIIX4_PM_BASE | 1);
	g_assert_cmphex(config(&m, 1, 3, 0x80, 1) & 1, ==, 1);
	g_assert_cmphex(config(&m, 1, 3, 0x04, 2) & 1, ==, 1);
	config_write(&m, 1, 3, 0x40, 0x6001, 4);
	config_write(&m, 1, 3, 0x80, 0, 1);
	g_assert_cmphex(config(&m, 1, 3, 0x40, 4), ==, PORT_PIIX4_PM_BASE | 1);
	g_assert_cmphex(config(&m, 1, 3, 0x80, 1) & 1, ==, 1);
	teardown(&m);
}

/* Devices added later go after the chipset's slot. */
static void test_devices_after_chipset(void)
{
	struct machine m;
	static const struct pci_device_ops ops = { 0 };
	struct pci_device dev;

	setup(&m);
	pci_device_init(&dev, "test", 0x1af4, 0x1042, 0x010000, 0x1af4, 2, &ops, NULL);
	g_assert_cmpint(pci_bus_add_device(&m.bus, &dev), ==, 0);
	g_assert_cmpuint(dev.slot, ==, 2);
	g_assert_cmphex(config(&m, 2, 0, 0, 4), ==, 0x10421af4);
	/* A function with BARs, or a place taken, is refused. */
	g_assert_cmpint(pci_bus_add_function(&m.bus, 1, 3, &dev), <, 0);
	teardown(&m);
}

static void test_pm_timer_math(void)
{
	g_assert_cmpuint(pc_chipset_pm_timer_at(0), ==, 0);
	g_assert_cmpuint(pc_chipset_pm_timer_at(1000000000u), ==, 3579545 & 0xffffff);
	/* 24 bits: it wraps every 4.69 s. */
	g_assert_cmpuint(pc_chipset_pm_timer_at(5000000000u), ==, (5 * 3579545) & 0xffffff);
	/* No overflow after days of uptime. */
	g_assert_cmpuint(pc_chipset_pm_timer_at(86400ULL * 1000000000u * 10), ==,
			 (86400ULL * 10 * 3579545) & 0xffffff);
}

/* AcpiTimerLib's MicroSecondDelay counts PM timer ticks: they must advance at 3.58 MHz. */
static void test_pm_timer_ticks(void)
{
	struct machine m;
	struct timespec ten_ms = { .tv_nsec = 10000000 };
	uint32_t before, after, ticks;

	setup(&m);
	before = in(&m, PORT_PIIX4_PM_BASE + 8, 4);
	g_assert_cmpuint(before, <=, 0xffffff);
	nanosleep(&ten_ms, NULL);
	after = in(&m, PORT_PIIX4_PM_BASE + 8, 4);
	ticks = (after - before) & 0xffffff;
	/* At least 10 ms worth; at most a second's, however slow the machine. */
	g_assert_cmpuint(ticks, >=, 35795);
	g_assert_cmpuint(ticks, <, 3579545);
	teardown(&m);
}

/* OVMF's ResetShutdown: SLP_TYP 0 (S5 on a PIIX4), then SLP_EN, in two 16-bit writes. */
static void test_pm1_control_power_off(void)
{
	struct machine m;
	uint16_t cnt;

	setup(&m);
	cnt = (uint16_t)in(&m, PORT_PIIX4_PM_BASE + 4, 2);
	g_assert_cmphex(cnt & 1, ==, 1); /* SCI_EN: ACPI mode, as after a BIOS */
	out(&m, PORT_PIIX4_PM_BASE + 4, cnt & ~(7u << 10), 2);
	g_assert_cmpint(m.power_offs, ==, 0);
	out(&m, PORT_PIIX4_PM_BASE + 4, (cnt & ~(7u << 10)) | 0x2000, 2);
	g_assert_cmpint(m.power_offs, ==, 1);
	g_assert_cmphex(in(&m, PORT_PIIX4_PM_BASE + 4, 2) & 0x2000, ==, 0);
	/* Another sleep type (S3 on a PIIX4 is 1) is not offered: no power off. */
	out(&m, PORT_PIIX4_PM_BASE + 4, 1u << 10 | 0x2000, 2);
	g_assert_cmpint(m.power_offs, ==, 1);
	/* Byte writes land in the right half; the enable register keeps what was written. */
	out(&m, PORT_PIIX4_PM_BASE + 2, 0x21, 1);
	out(&m, PORT_PIIX4_PM_BASE + 3, 0x01, 1);
	g_assert_cmphex(in(&m, PORT_PIIX4_PM_BASE + 2, 2), ==, 0x0121);
	g_assert_cmphex(in(&m, PORT_PIIX4_PM_BASE + 0, 2), ==, 0); /* no events */
	teardown(&m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/i440fx/identity", test_identity);
	g_test_add_func("/i440fx/pm-base-fixed", test_pm_base_fixed);
	g_test_add_func("/i440fx/devices-after-chipset", test_devices_after_chipset);
	g_test_add_func("/i440fx/pm-timer-math", test_pm_timer_math);
	g_test_add_func("/i440fx/pm-timer-ticks", test_pm_timer_ticks);
	g_test_add_func("/i440fx/pm1-control-power-off", test_pm1_control_power_off);
	return g_test_run();
}

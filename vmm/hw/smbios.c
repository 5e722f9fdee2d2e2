/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hw/smbios.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define TYPE_SYSTEM 1
#define TYPE_ENCLOSURE 3
#define TYPE_PROCESSOR 4
#define TYPE_MEMORY_ARRAY 16
#define TYPE_MEMORY_DEVICE 17
#define TYPE_MEMORY_MAPPED 19
#define TYPE_BOOT_INFO 32
#define TYPE_END 127

#define HANDLE_MEMORY_ARRAY 0x1000
#define HANDLE_NONE 0xfffe
#define HANDLE_NOT_PROVIDED 0xffff

#define MANUFACTURER "Phyllome"

/* A structure being written: its formatted part, then its strings. */
struct builder {
	uint8_t *out;
	size_t size, len;
	bool overflow;
	uint16_t next_handle;
	/* the structure under way */
	size_t start;
	unsigned strings;
};

static uint8_t *begin(struct builder *b, uint8_t type, uint8_t length, uint16_t handle)
{
	uint8_t *s;

	b->start = b->len;
	b->strings = 0;
	if (b->overflow || b->size - b->len < length) {
		b->overflow = true;
		return NULL;
	}
	s = b->out + b->len;
	memset(s, 0, length);
	s[0] = type;
	s[1] = length;
	put_le16(s + 2, handle);
	b->len += length;
	return s;
}

/* Adds a string to the structure under way; its number, for the field that names it. */
static uint8_t add_string(struct builder *b, const char *str)
{
	size_t n = strlen(str) + 1;

	if (b->overflow || b->size - b->len < n) {
		b->overflow = true;
		return 0;
	}
	memcpy(b->out + b->len, str, n);
	b->len += n;
	return (uint8_t)++b->strings;
}

/* Writes a string into field offset of the structure under way. */
static void set_string(struct builder *b, unsigned offset, const char *str)
{
	uint8_t number = add_string(b, str);

	if (!b->overflow)
		b->out[b->start + offset] = number;
}

/* The string set ends with a second NUL; a structure without strings has two. */
static void end(struct builder *b)
{
	unsigned needed = b->strings ? 1 : 2;

	if (b->overflow || b->size - b->len < needed) {
		b->overflow = true;
		return;
	}
	memset(b->out + b->len, 0, needed);
	b->len += needed;
}

static void system_information(struct builder *b, const struct smbios_machine *m)
{
	uint8_t *s = begin(b, TYPE_SYSTEM, 0x1b, b->next_handle++);

	if (!s)
		return;
	/* SMBIOS 2.6 on: the UUID's first three fields are little-endian. */
	for (unsigned i = 0; i < 4; i++)
		s[0x08 + i] = m->uuid[3 - i];
	s[0x0c] = m->uuid[5];
	s[0x0d] = m->uuid[4];
	s[0x0e] = m->uuid[7];
	s[0x0f] = m->uuid[6];
	memcpy(s + 0x10, m->uuid + 8, 8);
	s[0x18] = 0x06; /* woken by the power switch */
	set_string(b, 0x04, MANUFACTURER);
	set_string(b, 0x05, "Phyllome virtual machine");
	set_string(b, 0x06, m->version);
	set_string(b, 0x1a, "Virtual Machine");
	end(b);
}

static void enclosure(struct builder *b)
{
	uint8_t *s = begin(b, TYPE_ENCLOSURE, 0x15, b->next_handle++);

	if (!s)
		return;
	s[0x05] = 0x01; /* other */
	s[0x09] = 0x03; /* boot-up, power supply and thermal state: safe */
	s[0x0a] = 0x03;
	s[0x0b] = 0x03;
	s[0x0c] = 0x02; /* security status: unknown */
	set_string(b, 0x04, MANUFACTURER);
	end(b);
}

static void processor(struct builder *b, unsigned index)
{
	uint8_t *s = begin(b, TYPE_PROCESSOR, 0x30, b->next_handle++);
	char socket[16];

	if (!s)
		return;
	s[0x05] = 0x03;	       /* central processor */
	s[0x06] = 0x01;	       /* family: other */
	put_le16(s + 0x14, 0); /* speeds unknown */
	s[0x18] = 0x41;	       /* socket populated, CPU enabled */
	s[0x19] = 0x01;	       /* upgrade: other */
	put_le16(s + 0x1a, HANDLE_NOT_PROVIDED);
	put_le16(s + 0x1c, HANDLE_NOT_PROVIDED);
	put_le16(s + 0x1e, HANDLE_NOT_PROVIDED);
	s[0x23] = s[0x24] = s[0x25] = 1; /* one core, one thread per socket */
	put_le16(s + 0x26, 0x02);	 /* characteristics unknown */
	put_le16(s + 0x28, 0x01);
	put_le16(s + 0x2a, 1);
	put_le16(s + 0x2c, 1);
	put_le16(s + 0x2e, 1);
	snprintf(socket, sizeof(socket), "CPU %u", index);
	set_string(b, 0x04, socket);
	set_string(b, 0x07, MANUFACTURER);
	end(b);
}

static void memory(struct builder *b, const struct smbios_machine *m)
{
	uint64_t total_kib = (m->ram_below_4g + m->ram_above_4g) >> 10;
	uint64_t total_mib = total_kib >> 10;
	uint16_t device_handle;
	uint8_t *s;

	s = begin(b, TYPE_MEMORY_ARRAY, 0x17, HANDLE_MEMORY_ARRAY);
	if (s) {
		s[0x04] = 0x01; /* location: other */
		s[0x05] = 0x03; /* system memory */
		s[0x06] = 0x06; /* error correction: multi-bit ECC, as QEMU says */
		if (total_kib < 0x80000000u) {
			put_le32(s + 0x07, (uint32_t)total_kib);
		} else {
			put_le32(s + 0x07, 0x80000000u);
			put_le64(s + 0x0f, total_kib << 10);
		}
		put_le16(s + 0x0b, HANDLE_NONE);
		put_le16(s + 0x0d, 1);
		end(b);
	}

	device_handle = b->next_handle++;
	s = begin(b, TYPE_MEMORY_DEVICE, 0x28, device_handle);
	if (s) {
		put_le16(s + 0x04, HANDLE_MEMORY_ARRAY);
		put_le16(s + 0x06, HANDLE_NONE);
		put_le16(s + 0x08, 64);
		put_le16(s + 0x0a, 64);
		if (total_mib < 0x7fff) {
			put_le16(s + 0x0c, (uint16_t)total_mib);
		} else {
			put_le16(s + 0x0c, 0x7fff);
			put_le32(s + 0x1c, (uint32_t)total_mib);
		}
		s[0x0e] = 0x09;		    /* DIMM */
		s[0x12] = 0x07;		    /* RAM */
		put_le16(s + 0x13, 0x0002); /* type detail: other */
		set_string(b, 0x10, "DIMM 0");
		set_string(b, 0x17, MANUFACTURER);
		end(b);
	}

	/* Where the RAM is: below the 32-bit hole, and above 4 GiB. */
	for (unsigned part = 0; part < 2; part++) {
		uint64_t start = part ? 1ULL << 32 : 0;
		uint64_t bytes = part ? m->ram_above_4g : m->ram_below_4g;
		uint64_t start_kib = start >> 10, end_kib = ((start + bytes) >> 10) - 1;

		if (!bytes)
			continue;
		s = begin(b, TYPE_MEMORY_MAPPED, 0x1f, b->next_handle++);
		if (!s)
			return;
		if (end_kib < 0xffffffffu) {
			put_le32(s + 0x04, (uint32_t)start_kib);
			put_le32(s + 0x08, (uint32_t)end_kib);
		} else {
			put_le32(s + 0x04, 0xffffffffu);
			put_le32(s + 0x08, 0xffffffffu);
			put_le64(s + 0x0f, start);
			put_le64(s + 0x17, start + bytes - 1);
		}
		put_le16(s + 0x0c, HANDLE_MEMORY_ARRAY);
		s[0x0e] = 1;
		end(b);
	}
}

int smbios_build(const struct smbios_machine *m, uint8_t *tables, size_t size,
		 uint8_t anchor[SMBIOS_ANCHOR_SIZE])
{
	struct builder b = { .out = tables, .size = size, .next_handle = 0x100 };
	uint8_t *s, sum = 0;

	system_information(&b, m);
	enclosure(&b);
	for (unsigned cpu = 0; cpu < m->cpus; cpu++)
		processor(&b, cpu);
	memory(&b, m);
	if (begin(&b, TYPE_BOOT_INFO, 0x0b, b.next_handle++)) /* no errors detected */
		end(&b);
	if (begin(&b, TYPE_END, 4, b.next_handle++))
		end(&b);
	if (b.overflow || b.len > UINT32_MAX)
		return -ENOSPC;

	/* The SMBIOS 3.0 entry point: OVMF takes the version from it, and checks the length. */
	s = anchor;
	memset(s, 0, SMBIOS_ANCHOR_SIZE);
	memcpy(s, "_SM3_", 5);
	s[6] = SMBIOS_ANCHOR_SIZE;
	s[7] = 3; /* version 3.0 */
	s[8] = 0;
	s[10] = 1; /* entry point revision */
	put_le32(s + 12, (uint32_t)b.len);
	for (unsigned i = 0; i < SMBIOS_ANCHOR_SIZE; i++)
		sum = (uint8_t)(sum + s[i]);
	s[5] = (uint8_t)-sum;
	return (int)b.len;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "acpi-loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "cleanup.h"
#include "layout.h"
#include "util.h"

#define FILE_NAME_SIZE 56
#define MAX_COMMANDS 32

struct command_list {
	uint8_t *data;
	size_t count;
};

static uint8_t *add_command(struct command_list *c, uint32_t command)
{
	uint8_t *e = c->data + c->count++ * ACPI_LOADER_ENTRY_SIZE;

	put_le32(e, command);
	return e;
}

static void allocate(struct command_list *c, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = add_command(c, ACPI_LOADER_ALLOCATE);

	strncpy((char *)e + 4, file, FILE_NAME_SIZE);
	put_le32(e + 60, align);
	e[64] = zone;
}

static void add_pointer(struct command_list *c, const char *dest, const char *src, uint32_t offset,
			uint8_t size)
{
	uint8_t *e = add_command(c, ACPI_LOADER_ADD_POINTER);

	strncpy((char *)e + 4, dest, FILE_NAME_SIZE);
	strncpy((char *)e + 60, src, FILE_NAME_SIZE);
	put_le32(e + 116, offset);
	e[120] = size;
}

/*
 * The field is zeroed in the blob: OVMF stores the negated sum of the range with the
 * field in it (SeaBIOS subtracts the sum, which works either way).
 */
static void add_checksum(struct command_list *c, struct acpi_loader_blob *blob, const char *file,
			 uint32_t offset, uint32_t start, uint32_t length)
{
	uint8_t *e = add_command(c, ACPI_LOADER_ADD_CHECKSUM);

	blob->data[offset] = 0;
	strncpy((char *)e + 4, file, FILE_NAME_SIZE);
	put_le32(e + 60, offset);
	put_le32(e + 64, start);
	put_le32(e + 68, length);
}

/* A table inside the tables blob, at an offset one of our pointers gave: bounds-checked. */
static int table_at(const struct acpi_loader_blob *tables, uint64_t offset, const char *signature,
		    uint32_t *ret_length)
{
	uint32_t length;

	if (offset > tables->size || tables->size - offset < ACPI_HEADER_SIZE)
		return -EINVAL;
	length = get_le32(tables->data + offset + 4);
	if (length < ACPI_HEADER_SIZE || length > tables->size - offset ||
	    (signature && memcmp(tables->data + offset, signature, 4) != 0))
		return -EINVAL;
	*ret_length = length;
	return 0;
}

/*
 * The tables are built as if they lay at minus the RSDP's room, so that every pointer
 * in them is an offset into the tables blob; their pointers are then found from the
 * RSDP as the firmware will walk them, and listed with the checksums to redo.
 */
int acpi_loader_build(unsigned ncpus, const struct pci_windows *pci_windows,
		      struct acpi_loader *ret)
{
	const size_t tables_start = ALIGN_UP((size_t)ACPI_RSDP_SIZE, (size_t)16);
	_cleanup_free_ uint8_t *buffer = calloc(1, GUEST_ACPI_MAX);
	struct command_list commands = { .data = calloc(MAX_COMMANDS, ACPI_LOADER_ENTRY_SIZE) };
	struct acpi_loader loader = { 0 };
	uint64_t xsdt, dsdt;
	uint32_t xsdt_length, length, dsdt_length;
	size_t size;
	int r;

	if (!buffer || !commands.data) {
		free(commands.data);
		return -ENOMEM;
	}
	r = acpi_build_tables(buffer, GUEST_ACPI_MAX, -(uint64_t)tables_start, ncpus, pci_windows,
			      &size);
	if (r < 0)
		goto fail;
	loader.rsdp =
	    (struct acpi_loader_blob){ .data = malloc(ACPI_RSDP_SIZE), .size = ACPI_RSDP_SIZE };
	loader.tables = (struct acpi_loader_blob){ .data = malloc(size - tables_start),
						   .size = size - tables_start };
	r = -ENOMEM;
	if (!loader.rsdp.data || !loader.tables.data)
		goto fail;
	memcpy(loader.rsdp.data, buffer, ACPI_RSDP_SIZE);
	memcpy(loader.tables.data, buffer + tables_start, loader.tables.size);

	allocate(&commands, ACPI_LOADER_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
	allocate(&commands, ACPI_LOADER_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
	xsdt = get_le64(loader.rsdp.data + 24);
	r = -EINVAL;
	/* (At most 8 tables: MAX_COMMANDS holds their pointers and checksums.) */
	if (table_at(&loader.tables, xsdt, "XSDT", &xsdt_length) < 0 ||
	    xsdt_length > ACPI_HEADER_SIZE + 8 * 8)
		goto fail;
	add_pointer(&commands, ACPI_LOADER_FILE_RSDP, ACPI_LOADER_FILE_TABLES, 24, 8);
	for (uint32_t entry = ACPI_HEADER_SIZE; entry + 8 <= xsdt_length; entry += 8) {
		uint64_t table = get_le64(loader.tables.data + xsdt + entry);

		if (table_at(&loader.tables, table, NULL, &length) < 0)
			goto fail;
		add_pointer(&commands, ACPI_LOADER_FILE_TABLES, ACPI_LOADER_FILE_TABLES,
			    (uint32_t)(xsdt + entry), 8);
		if (memcmp(loader.tables.data + table, "FACP", 4) == 0) {
			/* The DSDT, by its 32-bit and its 64-bit field. */
			if (length < 148)
				goto fail;
			dsdt = get_le64(loader.tables.data + table + 140);
			if (table_at(&loader.tables, dsdt, "DSDT", &dsdt_length) < 0)
				goto fail;
			add_pointer(&commands, ACPI_LOADER_FILE_TABLES, ACPI_LOADER_FILE_TABLES,
				    (uint32_t)(table + 40), 4);
			add_pointer(&commands, ACPI_LOADER_FILE_TABLES, ACPI_LOADER_FILE_TABLES,
				    (uint32_t)(table + 140), 8);
			add_checksum(&commands, &loader.tables, ACPI_LOADER_FILE_TABLES,
				     (uint32_t)(dsdt + 9), (uint32_t)dsdt, dsdt_length);
		}
		add_checksum(&commands, &loader.tables, ACPI_LOADER_FILE_TABLES,
			     (uint32_t)(table + 9), (uint32_t)table, length);
	}
	add_checksum(&commands, &loader.tables, ACPI_LOADER_FILE_TABLES, (uint32_t)(xsdt + 9),
		     (uint32_t)xsdt, xsdt_length);
	/* The RSDP's two checksums: the ACPI 1.0 one over its first 20 bytes, then the whole. */
	add_checksum(&commands, &loader.rsdp, ACPI_LOADER_FILE_RSDP, 8, 0, 20);
	add_checksum(&commands, &loader.rsdp, ACPI_LOADER_FILE_RSDP, 32, 0, ACPI_RSDP_SIZE);
	loader.commands =
	    (struct acpi_loader_blob){ .data = commands.data,
				       .size = commands.count * ACPI_LOADER_ENTRY_SIZE };
	*ret = loader;
	return 0;
fail:
	free(commands.data);
	acpi_loader_free(&loader);
	return r;
}

void acpi_loader_free(struct acpi_loader *loader)
{
	free(loader->rsdp.data);
	free(loader->tables.data);
	free(loader->commands.data);
	*loader = (struct acpi_loader){ 0 };
}

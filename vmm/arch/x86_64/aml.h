/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * A small builder for ACPI Machine Language: just the terms our DSDT uses.
 * Nested objects are opened with aml_*_begin() and closed with aml_end(),
 * which then writes the PkgLength in front of their contents. Errors
 * (allocation, nesting) stick in ->error and are reported once, by the caller.
 */
#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t open[AML_MAX_DEPTH];
	unsigned depth;
	int error;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

void aml_bytes(struct aml *a, const void *bytes, size_t len);
void aml_byte(struct aml *a, uint8_t b);
void aml_name_string(struct aml *a, const char *path);
void aml_integer(struct aml *a, uint64_t value);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);

void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned nargs);
void aml_if_begin(struct aml *a);
void aml_package_begin(struct aml *a, uint8_t nelements);
void aml_end(struct aml *a);

/* Name(name, <object>): the object's terms follow this call. */
void aml_name(struct aml *a, const char *name);
void aml_buffer(struct aml *a, const uint8_t *bytes, size_t len);
void aml_notify(struct aml *a, const char *path, uint64_t value);
/* LEqual(ArgN, value) */
void aml_arg_equals(struct aml *a, unsigned arg, uint64_t value);

/* Encodes a PkgLength for contents of the given size; returns its byte count (1..4), 0 if too big.
 */
size_t aml_pkg_length_encode(size_t contents, uint8_t out[4]);

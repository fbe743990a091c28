/* SPDX-License-Identifier: BSD-2-Clause */
/* ACPI tables by signature (arch/acpi.c). */
#ifndef PVHK_ACPI_H
#define PVHK_ACPI_H

#include <pvhk/types.h>

/* The table with signature sig ("APIC"), its length in *len; NULL and
 * acpi_error set when there is none or the RSDP/RSDT/XSDT is bad. */
const void *acpi_find_table(const char sig[4], uint32_t *len);
extern const char *acpi_error;

#endif

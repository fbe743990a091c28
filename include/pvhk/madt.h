/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ACPI MADT ("APIC" table): the processors it lists as usable. Pure
 * (boot/madt.c); the kernel finds the table through the RSDP
 * (arch/acpi.c), the host tests feed it built tables.
 */
#ifndef PVHK_MADT_H
#define PVHK_MADT_H

#include <pvhk/types.h>

#define MADT_MAX_CPUS   256

struct madt_cpus {
    uint32_t apic_id[MADT_MAX_CPUS];    /* enabled processors, in table order */
    unsigned n;                         /* kept (at most MADT_MAX_CPUS) */
    unsigned listed;                    /* enabled entries seen, duplicates not counted */
    unsigned disabled;                  /* entries neither enabled nor online-capable */
    uint32_t lapic_addr;                /* the table's local APIC address */
};

enum madt_err {
    MADT_OK = 0,
    MADT_ESHORT,        /* shorter than its header, or its length field says more than given */
    MADT_ESIG,          /* not "APIC" */
    MADT_ESUM,          /* bytes do not sum to 0 */
    MADT_EENTRY,        /* an entry's length is 0 or runs past the table */
};

/* ACPI checksum: the bytes sum to 0 (mod 256). */
bool acpi_checksum_ok(const void *p, size_t len);
/*
 * Parse a MADT of len bytes: processor local APIC entries (type 0) and
 * x2APIC entries (type 9) with the enabled flag (bit 0) set. An id listed
 * twice (a CPU in both forms) counts once. Returns 0 or a MADT_E*.
 */
int madt_parse(const void *table, size_t len, struct madt_cpus *out);
const char *madt_strerror(int err);

#endif

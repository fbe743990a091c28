/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest-physical memory map ("e820" map) and its sanitiser.
 *
 * Whatever source the map comes from (hvm_start_info's memmap, or
 * XENMEM_memory_map), it is untrusted input: unsorted, overlapping,
 * unaligned, possibly running past 2^64.  e820_sanitise() turns it into a
 * sorted, disjoint, page-aligned map whose type is defined page by page;
 * docs/memory-map.md states the rules and is the contract.
 *
 * Representing the top of the address space: an output entry may end at
 * exactly 2^64, which no uint64_t can hold as an end address.  Entries are
 * therefore described by addr and size, and size is a byte count modulo
 * 2^64: every output entry is non-empty, so an output size of 0 can only
 * mean 2^64 (an entry covering the whole address space).  Use e820_last()
 * (inclusive last byte, addr + size - 1, exact in modular arithmetic) and
 * e820_pages(); never compute addr + size.
 */
#ifndef PVHK_E820_H
#define PVHK_E820_H

#include <pvhk/types.h>

/* Types, as numbered by the ACPI spec (Address Range Types). */
#define E820_HOLE       0   /* not a type: "no entry covers this" */
#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3   /* ACPI tables, reclaimable once parsed */
#define E820_NVS        4   /* ACPI NVS: firmware keeps using it */
#define E820_UNUSABLE   5   /* on PVH dom0: RAM that dom0_mem withholds */
#define E820_DISABLED   6
#define E820_PMEM       7
#define E820_TYPE_MAX   7

#define E820_MAX_ENTRIES 128    /* capacity of a sanitised map */
#define E820_MAX_INPUT   1024   /* most raw entries e820_sanitise() takes */

struct e820_entry {
    uint64_t addr;
    uint64_t size;      /* output maps: 0 means 2^64, see above */
    uint32_t type;
};

struct e820_map {
    uint32_t nr;
    struct e820_entry entries[E820_MAX_ENTRIES];
};

/*
 * Raw entries as every source lays them out: u64 addr at byte 0, u64 size
 * at 8, u32 type at 16.  That is Xen's packed 20-byte `struct e820entry`
 * (XENMEM_memory_map) and the 24-byte `struct hvm_memmap_table_entry`
 * (start_info v1); e820_sanitise_raw() takes either via its stride, so the
 * caller hands over the hypervisor's buffer as is.
 */
#define E820_RAW_MIN_STRIDE 20

/* What the sanitiser noticed; filled on success and on error. */
#define E820_REPORT_TYPES 4
struct e820_report {
    uint32_t nr_in;         /* raw entries given */
    uint32_t nr_zero;       /* zero-sized, ignored (rule 1) */
    uint32_t nr_clipped;    /* ran past 2^64, clipped there (rule 1) */
    uint32_t nr_unknown;    /* type not 1..7, taken as RESERVED (rule 1) */
    uint32_t nr_unknown_types;  /* distinct values in unknown_types[] */
    uint32_t unknown_types[E820_REPORT_TYPES];  /* first distinct ones */
    uint32_t nr_needed;     /* output entries the result needs (rule 4) */
};

/*
 * Working memory for e820_sanitise(): one sweep event per entry edge.
 * ~32 KiB, too big for a kernel stack; the kernel passes a static one.
 */
struct e820_event {
    uint64_t pos;
    uint32_t type;
    int32_t delta;
};
struct e820_scratch {
    struct e820_event ev[2 * E820_MAX_INPUT];
};

/* Errors (negative) returned by e820_sanitise*(). */
#define E820_OK          0
#define E820_ETOOMANY   -1  /* more than E820_MAX_INPUT raw entries */
#define E820_ENOSPC     -2  /* result needs report->nr_needed entries */
#define E820_EINVAL     -3  /* bad arguments (NULL, stride too small) */

int e820_sanitise(const struct e820_entry *in, size_t nr_in,
                  struct e820_map *out, struct e820_scratch *scratch,
                  struct e820_report *rep);
int e820_sanitise_raw(const void *raw, size_t stride, size_t nr_in,
                      struct e820_map *out, struct e820_scratch *scratch,
                      struct e820_report *rep);
const char *e820_strerror(int err);

/*
 * Check that a map is what e820_sanitise() produces: sorted, disjoint,
 * page-aligned, non-empty, known types, runs of one type merged.
 * Returns NULL if so, else a static description of the first violation
 * (and its index in *bad if bad is not NULL).
 */
const char *e820_validate(const struct e820_map *m, uint32_t *bad);

/* Inclusive last byte of a (non-empty) entry; never overflows. */
static inline uint64_t e820_last(const struct e820_entry *e)
{
    return e->addr + e->size - 1;
}

/* Pages in a sanitised entry (size 0 is 2^64: 2^52 pages). */
static inline uint64_t e820_pages(const struct e820_entry *e)
{
    return e->size ? e->size >> PAGE_SHIFT : 1ULL << (64 - PAGE_SHIFT);
}

/* Type of the page holding addr in a sanitised map; E820_HOLE if none. */
uint32_t e820_type_at(const struct e820_map *m, uint64_t addr);

/* Pages per type, indexed by type (pages[E820_HOLE] is unused). */
struct e820_totals {
    uint64_t pages[E820_TYPE_MAX + 1];
};
void e820_totals(const struct e820_map *m, struct e820_totals *t);

/* Linux's names: "usable", "reserved", "ACPI data", ...; "unknown". */
const char *e820_type_name(uint32_t type);

/*
 * Render one entry as "[mem 0x0000000000100000-0x000000001d30efff] usable"
 * (inclusive end, like Linux's boot log) into buf, NUL-terminated and
 * truncated to len.  Returns the length the full line needs (without NUL).
 */
#define E820_FORMAT_LEN 64      /* enough for any entry */
size_t e820_format(const struct e820_entry *e, char *buf, size_t len);

#endif

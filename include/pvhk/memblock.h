/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The early boot allocator: pages from sanitised RAM, handed out before the
 * page allocator exists, every one recorded with a label.
 *
 * Contract (docs/memory-map.md, "The early allocator"):
 * - Memory is the RAM of a sanitised e820 map below MEMBLOCK_ADDR_LIMIT,
 *   fixed at memblock_init().  Everything is page-granular: ranges passed
 *   in are widened to whole pages.
 * - memblock_init() reserves page 0, so it is never handed out; the kernel
 *   image, boot stack, page tables and start_info copies are reserved by
 *   the caller right after init.
 * - Reservations are kept sorted and disjoint.  Reserving a range that is
 *   partly reserved already records only the parts that were not: the
 *   first label keeps its pages.  Touching or overlapping reservations
 *   with the same label merge into one record.  Reservations may cover
 *   non-RAM too (they are simply never free).
 * - A reservation is all or nothing: if the record table would overflow,
 *   nothing changes and MEMBLOCK_ENOSPC is returned.
 * - Free memory is RAM minus reservations; memblock_alloc() takes the
 *   highest suitable free range below its limit and reserves it.
 *
 * Pure code: the caller owns the struct memblock (the kernel has one,
 * static) and keeps labels alive (string literals).
 */
#ifndef PVHK_MEMBLOCK_H
#define PVHK_MEMBLOCK_H

#include <pvhk/types.h>
#include <pvhk/e820.h>

#define MEMBLOCK_MAX_MEMORY     E820_MAX_ENTRIES
#define MEMBLOCK_MAX_RESERVED   128
/*
 * x86-64 physical addresses are at most 52 bits wide, so nothing here
 * needs to reach 2^64 and every end address (base + size) fits a uint64_t.
 */
#define MEMBLOCK_ADDR_LIMIT     (1ULL << 52)
/* memblock_alloc() limit meaning "anywhere". */
#define MEMBLOCK_ALLOC_ANYWHERE UINT64_MAX

#define MEMBLOCK_EINVAL         (-22)
#define MEMBLOCK_ENOSPC         (-28)   /* reservation table full */
#define MEMBLOCK_ECLOSED        (-1)    /* the heap took over: memblock_close() */
#define MEMBLOCK_EBUSY          (-16)   /* memblock_reserve_exclusive(): overlap */

struct memblock_region {
    paddr_t base;           /* page-aligned */
    uint64_t size;          /* page-aligned, non-zero */
    const char *label;      /* reservations only; never NULL */
};

struct memblock {
    uint32_t nr_memory;
    uint32_t nr_reserved;
    uint64_t ignored_pages; /* RAM at or above MEMBLOCK_ADDR_LIMIT */
    bool closed;            /* memblock_close(): no more reservations */
    struct memblock_region memory[MEMBLOCK_MAX_MEMORY];
    struct memblock_region reserved[MEMBLOCK_MAX_RESERVED];
};

/*
 * Start from the RAM of a sanitised map (e820_validate() must accept it,
 * else MEMBLOCK_EINVAL) and reserve page 0.
 */
int memblock_init(struct memblock *mb, const struct e820_map *map);

/*
 * Record [base, base + size) (widened to pages) as reserved under label.
 * size 0 does nothing.  MEMBLOCK_EINVAL if the range reaches past
 * MEMBLOCK_ADDR_LIMIT, MEMBLOCK_ENOSPC if the table would overflow.
 */
int memblock_reserve(struct memblock *mb, paddr_t base, uint64_t size,
                     const char *label);

/*
 * memblock_reserve() for a range that must be wholly unreserved: if any
 * page of [base, base + size) (widened to pages) is reserved already,
 * nothing changes, MEMBLOCK_EBUSY is returned and *clash (when clash is not
 * NULL) points at the lowest record it overlaps; otherwise as
 * memblock_reserve() (*clash NULL).
 */
int memblock_reserve_exclusive(struct memblock *mb, paddr_t base, uint64_t size,
                               const char *label, const struct memblock_region **clash);

/*
 * Allocate size bytes (rounded up to pages) aligned to align (a power of
 * two; less than a page means a page), ending at or below limit, from the
 * top of free RAM down, and reserve them under label.  Returns the base,
 * or 0 (never a valid result: page 0 is reserved) if no free range fits,
 * the arguments are invalid or the reservation table is full.
 */
paddr_t memblock_alloc(struct memblock *mb, uint64_t size, uint64_t align,
                       paddr_t limit, const char *label);

/*
 * The heap took over what memblock recorded: from now on memblock_reserve()
 * fails with MEMBLOCK_ECLOSED and memblock_alloc() returns 0, whatever the
 * arguments. The records stay readable (they name the reserved blocks'
 * owners).
 */
void memblock_close(struct memblock *mb);

/* The i-th reservation in address order, or NULL past the last. */
const struct memblock_region *memblock_reserved_region(const struct memblock *mb,
                                                       uint32_t i);

/*
 * Free ranges (RAM minus reservations), in address order:
 *   paddr_t cur = 0, base; uint64_t size;
 *   while (memblock_next_free(mb, &cur, &base, &size)) ...
 * Each range is maximal within one RAM region.
 */
bool memblock_next_free(const struct memblock *mb, paddr_t *cursor,
                        paddr_t *base, uint64_t *size);

/*
 * Queries on [base, base + size) widened to pages; size 0 asks about the
 * page holding base.  is_ram: every page is RAM.  is_free: every page is
 * RAM and unreserved.  is_reserved: every page is reserved.
 */
bool memblock_is_ram(const struct memblock *mb, paddr_t base, uint64_t size);
bool memblock_is_free(const struct memblock *mb, paddr_t base, uint64_t size);
bool memblock_is_reserved(const struct memblock *mb, paddr_t base,
                          uint64_t size);

uint64_t memblock_free_pages(const struct memblock *mb);
const char *memblock_strerror(int err);

#endif

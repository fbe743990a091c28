/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's memory glue, kernel-only: the sanitised map (mm/boot_mm.c),
 * and the page heap (mm/heap.c): the frame table and buddy allocator of
 * mm/page_alloc.c (docs/allocator.md) over that map, plus the early
 * allocator it takes over from. The pure modules underneath have their own
 * headers, which the host tests use: <pvhk/e820.h>, <pvhk/memblock.h>,
 * <pvhk/page_alloc.h>.
 */
#ifndef PVHK_MM_H
#define PVHK_MM_H

#include <pvhk/e820.h>
#include <pvhk/memblock.h>
#include <pvhk/page_alloc.h>
#include <pvhk/page_smp.h>

/* ---- the memory map (mm/boot_mm.c) --------------------------------------- */

/* The sanitised guest-physical memory map. */
extern struct e820_map e820;
extern struct e820_report e820_rep;

/* Sanitise boot_info's raw map, print it; panics naming the cause if the
 * map is unusable (no entries, too many, no RAM). */
void mm_map_init(void);
void e820_print(const struct e820_map *m, const char *title);
/* Highest end address of any RAM or UNUSABLE page. */
uint64_t e820_top_inward(const struct e820_map *m);

/* ---- boot memory and the page heap (mm/heap.c) --------------------------- */

extern struct memblock memblock;
extern struct page_alloc heap;
/* The heap's locks: pas_lock_all(&heap_smp) around any pa_*() call on
 * `heap` that may run while other CPUs allocate (include/pvhk/page_smp.h). */
extern struct pa_smp heap_smp;

/* Lazy init at work: free RAM initialised at boot, free RAM deferred, and
 * all frames still UNINITIALISED when heap_init() returned. */
extern uint64_t heap_boot_eager, heap_boot_deferred, heap_boot_uninit;
/* Pages memblock handed out before the heap existed, for the self-tests:
 * [0] is kept out of the hand-over (UNINITIALISED), [1] is reserved. */
extern pfn_t heap_early_test_pfn[2];
/* The first frame boot deferred (0 if none): FREE, and the last that default
 * allocations reach (they grow deferred memory from the top). */
extern pfn_t heap_first_deferred;
/* FREE frames at or above 4 GiB (O(RAM frames): for tests). */
uint64_t heap_high_free_frames(void);

/* memblock over the map, with the boot reservations (image, start_info...). */
void memblock_boot_init(void);
/* Frame table for RAM (+ extra ranges given by mm glue), lazy heap init. */
void heap_init(void);
void heap_print(const char *when);
/* The label of a reserved block's owner (pa_owner()); "heap" for 0. */
const char *heap_owner_label(unsigned owner);

/* Pages through the identity map: NULL when the heap is exhausted. */
void *alloc_pages(unsigned order, unsigned flags);
/* Frees are validated; a refused one panics with the allocator's reason
 * (kernel callers never mean to free a bad block). */
void free_pages(void *va, unsigned order);

#endif

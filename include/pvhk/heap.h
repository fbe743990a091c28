/*
 * The kernel's page heap: the frame table and buddy allocator of
 * mm/page_alloc.c (docs/allocator.md) over the sanitised map, plus the
 * early allocator it takes over from. Kernel-only glue.
 */
#ifndef PVHK_HEAP_H
#define PVHK_HEAP_H

#include <pvhk/memblock.h>
#include <pvhk/page_alloc.h>

extern struct memblock memblock;
extern struct page_alloc heap;

/* Lazy init at work: free RAM initialised at boot, free RAM deferred, and
 * all frames still UNINITIALISED when heap_init() returned. */
extern uint64_t heap_boot_eager, heap_boot_deferred, heap_boot_uninit;
/* A page handed out by memblock before the heap existed, kept for tests. */
extern pfn_t heap_early_test_pfn[2];

/* memblock over the map, with the boot reservations (image, start_info...). */
void memblock_boot_init(void);
/* Frame table for RAM (+ extra ranges given by mm glue), lazy heap init. */
void heap_init(void);
void heap_print(const char *when);

/* Pages through the identity map: NULL when the heap is exhausted. */
void *alloc_pages(unsigned order, unsigned flags);
/* Frees are validated; a refused one panics with the allocator's reason
 * (kernel callers never mean to free a bad block). */
void free_pages(void *va, unsigned order);

#endif

/*
 * Internals of the fast allocator shared by its files (mm/page_alloc*.c,
 * mm/page_check.c). Not an API: include/pvhk/page_alloc.h is.
 */
#ifndef PVHK_MM_PAGE_FAST_H
#define PVHK_MM_PAGE_FAST_H

#include <pvhk/page_alloc.h>

int pa_range_of(const struct page_alloc *pa, pfn_t frame);
bool pa_chunk_touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f);

#endif

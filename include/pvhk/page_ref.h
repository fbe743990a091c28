/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reference page allocator (mm/page_ref.c): the contract of
 * docs/allocator.md written as plainly as it can be. One entry per frame
 * holding that frame's state, plain searches, no lazy anything. It has the
 * fast allocator's API (pr_X is pa_X) and errors; the differential tests
 * hold the two to it, and `make PA_IMPL=ref` boots the kernel on it.
 *
 * Pure code: the caller owns struct page_ref and the table storage.
 */
#ifndef PVHK_PAGE_REF_H
#define PVHK_PAGE_REF_H

#include <pvhk/page_state.h>

/* One frame. */
struct pr_frame {
    uint8_t state;          /* enum pa_state */
    uint8_t order;          /* INUSE/OFFLINING: order of the frame's block, whose
                             * head is the frame aligned down to it */
    uint16_t owner;         /* INUSE/OFFLINING: the block's owner (0: the heap) */
};

struct pr_range {
    pfn_t start, end;       /* [start, end) */
    uint64_t base;          /* table index of start */
    uint64_t nr_free;       /* FREE frames in the range: pr_alloc() skips a
                             * range that has too few to hold the block */
};

struct page_ref {
    struct pr_frame *table;
    uint64_t capacity, used;            /* frames */
    unsigned nr_ranges;
    struct pr_range range[PA_MAX_RANGES];       /* insertion order */
    uint64_t count[PA_NR_STATES];       /* frames per state */
    pfn_t err_frame;                    /* frame named by the last refusal */
};

static inline size_t pr_table_bytes(uint64_t nr_frames)
{
    return (size_t)(nr_frames * sizeof(struct pr_frame));
}

void pr_setup(struct page_ref *pa, struct pr_frame *table, uint64_t capacity, unsigned flags);
void pr_move_table(struct page_ref *pa, struct pr_frame *table, uint64_t capacity);
int pr_add_range(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_add_range_unbacked(struct page_ref *pa, pfn_t start, uint64_t count);
pfn_t pr_alloc(struct page_ref *pa, unsigned order, unsigned flags);
int pr_free(struct page_ref *pa, pfn_t frame, unsigned order);
int pr_init_range(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_defer(struct page_ref *pa, pfn_t start, uint64_t count);
uint64_t pr_init_all(struct page_ref *pa);
int pr_mark_inuse(struct page_ref *pa, pfn_t frame, unsigned order);
int pr_reserve(struct page_ref *pa, pfn_t start, uint64_t count, unsigned owner);
int pr_unreserve(struct page_ref *pa, pfn_t start, uint64_t count, unsigned owner);
unsigned pr_owner(const struct page_ref *pa, pfn_t frame);
int pr_offline(struct page_ref *pa, pfn_t frame, enum pa_state *newstate);
int pr_online(struct page_ref *pa, pfn_t frame, enum pa_state *newstate);
int pr_take(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_release(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_release_check(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_populate(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_scratch(struct page_ref *pa, pfn_t start, uint64_t count);
int pr_unscratch(struct page_ref *pa, pfn_t start, uint64_t count, enum pa_state to);
enum pa_state pr_state(const struct page_ref *pa, pfn_t frame);
void pr_states(const struct page_ref *pa, pfn_t start, uint64_t count, uint8_t *out);
uint64_t pr_nr_frames(const struct page_ref *pa, enum pa_state s);
int pr_check(const struct page_ref *pa, struct pa_violation *v);
/* Per-CPU operations: the reference caches nothing (every FREE frame is
 * on the heap), so these are pr_alloc()/pr_free() with the CPU checked. */
pfn_t pr_alloc_on(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags);
int pr_free_on(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order);
uint64_t pr_drain(struct page_ref *pa, unsigned cpu);
int pr_cache_cpu(const struct page_ref *pa, pfn_t frame);
pfn_t pr_cache_get(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags);
int pr_cache_put(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order);
pfn_t pr_cache_fill(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags);
int pr_cache_free_heap(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order);

#endif

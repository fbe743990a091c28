/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast allocator's per-CPU caches: blocks of order below
 * PA_CACHE_ORDERS freed on a CPU stay in that CPU's cache, and its next
 * allocations of that order take them back, without the heap's lists.
 *
 * State. A cached block is FREE (docs/allocator.md, "Per-CPU caches"): its
 * head reads PA_INFO(PA_FREE, order) | PA_F_CACHED with the CPU in the
 * owner bits. Every operation and query treats it as FREE: a free of it is
 * a double free, pa_state() says free, pa_nr_frames(PA_FREE) counts it.
 * What is different is only where it waits: in a CPU's stack, not on a
 * list. The heap never merges with it (a buddy must read exactly
 * PA_INFO(PA_FREE, k)); an operation that changes FREE frames first puts
 * the cached blocks it meets on the lists (cache_settle(), from
 * range_op() and pa_offline()), as deferred extents are settled. The way
 * back to the lists (cache_unhold(), pa_drain(), cache_settle()) is in
 * mm/page_table.c, beside the lists, so that the heap's files need nothing
 * from this one.
 *
 * Concurrency (mm/page_smp.c runs these from several CPUs at once):
 * pa_cache_get() and pa_cache_put() touch only their CPU's struct pa_cpu
 * and the head entry of the block they move, which the caller holds, so
 * they need only that CPU's lock. The one word they share with the heap is
 * that head: the heap reads it as a buddy (info_load()) and only ever
 * merges with a listed FREE head, which a held block never is. A free
 * moves INUSE -> cached with a compare-and-swap, so of two CPUs freeing
 * the same block at once exactly one succeeds and the other gets the
 * checked path's PA_E_DOUBLE_FREE. pa_cache_fill() also works the heap's
 * lists (the heap's lock), and never another CPU's cache.
 */
#include "page_fast.h"
#include <pvhk/string.h>

/*
 * Which of a CPU's cached zones an allocation may take from. A default
 * allocation takes only blocks above 4 GiB while any range lies there
 * (it never takes memory below 4 GiB from the cache while memory above it
 * may serve it); on a heap wholly below 4 GiB, the LOW blocks.
 */
static inline unsigned cache_zone(const struct page_alloc *pa, unsigned flags)
{
    return (flags & PA_ALLOC_LOW) || !pa->has_high ? PA_ZONE_LOW : PA_ZONE_HIGH;
}

/* The block at table index idx, INUSE (owner 0) and ours: cached by cpu. */
static void hold(struct page_alloc *pa, unsigned cpu, uint32_t idx, unsigned z, unsigned k)
{
    struct pa_cpu *cc = &pa->cpu[cpu];

    info_store(&pa->table[idx], CACHED_INFO(k, cpu));
    cc->idx[z][k][cc->nr[z][k]++] = idx;
    cc->cached[z] += 1ULL << k;
}

/* ---- the fast paths: one CPU's cache ---------------------------------------------- */

pfn_t pa_cache_get(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    unsigned z = cache_zone(pa, flags);
    struct pa_cpu *cc;
    uint32_t n, idx;

    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_NO_FRAME;
    cc = &pa->cpu[cpu];
    n = cc->nr[z][order];
    if (unlikely(!n))
        return PA_NO_FRAME;
    cc->nr[z][order] = --n;
    idx = cc->idx[z][order][n];
    info_store(&pa->table[idx], PA_INFO(PA_INUSE, order));
    cc->cached[z] -= 1ULL << order;
    cc->inuse += 1ULL << order;
    return frame_of(pa, idx);
}

int pa_cache_put(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    const struct pa_range *r;
    struct pa_cpu *cc;
    uint32_t want = PA_INFO(PA_INUSE, order), idx;
    unsigned z;

    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_CACHE_MISS;
    cc = &pa->cpu[cpu];
    r = &pa->range[cc->rid];
    if (unlikely(f - r->start >= r->len)) {
        int i = pa_range_of(pa, f);

        if (i < 0)
            return PA_CACHE_MISS;
        cc->rid = (uint32_t)i;
        r = &pa->range[i];
    }
    /*
     * An INUSE head of this order with owner 0 and no offlining frame
     * lies in a touched chunk, aligned, with its block inside the range
     * (pa_check() proves it): the one compare-and-swap below checks the
     * rest, and anything else takes the checked path.
     */
    z = pa_zone_of(f);
    if (unlikely(!touched(pa, r, f) || cc->nr[z][order] == PA_CACHE_SIZE))
        return PA_CACHE_MISS;
    idx = idx_of(r, f);
    if (unlikely(!__atomic_compare_exchange_n(&pa->table[idx].info, &want,
                                              CACHED_INFO(order, cpu), false,
                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED)))
        return PA_CACHE_MISS;
    cc->idx[z][order][cc->nr[z][order]++] = idx;
    cc->cached[z] += 1ULL << order;
    cc->inuse -= 1ULL << order;
    return PA_OK;
}

/* ---- with the heap ------------------------------------------------------------------ */

pfn_t pa_cache_fill(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    unsigned z = cache_zone(pa, flags);
    struct pa_cpu *cc;
    pfn_t f;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER)
        return PA_NO_FRAME;
    cc = &pa->cpu[cpu];
    f = heap_alloc(pa, order, flags);
    if (f != PA_NO_FRAME && f < PA_LOW_LIMIT && !(flags & PA_ALLOC_LOW) &&
        cc->cached[PA_ZONE_HIGH]) {
        /* Memory below 4 GiB while this CPU holds memory above it: what
         * it holds (perhaps as buddies of a block that fits) counts first. */
        pa_free(pa, f, order);
        cache_drain_zone(pa, cpu, PA_ZONE_HIGH);
        f = heap_alloc(pa, order, flags);
    }
    if (f == PA_NO_FRAME && pa_drain(pa, cpu))
        f = heap_alloc(pa, order, flags);   /* what this CPU holds, coalesced */
    if (f == PA_NO_FRAME || order >= PA_CACHE_ORDERS || pa_zone_of(f) != z)
        return f;
    /* A batch joins the cache, from the zone's lists only (no lazy init
     * for it): a block the lists can give in one step each. */
    for (unsigned n = 1; n < PA_CACHE_BATCH && cc->nr[z][order] < PA_CACHE_SIZE &&
                         (pa->zone[z].avail >> order); n++) {
        pfn_t g = heap_alloc(pa, order, flags);

        if (g == PA_NO_FRAME || pa_zone_of(g) != z) {
            if (g != PA_NO_FRAME)
                pa_free(pa, g, order);
            break;
        }
        pa->count[PA_INUSE] -= 1ULL << order;
        hold(pa, cpu, (uint32_t)(g - pa->delta[pa_range_of(pa, g)]), z, order);
    }
    return f;
}

/* ---- the operations ----------------------------------------------------------------- */

pfn_t pa_alloc_on(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    pfn_t f;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER)
        return PA_NO_FRAME;
    f = pa_cache_get(pa, cpu, order, flags);
    if (f != PA_NO_FRAME)
        return f;
    f = pa_cache_fill(pa, cpu, order, flags);
    if (f != PA_NO_FRAME)
        return f;
    /* Nothing on the heap or in this CPU's cache: every cache goes back
     * to the lists before the allocation fails. */
    return pa_drain(pa, PA_ALL_CPUS) ? heap_alloc(pa, order, flags) : PA_NO_FRAME;
}

/* Is (f, k) an INUSE block of owner 0 with no offlining frame? */
static bool held_block(const struct page_alloc *pa, pfn_t f, unsigned k)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;

    if (i < 0)
        return false;
    r = &pa->range[i];
    return touched(pa, r, f) && info_load(ent(pa, r, f)) == PA_INFO(PA_INUSE, k);
}

int pa_free_on(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    struct pa_cpu *cc;
    unsigned z;

    if (cpu >= PA_MAX_CPUS)
        return fail(pa, f, PA_E_INVAL);
    if (pa_cache_put(pa, cpu, f, order) == PA_OK)
        return PA_OK;
    /* A valid block whose stack is full: the oldest batch goes back to the
     * lists and the block takes its place. Anything else is pa_free(). */
    cc = &pa->cpu[cpu];
    z = pa_zone_of(f);
    if (order < PA_CACHE_ORDERS && cc->nr[z][order] == PA_CACHE_SIZE && held_block(pa, f, order)) {
        uint32_t *st = cc->idx[z][order];

        for (unsigned j = 0; j < PA_CACHE_BATCH; j++)
            cache_unhold(pa, cpu, st[j], z, order);
        memmove(st, st + PA_CACHE_BATCH, (PA_CACHE_SIZE - PA_CACHE_BATCH) * sizeof(*st));
        cc->nr[z][order] -= PA_CACHE_BATCH;
        if (pa_cache_put(pa, cpu, f, order) == PA_OK)
            return PA_OK;
    }
    return pa_free(pa, f, order);
}

int pa_cache_cpu(const struct page_alloc *pa, pfn_t f)
{
    int i = pa_range_of(pa, f);
    struct seg s;
    uint32_t x;

    if (i < 0)
        return PA_NO_CPU;
    seg_at(pa, &pa->range[i], f, &s);
    if (!s.block)
        return PA_NO_CPU;
    x = info_load(s.head);
    return (x & PA_F_CACHED) ? (int)INFO_OWNER(x) : PA_NO_CPU;
}

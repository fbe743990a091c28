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
 * Which of a CPU's cached zones an allocation may take from: LOW for
 * PA_ALLOC_LOW, and for a default allocation HIGH while any range lies
 * above 4 GiB (it never takes memory below 4 GiB from the cache while
 * memory above it may serve it), LOW on a heap wholly below (low_only).
 */
static inline unsigned cache_zone(const struct page_alloc *pa, unsigned flags)
{
    return (flags | pa->low_only) & PA_ALLOC_LOW;
}

/* The block at table index idx, just allocated from the lists (INUSE,
 * owner 0): cached by cpu, FREE again. */
static void hold(struct page_alloc *pa, unsigned cpu, uint32_t idx, unsigned z, unsigned k)
{
    struct pa_stack *st = &pa->cpu[cpu].st[z][k];

    info_store(&pa->table[idx], CACHED_INFO(k, cpu));
    st->idx[st->nr++] = idx;
    pa->count[PA_INUSE] -= 1ULL << k;
}

/* ---- the fast paths: one CPU's cache ---------------------------------------------- */

/* Take the top block of CPU cpu's stack st (not empty), INUSE. */
static inline __attribute__((always_inline))
pfn_t cache_pop(struct page_alloc *pa, unsigned cpu, struct pa_stack *st, unsigned order)
{
    uint32_t idx = st->idx[--st->nr];

    info_store(&pa->table[idx], PA_INFO(PA_INUSE, order));
    pa->cpu[cpu].inuse += 1ULL << order;
    return frame_of(pa, idx);
}

/* The stack an allocation on cpu takes from (cpu < PA_MAX_CPUS, order < PA_CACHE_ORDERS). */
static inline struct pa_stack *get_stack(struct page_alloc *pa, unsigned cpu, unsigned order,
                                         unsigned flags)
{
    return &pa->cpu[cpu].st[cache_zone(pa, flags)][order];
}

/*
 * Put the block (f, order), in the range CPU cpu's cache copied, on its
 * stack, if it is an INUSE head of that order with owner 0 and no
 * offlining frame. Such a head lies in a touched chunk, aligned, with its
 * block inside the range (pa_check() proves it): the one compare-and-swap
 * below checks the rest, and anything else takes the checked path.
 */
static inline __attribute__((always_inline))
int cache_put_in(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    struct pa_cpu *cc = &pa->cpu[cpu];
    struct pa_stack *st = &cc->st[pa_zone_of(f)][order];
    uint32_t want = PA_INFO(PA_INUSE, order), idx = (uint32_t)(f - cc->delta), n = st->nr;

    if (unlikely(n == PA_CACHE_SIZE) ||
        unlikely(!cc->all_touched && !touched(pa, &pa->range[cc->rid], f)) ||
        unlikely(!__atomic_compare_exchange_n(&pa->table[idx].info, &want,
                                              CACHED_INFO(order, cpu), false,
                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED)))
        return PA_CACHE_MISS;
    st->idx[n] = idx;
    st->nr = n + 1;
    cc->inuse -= 1ULL << order;
    return PA_OK;
}

/* Is f in the range CPU cpu's cache copied? */
static inline bool in_cached_range(const struct page_alloc *pa, unsigned cpu, pfn_t f)
{
    return f - pa->cpu[cpu].start < pa->cpu[cpu].len;
}

/* The block lies outside the range CPU cpu's cache copied: copy its range. */
static __attribute__((noinline))
int cache_put_other(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    int i = pa_range_of(pa, f);
    struct pa_cpu *cc = &pa->cpu[cpu];
    const struct pa_range *r;

    if (i < 0)
        return PA_CACHE_MISS;
    r = &pa->range[i];
    cc->rid = (uint32_t)i;
    cc->start = r->start;
    cc->len = r->len;
    cc->delta = r->delta;
    cc->all_touched = __atomic_load_n(&r->all_touched, __ATOMIC_RELAXED);
    return cache_put_in(pa, cpu, f, order);
}

/* cpu < PA_MAX_CPUS, order < PA_CACHE_ORDERS. */
static inline __attribute__((always_inline))
int cache_put(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (unlikely(!in_cached_range(pa, cpu, f)))
        return cache_put_other(pa, cpu, f, order);
    return cache_put_in(pa, cpu, f, order);
}

pfn_t pa_cache_get(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    struct pa_stack *st;

    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_NO_FRAME;
    st = get_stack(pa, cpu, order, flags);
    return st->nr ? cache_pop(pa, cpu, st, order) : PA_NO_FRAME;
}

int pa_cache_put(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_CACHE_MISS;
    return cache_put(pa, cpu, f, order);
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
        cpu_frames(cc, PA_ZONE_HIGH)) {
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
    for (unsigned n = 1; n < PA_CACHE_BATCH && cc->st[z][order].nr < PA_CACHE_SIZE &&
                         (pa->zone[z].avail >> order); n++) {
        pfn_t g = heap_alloc(pa, order, flags);

        if (g == PA_NO_FRAME || pa_zone_of(g) != z) {
            if (g != PA_NO_FRAME)
                pa_free(pa, g, order);
            break;
        }
        hold(pa, cpu, (uint32_t)(g - pa->delta[pa_range_of(pa, g)]), z, order);
    }
    return f;
}

/* ---- the operations ----------------------------------------------------------------- */

/* pa_alloc_on() when its CPU's cache had nothing (or no cache serves it). */
static __attribute__((noinline))
pfn_t alloc_on_slow(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    pfn_t f;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER)
        return PA_NO_FRAME;
    f = pa_cache_fill(pa, cpu, order, flags);
    if (f != PA_NO_FRAME)
        return f;
    /* Nothing on the heap or in this CPU's cache: every cache goes back
     * to the lists before the allocation fails. */
    return pa_drain(pa, PA_ALL_CPUS) ? heap_alloc(pa, order, flags) : PA_NO_FRAME;
}

pfn_t pa_alloc_on(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    if (likely(cpu < PA_MAX_CPUS && order < PA_CACHE_ORDERS)) {
        struct pa_stack *st = get_stack(pa, cpu, order, flags);

        if (likely(st->nr))
            return cache_pop(pa, cpu, st, order);
    }
    return alloc_on_slow(pa, cpu, order, flags);
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

int pa_cache_free_heap(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    struct pa_cpu *cc;
    struct pa_stack *st;
    int i;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER)
        return PA_CACHE_MISS;
    if (order >= PA_CACHE_ORDERS) {
        /* Not a cached order: a plain valid block goes on the lists as
         * pa_free() would (no other CPU touches a head of such an order). */
        if (!held_block(pa, f, order))
            return PA_CACHE_MISS;
        i = pa_range_of(pa, f);
        pa->count[PA_INUSE] -= 1ULL << order;
        free_insert(pa, &pa->range[i], f, order);
        return PA_OK;
    }
    if (cache_put_other(pa, cpu, f, order) == PA_OK)
        return PA_OK;           /* another range than the last free's */
    /* A valid block whose stack is full: the oldest batch goes back to the
     * lists and the block takes its place. */
    cc = &pa->cpu[cpu];
    st = &cc->st[pa_zone_of(f)][order];
    if (st->nr < PA_CACHE_SIZE || !held_block(pa, f, order))
        return PA_CACHE_MISS;
    for (unsigned j = 0; j < PA_CACHE_BATCH; j++)
        cache_unhold(pa, st->idx[j], order);
    memmove(st->idx, st->idx + PA_CACHE_BATCH, (PA_CACHE_SIZE - PA_CACHE_BATCH) * sizeof(st->idx[0]));
    st->nr -= PA_CACHE_BATCH;
    return cache_put_in(pa, cpu, f, order);
}

/* pa_free_on() when the block did not go into the cache at once. */
static __attribute__((noinline))
int free_on_slow(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (cpu >= PA_MAX_CPUS)
        return fail(pa, f, PA_E_INVAL);
    if (pa_cache_free_heap(pa, cpu, f, order) == PA_OK)
        return PA_OK;
    return pa_free(pa, f, order);   /* checked: names the error */
}

int pa_free_on(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (likely(cpu < PA_MAX_CPUS && order < PA_CACHE_ORDERS)) {
        /* In the range of this CPU's last free (else the slow path finds it). */
        if (likely(in_cached_range(pa, cpu, f)) && likely(cache_put_in(pa, cpu, f, order) == PA_OK))
            return PA_OK;
    }
    return free_on_slow(pa, cpu, f, order);
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

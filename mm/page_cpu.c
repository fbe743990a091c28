/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast allocator's per-CPU caches: blocks of order below
 * PA_CACHE_ORDERS freed on a CPU stay in that CPU's cache, and its next
 * allocations of that order take them back, without the heap's lists.
 *
 * Size. A stack holds at most cap blocks: its zone's free frames over
 * 2^(PA_CACHE_SHARE + order), between 1 and PA_CACHE_SIZE, set whenever
 * the stack meets the heap (a refill, a give-back), so that eight CPUs
 * together hold a small share of a big heap and at most a block per order
 * each of a small one. A refill takes one block of 2^g times the order
 * from the lists and splits it (the blocks a CPU holds are neighbours in
 * the table, never another CPU's); a free onto a full stack gives the
 * oldest blocks back to the lists, down to cap - batch.
 *
 * Counters. A cached block stays in pa->count[PA_INUSE] (pa_nr_frames()
 * and pa_check() take the stacks' frames out of it): the fast paths then
 * write no counter at all, only the block's head and the CPU's stack.
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
 * from this one; it is where a block leaves count[PA_INUSE].
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

/* A stack's cap for order k in zone z, from the zone's free frames now. */
static uint32_t cache_cap(const struct page_alloc *pa, unsigned z, unsigned k)
{
    uint64_t n = pa->zone[z].nr_free >> (PA_CACHE_SHARE + k);

    return n < 1 ? 1 : n > PA_CACHE_SIZE ? PA_CACHE_SIZE : (uint32_t)n;
}

/* Blocks a refill brings and a full stack gives back: about half the cap,
 * at most 8 (a refill then splits a block of order + 3). */
static unsigned batch_of(uint32_t cap)
{
    return cap >= 16 ? 8 : (cap + 1) / 2;
}

/* ---- the fast paths: one CPU's cache ---------------------------------------------- */

/* Take the top block of CPU cpu's stack st (not empty), INUSE. */
static inline __attribute__((always_inline))
pfn_t cache_pop(struct page_alloc *pa, struct pa_stack *st, unsigned order)
{
    uint32_t idx = st->idx[--st->nr];

    info_store(&pa->table[idx], PA_INFO(PA_INUSE, order));
    return frame_of(pa, idx);
}

/* The stack an allocation on cpu takes from (cpu < PA_MAX_CPUS, order < PA_CACHE_ORDERS). */
static inline struct pa_stack *get_stack(struct page_alloc *pa, unsigned cpu, unsigned order,
                                         unsigned flags)
{
    return &pa->cpu[cpu].st[order][cache_zone(pa, flags)];
}

/*
 * Put the block (f, order), whose table index is idx, on CPU cpu's stack
 * if the stack is below its cap and the block is an INUSE head of that
 * order with owner 0 and no offlining frame. The caller knows f's chunk is
 * touched, the range fully so (len != 0 in the copy) or by a test. Such a
 * head is aligned, its block inside the range (pa_check() proves it): the
 * one compare-and-swap checks the rest, anything else takes the checked
 * path.
 */
static inline __attribute__((always_inline))
int cache_push(struct page_alloc *pa, unsigned cpu, pfn_t f, uint32_t idx, unsigned order)
{
    struct pa_stack *st = &pa->cpu[cpu].st[order][pa_zone_of(f)];
    uint32_t want = PA_INFO(PA_INUSE, order), n = st->nr;

    if (unlikely(n >= st->cap) ||
        unlikely(!__atomic_compare_exchange_n(&pa->table[idx].info, &want,
                                              CACHED_INFO(order, cpu), false,
                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED)))
        return PA_CACHE_MISS;
    st->idx[n] = idx;
    st->nr = n + 1;
    return PA_OK;
}

/* Is f in the fully touched range CPU cpu's cache copied? */
static inline bool in_cached_range(const struct page_alloc *pa, unsigned cpu, pfn_t f)
{
    return f - pa->cpu[cpu].start < pa->cpu[cpu].len;
}

/* The block is not in the range CPU cpu's cache copied: look the range up,
 * copy it (len 0 while it has untouched chunks), and push. */
static __attribute__((noinline))
int cache_put_other(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    int i = pa_range_of(pa, f);
    struct pa_cpu *cc = &pa->cpu[cpu];
    const struct pa_range *r;

    if (i < 0)
        return PA_CACHE_MISS;
    r = &pa->range[i];
    cc->start = r->start;
    cc->delta = r->delta;
    cc->len = __atomic_load_n(&r->all_touched, __ATOMIC_RELAXED) ? r->len : 0;
    if (!cc->len && !touched(pa, r, f))
        return PA_CACHE_MISS;
    return cache_push(pa, cpu, f, (uint32_t)(f - r->delta), order);
}

/* cpu < PA_MAX_CPUS, order < PA_CACHE_ORDERS. */
static inline __attribute__((always_inline))
int cache_put(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (unlikely(!in_cached_range(pa, cpu, f)))
        return cache_put_other(pa, cpu, f, order);
    return cache_push(pa, cpu, f, (uint32_t)(f - pa->cpu[cpu].delta), order);
}

pfn_t pa_cache_get(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    struct pa_stack *st;

    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_NO_FRAME;
    st = get_stack(pa, cpu, order, flags);
    return st->nr ? cache_pop(pa, st, order) : PA_NO_FRAME;
}

int pa_cache_put(struct page_alloc *pa, unsigned cpu, pfn_t f, unsigned order)
{
    if (unlikely(cpu >= PA_MAX_CPUS || order >= PA_CACHE_ORDERS))
        return PA_CACHE_MISS;
    return cache_put(pa, cpu, f, order);
}

/* ---- with the heap ------------------------------------------------------------------ */

/*
 * A refill of CPU cpu's empty stack st (order k, zone z) for an allocation:
 * one block of order k + g from zone z's lists (a block the lists have:
 * no lazy init for it), split into 2^g blocks of order k. The first is
 * returned INUSE, the others are cached, pushed so that the lowest comes
 * off first. All stay in count[PA_INUSE]. PA_NO_FRAME if no such block.
 */
static pfn_t fill_split(struct page_alloc *pa, unsigned cpu, struct pa_stack *st,
                        unsigned k, unsigned z)
{
    unsigned g = 0, batch = batch_of(st->cap);
    struct pa_frame *e;
    pfn_t b;
    int i;

    while (2U << g <= batch)
        g++;
    if (!g || k + g > PA_MAX_ORDER || !(pa->zone[z].avail >> (k + g)))
        return PA_NO_FRAME;
    b = take_block(pa, z, k + g);
    i = pa_range_of(pa, b);
    e = ent(pa, &pa->range[i], b);
    for (uint32_t j = (1U << g) - 1; j; j--) {
        struct pa_frame *h = e + ((size_t)j << k);

        h->rid = (uint32_t)i;
        info_store(h, CACHED_INFO(k, cpu));
        st->idx[st->nr++] = (uint32_t)(h - pa->table);
    }
    info_store(e, PA_INFO(PA_INUSE, k));
    return b;
}

pfn_t pa_cache_fill(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags)
{
    unsigned z = cache_zone(pa, flags);
    struct pa_cpu *cc;
    pfn_t f;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER)
        return PA_NO_FRAME;
    cc = &pa->cpu[cpu];
    if (order < PA_CACHE_ORDERS && !cc->st[order][z].nr) {
        struct pa_stack *st = &cc->st[order][z];

        st->cap = cache_cap(pa, z, order);
        f = fill_split(pa, cpu, st, order, z);
        if (f != PA_NO_FRAME)
            return f;
    }
    /* One block, as pa_alloc() would find it, without the caches but this one. */
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
            return cache_pop(pa, st, order);
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
    struct pa_stack *st;
    unsigned keep;

    if (cpu >= PA_MAX_CPUS || order > PA_MAX_ORDER || !held_block(pa, f, order))
        return PA_CACHE_MISS;
    if (order >= PA_CACHE_ORDERS) {
        /* Not a cached order: the block goes on the lists as pa_free()
         * would (no other CPU touches a head of such an order). */
        pa->count[PA_INUSE] -= 1ULL << order;
        free_insert(pa, &pa->range[pa_range_of(pa, f)], f, order);
        return PA_OK;
    }
    /* A valid block the fast path did not take: its stack is full (or its
     * cap unset), or it lies in another range than the last free's. The
     * cap follows the heap; the oldest blocks go back to the lists, down
     * to cap - batch, and the block takes its place. */
    st = &pa->cpu[cpu].st[order][pa_zone_of(f)];
    st->cap = cache_cap(pa, pa_zone_of(f), order);
    if (st->nr >= st->cap) {
        keep = st->cap - batch_of(st->cap);
        for (uint32_t j = 0; j < st->nr - keep; j++)
            cache_unhold(pa, st->idx[j], order);
        memmove(st->idx, st->idx + (st->nr - keep), keep * sizeof(st->idx[0]));
        st->nr = keep;
    }
    return cache_put(pa, cpu, f, order);
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
        if (likely(in_cached_range(pa, cpu, f)) &&
            likely(cache_push(pa, cpu, f, (uint32_t)(f - pa->cpu[cpu].delta), order) == PA_OK))
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

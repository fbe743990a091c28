/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page allocator from every CPU at once: which lock each operation
 * takes (include/pvhk/page_smp.h, docs/allocator.md "Concurrency").
 *
 * Why this is enough. A CPU's cache (struct pa_cpu) is changed only under
 * its lock. The lists, deferred memory and the heap's counters only under
 * the heap lock. The one word a cache path changes outside those is the
 * head entry of the block it moves, which its caller holds (an allocation
 * just returned it, or the caller frees it): pa_cache_put() moves it from
 * INUSE to cached with a compare-and-swap, so a second free of the same
 * block, on any CPU, fails that compare and goes to the checked path with
 * every lock held, where it is refused; the heap reads such a head only to
 * see that it is not a free buddy (mm/page_cpu.c). Everything that reads or
 * changes more than one CPU's share of the allocator runs with every lock.
 *
 * Pure code: no hypercalls; the locks are pvhk's spinlocks in the kernel
 * and spinlocks on the compiler's atomics on the host.
 */
#include <pvhk/page_smp.h>

void pas_init(struct pa_smp *s, struct page_alloc *pa, unsigned nr_cpus)
{
    s->pa = pa;
    s->nr_cpus = MIN(nr_cpus, (unsigned)PA_MAX_CPUS);
    for (unsigned c = 0; c < PA_MAX_CPUS; c++)
        pa_lock_init(&s->cpu[c].lock, "heap cpu");
    pa_lock_init(&s->heap, "heap");
    s->stamp = 0;
}

void pas_lock_all(struct pa_smp *s)
{
    for (unsigned c = 0; c < s->nr_cpus; c++)
        pa_lock(&s->cpu[c].lock);
    pa_lock(&s->heap);
}

void pas_unlock_all(struct pa_smp *s)
{
    pa_unlock(&s->heap);
    for (unsigned c = s->nr_cpus; c-- > 0;)
        pa_unlock(&s->cpu[c].lock);
}

/* The operation's place in the order, taken while it holds its locks. */
static inline void take_stamp(struct pa_smp *s, uint64_t *stamp)
{
    if (stamp)
        *stamp = __atomic_fetch_add(&s->stamp, 1, __ATOMIC_RELAXED);
}

pfn_t pas_alloc(struct pa_smp *s, unsigned cpu, unsigned order, unsigned flags,
                uint64_t *stamp)
{
    struct page_alloc *pa = s->pa;
    pfn_t f;

    if (cpu < s->nr_cpus) {
        /* This CPU's cache, then the heap's lists with its own cache. */
        pa_lock(&s->cpu[cpu].lock);
        f = pa_cache_get(pa, cpu, order, flags);
        if (f == PA_NO_FRAME) {
            pa_lock(&s->heap);
            f = pa_cache_fill(pa, cpu, order, flags);
            if (f != PA_NO_FRAME)
                take_stamp(s, stamp);
            pa_unlock(&s->heap);
        } else {
            take_stamp(s, stamp);
        }
        pa_unlock(&s->cpu[cpu].lock);
        if (f != PA_NO_FRAME)
            return f;
    }
    /* Nothing there (or a CPU without a cache): every cache is drained
     * before the allocation may fail, so with every lock. */
    pas_lock_all(s);
    f = cpu < s->nr_cpus ? pa_alloc_on(pa, cpu, order, flags) : pa_alloc(pa, order, flags);
    take_stamp(s, stamp);
    pas_unlock_all(s);
    return f;
}

int pas_free(struct pa_smp *s, unsigned cpu, pfn_t f, unsigned order, pfn_t *err_frame,
             uint64_t *stamp)
{
    struct page_alloc *pa = s->pa;
    int rc;

    if (cpu < s->nr_cpus) {
        pa_lock(&s->cpu[cpu].lock);
        rc = pa_cache_put(pa, cpu, f, order);
        if (rc != PA_OK) {
            /* A full stack, another range, an order not cached: with the
             * heap lock too. */
            pa_lock(&s->heap);
            rc = pa_cache_free_heap(pa, cpu, f, order);
            if (rc == PA_OK)
                take_stamp(s, stamp);
            pa_unlock(&s->heap);
        } else {
            take_stamp(s, stamp);
        }
        pa_unlock(&s->cpu[cpu].lock);
        if (rc == PA_OK)
            return PA_OK;
    }
    /* Not a plain in-use block (an error, an offlining or reserved block,
     * the uninitialised-free path): checked, with every lock. */
    pas_lock_all(s);
    rc = cpu < s->nr_cpus ? pa_free_on(pa, cpu, f, order) : pa_free(pa, f, order);
    if (rc && err_frame)
        *err_frame = pa->err_frame;
    take_stamp(s, stamp);
    pas_unlock_all(s);
    return rc;
}

int pas_offline(struct pa_smp *s, pfn_t f, enum pa_state *newstate, pfn_t *err_frame,
                uint64_t *stamp)
{
    int rc;

    pas_lock_all(s);
    rc = pa_offline(s->pa, f, newstate);
    if (rc && err_frame)
        *err_frame = s->pa->err_frame;
    take_stamp(s, stamp);
    pas_unlock_all(s);
    return rc;
}

int pas_online(struct pa_smp *s, pfn_t f, enum pa_state *newstate, pfn_t *err_frame,
               uint64_t *stamp)
{
    int rc;

    pas_lock_all(s);
    rc = pa_online(s->pa, f, newstate);
    if (rc && err_frame)
        *err_frame = s->pa->err_frame;
    take_stamp(s, stamp);
    pas_unlock_all(s);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page allocator from every CPU at once (mm/page_smp.c): the locks
 * around the allocator's operations, docs/allocator.md "Concurrency".
 *
 *   one lock per CPU      its cache (struct pa_cpu): its allocations and
 *                         frees of cached orders take only this one
 *   the heap lock         the lists, deferred memory, the heap's counters
 *
 * Lock order: CPU locks in CPU order, then the heap lock. A CPU's cache
 * path takes its own lock and, to refill, the heap lock; everything else
 * (failing allocations, frees the cache cannot take, offlining, the range
 * operations, queries and the checker) runs with every lock held
 * (pas_lock_all()), as one step between any two others.
 *
 * The locks are pvhk's ticket spinlocks in the kernel (include/pvhk/
 * spinlock.h, with their debug checks); on the host, where threads stand in
 * for CPUs (the hosted concurrency test, the benchmarks), a spinlock on
 * the compiler's atomics that ThreadSanitizer understands.
 */
#ifndef PVHK_PAGE_SMP_H
#define PVHK_PAGE_SMP_H

#include <pvhk/page_alloc.h>

#ifdef PVHK_HOST
typedef struct {
    uint32_t v;
} pa_lock_t;

static inline void pa_lock_init(pa_lock_t *l, const char *name)
{
    (void)name;
    __atomic_store_n(&l->v, 0, __ATOMIC_RELAXED);
}

static inline void pa_lock(pa_lock_t *l)
{
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

static inline void pa_unlock(pa_lock_t *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
#else
#include <pvhk/spinlock.h>
typedef spinlock_t pa_lock_t;

static inline void pa_lock_init(pa_lock_t *l, const char *name)
{
    *l = (spinlock_t)SPINLOCK_INIT(name);
}

static inline void pa_lock(pa_lock_t *l)
{
    spin_lock(l);
}

static inline void pa_unlock(pa_lock_t *l)
{
    spin_unlock(l);
}
#endif

struct pa_smp {
    struct page_alloc *pa;
    struct {
        pa_lock_t lock;
    } __attribute__((aligned(64))) cpu[PA_MAX_CPUS];
    pa_lock_t heap __attribute__((aligned(64)));
    unsigned nr_cpus;               /* CPU locks pas_lock_all() takes */
    uint64_t stamp __attribute__((aligned(64)));    /* see `stamp` below */
};

/* The allocator, set up with no other CPU using it yet; nr_cpus CPUs will
 * (at most PA_MAX_CPUS get a cache; CPUs from there on take the locked path). */
void pas_init(struct pa_smp *s, struct page_alloc *pa, unsigned nr_cpus);

/*
 * pa_alloc_on(), pa_free_on(), pa_offline(), pa_online() from CPU `cpu`,
 * safe while other CPUs run these too. A refusal's err_frame goes to
 * *err_frame (pa->err_frame is shared). `stamp`, if not NULL, receives the
 * operation's place in one order of all operations that took a stamp,
 * drawn while the operation held the locks that make its effect: replaying
 * the operations in stamp order, one at a time, gives the same answers and
 * the same final states (the hosted concurrency test does exactly that).
 * NULL: no stamp, and no shared counter written.
 */
pfn_t pas_alloc(struct pa_smp *s, unsigned cpu, unsigned order, unsigned flags,
                uint64_t *stamp);
int pas_free(struct pa_smp *s, unsigned cpu, pfn_t frame, unsigned order, pfn_t *err_frame,
             uint64_t *stamp);
int pas_offline(struct pa_smp *s, pfn_t frame, enum pa_state *newstate, pfn_t *err_frame,
                uint64_t *stamp);
int pas_online(struct pa_smp *s, pfn_t frame, enum pa_state *newstate, pfn_t *err_frame,
               uint64_t *stamp);

/* Every lock, in the lock order: for any other operation or query. */
void pas_lock_all(struct pa_smp *s);
void pas_unlock_all(struct pa_smp *s);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-tests of the page heap on real memory (the host tests prove the
 * state machine exhaustively; these prove the kernel's wiring of it).
 */
#include <pvhk/mm.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>
#include <pvhk/boot.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/p2m.h>
#include <pvhk/xen.h>
#include <pvhk/time.h>
#include "cpu_team.h"

static bool heap_consistent(struct ktest_ctx *t)
{
    struct pa_violation v;
    int rc = pa_check(&heap, &v);

    if (rc)
        ktest_note(t, "pa_check: %s at frame 0x%llx", v.what, (unsigned long long)v.frame);
    return rc == 0;
}

KTEST(heap, checker_passes_after_boot)
{
    KT_EXPECT(t, heap_consistent(t));
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) > 0);
}

/*
 * After the hand-over, the heap accounts for every frame: nothing is
 * UNINITIALISED but frame 0 (where it is RAM) and the one page kept out
 * for the uninitialised-free test, and free RAM (deferred or not) is FREE.
 */
KTEST(heap, every_frame_accounted_after_boot)
{
    uint64_t want = (pa_state(&heap, 0) == PA_UNINITIALISED) +
                    (heap_early_test_pfn[0] != 0);

    ktest_note(t, "boot put %llu free frames on the lists, deferred %llu; %llu frames "
               "UNINITIALISED after boot", (unsigned long long)heap_boot_eager,
               (unsigned long long)heap_boot_deferred, (unsigned long long)heap_boot_uninit);
    KT_EXPECT(t, heap_boot_uninit == want);
    KT_EXPECT(t, heap_boot_eager <= (16ull << (20 - PAGE_SHIFT)));
    /* The frames themselves, not the counters: every RAM frame of the map
     * has passed through the heap but those two. */
    {
        static uint8_t st[4096];
        uint64_t uninit = 0, seen = 0, bad = 0;
        pfn_t first_bad = 0;

        for (uint32_t i = 0; i < e820.nr; i++) {
            const struct e820_entry *e = &e820.entries[i];
            pfn_t p = PFN_DOWN(e->addr), end = p + e820_pages(e);

            for (; e->type == E820_RAM && p < end; p += MIN(end - p, ARRAY_SIZE(st))) {
                uint64_t c = MIN(end - p, ARRAY_SIZE(st));

                pa_states(&heap, p, c, st);
                for (uint64_t j = 0; j < c; j++) {
                    seen++;
                    if (st[j] != PA_UNINITIALISED)
                        continue;
                    uninit++;
                    if (p + j != 0 && p + j != heap_early_test_pfn[0] && !bad++)
                        first_bad = p + j;
                }
            }
        }
        ktest_note(t, "%llu RAM frames walked, %llu UNINITIALISED, %llu of them unexpected "
                   "(first 0x%llx)", (unsigned long long)seen, (unsigned long long)uninit,
                   (unsigned long long)bad, (unsigned long long)first_bad);
        KT_EXPECT(t, seen > 0);
        KT_EXPECT(t, bad == 0);
        KT_EXPECT(t, uninit <= want);
    }
    /* Deferred frames are FREE: boot's free RAM is all counted as free. */
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) > 0);
    if (heap_boot_deferred) {
        /* A deferred frame reads FREE and refuses a free nobody allocated. */
        KT_EXPECT(t, heap_first_deferred != 0);
        KT_EXPECT(t, pa_state(&heap, heap_first_deferred) == PA_FREE ||
                     pa_state(&heap, heap_first_deferred) == PA_INUSE);
        if (pa_state(&heap, heap_first_deferred) == PA_FREE)
            KT_EXPECT(t, pa_free(&heap, heap_first_deferred, 0) == PA_E_DOUBLE_FREE);
    }
}

/* Every labelled boot reservation reads INUSE, reserved by its label, where
 * the heap has it (the P2M's RELEASED/SCRATCH frames and non-RAM aside). */
KTEST(heap, boot_reservations_handed_over)
{
    static uint8_t st[4096];
    const struct memblock_region *r;
    uint64_t checked = 0, bad = 0;

    KT_EXPECT(t, memblock.closed);
    for (uint32_t i = 0; (r = memblock_reserved_region(&memblock, i)); i++) {
        pfn_t p = PFN_DOWN(r->base), end = PFN_DOWN(r->base + r->size);

        for (; p < end; p += MIN(end - p, ARRAY_SIZE(st))) {
            uint64_t n = MIN(end - p, ARRAY_SIZE(st));

            pa_states(&heap, p, n, st);
            for (uint64_t j = 0; j < n; j++) {
                pfn_t f = p + j;

                /* [1] is given back by its own test, which may run first. */
                if (f == 0 || f == heap_early_test_pfn[0] || f == heap_early_test_pfn[1] ||
                    st[j] == PA_OUTSIDE ||
                    st[j] == PA_RELEASED || st[j] == PA_SCRATCH)
                    continue;
                checked++;
                if ((st[j] != PA_INUSE && st[j] != PA_OFFLINING) ||
                    pa_owner(&heap, f) != i + 1) {
                    if (!bad++)
                        ktest_note(t, "frame 0x%llx of '%s' is %s, owner %u",
                                   (unsigned long long)f, r->label,
                                   pa_state_name((enum pa_state)st[j]), pa_owner(&heap, f));
                }
            }
        }
    }
    ktest_note(t, "%llu reserved frames checked", (unsigned long long)checked);
    KT_EXPECT(t, checked > 0);
    KT_EXPECT(t, bad == 0);
}

/* The kernel image is the boot path's, not the heap's: no free or release
 * of it is accepted, whatever the order. */
KTEST(heap, kernel_image_cannot_be_freed)
{
    pfn_t f = PFN_DOWN((uintptr_t)__image_start);
    unsigned owner = pa_owner(&heap, f);

    KT_EXPECT(t, pa_state(&heap, f) == PA_INUSE);
    KT_ASSERT(t, owner != 0);
    KT_EXPECT(t, strcmp(heap_owner_label(owner), "kernel image") == 0);
    /* Every order f is aligned to (a misaligned one is refused before the
     * state is looked at, docs/allocator.md "free, exactly"). */
    for (unsigned k = 0; k <= 9 && !(f & ((1ull << k) - 1)); k++)
        KT_EXPECT(t, pa_free(&heap, f, k) == PA_E_RESERVED);
    KT_EXPECT(t, pa_release(&heap, f, 1) == PA_E_RESERVED);
    KT_EXPECT(t, pa_unreserve(&heap, f, 1, owner + 1) != PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_INUSE && pa_owner(&heap, f) == owner);
    KT_EXPECT(t, heap_consistent(t));
}

KTEST(heap, free_of_uninitialised_runs_init)
{
    pfn_t f = heap_early_test_pfn[0];

    KT_ASSERT(t, f != 0);
    /* memblock handed this page out before the heap existed, and the boot
     * path kept it out of the hand-over: it never passed through init. */
    KT_EXPECT(t, pa_state(&heap, f) == PA_UNINITIALISED);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    /* A second free of it is a double free, and changes nothing. */
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_E_DOUBLE_FREE);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    KT_EXPECT(t, heap_consistent(t));
}

KTEST(heap, reserved_page_given_back_by_its_owner)
{
    pfn_t f = heap_early_test_pfn[1];
    unsigned owner;

    KT_ASSERT(t, f != 0);
    owner = pa_owner(&heap, f);
    KT_EXPECT(t, pa_state(&heap, f) == PA_INUSE);
    KT_EXPECT(t, strcmp(heap_owner_label(owner), "selftest early page") == 0);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_E_RESERVED);
    KT_EXPECT(t, pa_unreserve(&heap, f, 1, owner == 1 ? 2 : 1) == PA_E_OWNER);
    KT_EXPECT(t, pa_unreserve(&heap, f, 1, owner) == PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_E_DOUBLE_FREE);
}

KTEST(heap, bad_frees_rejected_and_harmless)
{
    void *p = alloc_pages(2, 0);
    pfn_t f;

    KT_ASSERT(t, p != NULL);
    f = PFN_DOWN((uintptr_t)p);
    KT_EXPECT(t, pa_free(&heap, f + 1, 0) == PA_E_INTERIOR);
    KT_EXPECT(t, pa_free(&heap, f, 1) == PA_E_WRONG_ORDER);
    KT_EXPECT(t, pa_free(&heap, f + 1, 2) == PA_E_MISALIGNED);
    KT_EXPECT(t, pa_free(&heap, 0x7fffffffffULL, 0) == PA_E_OUTSIDE);
    KT_EXPECT(t, pa_state(&heap, f) == PA_INUSE);
    KT_EXPECT(t, pa_free(&heap, f, 2) == PA_OK);
    KT_EXPECT(t, pa_free(&heap, f, 2) == PA_E_DOUBLE_FREE);
    KT_EXPECT(t, heap_consistent(t));
}

KTEST(heap, below_4g_allocation)
{
    pfn_t f = pa_alloc(&heap, 0, PA_ALLOC_LOW);

    KT_ASSERT(t, f != PA_NO_FRAME);
    KT_EXPECT(t, f < PA_LOW_LIMIT);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_OK);
}

/*
 * Allocate everything (largest blocks first), tag every frame with its
 * block's first frame number, check every tag, free everything and check
 * that the heap coalesced back to what it was.
 */
KTEST(heap, allocate_all_tag_free_coalesce)
{
    static pfn_t blocks[4096];
    static uint8_t orders[4096];
    unsigned n = 0;
    uint64_t frames = 0, bad = 0;

    pa_init_all(&heap);         /* everything in: this test wants all RAM */
    uint64_t free_before = pa_nr_frames(&heap, PA_FREE);

    for (int order = PA_MAX_ORDER; order >= 0; order--) {
        for (;;) {
            if (n == ARRAY_SIZE(blocks))
                break;
            pfn_t f = pa_alloc(&heap, order, 0);
            if (f == PA_NO_FRAME)
                break;
            blocks[n] = f;
            orders[n++] = order;
            frames += 1ull << order;
        }
    }
    KT_EXPECT(t, n < ARRAY_SIZE(blocks));
    KT_EXPECT(t, frames == free_before);
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) == 0);

    for (unsigned i = 0; i < n; i++)
        for (uint64_t j = 0; j < (1ull << orders[i]); j++)
            *(volatile uint64_t *)(uintptr_t)PFN_PHYS(blocks[i] + j) = blocks[i];
    for (unsigned i = 0; i < n; i++)
        for (uint64_t j = 0; j < (1ull << orders[i]); j++)
            bad += *(volatile uint64_t *)(uintptr_t)PFN_PHYS(blocks[i] + j) != blocks[i];
    KT_EXPECT(t, bad == 0);

    for (unsigned i = 0; i < n; i++)
        KT_EXPECT(t, pa_free(&heap, blocks[i], orders[i]) == PA_OK);
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) == free_before);
    /* pa_check verifies that no two free buddies are left unmerged. */
    KT_EXPECT(t, heap_consistent(t));
    ktest_note(t, "%u blocks, %llu frames allocated, tagged and freed",
               n, (unsigned long long)frames);
}

/*
 * The zone policy on real memory: default allocations take every frame
 * above 4 GiB (listed or deferred) before any below it, and a PA_ALLOC_LOW
 * request still succeeds then. Needs a guest with RAM above 4 GiB.
 */
KTEST(heap, low_allocation_after_high_memory_handed_out)
{
    static pfn_t blocks[8192];
    static uint8_t orders[8192];
    unsigned n = 0;
    uint64_t high = 0;
    pfn_t low = PA_NO_FRAME, lowreq;

    if (heap_high_free_frames() == 0)
        KT_SKIP(t, "no free RAM above 4 GiB on this guest");
    uint64_t want = heap_high_free_frames();
    /* Largest blocks first. A default request answered below 4 GiB means
     * no block of that order is left above it: give it back, go smaller. */
    for (int order = PA_MAX_ORDER; order >= 0; order--) {
        while (n < ARRAY_SIZE(blocks)) {
            pfn_t f = pa_alloc(&heap, (unsigned)order, 0);

            if (f == PA_NO_FRAME)
                break;
            if (f < PA_LOW_LIMIT) {
                low = f;
                KT_EXPECT(t, pa_free(&heap, f, (unsigned)order) == PA_OK);
                break;
            }
            blocks[n] = f;
            orders[n++] = (uint8_t)order;
            high += 1ull << order;
        }
    }
    ktest_note(t, "%llu frames above 4 GiB handed out in %u blocks; last low answer 0x%llx",
               (unsigned long long)high, n, (unsigned long long)low);
    KT_EXPECT(t, n < ARRAY_SIZE(blocks));
    KT_EXPECT(t, high == want);
    lowreq = pa_alloc(&heap, 0, PA_ALLOC_LOW);
    KT_EXPECT(t, lowreq != PA_NO_FRAME && lowreq < PA_LOW_LIMIT);
    if (lowreq != PA_NO_FRAME)
        KT_EXPECT(t, pa_free(&heap, lowreq, 0) == PA_OK);
    for (unsigned i = 0; i < n; i++)
        KT_EXPECT(t, pa_free(&heap, blocks[i], orders[i]) == PA_OK);
    KT_EXPECT(t, heap_consistent(t));
}

/* ---- every CPU at once (docs/allocator.md "Concurrency") ------------------ */

#define HJOB_LIVE   32

struct hjob {
    unsigned iters, allocs, fails, errors;
    uint64_t first_bad;
};

static struct hjob hjobs[NR_CPUS];
static struct cpu_team hteam;
static unsigned hjob_stop;                          /* end the steps early */
static unsigned hjob_orders = 5;                    /* orders 0..hjob_orders-1 */

/*
 * On each CPU at once: random allocations of orders 0..hjob_orders-1 and frees, each
 * page of a block tagged (CPU, sequence, page) when allocated and checked
 * before it is freed. A block handed to two CPUs, or an overlap, shows as
 * a tag another CPU wrote.
 */
static void heap_worker(void *arg)
{
    unsigned me = smp_processor_id();
    struct hjob *j = &hjobs[me];
    struct { uint64_t *va; unsigned k; uint64_t tag; } live[HJOB_LIVE];
    unsigned nlive = 0;
    uint64_t s = 0x9e3779b97f4a7c15ULL * (me + 1);

    (void)arg;
    for (unsigned i = 0; i < j->iters || nlive; i++) {
        if (i < j->iters && __atomic_load_n(&hjob_stop, __ATOMIC_RELAXED))
            j->iters = i;       /* free what is held, then return */
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if (i < j->iters && nlive < HJOB_LIVE && (!nlive || (s & 1))) {
            unsigned k = (unsigned)((s >> 8) % hjob_orders);
            uint64_t *va = alloc_pages(k, 0), tag = (uint64_t)me << 48 | i;

            j->allocs++;
            if (!va) {
                j->fails++;
                continue;
            }
            for (uint64_t p = 0; p < (1ULL << k); p++) {
                va[p * (PAGE_SIZE / 8)] = tag;
                va[p * (PAGE_SIZE / 8) + 1] = p;
            }
            live[nlive].va = va;
            live[nlive].k = k;
            live[nlive++].tag = tag;
        } else if (nlive) {
            unsigned x = (unsigned)((s >> 16) % nlive);
            uint64_t *va = live[x].va;

            for (uint64_t p = 0; p < (1ULL << live[x].k); p++)
                if (va[p * (PAGE_SIZE / 8)] != live[x].tag || va[p * (PAGE_SIZE / 8) + 1] != p) {
                    if (!j->errors++)
                        j->first_bad = PFN_DOWN((uintptr_t)va) + p;
                }
            free_pages(va, live[x].k);
            live[x] = live[--nlive];
        }
    }
}

/* heap_worker() on every online CPU but this one, `iters` steps each
 * (`self` on this one, if it runs heap_worker() too), all started
 * together; returns how many. wait_workers() waits for them. */
static unsigned start_workers(unsigned iters, unsigned self)
{
    unsigned me = smp_processor_id(), n;

    __atomic_store_n(&hjob_stop, 0, __ATOMIC_RELAXED);
    for_each_cpu(c, &cpu_online_mask)
        hjobs[c] = (struct hjob){ .iters = c == me ? self : iters };
    n = team_start(&hteam, heap_worker, NULL);
    for_each_cpu(c, &cpu_online_mask)
        if (c != me && !cpumask_test(&hteam.started, c))
            hjobs[c].iters = 0;
    return n;
}

/* stop: end the workers' steps early (they free what they hold). */
static void wait_workers(bool stop)
{
    if (stop)
        __atomic_store_n(&hjob_stop, 1, __ATOMIC_RELAXED);
    team_wait(&hteam);
}

/* One CPU balloons down and up while the others allocate and free: the
 * account equals Xen's reservation at the end, no tag is wrong. The others
 * take orders 0-11: 10 and 11 are past the caches, so they meet the
 * balloon on the heap's lock, not only in their caches. */
KTEST(heap, balloon_while_other_cpus_allocate)
{
    struct p2m_result r;
    struct pa_violation v;
    uint64_t before;
    unsigned n, errors = 0, rounds = 0;
    uint64_t allocs = 0;
    int rc = 0, crc;

    if (!p2m_ready)
        KT_SKIP(t, "no P2M: not under Xen");
    if (num_online_cpus() < 2)
        KT_SKIP(t, "one CPU");
    spin_lock(&p2m_lock);
    before = p2m.backed;
    spin_unlock(&p2m_lock);
    hjob_orders = 12;
    n = start_workers(20000, 0);    /* until the balloon is done, at most this */
    for (; rounds < 16 && !rc; rounds++) {
        spin_lock(&p2m_lock);
        rc = p2m_set_target(&p2m, before - 2048, &r);       /* 8 MiB down */
        if (!rc)
            rc = p2m_set_target(&p2m, before, &r);          /* and back */
        spin_unlock(&p2m_lock);
        if (rc)
            p2m_print_result("balloon during allocation", rc, &r);
    }
    wait_workers(true);
    hjob_orders = 5;
    for_each_cpu(c, &cpu_online_mask) {
        errors += hjobs[c].errors;
        allocs += hjobs[c].allocs;
    }
    spin_lock(&p2m_lock);
    crc = p2m_check(&p2m, &r);
    KT_EXPECT(t, p2m.backed == before);
    spin_unlock(&p2m_lock);
    ktest_note(t, "%u balloon rounds of 2048 pages while %u CPU(s) made %llu allocations; "
               "account %ld, reservation %ld", rounds, n, (unsigned long long)allocs, r.expected,
               r.reservation);
    KT_EXPECT(t, rc == 0 && crc == 0);
    KT_EXPECT(t, n + 1 == num_online_cpus() && errors == 0);
    pas_lock_all(&heap_smp);
    pa_drain(&heap, PA_ALL_CPUS);
    crc = pa_check(&heap, &v);
    pas_unlock_all(&heap_smp);
    KT_EXPECT(t, crc == 0);
}

KTEST(heap, every_cpu_allocates_and_frees_at_once)
{
    struct pa_violation v;
    unsigned n;
    uint64_t free_before, free_after;
    int rc;

    pas_lock_all(&heap_smp);
    pa_drain(&heap, PA_ALL_CPUS);
    free_before = pa_nr_frames(&heap, PA_FREE);
    pas_unlock_all(&heap_smp);
    /* All at once, this CPU too. */
    n = start_workers(3000, 3000);
    heap_worker(NULL);
    wait_workers(false);
    for_each_cpu(c, &cpu_online_mask) {
        const struct hjob *j = &hjobs[c];

        if (!j->iters)
            continue;
        ktest_note(t, "CPU %u: %u allocations (%u failed), %u bad tags", c, j->allocs, j->fails,
                   j->errors);
        KT_EXPECT(t, j->errors == 0);
        KT_EXPECT(t, j->allocs > 0 && j->fails < j->allocs);
    }
    KT_EXPECT(t, n + 1 == num_online_cpus());
    /* Everything back: with the caches drained, the free frames are those
     * of before and coalesced (pa_check proves coalescing complete). */
    pas_lock_all(&heap_smp);
    pa_drain(&heap, PA_ALL_CPUS);
    free_after = pa_nr_frames(&heap, PA_FREE);
    rc = pa_check(&heap, &v);
    pas_unlock_all(&heap_smp);
    KT_EXPECT(t, free_after == free_before);
    if (rc)
        ktest_note(t, "pa_check: %s at frame 0x%llx", v.what, (unsigned long long)v.frame);
    KT_EXPECT(t, rc == 0);
}

struct dfree {
    pfn_t f, err;
    int rc;
};

static void free_again(void *arg)
{
    struct dfree *d = arg;

    d->rc = pas_free(&heap_smp, smp_processor_id(), d->f, 0, &d->err, NULL);
}

KTEST(heap, double_free_on_another_cpu_refused)
{
    struct dfree d = { .err = PA_NO_FRAME };
    unsigned me = smp_processor_id(), other = NR_CPUS;
    void *va;

    for_each_cpu(c, &cpu_online_mask)
        if (c != me && other == NR_CPUS)
            other = c;
    if (other == NR_CPUS)
        KT_SKIP(t, "one CPU");
    va = alloc_pages(0, 0);
    KT_ASSERT(t, va != NULL);
    d.f = PFN_DOWN((uintptr_t)va);
    free_pages(va, 0);
#ifndef PA_IMPL_REF
    /* The block waits in this CPU's cache (the reference caches nothing). */
    pas_lock_all(&heap_smp);
    KT_EXPECT(t, pa_cache_cpu(&heap, d.f) == (int)me);
    pas_unlock_all(&heap_smp);
#endif
    KT_ASSERT(t, smp_run_on(other, free_again, &d) == 0);
    smp_work_wait(other);
    ktest_note(t, "CPU %u frees frame 0x%llx again: %s", other, (unsigned long long)d.f,
               pa_strerror(d.rc));
    KT_EXPECT(t, d.rc == PA_E_DOUBLE_FREE && d.err == d.f);
    pas_lock_all(&heap_smp);
    KT_EXPECT(t, pa_state(&heap, d.f) == PA_FREE);
    pas_unlock_all(&heap_smp);
}

/* ---- throughput on every CPU at once (make bench; opt-in: heap.bench=1) ---- */

#define BJOB_OPS    100000

struct bjob {
    uint64_t ops, frames, ns;
    unsigned errors;
};

static struct bjob bjobs[NR_CPUS];
static struct cpu_team bteam;
static unsigned bjob_s2;

/*
 * One CPU's share: BJOB_OPS operations through alloc_pages()/free_pages(),
 * timed from the common start. pair: an order-0 allocation and its free;
 * s2: bench/alloc_bench.c's S2 (orders 0..9 uniform, allocate with
 * probability (64 - live) / 64, else free a random live block).
 */
static void bench_worker(void *arg)
{
    struct bjob *j = &bjobs[smp_processor_id()];
    struct { void *va; unsigned k; } live[64];
    unsigned nlive = 0;
    uint64_t s = 0x9e3779b97f4a7c15ULL * (smp_processor_id() + 1), t0;

    (void)arg;
    t0 = now_ns();
    for (uint64_t i = 0; i < BJOB_OPS; i++) {
        if (!bjob_s2) {
            void *va = alloc_pages(0, 0);

            if (!va) {
                j->errors++;
                continue;
            }
            free_pages(va, 0);
            j->ops += 2;
            j->frames += 2;
            continue;
        }
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if ((s & 63) >= nlive) {
            unsigned k = (unsigned)((s >> 8) % 10);
            void *va = alloc_pages(k, 0);

            if (va) {
                live[nlive].va = va;
                live[nlive++].k = k;
                j->frames += 1ULL << k;
            }
        } else {
            unsigned x = (unsigned)((s >> 16) % nlive);

            free_pages(live[x].va, live[x].k);
            j->frames += 1ULL << live[x].k;
            live[x] = live[--nlive];
        }
        j->ops++;
    }
    j->ns = now_ns() - t0;
    while (nlive--)
        free_pages(live[nlive].va, live[nlive].k);
}

/* Frames and operations per second of all online CPUs, summed, for one load. */
static void bench_load(struct ktest_ctx *t, unsigned s2)
{
    unsigned n, errors = 0;
    uint64_t frames = 0, ops = 0, ns = 0;

    bjob_s2 = s2;
    for_each_cpu(c, &cpu_online_mask)
        bjobs[c] = (struct bjob){ 0 };
    n = team_start(&bteam, bench_worker, NULL);
    bench_worker(NULL);
    team_wait(&bteam);
    for_each_cpu(c, &cpu_online_mask) {
        /* Throughput over the slowest CPU's time: all ran together. */
        frames += bjobs[c].frames;
        ops += bjobs[c].ops;
        errors += bjobs[c].errors;
        ns = MAX(ns, bjobs[c].ns);
    }
    KT_EXPECT(t, errors == 0 && n + 1 == num_online_cpus() && ns > 0);
    if (ns)
        ktest_note(t, "bench heap %s on %u CPU(s): %llu kframes/s, %llu kops/s",
                   s2 ? "s2" : "pair", n + 1, (unsigned long long)(frames * 1000000 / ns),
                   (unsigned long long)(ops * 1000000 / ns));
}

KTEST_OPTIN(heap, bench_every_cpu, "heap.bench")
{
    struct pa_violation v;
    int rc;

    bench_load(t, 0);
    bench_load(t, 1);
    pas_lock_all(&heap_smp);
    pa_drain(&heap, PA_ALL_CPUS);
    rc = pa_check(&heap, &v);
    pas_unlock_all(&heap_smp);
    KT_EXPECT(t, rc == 0);
}

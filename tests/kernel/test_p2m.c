/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-tests of the P2M and the scratch pool against the real Xen. The
 * host tests drive the same core against a simulator with injected faults;
 * these check that the hypercall backend and the boot wiring agree with
 * what Xen actually does. Best run as dom0 with memory to balloon into:
 * QEMU_MEM=1G XEN_ARGS=dom0_mem=256M,max:512M.
 */
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>

#define NEED_P2M(t) do { if (!p2m_ready) KT_SKIP(t, "no P2M: not under Xen"); } while (0)

static bool account_matches(struct ktest_ctx *t)
{
    struct p2m_result r;
    int rc = p2m_check(&p2m, &r);

    if (rc)
        ktest_note(t, "account %ld != reservation %ld", r.expected, r.reservation);
    return rc == 0;
}

/* Frames the balloon may grow into: RELEASED ones, less the pool's
 * released RAM (the P2M never populates scratch space carved from RAM). */
static uint64_t growth_room(void)
{
    uint64_t room = pa_nr_frames(&heap, PA_RELEASED), pool_ram = 0;

    for (unsigned i = 0; i < extra_mem.nr_regions; i++)
        if (extra_mem.region[i].origin == EXTRA_MEM_RELEASED_RAM)
            for (uint64_t f = 0; f < extra_mem.region[i].nr_pfns; f++)
                pool_ram += pa_state(&heap, extra_mem.region[i].start_pfn + f) == PA_RELEASED;
    return room - pool_ram;
}

KTEST(p2m, account_equals_reservation)
{
    NEED_P2M(t);
    KT_EXPECT(t, p2m.synced);
    KT_EXPECT(t, account_matches(t));
    ktest_note(t, "backed %llu + offset %lld = reservation %ld",
               (unsigned long long)p2m.backed, (long long)p2m.offset, xen_current_reservation());
}

KTEST(p2m, scratch_frames_are_unusable)
{
    uint64_t pfn, before;

    NEED_P2M(t);
    KT_ASSERT(t, scratch_ready);
    before = scratch_available(&scratch);
    KT_ASSERT(t, scratch_frames_get(16, 16, &pfn) == 0);
    KT_EXPECT(t, (pfn & 15) == 0);
    KT_EXPECT(t, scratch_available(&scratch) == before - 16);
    for (uint64_t f = pfn; f < pfn + 16; f++) {
        const struct extra_mem_region *r = extra_mem_find(&extra_mem, f);
        KT_ASSERT(t, r != NULL);
        KT_EXPECT(t, pa_state(&heap, f) == PA_SCRATCH);
        /* dom0: really E820 UNUSABLE; domU: RAM we released, which counts
         * as UNUSABLE from then on (never backed RAM, never a hole). */
        if (r->origin == EXTRA_MEM_UNUSABLE)
            KT_EXPECT(t, e820_type_at(&e820, PFN_PHYS(f)) == E820_UNUSABLE);
        else
            KT_EXPECT(t, e820_type_at(&e820, PFN_PHYS(f)) == E820_RAM &&
                         r->origin == EXTRA_MEM_RELEASED_RAM);
    }
    KT_EXPECT(t, scratch_frames_put(pfn, 16) == 0);
    KT_EXPECT(t, pa_state(&heap, pfn) == PA_RELEASED);
    KT_EXPECT(t, scratch_available(&scratch) == before);
    ktest_note(t, "pool: %llu frames from %s", (unsigned long long)before, scratch_source);
}

/* Every region the pool serves lies wholly in one UNUSABLE entry of the
 * map (dom0), or in RAM the kernel released for the purpose (domU). */
KTEST(p2m, scratch_regions_only_unusable_or_released_ram)
{
    NEED_P2M(t);
    KT_ASSERT(t, extra_mem.nr_regions > 0);
    for (unsigned i = 0; i < extra_mem.nr_regions; i++) {
        const struct extra_mem_region *r = &extra_mem.region[i];
        uint64_t a = PFN_PHYS(r->start_pfn), z = PFN_PHYS(r->start_pfn + r->nr_pfns) - 1;
        bool inside = false;

        for (uint32_t j = 0; j < e820.nr; j++) {
            const struct e820_entry *e = &e820.entries[j];
            if (e->addr <= a && z <= e820_last(e))
                inside = e->type == (r->origin == EXTRA_MEM_UNUSABLE ? E820_UNUSABLE : E820_RAM);
        }
        KT_EXPECT(t, inside);
        if (r->origin == EXTRA_MEM_RELEASED_RAM)
            for (uint64_t f = r->start_pfn; f < r->start_pfn + r->nr_pfns; f++)
                KT_EXPECT(t, pa_state(&heap, f) == PA_RELEASED || pa_state(&heap, f) == PA_SCRATCH);
    }
}

KTEST(p2m, scratch_refuses_bad_returns)
{
    uint64_t pfn;
    void *ram;

    NEED_P2M(t);
    KT_ASSERT(t, scratch_frames_get(4, 1, &pfn) == 0);
    KT_EXPECT(t, scratch_frames_put(pfn, 4) == 0);
    KT_EXPECT(t, scratch_frames_put(pfn, 4) != 0);         /* double return */
    ram = alloc_pages(0, 0);
    KT_ASSERT(t, ram != NULL);
    /* A frame of backed RAM was never the pool's. */
    KT_EXPECT(t, scratch_frames_put(PFN_DOWN((uintptr_t)ram), 1) != 0);
    KT_EXPECT(t, pa_state(&heap, PFN_DOWN((uintptr_t)ram)) == PA_INUSE);
    free_pages(ram, 0);
}

KTEST(p2m, released_frame_reads_unbacked)
{
    struct p2m_result r;
    volatile uint64_t *p = alloc_pages(0, 0);
    pfn_t f;

    NEED_P2M(t);
    KT_ASSERT(t, p != NULL);
    f = PFN_DOWN((uintptr_t)p);
    p[0] = 0x5ca1ab1e5ca1ab1eull;
    KT_ASSERT(t, p2m_release(&p2m, f, 1, 0, &r) == 0);
    KT_EXPECT(t, pa_state(&heap, f) == PA_RELEASED);
    /* Nothing backs the frame now: reads return all ones. */
    KT_EXPECT(t, p[0] == ~0ull);
    KT_EXPECT(t, account_matches(t));
    KT_ASSERT(t, p2m_populate(&p2m, f, 1, &r) == 0);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    /* Scrubbed before release: the old contents must not come back. */
    KT_EXPECT(t, p[0] != 0x5ca1ab1e5ca1ab1eull);
    KT_EXPECT(t, account_matches(t));
}

/*
 * Grow by 16 MiB into extra memory and shrink back. Xen gives what the host
 * has: when its free memory runs out first (a dom0 that owns all host
 * memory), a short count ("this much, no more", -XEN_ENOMEM) is its right,
 * not a kernel failure. Then exactly what Xen gave must be accounted, in the
 * heap, usable and given back; with nothing given the test is skipped.
 */
KTEST(p2m, balloon_up_into_extra_memory_and_down)
{
    struct p2m_result r;
    uint64_t before = p2m.backed, want = 4096;      /* 16 MiB */
    uint64_t free_before = pa_nr_frames(&heap, PA_FREE);

    NEED_P2M(t);
    long max = xen_maximum_reservation(), cur = xen_current_reservation();
    if ((max > 0 && (uint64_t)(max - cur) < want) || growth_room() < want)
        KT_SKIP(t, "no room to grow 16 MiB (try dom0_mem=256M,max:512M, or maxmem > memory)");
    int rc = p2m_set_target(&p2m, before + want, &r);
    p2m_print_result("grow 16 MiB", rc, &r);
    uint64_t got = r.done;
    /* Either all of it, or a short count from Xen and nothing else wrong. */
    KT_EXPECT(t, rc == 0 || (rc == -XEN_ENOMEM && (r.flags & P2M_R_SHORT)));
    KT_EXPECT(t, !(r.flags & (P2M_R_REFUSED | P2M_R_MISMATCH | P2M_R_CALL_ERROR | P2M_R_NO_ROOM)));
    KT_EXPECT(t, rc == 0 ? got == want : got < want);
    KT_EXPECT(t, p2m.backed == before + got);
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) == free_before + got);
    KT_EXPECT(t, account_matches(t));
    if (rc) {
        /* The frame Xen refused, and every one after it, stays RELEASED. */
        KT_EXPECT(t, r.stop_pfn != P2M_NO_FRAME && pa_state(&heap, r.stop_pfn) == PA_RELEASED);
        ktest_note(t, "Xen gave %llu of %llu frames (its free memory ran out)",
                   (unsigned long long)got, (unsigned long long)want);
    }

    /* The new frames are real memory: tag each one and read it back. */
    uint64_t tagged = 0, bad = 0;
    for (unsigned i = 0; i < extra_mem.nr_regions; i++) {
        const struct extra_mem_region *reg = &extra_mem.region[i];
        for (uint64_t f = reg->start_pfn; f < reg->start_pfn + reg->nr_pfns && tagged < got; f++) {
            if (pa_state(&heap, f) != PA_FREE)
                continue;
            volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)PFN_PHYS(f);
            q[0] = f;
            bad += q[0] != f;
            tagged++;
        }
    }
    if (platform == PLATFORM_XEN_DOM0)
        KT_EXPECT(t, tagged == got);        /* dom0 grows into UNUSABLE space */
    KT_EXPECT(t, bad == 0);

    /* Give back exactly what Xen gave. */
    rc = p2m_set_target(&p2m, before, &r);
    p2m_print_result("shrink back", rc, &r);
    KT_EXPECT(t, rc == 0);
    KT_EXPECT(t, r.done == got);
    KT_EXPECT(t, p2m.backed == before);
    KT_EXPECT(t, pa_nr_frames(&heap, PA_FREE) == free_before);
    KT_EXPECT(t, account_matches(t));
    if (!got)
        KT_SKIP(t, "Xen had no free memory to give (a domain that owns all host memory)");
}

KTEST(p2m, short_count_at_maximum)
{
    struct p2m_result r;
    uint64_t before = p2m.backed;

    NEED_P2M(t);
    long max = xen_maximum_reservation(), cur = xen_current_reservation();
    KT_ASSERT(t, max > 0 && cur > 0);
    if ((uint64_t)(max - cur) > (512ull << (20 - PAGE_SHIFT)))
        KT_SKIP(t, "more than 512 MiB to the maximum: not growing that far in a test");
    if (growth_room() <= (uint64_t)(max - cur))
        KT_SKIP(t, "no unbacked frames beyond the maximum to ask for (nothing to grow into "
                   "but the scratch pool's own RAM)");
    /* Ask for more than Xen will give: "this much, no more". */
    int rc = p2m_set_target(&p2m, before + (max - cur) + 1024, &r);
    p2m_print_result("grow past the maximum", rc, &r);
    KT_EXPECT(t, rc == -XEN_ENOMEM);
    KT_EXPECT(t, r.flags & P2M_R_SHORT);
    KT_EXPECT(t, xen_current_reservation() == max);
    KT_EXPECT(t, account_matches(t));
    rc = p2m_set_target(&p2m, before, &r);
    KT_EXPECT(t, rc == 0);
    KT_EXPECT(t, p2m.backed == before);
    KT_EXPECT(t, account_matches(t));
}

/*
 * make bench: release and re-populate 64 MiB three ways. The scrub before
 * release costs the same in every mode, so each mode is timed with it
 * (what a balloon pays) and without it (the hypercall strategy alone).
 */
static uint64_t bench_cycle(struct ktest_ctx *t, pfn_t f, uint64_t n, unsigned flags,
                            uint64_t *rel_us, uint64_t *pop_us, uint64_t *calls)
{
    struct p2m_result r;
    uint64_t h0 = p2m.st.hypercalls, t0 = now_ns(), t1, t2;

    if (p2m_release(&p2m, f, n, flags, &r) != 0)
        return 0;
    t1 = now_ns();
    int rc = p2m_populate(&p2m, f, n, &r);
    t2 = now_ns();
    if (rc)
        p2m_print_result("bench populate", rc, &r);
    /* Populated frames went to the heap; take the block back. */
    if (rc || pa_take(&heap, f, n) != 0) {
        ktest_note(t, "populate or take failed");
        return 0;
    }
    *rel_us = (t1 - t0) / 1000;
    *pop_us = (t2 - t1) / 1000;
    *calls = p2m.st.hypercalls - h0;
    return 2 * n * 1000000000ull / (t2 - t0 ? t2 - t0 : 1);
}

KTEST(bench, p2m_release_populate_64m)
{
    static const char *const names[] = { "order-9 batched", "order-0 batched", "order-0 single" };
    static const unsigned flags[] = { 0, P2M_NOSCRUB };
    const unsigned order = 14;          /* 64 MiB */
    uint64_t n = 1ull << order;
    struct p2m_result r;

    NEED_P2M(t);
    pfn_t f = pa_alloc(&heap, order, 0);
    KT_ASSERT(t, f != PA_NO_FRAME);
    for (unsigned fl = 0; fl < 2; fl++) {
        uint64_t rate[3];
        for (int m = 0; m < 3; m++) {
            uint64_t rel, pop, calls;
            p2m.mode = (enum p2m_mode)m;
            rate[m] = bench_cycle(t, f, n, flags[fl], &rel, &pop, &calls);
            KT_ASSERT(t, rate[m] != 0);
            printk("    # bench p2m %s%s: release %llu us, populate %llu us, %llu frames/s, "
                   "%llu hypercalls\n", names[m], fl ? " (no scrub)" : " (scrubbed)",
                   (unsigned long long)rel, (unsigned long long)pop,
                   (unsigned long long)rate[m], (unsigned long long)calls);
        }
        printk("    # bench p2m ratio%s vs one-per-hypercall: order-9 batched %llu.%llux, "
               "order-0 batched %llu.%llux\n", fl ? " (no scrub)" : " (scrubbed)",
               (unsigned long long)(rate[0] / rate[2]),
               (unsigned long long)(rate[0] * 10 / rate[2] % 10),
               (unsigned long long)(rate[1] / rate[2]),
               (unsigned long long)(rate[1] * 10 / rate[2] % 10));
    }
    p2m.mode = P2M_MODE_LARGE;
    KT_EXPECT(t, p2m_check(&p2m, &r) == 0);
    KT_EXPECT(t, pa_free(&heap, f, order) == 0);
}

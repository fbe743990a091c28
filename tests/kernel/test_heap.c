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

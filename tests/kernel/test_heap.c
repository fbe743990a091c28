/*
 * Self-tests of the page heap on real memory (the host tests prove the
 * state machine exhaustively; these prove the kernel's wiring of it).
 */
#include <pvhk/heap.h>
#include <pvhk/mm.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>

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

KTEST(heap, lazy_init_left_frames_uninitialised)
{
    uint64_t total = heap_boot_eager + heap_boot_deferred;

    ktest_note(t, "boot initialised %llu free frames, deferred %llu; %llu frames "
               "UNINITIALISED after boot", (unsigned long long)heap_boot_eager,
               (unsigned long long)heap_boot_deferred, (unsigned long long)heap_boot_uninit);
    if (total < (64ull << (20 - PAGE_SHIFT)))
        KT_SKIP(t, "less than 64 MiB of free RAM: boot initialises most of it");
    /* Boot initialised a fixed 16 MiB; on a larger guest the rest waits,
     * UNINITIALISED, until the heap runs short. */
    KT_EXPECT(t, heap_boot_eager <= (16ull << (20 - PAGE_SHIFT)));
    KT_EXPECT(t, heap_boot_deferred == total - heap_boot_eager);
    KT_EXPECT(t, heap_boot_uninit >= heap_boot_deferred);
}

KTEST(heap, free_of_uninitialised_runs_init)
{
    pfn_t f = heap_early_test_pfn[0];

    KT_ASSERT(t, f != 0);
    /* memblock handed this page out before the heap existed. */
    KT_EXPECT(t, pa_state(&heap, f) == PA_UNINITIALISED);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    /* A second free of it is a double free, and changes nothing. */
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_E_DOUBLE_FREE);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
    KT_EXPECT(t, heap_consistent(t));
}

KTEST(heap, mark_inuse_then_free)
{
    pfn_t f = heap_early_test_pfn[1];

    KT_ASSERT(t, f != 0);
    KT_EXPECT(t, pa_state(&heap, f) == PA_UNINITIALISED);
    KT_EXPECT(t, pa_mark_inuse(&heap, f, 0) == PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_INUSE);
    KT_EXPECT(t, pa_free(&heap, f, 0) == PA_OK);
    KT_EXPECT(t, pa_state(&heap, f) == PA_FREE);
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

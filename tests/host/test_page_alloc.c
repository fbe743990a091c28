/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the page allocator: every transition of the table in
 * docs/allocator.md, every refusal with its exact error code, and the
 * invariant checker after each. The random and exhaustive comparisons with
 * the reference model are in test_page_model.c.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include <pvhk/page_alloc.h>

static struct page_alloc A;
static struct pa_frame *T;

/* A fresh allocator over the given ranges, storage full of garbage. */
static void fresh(const pfn_t (*r)[2], unsigned n)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < n; i++)
        total += r[i][1];
    free(T);
    T = malloc(pa_table_bytes(total));
    memset(T, 0x5a, pa_table_bytes(total));
    pa_setup(&A, T, total, 0);
    for (unsigned i = 0; i < n; i++)
        CHECK(pa_add_range(&A, r[i][0], r[i][1]) == PA_OK);
}

static bool ok_check(void)
{
    struct pa_violation v;
    int rc = pa_check(&A, &v);

    if (rc)
        fprintf(stderr, "    checker: %s at %#llx\n", v.what, (unsigned long long)v.frame);
    return rc == 0;
}

static bool all_state(pfn_t a, uint64_t n, enum pa_state s)
{
    for (pfn_t f = a; f < a + n; f++)
        if (pa_state(&A, f) != s)
            return false;
    return true;
}

/* Two ranges: [0, 0x40) with frame 0, and [0x100, 0x180). */
static const pfn_t two[][2] = { { 0, 0x40 }, { 0x100, 0x80 } };

HOST_TEST(page_alloc_ranges)
{
    fresh(two, 2);
    CHECK(pa_add_range(&A, 0x120, 4) == PA_E_OVERLAP && A.err_frame == 0x120);
    /* err_frame is the lowest shared frame, whichever range was registered first. */
    CHECK(pa_add_range(&A, 0x20, 0x100) == PA_E_OVERLAP && A.err_frame == 0x20);
    CHECK(pa_add_range(&A, 0x40, 0x1000) == PA_E_OVERLAP && A.err_frame == 0x100);
    {
        static const pfn_t rev[][2] = { { 0x100, 0x80 }, { 0x10, 0x40 } };

        fresh(rev, 2);      /* registered above first */
        CHECK(pa_add_range(&A, 0x20, 0x100) == PA_E_OVERLAP && A.err_frame == 0x20);
        fresh(two, 2);
    }
    CHECK(pa_add_range(&A, 0x500, 0) == PA_E_INVAL);
    CHECK(pa_add_range(&A, 0x500, 1) == PA_E_NOSPACE);     /* capacity */
    CHECK(pa_state(&A, 0x40) == PA_OUTSIDE);
    CHECK(pa_state(&A, 0xff) == PA_OUTSIDE);
    CHECK(all_state(0, 0x40, PA_UNINITIALISED));
    CHECK(all_state(0x100, 0x80, PA_UNINITIALISED));
    CHECK(pa_nr_frames(&A, PA_UNINITIALISED) == 0xc0);
    CHECK(ok_check());
    /* Adjacent ranges never merge: two 8-frame ranges give no order-4 block. */
    static const pfn_t adj[][2] = { { 0x10, 8 }, { 0x18, 8 } };
    fresh(adj, 2);
    CHECK(pa_init_range(&A, 0x10, 8) == 0 && pa_init_range(&A, 0x18, 8) == 0);
    CHECK(pa_init_range(&A, 0x10, 16) == PA_E_SPANS);
    CHECK(pa_alloc(&A, 4, 0) == PA_NO_FRAME);
    CHECK(pa_alloc(&A, 3, 0) != PA_NO_FRAME);
    CHECK(ok_check());
}

HOST_TEST(page_alloc_init_and_frame0)
{
    fresh(two, 2);
    CHECK(pa_init_range(&A, 0, 0x40) == PA_OK);
    CHECK(pa_state(&A, 0) == PA_UNINITIALISED);             /* frame 0 skipped */
    CHECK(all_state(1, 0x3f, PA_FREE));
    CHECK(pa_nr_frames(&A, PA_FREE) == 0x3f);
    CHECK(pa_init_range(&A, 4, 2) == PA_E_FREE_FRAME);      /* not uninitialised */
    CHECK(pa_init_range(&A, 0x40, 1) == PA_E_OUTSIDE);
    CHECK(pa_init_range(&A, 0x170, 0x20) == PA_E_SPANS);
    CHECK(pa_init_range(&A, 0x100, 0) == PA_E_INVAL);
    CHECK(pa_free(&A, 0, 0) == PA_OK);                      /* init path: frame 0 stays out */
    CHECK(pa_state(&A, 0) == PA_UNINITIALISED);
    CHECK(pa_mark_inuse(&A, 0, 0) == PA_E_FRAME0);
    CHECK(pa_release(&A, 0, 1) == PA_E_FRAME0);
    CHECK(pa_scratch(&A, 0, 2) == PA_E_FRAME0);
    /* Frame 0 never free: blocks 1, 2-3, 4-7, ... never make an order-6 block. */
    CHECK(pa_alloc(&A, 6, 0) == PA_NO_FRAME);
    CHECK(pa_alloc(&A, 5, 0) == 0x20);
    CHECK(ok_check());
}

HOST_TEST(page_alloc_alloc_free_coalesce)
{
    pfn_t f[64];

    fresh(two, 2);
    CHECK(pa_init_range(&A, 0x100, 0x80) == PA_OK);
    CHECK(pa_nr_frames(&A, PA_FREE) == 0x80);
    for (unsigned i = 0; i < 0x80; i++) {
        pfn_t x = pa_alloc(&A, 0, 0);
        CHECK(x >= 0x100 && x < 0x180 && pa_state(&A, x) == PA_INUSE);
        if (i < 64)
            f[i] = x;
    }
    CHECK(pa_alloc(&A, 0, 0) == PA_NO_FRAME);
    CHECK(ok_check());
    for (pfn_t x = 0x100; x < 0x180; x++)
        if (x < f[0] || x > f[63])
            CHECK(pa_free(&A, x, 0) == PA_OK);
    for (unsigned i = 0; i < 64; i++)
        CHECK(pa_free(&A, f[i], 0) == PA_OK);
    CHECK(ok_check());
    /* Complete coalescing: one order-7 block again. */
    CHECK(pa_alloc(&A, 7, 0) == 0x100);
    CHECK(pa_free(&A, 0x100, 7) == PA_OK);
    CHECK(pa_alloc(&A, PA_MAX_ORDER + 1, 0) == PA_NO_FRAME);
    CHECK(ok_check());
}

HOST_TEST(page_alloc_free_rejections)
{
    pfn_t b;

    fresh(two, 2);
    CHECK(pa_init_range(&A, 0x100, 0x80) == PA_OK);
    b = pa_alloc(&A, 2, 0);
    REQUIRE(b != PA_NO_FRAME);
    CHECK(pa_free(&A, 0x40, 0) == PA_E_OUTSIDE);
    CHECK(pa_free(&A, b, PA_MAX_ORDER + 1) == PA_E_ORDER);
    CHECK(pa_free(&A, b + 1, 1) == PA_E_MISALIGNED);
    CHECK(pa_free(&A, 0x178, 4) == PA_E_MISALIGNED);
    CHECK(pa_free(&A, 0x100, 8) == PA_E_SPANS);
    CHECK(pa_free(&A, b + 1, 0) == PA_E_INTERIOR);
    CHECK(pa_free(&A, b + 2, 1) == PA_E_INTERIOR);
    CHECK(pa_free(&A, b, 1) == PA_E_WRONG_ORDER);
    CHECK(pa_free(&A, b, 3) == PA_E_WRONG_ORDER);
    CHECK(A.err_frame == b);
    CHECK(all_state(b, 4, PA_INUSE));
    CHECK(ok_check());
    CHECK(pa_free(&A, b, 2) == PA_OK);
    CHECK(pa_free(&A, b, 2) == PA_E_DOUBLE_FREE);
    CHECK(pa_free(&A, b + 1, 0) == PA_E_DOUBLE_FREE);
    CHECK(all_state(0x100, 0x80, PA_FREE));
    /* A free frame inside a block that is partly in use. */
    b = pa_alloc(&A, 0, 0);
    CHECK(pa_free(&A, b & ~3ULL, 2) == ((b & 3) ? PA_E_FREE_FRAME : PA_E_WRONG_ORDER));
    CHECK(pa_free(&A, b ^ 1, 1) == (((b ^ 1) & 1) ? PA_E_MISALIGNED : PA_E_FREE_FRAME));
    CHECK(ok_check());
}

HOST_TEST(page_alloc_uninit_free_runs_init)
{
    fresh(two, 2);
    CHECK(pa_free(&A, 0x108, 3) == PA_OK);      /* never initialised: init path */
    CHECK(all_state(0x108, 8, PA_FREE));
    CHECK(all_state(0x100, 8, PA_UNINITIALISED));
    CHECK(pa_free(&A, 0x100, 4) == PA_E_MIXED); /* half uninitialised, half free */
    CHECK(all_state(0x100, 8, PA_UNINITIALISED));
    CHECK(pa_mark_inuse(&A, 0x110, 2) == PA_OK);
    CHECK(all_state(0x110, 4, PA_INUSE));
    CHECK(pa_mark_inuse(&A, 0x110, 2) == PA_E_INUSE);
    CHECK(pa_mark_inuse(&A, 0x111, 1) == PA_E_MISALIGNED);
    CHECK(pa_mark_inuse(&A, 0x110, PA_MAX_ORDER + 1) == PA_E_ORDER);
    CHECK(pa_free(&A, 0x111, 0) == PA_E_INTERIOR);
    CHECK(pa_free(&A, 0x110, 2) == PA_OK);
    CHECK(all_state(0x108, 12, PA_FREE));
    CHECK(ok_check());
}

HOST_TEST(page_alloc_offline_online)
{
    enum pa_state ns;
    pfn_t b;

    fresh(two, 2);
    CHECK(pa_offline(&A, 0x104, &ns) == PA_E_UNINIT);
    CHECK(pa_offline(&A, 0x40, &ns) == PA_E_OUTSIDE);
    CHECK(pa_init_range(&A, 0x100, 0x80) == PA_OK);
    CHECK(pa_offline(&A, 0x105, &ns) == PA_OK && ns == PA_OFFLINED);   /* FREE -> OFFLINED */
    CHECK(pa_state(&A, 0x105) == PA_OFFLINED);
    CHECK(pa_offline(&A, 0x105, &ns) == PA_E_OFFLINED);
    CHECK(pa_free(&A, 0x105, 0) == PA_E_OFFLINED);
    CHECK(ok_check());
    CHECK(pa_alloc(&A, 7, 0) == PA_NO_FRAME);                          /* hole at 0x105 */
    b = pa_alloc(&A, 3, 0);
    REQUIRE(b != PA_NO_FRAME);
    CHECK(pa_offline(&A, b + 3, &ns) == PA_OK && ns == PA_OFFLINING);  /* INUSE -> OFFLINING */
    CHECK(pa_offline(&A, b, &ns) == PA_OK && ns == PA_OFFLINING);      /* the head too */
    CHECK(pa_offline(&A, b + 3, &ns) == PA_E_OFFLINING);
    CHECK(pa_state(&A, b + 3) == PA_OFFLINING && pa_state(&A, b + 2) == PA_INUSE);
    /* A refused range op names the state of the frame it stopped at. */
    CHECK(pa_take(&A, b, 8) == PA_E_OFFLINING && A.err_frame == b);
    CHECK(pa_take(&A, b + 2, 1) == PA_E_INUSE && A.err_frame == b + 2);
    CHECK(pa_take(&A, b + 3, 1) == PA_E_OFFLINING && A.err_frame == b + 3);
    CHECK(pa_release(&A, b, 8) == PA_E_OFFLINING);
    CHECK(ok_check());
    CHECK(pa_online(&A, b, &ns) == PA_OK && ns == PA_INUSE);           /* OFFLINING -> INUSE */
    CHECK(pa_online(&A, b + 2, &ns) == PA_E_INUSE);
    CHECK(pa_free(&A, b, 3) == PA_OK);                                 /* OFFLINING -> OFFLINED */
    CHECK(pa_state(&A, b + 3) == PA_OFFLINED);
    CHECK(pa_state(&A, b) == PA_FREE && pa_state(&A, b + 7) == PA_FREE);
    CHECK(ok_check());
    CHECK(pa_online(&A, b + 3, &ns) == PA_OK && ns == PA_FREE);        /* OFFLINED -> FREE */
    CHECK(pa_online(&A, 0x105, &ns) == PA_OK && ns == PA_FREE);
    CHECK(pa_online(&A, 0x105, &ns) == PA_E_FREE_FRAME);
    CHECK(pa_alloc(&A, 7, 0) == 0x100);                                /* all coalesced */
    CHECK(ok_check());
}

HOST_TEST(page_alloc_release_populate_scratch)
{
    pfn_t b;

    fresh(two, 2);
    CHECK(pa_init_range(&A, 0x100, 0x40) == PA_OK);
    /* UNINITIALISED -> RELEASED (boot reconciliation, before the heap). */
    CHECK(pa_release(&A, 0x160, 0x20) == PA_OK);
    CHECK(all_state(0x160, 0x20, PA_RELEASED));
    CHECK(pa_nr_frames(&A, PA_RELEASED) == 0x20);
    /* FREE -> RELEASED, splitting the free block; and INUSE -> RELEASED. */
    CHECK(pa_release(&A, 0x103, 2) == PA_OK);
    CHECK(pa_state(&A, 0x102) == PA_FREE && pa_state(&A, 0x105) == PA_FREE);
    b = pa_alloc(&A, 3, 0);
    REQUIRE(b != PA_NO_FRAME);
    CHECK(pa_release(&A, b, 4) == PA_E_PARTIAL);
    CHECK(pa_release(&A, b + 4, 4) == PA_E_PARTIAL);
    CHECK(pa_release(&A, b, 8) == PA_OK);
    CHECK(pa_free(&A, b, 3) == PA_E_RELEASED);
    CHECK(pa_offline(&A, b, &(enum pa_state){ 0 }) == PA_E_RELEASED);
    CHECK(ok_check());
    /* RELEASED -> FREE through the init path. */
    CHECK(pa_populate(&A, 0x103, 3) == PA_E_FREE_FRAME);
    CHECK(pa_populate(&A, 0x103, 2) == PA_OK);
    CHECK(pa_state(&A, 0x103) == PA_FREE);
    CHECK(pa_populate(&A, 0x170, 0x10) == PA_OK);
    CHECK(ok_check());
    /* UNINITIALISED or RELEASED -> SCRATCH -> RELEASED / UNINITIALISED. */
    CHECK(pa_scratch(&A, 0x140, 0x20) == PA_OK);
    CHECK(pa_scratch(&A, 0x160, 0x8) == PA_OK);
    CHECK(pa_scratch(&A, 0x100, 1) == PA_E_FREE_FRAME);
    CHECK(pa_scratch(&A, 0x170, 1) == PA_E_FREE_FRAME);
    CHECK(pa_scratch(&A, 0x140, 1) == PA_E_SCRATCH);
    CHECK(pa_free(&A, 0x140, 0) == PA_E_SCRATCH);
    CHECK(pa_release(&A, 0x140, 1) == PA_E_SCRATCH);
    CHECK(all_state(0x140, 0x28, PA_SCRATCH));
    CHECK(pa_unscratch(&A, 0x150, 0x18, PA_RELEASED) == PA_OK);
    CHECK(pa_unscratch(&A, 0x140, 0x10, PA_UNINITIALISED) == PA_OK);
    CHECK(pa_unscratch(&A, 0x140, 0x10, PA_FREE) == PA_E_INVAL);
    CHECK(pa_unscratch(&A, 0x140, 0x10, PA_RELEASED) == PA_E_UNINIT);
    CHECK(all_state(0x140, 0x10, PA_UNINITIALISED) && all_state(0x150, 0x18, PA_RELEASED));
    /* FREE -> INUSE for a specific range, freed back by its aligned blocks. */
    CHECK(pa_take(&A, 0x178, 8) == PA_OK);
    CHECK(pa_take(&A, 0x178, 1) == PA_E_INUSE);
    CHECK(pa_free(&A, 0x178, 3) == PA_OK);
    CHECK(ok_check());
}

HOST_TEST(page_alloc_zones)
{
    static const pfn_t z[][2] = { { 0xffff8, 0x10 } };     /* straddles 4 GiB */
    pfn_t x;

    fresh(z, 1);
    CHECK(pa_init_range(&A, 0xffff8, 0x10) == PA_OK);
    CHECK(pa_alloc(&A, 4, 0) == PA_NO_FRAME);   /* never across the zone line */
    x = pa_alloc(&A, 3, PA_ALLOC_LOW);
    CHECK(x == 0xffff8);
    CHECK(pa_alloc(&A, 0, PA_ALLOC_LOW) == PA_NO_FRAME);
    x = pa_alloc(&A, 0, 0);
    CHECK(x >= PA_LOW_LIMIT);                   /* high memory first */
    CHECK(ok_check());
}

HOST_TEST(page_alloc_lazy_init_large)
{
    /* 4 GiB + a piece, garbage storage: lazy init touches chunk by chunk. */
    static const pfn_t big[][2] = { { 0x100000, 0x100000 }, { 0x10000000, 0x300 } };
    uint64_t before, n;
    pfn_t x;

    fresh(big, 2);
    CHECK(pa_defer(&A, 0x100000, 0x100000) == PA_OK);
    CHECK(pa_defer(&A, 0x10000000, 0x300) == PA_OK);
    /* Deferred memory is FREE, to every query and every operation. */
    CHECK(pa_nr_frames(&A, PA_FREE) == 0x100300);
    CHECK(pa_nr_frames(&A, PA_UNINITIALISED) == 0);
    CHECK(pa_state(&A, 0x100000) == PA_FREE);
    CHECK(pa_free(&A, 0x100000, 0) == PA_E_DOUBLE_FREE);
    CHECK(pa_mark_inuse(&A, 0x100000, 0) == PA_E_FREE_FRAME);
    CHECK(pa_init_range(&A, 0x100001, 1) == PA_E_FREE_FRAME);
    CHECK(pa_defer(&A, 0x100001, 1) == PA_E_FREE_FRAME);
    x = pa_alloc(&A, 0, 0);                     /* heap short: grown from the top */
    CHECK(x >= 0x10000000 && x < 0x10000300);
    CHECK(pa_nr_frames(&A, PA_FREE) == 0x100300 - 1);
    CHECK(pa_alloc(&A, 0, PA_ALLOC_LOW) == PA_NO_FRAME);    /* nothing below 4 GiB */
    CHECK(pa_release(&A, 0x1f0000, 0x10000) == PA_OK);      /* cuts a deferred extent */
    CHECK(pa_state(&A, 0x1effff) == PA_FREE && pa_state(&A, 0x1f0000) == PA_RELEASED);
    CHECK(ok_check());
    before = pa_nr_frames(&A, PA_FREE);
    n = pa_init_all(&A);                        /* a cost, not a state */
    CHECK(n > 0 && n <= before);
    CHECK(pa_nr_frames(&A, PA_FREE) == before);
    CHECK(pa_init_all(&A) == 0);
    /* Whole chunks left: 0x100000, 0x140000, 0x180000 (0x1c0000 lost 0x1f0000..). */
    pfn_t got[3];
    for (unsigned i = 0; i < 3; i++)
        got[i] = pa_alloc(&A, PA_MAX_ORDER, 0);
    CHECK(got[0] + got[1] + got[2] == 0x100000 + 0x140000 + 0x180000);
    CHECK(pa_alloc(&A, PA_MAX_ORDER, 0) == PA_NO_FRAME);
    CHECK(pa_alloc(&A, 9, 0) == 0x10000000 || x < 0x10000200);
    CHECK(ok_check());
}

/*
 * A free of deferred memory is refused like a free of any FREE frame:
 * nobody allocated it. (Once accepted as "ok" while deferred memory read
 * as UNINITIALISED: only the second free was called a double free.)
 */
HOST_TEST(page_alloc_deferred_is_free)
{
    static const pfn_t r[][2] = { { 0x100, 0x400 } };

    fresh(r, 1);
    CHECK(pa_init_range(&A, 0x100, 0x100) == PA_OK);
    CHECK(pa_defer(&A, 0x200, 0x300) == PA_OK);
    CHECK(pa_free(&A, 0x300, 0) == PA_E_DOUBLE_FREE && A.err_frame == 0x300);
    CHECK(pa_free(&A, 0x300, 8) == PA_E_DOUBLE_FREE);
    CHECK(pa_free(&A, 0x300, 10) == PA_E_MISALIGNED);
    CHECK(pa_free(&A, 0x1ff, 0) == PA_E_DOUBLE_FREE);     /* listed and deferred alike */
    CHECK(pa_free(&A, 0x200, 9) == PA_E_DOUBLE_FREE);
    CHECK(pa_state(&A, 0x300) == PA_FREE);
    CHECK(pa_take(&A, 0x300, 2) == PA_OK);                /* take settles the extent */
    CHECK(pa_free(&A, 0x300, 0) == PA_E_WRONG_ORDER);
    CHECK(pa_free(&A, 0x300, 1) == PA_OK);
    CHECK(pa_offline(&A, 0x4ff, &(enum pa_state){ 0 }) == PA_OK);
    CHECK(pa_state(&A, 0x4ff) == PA_OFFLINED);
    CHECK(pa_nr_frames(&A, PA_FREE) == 0x3ff);
    CHECK(ok_check());
}

/*
 * The zone policy: default allocations never take memory below 4 GiB while
 * memory above it, listed or deferred, can serve them, and a PA_ALLOC_LOW
 * request succeeds after the heap handed out all of that (a 6 GiB heap with
 * 16 MiB initialised at its bottom, the rest deferred).
 */
HOST_TEST(page_alloc_policy_high_first)
{
    static const pfn_t r[][2] = { { 0x1, 0xfffff }, { 0x100000, 0x80000 } };
    uint8_t *st = malloc(0x80000);
    uint64_t high = 0;
    pfn_t x;

    fresh(r, 2);
    CHECK(pa_init_range(&A, 0x1, 0x1000) == PA_OK);
    CHECK(pa_defer(&A, 0x1001, 0xfffff - 0x1000) == PA_OK);
    CHECK(pa_defer(&A, 0x100000, 0x80000) == PA_OK);
    for (;;) {
        x = pa_alloc(&A, 9, 0);
        if (x == PA_NO_FRAME || x < PA_LOW_LIMIT)
            break;
        high += 1 << 9;
    }
    CHECK(high == 0x80000);                     /* all of it, before any LOW block */
    CHECK(x != PA_NO_FRAME && x < PA_LOW_LIMIT);
    pa_states(&A, 0x100000, 0x80000, st);
    CHECK(memchr(st, PA_FREE, 0x80000) == NULL);
    x = pa_alloc(&A, 0, PA_ALLOC_LOW);
    CHECK(x != PA_NO_FRAME && x < PA_LOW_LIMIT);
    CHECK(ok_check());
    free(st);
}

HOST_TEST(page_alloc_checker_catches_corruption)
{
    struct pa_violation v;
    pfn_t b;

    fresh(two, 2);
    CHECK(pa_init_range(&A, 0x100, 0x80) == PA_OK);
    b = pa_alloc(&A, 0, 0);
    A.count[PA_INUSE]++;
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT);
    A.count[PA_INUSE]--;
    CHECK(b == 0x100 && T[0x43].info == 0);     /* 0x103: inside free block 0x102/1 */
    T[0x43].info = 0x10;                        /* garbage inside a free block */
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT);
    T[0x43].info = 0;
    CHECK(pa_check(&A, &v) == 0);
    pa_free(&A, b, 0);
    CHECK(pa_check(&A, &v) == 0);
    /* The derived range fields the fast paths trust. */
    A.range[0].untouched++;
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT && v.what && strstr(v.what, "untouched"));
    A.range[0].untouched--;
    A.range[0].int_len += PA_CHUNK_FRAMES;
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT && v.what && strstr(v.what, "whole-chunk"));
    A.range[0].int_len -= PA_CHUNK_FRAMES;
    A.delta[0]++;
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT && v.what && strstr(v.what, "delta"));
    A.delta[0]--;
    CHECK(pa_check(&A, &v) == 0);
    /* Two free buddies, both correctly listed and counted, but not merged. */
    CHECK(pa_alloc(&A, 6, 0) == 0x100 && pa_alloc(&A, 6, 0) == 0x140);
    CHECK(pa_free(&A, 0x140, 6) == 0 && pa_check(&A, &v) == 0);
    T[0x40].info = PA_INFO(PA_FREE, 6);
    T[0x40].next = A.zone[PA_ZONE_LOW].head[6];
    T[0x40].prev = PA_NIL;
    T[A.zone[PA_ZONE_LOW].head[6]].prev = 0x40;
    A.zone[PA_ZONE_LOW].head[6] = 0x40;
    A.count[PA_INUSE] -= 64;
    A.zone[PA_ZONE_LOW].nr_free += 64;
    CHECK(pa_check(&A, &v) == PA_E_CORRUPT && v.frame == 0x100);
    CHECK(v.what && strstr(v.what, "coalesced"));
}

/* Non-zero entries of [a, b): heads and marks actually written. */
static unsigned written(pfn_t a, pfn_t b, const struct pa_range *r)
{
    unsigned n = 0;

    for (pfn_t f = a; f < b; f++)
        n += T[r->base + (f - r->start)].info != 0;
    return n;
}

/*
 * A range registered unbacked: RELEASED from the start at O(1) cost (no
 * chunk touched), counted exactly; a chunk gets explicit RELEASED blocks
 * (O(log) heads) only when something is written in it, and the part of it
 * not being changed stays RELEASED.
 */
HOST_TEST(page_alloc_unbacked_range)
{
    /* RAM, then 2.5 chunks of extra memory starting mid-chunk. */
    const pfn_t xs = 0x120000, xn = 0xa0000, c1 = 0x140000, c2 = 0x180000;
    const uint64_t cap = 0x100 + xn;
    uint8_t st[64];
    pfn_t b;

    for (unsigned zeroed = 0; zeroed < 2; zeroed++) {
        free(T);
        T = malloc(pa_table_bytes(cap));
        memset(T, zeroed ? 0 : 0x5a, pa_table_bytes(cap));
        pa_setup(&A, T, cap, zeroed ? PA_TABLE_ZEROED : 0);
        CHECK(pa_add_range(&A, 0x100, 0x100) == PA_OK);
        CHECK(pa_init_range(&A, 0x100, 0x100) == PA_OK);
        CHECK(pa_add_range_unbacked(&A, 0, 0x10) == PA_E_FRAME0 && A.nr_ranges == 1);
        CHECK(pa_add_range_unbacked(&A, 0x1f0, 0x10) == PA_E_OVERLAP);
        CHECK(pa_add_range_unbacked(&A, xs, 0) == PA_E_INVAL);
        CHECK(pa_add_range_unbacked(&A, xs, cap) == PA_E_NOSPACE);
        CHECK(pa_nr_frames(&A, PA_RELEASED) == 0 && A.nr_ranges == 1);
        CHECK(pa_add_range_unbacked(&A, xs, xn) == PA_OK);
        const struct pa_range *r = &A.range[1];
        CHECK(A.touched[0] == 1);                   /* the RAM chunk only: O(1) */
        CHECK(pa_nr_frames(&A, PA_RELEASED) == xn);
        CHECK(pa_nr_frames(&A, PA_UNINITIALISED) == 0);
        CHECK(pa_nr_frames(&A, PA_FREE) == 0x100);
        CHECK(pa_state(&A, xs) == PA_RELEASED && pa_state(&A, xs + xn - 1) == PA_RELEASED);
        CHECK(pa_state(&A, xs + xn) == PA_OUTSIDE && pa_state(&A, xs - 1) == PA_OUTSIDE);
        pa_states(&A, c1 - 32, 64, st);
        CHECK(memchr(st, PA_RELEASED, 64) == st && !memchr(st, PA_UNINITIALISED, 64) &&
              !memchr(st, PA_FREE, 64));
        CHECK(ok_check());

        /* Every operation a released frame refuses; none writes anything. */
        CHECK(pa_free(&A, c1, 0) == PA_E_RELEASED && pa_free(&A, c1, 18) == PA_E_RELEASED);
        CHECK(pa_free(&A, c1 + 1, 0) == PA_E_RELEASED);
        CHECK(pa_init_range(&A, c1, 4) == PA_E_RELEASED);
        CHECK(pa_defer(&A, c1, 4) == PA_E_RELEASED);
        CHECK(pa_take(&A, c1, 4) == PA_E_RELEASED);
        CHECK(pa_release(&A, c1, 4) == PA_E_RELEASED);
        CHECK(pa_release_check(&A, c1, 4) == PA_E_RELEASED);
        CHECK(pa_mark_inuse(&A, c1, 2) == PA_E_RELEASED);
        CHECK(pa_unscratch(&A, c1, 4, PA_RELEASED) == PA_E_RELEASED);
        CHECK(pa_offline(&A, c1, &(enum pa_state){ 0 }) == PA_E_RELEASED);
        CHECK(pa_online(&A, c1, &(enum pa_state){ 0 }) == PA_E_RELEASED);
        CHECK(pa_populate(&A, c2 - 2, 0x40003) == PA_E_SPANS);
        CHECK(A.touched[0] == 1 && pa_nr_frames(&A, PA_RELEASED) == xn);
        CHECK(pa_alloc(&A, 0, 0) == 0x100 && pa_free(&A, 0x100, 0) == PA_OK);
        CHECK(pa_alloc(&A, 9, 0) == PA_NO_FRAME);   /* never handed out */
        CHECK(ok_check());

        /* RELEASED -> FREE across a chunk line: both chunks written down,
         * the rest of them still RELEASED, in a few heads. */
        CHECK(pa_populate(&A, c2 - 2, 4) == PA_OK);
        CHECK(A.touched[0] == (1 | 4 | 8));
        CHECK(pa_state(&A, c2 - 3) == PA_RELEASED && pa_state(&A, c2 - 2) == PA_FREE);
        CHECK(pa_state(&A, c2 + 1) == PA_FREE && pa_state(&A, c2 + 2) == PA_RELEASED);
        CHECK(pa_state(&A, c1) == PA_RELEASED && pa_state(&A, xs) == PA_RELEASED);
        CHECK(pa_nr_frames(&A, PA_RELEASED) == xn - 4);
        CHECK(pa_nr_frames(&A, PA_FREE) == 0x100 + 4);
        CHECK(written(c1, c2 + PA_CHUNK_FRAMES, r) <= 2 * 2 * PA_MAX_ORDER);
        CHECK(ok_check());
        b = pa_alloc(&A, 1, 0);                     /* high memory first */
        CHECK(b == c2 - 2 || b == c2);
        CHECK(pa_free(&A, b, 1) == PA_OK);
        CHECK(pa_release(&A, c2 - 2, 4) == PA_OK);
        CHECK(pa_nr_frames(&A, PA_RELEASED) == xn);
        CHECK(ok_check());

        /* RELEASED -> SCRATCH in the untouched first chunk, and on to
         * UNINITIALISED, deferred, initialised. */
        CHECK(pa_scratch(&A, xs + 0x10, 0x10) == PA_OK);
        CHECK(A.touched[0] == (1 | 2 | 4 | 8));
        CHECK(pa_state(&A, xs + 0xf) == PA_RELEASED && pa_state(&A, xs + 0x10) == PA_SCRATCH);
        CHECK(pa_state(&A, xs + 0x20) == PA_RELEASED);
        CHECK(written(xs, c1, r) <= 2 * PA_MAX_ORDER);
        CHECK(pa_nr_frames(&A, PA_SCRATCH) == 0x10);
        CHECK(pa_unscratch(&A, xs + 0x10, 0x10, PA_UNINITIALISED) == PA_OK);
        CHECK(pa_nr_frames(&A, PA_UNINITIALISED) == 0x10);
        CHECK(pa_defer(&A, xs + 0x8, 0x10) == PA_E_RELEASED);
        CHECK(pa_defer(&A, xs + 0x10, 0x10) == PA_OK);
        CHECK(ok_check());
        CHECK(pa_init_all(&A) == 0x10);
        CHECK(pa_state(&A, xs + 0x10) == PA_FREE);
        CHECK(pa_nr_frames(&A, PA_RELEASED) == xn - 0x10);
        CHECK(ok_check());
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How big the fast allocator's per-CPU caches grow (mm/page_cpu.c): a
 * stack's cap follows its zone's free frames, a refill splits one block of
 * its order plus g, and a free onto a full stack gives the oldest blocks
 * back to the lists. Semantics (what is FREE, what a double free does) are
 * the model tests' and the SMP tests'; these pin the sizes the docs state.
 */
#include <stdlib.h>
#include "harness.h"
#include <pvhk/page_alloc.h>

static struct page_alloc P;

/* A fresh heap of n free frames at 0x10000 (below 4 GiB: zone LOW). */
static struct pa_frame *heap_of(uint64_t n)
{
    struct pa_frame *t = calloc(n, sizeof(*t));

    pa_setup(&P, t, n, PA_TABLE_ZEROED);
    if (pa_add_range(&P, 0x10000, n) || pa_init_range(&P, 0x10000, n)) {
        free(t);
        return NULL;
    }
    return t;
}

static int check_ok(void)
{
    struct pa_violation v;

    return pa_check(&P, &v) == PA_OK;
}

HOST_TEST(page_cache_refill_splits_one_block)
{
    /* 2^16 free frames: order 0's cap is 2^16 >> 7 = 512, at most 30, so
     * a refill brings 8 blocks, one order-3 block split. */
    struct pa_frame *t = heap_of(1U << 16);
    pfn_t f, g;

    REQUIRE(t);
    f = pa_alloc_on(&P, 0, 0, 0);
    REQUIRE(f != PA_NO_FRAME);
    CHECK(IS_ALIGNED(f, 8));
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].cap == PA_CACHE_SIZE);
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].nr == 7);
    for (pfn_t j = 1; j < 8; j++)
        CHECK(pa_cache_cpu(&P, f + j) == 0 && pa_state(&P, f + j) == PA_FREE);
    CHECK(pa_cache_cpu(&P, f + 8) == PA_NO_CPU);
    /* The lowest comes off first; the free counts see the cached as FREE. */
    g = pa_alloc_on(&P, 0, 0, 0);
    CHECK(g == f + 1);
    CHECK(pa_nr_frames(&P, PA_INUSE) == 2 && pa_nr_frames(&P, PA_FREE) == (1U << 16) - 2);
    CHECK(check_ok());
    /* Another CPU's refill takes another block: no frame shared. */
    g = pa_alloc_on(&P, 1, 0, 0);
    CHECK(g != PA_NO_FRAME && (g & ~7ULL) != f);
    CHECK(check_ok());
    free(t);
}

HOST_TEST(page_cache_small_heap_caps_and_no_split)
{
    /* 256 free frames: order 0's cap is 256 >> 7 = 2, every higher
     * order's 1; batches of 1, so a refill splits nothing and a CPU holds
     * at most two frames of order 0 and one block of each other order. */
    struct pa_frame *t = heap_of(256);
    pfn_t a, b;

    REQUIRE(t);
    a = pa_alloc_on(&P, 0, 0, 0);
    b = pa_alloc_on(&P, 0, 0, 0);
    REQUIRE(a != PA_NO_FRAME && b != PA_NO_FRAME);
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].nr == 0);         /* cap 2, batch 1: no split */
    CHECK(pa_free_on(&P, 0, a, 0) == PA_OK && pa_free_on(&P, 0, b, 0) == PA_OK);
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].nr <= 2);
    a = pa_alloc_on(&P, 0, 2, 0);
    CHECK(a != PA_NO_FRAME && pa_free_on(&P, 0, a, 2) == PA_OK);
    CHECK(P.cpu[0].st[2][PA_ZONE_LOW].cap == 1 && P.cpu[0].st[2][PA_ZONE_LOW].nr == 1);
    CHECK(check_ok());
    /* A full stack still takes the block freed: with 253 free frames the
     * cap is 1 (batch 1), so both held blocks go back and the third stays. */
    REQUIRE(pa_drain(&P, 0));
    {
        pfn_t c[3];

        for (unsigned i = 0; i < 3; i++)
            REQUIRE((c[i] = pa_alloc_on(&P, 0, 0, 0)) != PA_NO_FRAME);
        for (unsigned i = 0; i < 3; i++)
            CHECK(pa_free_on(&P, 0, c[i], 0) == PA_OK);
        CHECK(P.cpu[0].st[0][PA_ZONE_LOW].cap == 1 && P.cpu[0].st[0][PA_ZONE_LOW].nr == 1);
        CHECK(pa_cache_cpu(&P, c[0]) == PA_NO_CPU && pa_cache_cpu(&P, c[1]) == PA_NO_CPU);
        CHECK(pa_cache_cpu(&P, c[2]) == 0);
        CHECK(check_ok());
    }
    /* The whole heap in one block still comes: the caches drain first. */
    a = pa_alloc_on(&P, 1, 8, 0);
    CHECK(a == 0x10000);
    CHECK(pa_nr_frames(&P, PA_FREE) == 0 && check_ok());
    CHECK(pa_free_on(&P, 1, a, 8) == PA_OK && check_ok());
    free(t);
}

HOST_TEST(page_cache_full_stack_gives_back_and_cap_follows_heap)
{
    /* 2^12 free frames: order 0's cap is 32, at most 30; batch 8. */
    enum { N = 64 };
    struct pa_frame *t = heap_of(1U << 12);
    struct pa_stack *st = &P.cpu[0].st[0][PA_ZONE_LOW];
    pfn_t f[N];

    REQUIRE(t);
    for (unsigned i = 0; i < N; i++)
        REQUIRE((f[i] = pa_alloc_on(&P, 0, 0, 0)) != PA_NO_FRAME);
    CHECK(st->cap == PA_CACHE_SIZE);
    for (unsigned i = 0; i < PA_CACHE_SIZE; i++)
        CHECK(pa_free_on(&P, 0, f[i], 0) == PA_OK);
    CHECK(st->nr == PA_CACHE_SIZE);
    /* The 31st free gives 8 back (down to cap - batch = 22), then stays. */
    CHECK(pa_free_on(&P, 0, f[PA_CACHE_SIZE], 0) == PA_OK);
    CHECK(st->nr == PA_CACHE_SIZE - 8 + 1);
    CHECK(pa_cache_cpu(&P, f[0]) == PA_NO_CPU && pa_state(&P, f[0]) == PA_FREE);
    CHECK(pa_cache_cpu(&P, f[PA_CACHE_SIZE]) == 0);
    CHECK(check_ok());
    for (unsigned i = PA_CACHE_SIZE + 1; i < N; i++)
        CHECK(pa_free_on(&P, 0, f[i], 0) == PA_OK);
    CHECK(st->nr <= PA_CACHE_SIZE && check_ok());
    /* The heap shrinks to 2^11 free frames (one block taken from the
     * lists): the next give-back finds a cap of 2^11 >> 7 = 16. */
    pa_drain(&P, 0);
    REQUIRE(pa_alloc(&P, 11, 0) != PA_NO_FRAME);
    for (unsigned i = 0; i < 17; i++)
        REQUIRE((f[i] = pa_alloc_on(&P, 0, 0, 0)) != PA_NO_FRAME);
    for (unsigned i = 0; i < 17; i++)
        CHECK(pa_free_on(&P, 0, f[i], 0) == PA_OK);
    CHECK(st->cap <= 16 && st->nr <= st->cap);
    CHECK(check_ok());
    free(t);
}

HOST_TEST(page_cache_mid_heap_splits_in_two)
{
    /* 384 free frames: order 0's cap is 3, its batch 2: a refill splits an
     * order-1 block, one frame handed out, its buddy cached. */
    struct pa_frame *t = heap_of(384);
    pfn_t f;

    REQUIRE(t);
    f = pa_alloc_on(&P, 0, 0, 0);
    REQUIRE(f != PA_NO_FRAME);
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].cap == 3 && P.cpu[0].st[0][PA_ZONE_LOW].nr == 1);
    CHECK(pa_cache_cpu(&P, f ^ 1) == 0);
    CHECK(check_ok());
    free(t);
}

HOST_TEST(page_cache_refill_without_a_block_to_split)
{
    /* Every other frame free: 2048 single frames, no order-1 block. The
     * cap (16) asks for a split of an order-3 block; there is none, so the
     * refill takes one frame and caches nothing. */
    struct pa_frame *t = heap_of(1U << 12);
    pfn_t f;

    REQUIRE(t);
    for (unsigned i = 0; i < (1U << 12); i++)
        REQUIRE(pa_alloc(&P, 0, 0) != PA_NO_FRAME);
    for (pfn_t p = 0x10000; p < 0x10000 + (1U << 12); p += 2)
        REQUIRE(pa_free(&P, p, 0) == PA_OK);
    f = pa_alloc_on(&P, 0, 0, 0);
    CHECK(f != PA_NO_FRAME && (f & 1) == 0);
    CHECK(P.cpu[0].st[0][PA_ZONE_LOW].cap == 16 && P.cpu[0].st[0][PA_ZONE_LOW].nr == 0);
    CHECK(check_ok());
    free(t);
}

HOST_TEST(page_cache_free_in_a_partly_touched_range)
{
    /* A range of two chunks, the table not zeroed, only the first chunk
     * initialised: the range is not wholly touched, so the CPU's copy of
     * it has length 0, and a free there is cached after a chunk test. */
    const uint64_t n = 2 * PA_CHUNK_FRAMES;
    struct pa_frame *t = malloc(pa_table_bytes(n));
    pfn_t f;

    REQUIRE(t);
    /* Untouched storage holds anything: here, what an in-use order-0 head
     * reads, so only the chunk test keeps it out of a cache. */
    for (uint64_t i = 0; i < n; i++)
        t[i] = (struct pa_frame){ .info = PA_INFO(PA_INUSE, 0) };
    pa_setup(&P, t, n, 0);
    REQUIRE(pa_add_range(&P, PA_CHUNK_FRAMES, n) == PA_OK);
    REQUIRE(pa_init_range(&P, PA_CHUNK_FRAMES, 4096) == PA_OK);
    REQUIRE(!P.range[0].all_touched);
    f = pa_alloc_on(&P, 0, 0, 0);
    REQUIRE(f != PA_NO_FRAME && f < 2 * PA_CHUNK_FRAMES);
    CHECK(pa_free_on(&P, 0, f, 0) == PA_OK);
    CHECK(pa_cache_cpu(&P, f) == 0 && P.cpu[0].len == 0);
    CHECK(check_ok());
    /* A frame of the untouched chunk is UNINITIALISED: the cache will not
     * take it, its free runs the init path and it goes on the lists. */
    CHECK(pa_cache_put(&P, 0, 2 * PA_CHUNK_FRAMES + 8, 0) == PA_CACHE_MISS);
    CHECK(pa_free_on(&P, 0, 2 * PA_CHUNK_FRAMES + 8, 0) == PA_OK);
    CHECK(pa_state(&P, 2 * PA_CHUNK_FRAMES + 8) == PA_FREE);
    CHECK(pa_cache_cpu(&P, 2 * PA_CHUNK_FRAMES + 8) == PA_NO_CPU);
    CHECK(check_ok());
    free(t);
}

HOST_TEST(page_cache_entry_points_refuse_what_they_do_not_hold)
{
    /* The raw cache calls on an order past the caches, an unknown CPU or a
     * frame outside every range: nothing taken, nothing changed. */
    struct pa_frame *t = heap_of(1U << 12);
    pfn_t f, big;

    REQUIRE(t);
    f = pa_alloc_on(&P, 0, 0, 0);
    REQUIRE(f != PA_NO_FRAME && pa_free_on(&P, 0, f, 0) == PA_OK);
    big = pa_alloc(&P, PA_CACHE_ORDERS, 0);
    REQUIRE(big != PA_NO_FRAME);
    CHECK(pa_cache_get(&P, 0, PA_CACHE_ORDERS, 0) == PA_NO_FRAME);
    CHECK(pa_cache_get(&P, PA_MAX_CPUS, 0, 0) == PA_NO_FRAME);
    CHECK(pa_cache_fill(&P, PA_MAX_CPUS, 0, 0) == PA_NO_FRAME);
    CHECK(pa_cache_put(&P, 0, big, PA_CACHE_ORDERS) == PA_CACHE_MISS);
    CHECK(pa_cache_put(&P, PA_MAX_CPUS, big, PA_CACHE_ORDERS) == PA_CACHE_MISS);
    CHECK(pa_state(&P, big) == PA_INUSE && pa_cache_cpu(&P, big) == PA_NO_CPU);
    CHECK(pa_cache_put(&P, 0, 0x100000, 0) == PA_CACHE_MISS);
    CHECK(pa_free_on(&P, 0, 0x100000, 0) == PA_E_OUTSIDE);
    CHECK(P.cpu[0].start == 0x10000 && P.cpu[0].len == (1U << 12));
    CHECK(pa_free(&P, big, PA_CACHE_ORDERS) == PA_OK && check_ok());
    free(t);
}

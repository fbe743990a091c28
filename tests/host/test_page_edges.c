/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Edges of the fast page allocator that the transition tests
 * (test_page_alloc.c) and the model comparisons (test_page_model.c) do not
 * pin down: every invariant pa_check() states, each broken on its own in an
 * otherwise valid allocator that holds every state, must be reported with
 * its own message; the same allocator, unbroken, passes.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include <pvhk/page_alloc.h>
#include <pvhk/page_ref.h>

static struct page_alloc A, A0;
static struct pa_frame *T, *T0;
static uint64_t cap;

/* Ranges: frame 0's, a backed one, one with deferred extents, an unbacked
 * one, an unbacked one never touched, one above 4 GiB (the high zone). */
static const pfn_t rng[][2] = {
    { 0, 0x400 }, { 0x1000, 0x300 }, { 0x2000, 0x100 }, { 0x3000, 0x40 },
    { 0x4000, 0x10 }, { 0x100000, 0x100 },
};

static struct pa_frame *E(pfn_t f)
{
    for (unsigned i = 0; i < A.nr_ranges; i++)
        if (f >= A.range[i].start && f < A.range[i].end)
            return &T[A.range[i].base + (f - A.range[i].start)];
    abort();
}

static pfn_t inuse_block;       /* order 3, holding an offlining frame */

/* Build the state once, keep a copy; restore() brings it back. */
static void build(void)
{
    enum pa_state ns;
    struct pa_violation v;

    cap = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(rng); i++)
        cap += rng[i][1];
    free(T);
    free(T0);
    T = malloc(pa_table_bytes(cap));
    T0 = malloc(pa_table_bytes(cap));
    memset(T, 0x5a, pa_table_bytes(cap));
    pa_setup(&A, T, cap, 0);
    for (unsigned i = 0; i < ARRAY_SIZE(rng); i++)
        if (i == 3 || i == 4)
            REQUIRE(pa_add_range_unbacked(&A, rng[i][0], rng[i][1]) == PA_OK);
        else
            REQUIRE(pa_add_range(&A, rng[i][0], rng[i][1]) == PA_OK);
    REQUIRE(pa_init_range(&A, 0, 0x400) == PA_OK);
    REQUIRE(pa_init_range(&A, 0x1000, 0x300) == PA_OK);
    REQUIRE(pa_init_range(&A, 0x100000, 0x100) == PA_OK);
    REQUIRE(pa_reserve(&A, 0x2080, 0x40, 7) == PA_OK);
    REQUIRE(pa_defer(&A, 0x2000, 0x10) == PA_OK);
    REQUIRE(pa_defer(&A, 0x2020, 0x20) == PA_OK);
    REQUIRE(pa_defer(&A, 0x20c0, 0x40) == PA_OK);   /* to the range's end */
    REQUIRE(pa_populate(&A, 0x3000, 0x10) == PA_OK);
    REQUIRE(pa_scratch(&A, 0x3020, 0x10) == PA_OK);
    inuse_block = pa_alloc(&A, 3, PA_ALLOC_LOW);
    REQUIRE(inuse_block != PA_NO_FRAME && inuse_block < 0x1300);
    REQUIRE(pa_alloc(&A, 0, 0) >= 0x100000);
    REQUIRE(pa_offline(&A, inuse_block + 2, &ns) == PA_OK && ns == PA_OFFLINING);
    REQUIRE(pa_release(&A, 0x1200, 0x40) == PA_OK);
    REQUIRE(pa_state(&A, 0x12ff) == PA_FREE);
    REQUIRE(pa_offline(&A, 0x12ff, &ns) == PA_OK && ns == PA_OFFLINED);
    REQUIRE(pa_check(&A, &v) == 0);
    REQUIRE(A.nr_defer == 3 && A.cur.len);
    A0 = A;
    memcpy(T0, T, pa_table_bytes(cap));
}

static void restore(void)
{
    A = A0;
    A.table = T;
    memcpy(T, T0, pa_table_bytes(cap));
}

/* The first FREE head of exactly `order` in [a, b), or PA_NO_FRAME. */
static pfn_t free_head(pfn_t a, pfn_t b, unsigned order)
{
    for (pfn_t f = a; f < b; f++)
        if (E(f)->info == PA_INFO(PA_FREE, order))
            return f;
    return PA_NO_FRAME;
}

/* pa_check() reports `what` (a substring) at `frame` (PA_NO_FRAME: any). */
static bool corrupt(const char *what, pfn_t frame)
{
    struct pa_violation v;
    int rc = pa_check(&A, &v);

    if (rc != PA_E_CORRUPT || v.err != PA_E_CORRUPT || !v.what || !strstr(v.what, what) ||
        (frame != PA_NO_FRAME && v.frame != frame)) {
        fprintf(stderr, "    want \"%s\" at %#llx, got %d \"%s\" at %#llx\n", what,
                (unsigned long long)frame, rc, v.what ? v.what : "(none)",
                (unsigned long long)v.frame);
        return false;
    }
    return true;
}

static bool clean(void)
{
    struct pa_violation v;
    int rc = pa_check(&A, &v);

    if (rc)
        fprintf(stderr, "    checker: %s at %#llx\n", v.what, (unsigned long long)v.frame);
    return rc == 0 && v.err == 0 && v.what == NULL && v.frame == PA_NO_FRAME;
}

HOST_TEST(page_edges_check_blocks)
{
    pfn_t h, h9;
    struct pa_frame *e;

    build();
    CHECK(clean());
    h = free_head(0, 0x400, 4);
    h9 = free_head(0, 0x400, 9);
    REQUIRE(h != PA_NO_FRAME && h9 == 0x200);

    restore(); E(h)->info = PA_HEAD;                        /* state UNINITIALISED */
    CHECK(corrupt("invalid state", h));
    restore(); E(h)->info = PA_HEAD | 7;                    /* state 7 */
    CHECK(corrupt("invalid state", h));
    restore(); E(h)->info = PA_INFO(PA_SCRATCH, 4);         /* a valid head, miscounted */
    CHECK(corrupt("free list longer than its free blocks", PA_NO_FRAME));
    restore(); E(h)->info = PA_INFO(PA_FREE, PA_MAX_ORDER + 1);
    CHECK(corrupt("order above the maximum", h));
    restore(); E(0x2011)->info = PA_INFO(PA_SCRATCH, 1);
    CHECK(corrupt("not aligned", 0x2011));
    restore(); E(0x1200)->info = PA_INFO(PA_FREE, 9);
    CHECK(corrupt("runs past the end", 0x1200));
    restore(); E(0)->info = PA_INFO(PA_FREE, 0);
    CHECK(corrupt("frame 0", 0));
    restore(); E(h)->rid = 3;
    CHECK(corrupt("wrong range index", h));
    restore(); E(h)->info |= PA_F_OFFL;
    CHECK(corrupt("offlining flag on a block that is not in use", h));
    restore(); E(inuse_block)->info = PA_INFO(PA_OFFLINING, 3);
    CHECK(corrupt("offlining head without the block flag", inuse_block));
    restore(); E(h)->info |= 5U << PA_OWNER_SHIFT;
    CHECK(corrupt("owner on a block that is not in use", h));
    restore(); E(h)->info |= 0x20;
    CHECK(corrupt("unknown bits", h));
    restore(); E(h)->info |= 0x80;
    CHECK(corrupt("unknown bits", h));
    restore(); E(h)->info |= 1U << (PA_ORDER_SHIFT + 5);   /* above the order field */
    CHECK(corrupt("unknown bits", h));
    restore(); E(0x12fe)->info = PA_INFO(PA_OFFLINED, 1);
    CHECK(corrupt("offlined block larger than one frame", 0x12fe));
    restore(); E(h + 3)->info = PA_OFFLINING;
    CHECK(corrupt("non-zero entry inside a block", h + 3));
    /* An in-use block with the flag: its marks are allowed, nothing else. */
    restore(); E(inuse_block + 5)->info = PA_OFFLINING;
    CHECK(corrupt("state counter differs", PA_NO_FRAME));
    restore(); E(inuse_block + 5)->info = PA_FREE;
    CHECK(corrupt("non-zero entry inside a block", inuse_block + 5));
    restore(); E(inuse_block + 2)->info = 0;
    CHECK(corrupt("offlining flag but no offlining frame", inuse_block));
    /* A mark inside an in-use block without the flag. */
    restore(); e = E(inuse_block); e->info &= ~PA_F_OFFL;
    CHECK(corrupt("non-zero entry inside a block", inuse_block + 2));
    /* A mark where no block is: frame 0, an uninitialised frame. */
    restore(); E(0)->info = PA_OFFLINING;
    CHECK(corrupt("offlining mark outside an in-use block", 0));
    restore(); E(0x2050)->info = PA_OFFLINING;
    CHECK(corrupt("offlining mark outside an in-use block", 0x2050));
}

static uint32_t ix(pfn_t f)
{
    return (uint32_t)(E(f) - T);
}

HOST_TEST(page_edges_check_lists)
{
    struct pa_zone *lo = &A.zone[PA_ZONE_LOW], *hi = &A.zone[PA_ZONE_HIGH];
    uint32_t first, second;

    build();
    first = lo->head[9];
    second = T[first].next;
    REQUIRE(first != PA_NIL && second != PA_NIL && T[second].next == PA_NIL);
    REQUIRE(lo->head[10] == PA_NIL && hi->head[7] == ix(0x100080) && lo->head[7] == ix(0x80));

    restore(); lo->avail |= 1U << 10;                      /* an empty list marked */
    CHECK(corrupt("avail bitmap disagrees", PA_NO_FRAME));
    restore(); lo->avail &= ~(1U << 9);                    /* a full list unmarked */
    CHECK(corrupt("avail bitmap disagrees", PA_NO_FRAME));
    restore(); hi->avail |= 1U << 10;
    CHECK(corrupt("avail bitmap disagrees", PA_NO_FRAME));
    /* An index one past the table's use; a cycle. */
    restore(); lo->head[10] = (uint32_t)A.used; lo->avail |= 1U << 10;
    CHECK(corrupt("stray entry or cycle", PA_NO_FRAME));
    restore(); T[second].next = first;
    CHECK(corrupt("stray entry or cycle", PA_NO_FRAME));
    /* The list's first block swapped for an in-use one. */
    restore(); lo->head[9] = ix(8); T[second].prev = ix(8);
    CHECK(corrupt("holds a non-free block", PA_NO_FRAME));
    /* Entries of an untouched chunk are never walked: a free-looking entry
     * there with a range index past the last range, then one naming a
     * range that does not hold it (above it, below it). */
    restore(); E(0x4000)->info = PA_INFO(PA_FREE, 9); E(0x4000)->rid = A.nr_ranges;
    E(0x4000)->next = second; E(0x4000)->prev = PA_NIL;
    lo->head[9] = ix(0x4000); T[second].prev = ix(0x4000);
    CHECK(corrupt("holds a non-free block", PA_NO_FRAME));
    E(0x4000)->rid = 0;
    CHECK(corrupt("outside its range", PA_NO_FRAME));
    E(0x4000)->rid = 5;
    CHECK(corrupt("outside its range", PA_NO_FRAME));
    /* Its own range, but a chunk never touched: the list is as long as
     * the count of free blocks, with the real first block left out. */
    E(0x4000)->rid = 4;
    CHECK(corrupt("untouched chunk", 0x4000));
    /* A low block on the high list and the other way round. */
    restore(); lo->head[7] = ix(0x100080); hi->head[7] = ix(0x80);
    CHECK(corrupt("wrong zone's list", 0x80));
    /* Back links: the second's, the head's. */
    restore(); T[second].prev = PA_NIL;
    CHECK(corrupt("back link broken", A.range[T[second].rid].start + second -
                  A.range[T[second].rid].base));
    restore(); T[first].prev = second;
    CHECK(corrupt("back link broken", PA_NO_FRAME));
    restore(); T[first].next = PA_NIL;
    CHECK(corrupt("free block missing from its free list", PA_NO_FRAME));
    /* Counters, every one. */
    for (unsigned z = 0; z < PA_NR_ZONES; z++) {
        restore(); A.zone[z].nr_free++;
        CHECK(corrupt("free-frame counter differs", PA_NO_FRAME));
    }
    for (unsigned st = PA_INUSE; st < PA_NR_STATES; st++) {
        restore(); A.count[st]++;
        CHECK(corrupt("state counter differs", PA_NO_FRAME));
    }
    restore();
    CHECK(clean());
}

HOST_TEST(page_edges_check_deferred)
{
    build();
    restore(); A.defer[0].end = A.defer[0].start;
    CHECK(corrupt("malformed deferred extent", 0x2000));
    restore(); A.defer[0].rid = A.nr_ranges;
    CHECK(corrupt("malformed deferred extent", 0x2000));
    restore(); A.defer[0].start = 0x1fff;
    CHECK(corrupt("outside its range", 0x1fff));
    restore(); A.defer[2].end = 0x2101;
    CHECK(corrupt("outside its range", 0x20c0));
    restore(); A.defer[0] = (struct pa_defer){ 0, 0x10, 0 };
    CHECK(corrupt("holds frame 0", 0));
    restore(); A.defer[0].end = 0x2021;
    CHECK(corrupt("unsorted or overlapping", 0x2020));
    restore(); A.defer[0].end = 0x2020;                    /* adjacent, same range */
    CHECK(corrupt("not joined", 0x2020));
    /* A valid scratch block inside an extent, counted: still not deferrable. */
    restore(); E(0x2004)->info = PA_INFO(PA_SCRATCH, 2); E(0x2004)->rid = 2;
    A.count[PA_SCRATCH] += 4;
    CHECK(corrupt("deferred frame is initialised", 0x2004));
    restore(); A.defer[0] = (struct pa_defer){ 0x4000, 0x4010, 4 };
    CHECK(corrupt("deferred frame is released", 0x4000));
    restore(); A.nr_deferred++;
    CHECK(corrupt("deferred-frame counter differs", PA_NO_FRAME));
    restore(); A.nr_deferred--;
    CHECK(corrupt("deferred-frame counter differs", PA_NO_FRAME));
}

HOST_TEST(page_edges_check_ranges)
{
    build();
    restore(); A.range[1].base++;
    CHECK(corrupt("index not contiguous", 0x1000));
    restore(); A.range[1].len++;
    CHECK(corrupt("length or index offset", 0x1000));
    restore(); A.range[1].delta++;
    CHECK(corrupt("length or index offset", 0x1000));
    restore(); A.range[3].unbacked = 2;
    CHECK(corrupt("unbacked flag invalid", 0x3000));
    restore(); A.range[0].unbacked = 1;
    CHECK(corrupt("unbacked flag invalid", 0));
    restore(); A.range[1].int_start++;
    CHECK(corrupt("whole-chunk span", 0x1000));
    restore(); A.range[0].all_touched = 0;
    CHECK(corrupt("untouched-chunk count", 0));
    restore(); A.range[4].untouched = 0;
    CHECK(corrupt("untouched-chunk count", 0x4000));
    restore(); A.used++;
    CHECK(corrupt("table use differs", PA_NO_FRAME));
    restore(); A.delta[5]--;
    CHECK(corrupt("copy of a range delta", 0x100000));
    /* pa_free()'s cached range: every field it trusts. */
#define CUR(stmt) do { restore(); stmt; \
        CHECK(corrupt("cached range differs", PA_NO_FRAME)); } while (0)
    CUR(A.cur.start++);
    CUR(A.cur.end++);
    CUR(A.cur.len++);
    CUR(A.cur.delta++);
    CUR(A.cur.base++);
    CUR(A.cur.chunk_adj++);
    CUR(A.cur.all_touched ^= 1);
    CUR(A.cur.unbacked ^= 1);
    CUR(A.cur.int_start++);
    CUR(A.cur.int_len++);
    /* A last range one past the table, even where that slot matches. */
    CUR((A.last_range = A.nr_ranges, A.range[A.nr_ranges] = A.cur));
#undef CUR
    restore(); A.cur.len = 0;                               /* no cached range yet */
    A.cur.start++;
    CHECK(clean());
}

/*
 * A range of exactly one maximal chunk (2^PA_MAX_ORDER frames): a block of
 * the top order is valid, the whole-chunk span is that chunk, and the
 * order field may hold PA_MAX_ORDER but nothing above.
 */
HOST_TEST(page_edges_top_order)
{
    const pfn_t n = PA_CHUNK_FRAMES, s = PA_CHUNK_FRAMES;
    struct pa_frame *t = malloc(pa_table_bytes(n));
    static struct page_alloc P;
    struct pa_violation v;

    pa_setup(&P, t, n, 0);
    REQUIRE(pa_add_range(&P, s, n) == PA_OK);
    CHECK(P.range[0].int_start == s && P.range[0].int_len == n);
    REQUIRE(pa_init_range(&P, s, n) == PA_OK);
    CHECK(pa_check(&P, &v) == 0);
    CHECK(t[0].info == PA_INFO(PA_FREE, PA_MAX_ORDER));
    CHECK(pa_alloc(&P, PA_MAX_ORDER, 0) == s && pa_check(&P, &v) == 0);
    CHECK(pa_free(&P, s, PA_MAX_ORDER) == PA_OK && pa_check(&P, &v) == 0);
    P.range[0].int_len--;
    CHECK(pa_check(&P, &v) == PA_E_CORRUPT && strstr(v.what, "whole-chunk"));
    P.range[0].int_len++;
    t[0].info = PA_INFO(PA_FREE, PA_MAX_ORDER + 1);
    CHECK(pa_check(&P, &v) == PA_E_CORRUPT && strstr(v.what, "order above"));
    free(t);
}

/*
 * Deferred memory that ends exactly at 4 GiB lies wholly below it: a
 * default request does not grow it while the low lists can serve.
 */
HOST_TEST(page_edges_deferred_ending_at_4g)
{
    static struct page_alloc P;
    const pfn_t s = PA_LOW_LIMIT - 0x100;
    pfn_t x;
    struct pa_frame *t = malloc(pa_table_bytes(0x100));
    struct pa_violation v;

    pa_setup(&P, t, 0x100, 0);
    REQUIRE(pa_add_range(&P, s, 0x100) == PA_OK);
    REQUIRE(pa_init_range(&P, s, 0x10) == PA_OK);
    REQUIRE(pa_defer(&P, s + 0x10, 0xf0) == PA_OK);
    CHECK(P.nr_defer == 1 && P.defer[0].end == PA_LOW_LIMIT);
    x = pa_alloc(&P, 0, 0);
    CHECK(x >= s && x < s + 0x10);
    CHECK(P.nr_deferred == 0xf0 && P.nr_defer == 1);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

/* An order above the maximum is refused before anything moves: deferred
 * memory stays deferred, whatever the order's size. */
HOST_TEST(page_edges_alloc_order_above_max)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x100));
    struct pa_violation v;

    pa_setup(&P, t, 0x100, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x100) == PA_OK);
    REQUIRE(pa_init_range(&P, 0x100, 0x10) == PA_OK);
    REQUIRE(pa_defer(&P, 0x110, 0xf0) == PA_OK);
    for (unsigned o = PA_MAX_ORDER + 1; o < 64; o += 7)
        for (unsigned low = 0; low < 2; low++)
            CHECK(pa_alloc(&P, o, low ? PA_ALLOC_LOW : 0) == PA_NO_FRAME);
    CHECK(P.nr_deferred == 0xf0 && P.nr_defer == 1);
    CHECK(pa_nr_frames(&P, PA_FREE) == 0x100 && pa_check(&P, &v) == 0);
    free(t);
}

/*
 * Storage that was never written holds whatever it held; here every entry
 * reads as an in-use head of order 0. pa_free() of a frame in a chunk not
 * yet touched must not believe it, even when the range is the one it
 * cached: the frame is UNINITIALISED, and freeing it runs the init path.
 */
HOST_TEST(page_edges_free_in_untouched_chunk)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x100));
    struct pa_violation v;

    for (unsigned i = 0; i < 0x100; i++)
        t[i] = (struct pa_frame){ 0x5a5a5a5a, 0x5a5a5a5a, PA_INFO(PA_INUSE, 0), 0 };
    pa_setup(&P, t, 0x100, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x100) == PA_OK);
    /* A refused free still makes the range pa_free()'s cached one. */
    CHECK(pa_free(&P, 0x100, PA_MAX_ORDER + 1) == PA_E_ORDER);
    CHECK(P.cur.len == 0x100 && P.cur.start == 0x100 && !P.range[0].all_touched);
    CHECK(pa_state(&P, 0x104) == PA_UNINITIALISED);
    CHECK(pa_free(&P, 0x104, 0) == PA_OK);
    CHECK(pa_state(&P, 0x104) == PA_FREE && pa_state(&P, 0x105) == PA_UNINITIALISED);
    CHECK(pa_nr_frames(&P, PA_FREE) == 1 && pa_nr_frames(&P, PA_INUSE) == 0);
    CHECK(pa_check(&P, &v) == 0);
    CHECK(pa_alloc(&P, 0, 0) == 0x104 && pa_free(&P, 0x104, 0) == PA_OK);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

/*
 * The first frame after a range's whole chunks is an edge: its buddy may
 * lie past the range's end, here past the end of the table itself (the
 * storage is exactly the range's size).
 */
HOST_TEST(page_edges_free_after_whole_chunks)
{
    static struct page_alloc P;
    const pfn_t s = PA_CHUNK_FRAMES, n = PA_CHUNK_FRAMES + 1;
    struct pa_frame *t = malloc(pa_table_bytes(n));
    struct pa_violation v;

    pa_setup(&P, t, n, 0);
    REQUIRE(pa_add_range(&P, s, n) == PA_OK);
    REQUIRE(P.range[0].int_start + P.range[0].int_len == s + PA_CHUNK_FRAMES);
    REQUIRE(pa_init_range(&P, s, n) == PA_OK);
    REQUIRE(pa_take(&P, s + PA_CHUNK_FRAMES, 1) == PA_OK);
    REQUIRE(pa_free(&P, s, 0) == PA_E_DOUBLE_FREE);         /* caches the range */
    CHECK(pa_free(&P, s + PA_CHUNK_FRAMES, 0) == PA_OK);
    CHECK(pa_state(&P, s + PA_CHUNK_FRAMES) == PA_FREE);
    CHECK(pa_nr_frames(&P, PA_FREE) == n && pa_check(&P, &v) == 0);
    free(t);
}

/*
 * 64 ranges of two frames, each across a chunk boundary: 128 chunks, so
 * the touched-chunk bitmap spans two 64-bit words, and a chunk's bit sits
 * at every position of both. Touching one chunk marks exactly its bit.
 */
HOST_TEST(page_edges_touched_bitmap_words)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(128));
    struct pa_violation v;
    pfn_t got[128];

    memset(t, 0x5a, pa_table_bytes(128));
    pa_setup(&P, t, 128, 0);
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        REQUIRE(pa_add_range(&P, (i + 1) * PA_CHUNK_FRAMES - 1, 2) == PA_OK);
    CHECK(P.nr_chunks == 128);
    /* The upper chunk of every range first, then the lower ones: after
     * each, the chunks not yet initialised still read UNINITIALISED. */
    for (unsigned half = 0; half < 2; half++) {
        for (unsigned i = 0; i < PA_MAX_RANGES; i++) {
            pfn_t f = (i + 1) * PA_CHUNK_FRAMES - half;

            CHECK(pa_state(&P, f) == PA_UNINITIALISED);
            CHECK(pa_init_range(&P, f, 1) == PA_OK);
            CHECK(pa_state(&P, f) == PA_FREE);
            if (i + 1 < PA_MAX_RANGES)
                CHECK(pa_state(&P, f + PA_CHUNK_FRAMES) == PA_UNINITIALISED);
        }
        CHECK(pa_check(&P, &v) == 0);
    }
    CHECK(pa_nr_frames(&P, PA_FREE) == 128);
    for (unsigned i = 0; i < 128; i++)
        CHECK((got[i] = pa_alloc(&P, 0, 0)) != PA_NO_FRAME);
    CHECK(pa_alloc(&P, 0, 0) == PA_NO_FRAME && pa_check(&P, &v) == 0);
    for (unsigned i = 0; i < 128; i++)
        CHECK(pa_free(&P, got[(i * 37) % 128], 0) == PA_OK);
    CHECK(pa_nr_frames(&P, PA_FREE) == 128 && pa_check(&P, &v) == 0);
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        CHECK(pa_state(&P, (i + 1) * PA_CHUNK_FRAMES - 1) == PA_FREE &&
              pa_state(&P, (i + 1) * PA_CHUNK_FRAMES) == PA_FREE);
    /* Range operations on chunks touched long ago: nothing is touched twice. */
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        CHECK(pa_release(&P, (i + 1) * PA_CHUNK_FRAMES - 1, 2) == PA_OK);
    CHECK(pa_nr_frames(&P, PA_RELEASED) == 128 && pa_check(&P, &v) == 0);
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        CHECK(pa_populate(&P, (i + 1) * PA_CHUNK_FRAMES - 1, 2) == PA_OK);
    CHECK(pa_nr_frames(&P, PA_FREE) == 128 && pa_check(&P, &v) == 0);
    free(t);
}

/*
 * The range slots past nr_ranges are not initialised (pa_setup() zeroes
 * nothing from there): filled here with a range that covers every frame,
 * they must never be read. Frames outside the one real range stay outside.
 */
HOST_TEST(page_edges_stale_range_slots)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x200));
    struct pa_violation v;
    enum pa_state ns;

    pa_setup(&P, t, 0x200, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x100) == PA_OK);
    REQUIRE(pa_init_range(&P, 0x100, 0x100) == PA_OK);
    for (unsigned i = 1; i < PA_MAX_RANGES; i++)
        P.range[i] = (struct pa_range){ .start = 0, .end = PA_NO_FRAME, .len = PA_NO_FRAME,
                                        .int_len = PA_NO_FRAME, .all_touched = 1 };
    CHECK(pa_state(&P, 0x10) == PA_OUTSIDE && pa_state(&P, 0x200) == PA_OUTSIDE);
    CHECK(pa_free(&P, 0x10, 0) == PA_E_OUTSIDE);
    CHECK(pa_offline(&P, 0x10, &ns) == PA_E_OUTSIDE);
    CHECK(pa_online(&P, 0x10, &ns) == PA_E_OUTSIDE);
    CHECK(pa_take(&P, 0x10, 1) == PA_E_OUTSIDE);
    CHECK(pa_owner(&P, 0x10) == 0);
    CHECK(pa_add_range(&P, 0x400, 0x100) == PA_OK && P.nr_ranges == 2);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

HOST_TEST(page_edges_stale_range_slots_ref)
{
    static struct page_ref P;
    struct pr_frame *t = malloc(pr_table_bytes(0x200));
    struct pa_violation v;
    enum pa_state ns;

    pr_setup(&P, t, 0x200, 0);
    REQUIRE(pr_add_range(&P, 0x100, 0x100) == PA_OK);
    REQUIRE(pr_init_range(&P, 0x100, 0x100) == PA_OK);
    for (unsigned i = 1; i < PA_MAX_RANGES; i++)
        P.range[i] = (struct pr_range){ .start = 0, .end = PA_NO_FRAME, .nr_free = 1 };
    CHECK(pr_state(&P, 0x10) == PA_OUTSIDE && pr_state(&P, 0x200) == PA_OUTSIDE);
    CHECK(pr_free(&P, 0x10, 0) == PA_E_OUTSIDE);
    CHECK(pr_offline(&P, 0x10, &ns) == PA_E_OUTSIDE);
    CHECK(pr_take(&P, 0x10, 1) == PA_E_OUTSIDE);
    CHECK(pr_owner(&P, 0x10) == 0);
    CHECK(pr_alloc(&P, 8, 0) == 0x100 && pr_alloc(&P, 0, 0) == PA_NO_FRAME);
    CHECK(pr_add_range(&P, 0x400, 0x100) == PA_OK && P.nr_ranges == 2);
    CHECK(pr_check(&P, &v) == 0);
    free(t);
}

/*
 * Merging stops at a range's ends even in a chunk the range only partly
 * covers: a block whose next buddy would lie past the range's end (or
 * before its start) is not merged with it, and nothing there is read (the
 * table is exactly the range's size, so a read past it is caught).
 */
HOST_TEST(page_edges_merge_stops_at_range_ends)
{
    const pfn_t c = PA_CHUNK_FRAMES;
    struct pa_violation v;

    for (unsigned lowside = 0; lowside < 2; lowside++) {
        static struct page_alloc P;
        /* [c, c + 0x300): ends mid-chunk; [c + 0x100, 2c): starts mid-chunk. */
        pfn_t s = lowside ? c + 0x100 : c, n = lowside ? c - 0x100 : 0x300;
        pfn_t b = lowside ? c + 0x100 : c + 0x200;  /* the 0x100 block at the edge */
        struct pa_frame *t = malloc(pa_table_bytes(n));

        pa_setup(&P, t, n, 0);
        REQUIRE(pa_add_range(&P, s, n) == PA_OK);
        REQUIRE(pa_init_range(&P, s, n) == PA_OK);
        REQUIRE(pa_take(&P, b, 0x80) == PA_OK && pa_take(&P, b + 0x80, 0x80) == PA_OK);
        CHECK(pa_free(&P, b, 7) == PA_OK && pa_free(&P, b + 0x80, 7) == PA_OK);
        CHECK(t[b - s].info == PA_INFO(PA_FREE, 8));
        CHECK(pa_nr_frames(&P, PA_FREE) == n && pa_check(&P, &v) == 0);
        free(t);
    }
}

/*
 * pa_add_range()'s limits, each at its boundary: a range that wraps past
 * 2^64 (PA_E_INVAL, not a short range), ranges that touch a registered one
 * on either side (not an overlap), the 64-range table (test_page_small.c
 * has the chunk bitmap's room). The storage is never touched: registering
 * a range writes no entry.
 */
HOST_TEST(page_edges_add_range_limits)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(16));
    const pfn_t c = PA_CHUNK_FRAMES, big = 128 * c - 1;

    pa_setup(&P, t, UINT64_MAX, 0);
    CHECK(pa_add_range(&P, PA_NO_FRAME - 0xf, 0x20) == PA_E_INVAL);
    CHECK(P.err_frame == PA_NO_FRAME - 0xf && P.nr_ranges == 0);
    CHECK(pa_add_range(&P, PA_NO_FRAME - 0xf, 0xf) == PA_OK);       /* ends at 2^64 - 1 */
    CHECK(pa_add_range(&P, 0x100, 0x100) == PA_OK);
    CHECK(pa_add_range(&P, 0x200, 0x100) == PA_OK);                 /* touches above */
    CHECK(pa_add_range(&P, 0x80, 0x80) == PA_OK);                   /* touches below */
    CHECK(pa_add_range(&P, 0x7f, 2) == PA_E_OVERLAP && P.err_frame == 0x80);
    CHECK(pa_add_range(&P, 0x2ff, 2) == PA_E_OVERLAP && P.err_frame == 0x2ff);
    CHECK(P.nr_ranges == 4);
    /* Unbacked: frame 0 is refused first (err_frame 0), but only in a
     * non-empty range; an empty one is refused as empty. */
    P.err_frame = 7;
    CHECK(pa_add_range_unbacked(&P, 0, 0x10) == PA_E_FRAME0 && P.err_frame == 0);
    CHECK(pa_add_range_unbacked(&P, 0, 0) == PA_E_INVAL && P.err_frame == 0);
    CHECK(pa_add_range_unbacked(&P, 0x300, 0) == PA_E_INVAL && P.err_frame == 0x300);
    CHECK(P.nr_ranges == 4 && pa_nr_frames(&P, PA_RELEASED) == 0);

    /* 64 ranges: a 65th is refused, however small, with room for it. */
    pa_setup(&P, t, UINT64_MAX, 0);
    for (unsigned i = 0; i < PA_MAX_RANGES - 1; i++)
        REQUIRE(pa_add_range(&P, (i + 1) * c - 1, 2) == PA_OK);
    CHECK(pa_add_range(&P, big, 2) == PA_OK);
    CHECK(pa_add_range(&P, 1, 1) == PA_E_NOSPACE && P.nr_ranges == PA_MAX_RANGES);

    /* 64 one-frame ranges in one chunk: room for chunks, frames, not slots. */
    pa_setup(&P, t, UINT64_MAX, 0);
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        REQUIRE(pa_add_range(&P, 2 * i + 1, 1) == PA_OK);
    CHECK(pa_add_range(&P, 0x1000, 1) == PA_E_NOSPACE && P.err_frame == 0x1000);
    CHECK(P.nr_ranges == PA_MAX_RANGES && P.used == PA_MAX_RANGES);
    free(t);
}

/*
 * Deferred extents: an extent that fills the gap between two joins both
 * (one slot freed), extents of adjacent ranges stay apart, extents stay
 * sorted, and with all 64 slots taken a new extent is initialised at once.
 */
HOST_TEST(page_edges_defer_extents)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x1000));
    struct pa_violation v;

    pa_setup(&P, t, 0x1000, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x300) == PA_OK);
    REQUIRE(pa_add_range(&P, 0x400, 0x100) == PA_OK);
    CHECK(pa_defer(&P, 0x200, 0x10) == PA_OK && pa_defer(&P, 0x100, 0x10) == PA_OK);
    CHECK(pa_defer(&P, 0x300, 0x10) == PA_OK && P.nr_defer == 3);
    CHECK(P.defer[0].start == 0x100 && P.defer[1].start == 0x200 && P.defer[2].start == 0x300);
    CHECK(pa_defer(&P, 0x110, 0xf0) == PA_OK);                 /* fills the gap */
    CHECK(P.nr_defer == 2 && P.defer[0].start == 0x100 && P.defer[0].end == 0x210);
    CHECK(P.defer[1].start == 0x300 && P.defer[1].end == 0x310 && P.nr_deferred == 0x120);
    CHECK(pa_defer(&P, 0x2f0, 0x10) == PA_OK && P.nr_defer == 2 && P.defer[1].start == 0x2f0);
    CHECK(pa_defer(&P, 0x3f0, 0x10) == PA_OK && pa_defer(&P, 0x400, 0x10) == PA_OK);
    CHECK(P.nr_defer == 4 && P.defer[3].start == 0x400 && P.defer[3].rid == 1);
    CHECK(pa_check(&P, &v) == 0);

    pa_setup(&P, t, 0x1000, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x200) == PA_OK);
    for (unsigned i = PA_MAX_DEFER; i-- > 0; )                 /* descending starts */
        REQUIRE(pa_defer(&P, 0x100 + 2 * i, 1) == PA_OK);
    CHECK(P.nr_defer == PA_MAX_DEFER && P.nr_deferred == PA_MAX_DEFER);
    for (unsigned i = 0; i < PA_MAX_DEFER; i++)
        CHECK(P.defer[i].start == 0x100 + 2 * i);
    CHECK(pa_defer(&P, 0x1f0, 0x10) == PA_OK);                 /* no slot: on the lists */
    CHECK(P.nr_defer == PA_MAX_DEFER && P.nr_deferred == PA_MAX_DEFER);
    CHECK(pa_nr_frames(&P, PA_FREE) == PA_MAX_DEFER + 0x10 && pa_check(&P, &v) == 0);
    CHECK(pa_state(&P, 0x1f0) == PA_FREE && pa_state(&P, 0x1ef) == PA_UNINITIALISED);
    free(t);
}

/* Owners run from 1 to PA_MAX_OWNER, both ends included; 0 and
 * PA_MAX_OWNER + 1 are refused by reserve and unreserve alike. */
HOST_TEST(page_edges_owner_limits)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x100));
    struct pa_violation v;

    pa_setup(&P, t, 0x100, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x100) == PA_OK);
    CHECK(pa_reserve(&P, 0x100, 0x10, PA_MAX_OWNER + 1) == PA_E_INVAL && P.err_frame == 0x100);
    CHECK(pa_reserve(&P, 0x100, 0x10, 0) == PA_E_INVAL);
    CHECK(pa_reserve(&P, 0x100, 0x10, PA_MAX_OWNER) == PA_OK);
    CHECK(pa_owner(&P, 0x105) == PA_MAX_OWNER);
    CHECK(pa_unreserve(&P, 0x100, 0x10, PA_MAX_OWNER + 1) == PA_E_INVAL);
    CHECK(pa_unreserve(&P, 0x100, 0x10, 0) == PA_E_INVAL);
    CHECK(pa_state(&P, 0x100) == PA_INUSE);
    CHECK(pa_unreserve(&P, 0x100, 0x10, PA_MAX_OWNER) == PA_OK);
    CHECK(pa_state(&P, 0x100) == PA_FREE && pa_nr_frames(&P, PA_FREE) == 0x10);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

/*
 * Deferred memory is put on the lists one chunk piece at a time, and only
 * what an operation needs: a piece of one frame past a chunk boundary is
 * that one frame; an extent that starts where an operation's range ends,
 * or at 4 GiB for a LOW request, is left alone; an operation inside an
 * extent, equally far from both ends, settles it from the top.
 */
HOST_TEST(page_edges_deferred_pieces)
{
    static struct page_alloc P;
    const pfn_t CH = PA_CHUNK_FRAMES, C = 4 * CH;
    struct pa_frame *t = malloc(pa_table_bytes(4 * CH + 0x200));
    struct pa_violation v;
    pfn_t x;

    /* The top piece of [C, C + 2 CH + 1) is its last frame alone. */
    pa_setup(&P, t, 2 * CH + 1, 0);
    REQUIRE(pa_add_range(&P, C, 2 * CH + 1) == PA_OK);
    REQUIRE(pa_defer(&P, C, 2 * CH + 1) == PA_OK);
    x = pa_alloc(&P, 0, 0);
    CHECK(x == C + 2 * CH);
    CHECK(P.nr_deferred == 2 * CH && P.nr_defer == 1 && P.defer[0].end == C + 2 * CH);
    CHECK(pa_check(&P, &v) == 0);

    /* A LOW request cannot use an extent that starts at 4 GiB. */
    pa_setup(&P, t, 0x110, 0);
    REQUIRE(pa_add_range(&P, PA_LOW_LIMIT - 0x10, 0x110) == PA_OK);
    REQUIRE(pa_init_range(&P, PA_LOW_LIMIT - 0x10, 0x10) == PA_OK);
    REQUIRE(pa_take(&P, PA_LOW_LIMIT - 0x10, 0x10) == PA_OK);
    REQUIRE(pa_defer(&P, PA_LOW_LIMIT, 0x100) == PA_OK);
    CHECK(pa_alloc(&P, 0, PA_ALLOC_LOW) == PA_NO_FRAME);
    CHECK(P.nr_deferred == 0x100 && P.nr_defer == 1 && P.defer[0].start == PA_LOW_LIMIT);
    x = pa_alloc(&P, 0, 0);
    CHECK(x >= PA_LOW_LIMIT && x < PA_LOW_LIMIT + 0x100 && P.nr_deferred == 0);
    CHECK(pa_check(&P, &v) == 0);

    /* An operation just below an extent leaves it deferred. */
    pa_setup(&P, t, 0x200, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x200) == PA_OK);
    REQUIRE(pa_init_range(&P, 0x100, 0x100) == PA_OK);
    REQUIRE(pa_defer(&P, 0x200, 0x100) == PA_OK);
    CHECK(pa_take(&P, 0x1f0, 0x10) == PA_OK);
    CHECK(pa_release(&P, 0x1e0, 0x10) == PA_OK);
    CHECK(P.nr_deferred == 0x100 && P.nr_defer == 1 && P.defer[0].start == 0x200);
    CHECK(pa_check(&P, &v) == 0);

    /* [C + CH, C + 3 CH) inside [C, C + 4 CH): 3 CH from either end; the
     * top three pieces go to the lists, [C, C + CH) stays deferred. */
    pa_setup(&P, t, 4 * CH, 0);
    REQUIRE(pa_add_range(&P, C, 4 * CH) == PA_OK);
    REQUIRE(pa_defer(&P, C, 4 * CH) == PA_OK);
    CHECK(pa_take(&P, C + CH, 2 * CH) == PA_OK);
    CHECK(P.nr_defer == 1 && P.defer[0].start == C && P.defer[0].end == C + CH);
    CHECK(P.nr_deferred == CH && pa_nr_frames(&P, PA_INUSE) == 2 * CH);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

/*
 * pa_defer() joins a new extent with its neighbours, the last one
 * included, and never with a slot past the last extent (which holds
 * whatever an extent removed before it left there).
 */
HOST_TEST(page_edges_defer_join_last)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(0x200));
    struct pa_violation v;

    /* Two extents; the gap between them joins all three. */
    pa_setup(&P, t, 0x200, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x200) == PA_OK);
    REQUIRE(pa_defer(&P, 0x100, 0x10) == PA_OK && pa_defer(&P, 0x120, 0x10) == PA_OK);
    CHECK(pa_defer(&P, 0x110, 0x10) == PA_OK);
    CHECK(P.nr_defer == 1 && P.defer[0].start == 0x100 && P.defer[0].end == 0x130);
    CHECK(P.nr_deferred == 0x30 && pa_check(&P, &v) == 0);

    /* [0x100, 0x110) and [0x120, 0x130); the second is taken whole, its
     * slot left behind. A defer of [0x110, 0x120) joins the first only. */
    pa_setup(&P, t, 0x200, 0);
    REQUIRE(pa_add_range(&P, 0x100, 0x200) == PA_OK);
    REQUIRE(pa_defer(&P, 0x120, 0x10) == PA_OK && pa_defer(&P, 0x100, 0x10) == PA_OK);
    REQUIRE(P.nr_defer == 2 && P.defer[1].start == 0x120);
    CHECK(pa_take(&P, 0x120, 0x10) == PA_OK);
    CHECK(P.nr_defer == 1 && P.nr_deferred == 0x10);
    CHECK(pa_defer(&P, 0x110, 0x10) == PA_OK);
    CHECK(P.nr_defer == 1 && P.defer[0].start == 0x100 && P.defer[0].end == 0x120);
    CHECK(P.nr_deferred == 0x20 && pa_state(&P, 0x120) == PA_INUSE);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

/* Offlining a deferred frame lists only the piece that holds it: here
 * the bottom chunk of the extent (the nearer end), the rest stays. */
HOST_TEST(page_edges_offline_deferred_piece)
{
    static struct page_alloc P;
    const pfn_t CH = PA_CHUNK_FRAMES, C = 4 * CH;
    struct pa_frame *t = malloc(pa_table_bytes(2 * CH));
    struct pa_violation v;
    enum pa_state ns;

    pa_setup(&P, t, 2 * CH, 0);
    REQUIRE(pa_add_range(&P, C, 2 * CH) == PA_OK);
    REQUIRE(pa_defer(&P, C, 2 * CH) == PA_OK);
    CHECK(pa_offline(&P, C + CH - 1, &ns) == PA_OK && ns == PA_OFFLINED);
    CHECK(P.nr_defer == 1 && P.defer[0].start == C + CH && P.defer[0].end == C + 2 * CH);
    CHECK(P.nr_deferred == CH && pa_nr_frames(&P, PA_FREE) == 2 * CH - 1);
    CHECK(pa_check(&P, &v) == 0);
    free(t);
}

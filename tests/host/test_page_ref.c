/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the reference page allocator (mm/page_ref.c) against the
 * contract, docs/allocator.md: every row of the Operations table, every
 * refusal with its exact error and err_frame, the order of the checks,
 * the allocation policy, frame 0, unbacked ranges, owners, the counters,
 * and pr_check() catching planted corruption.
 *
 * Every refusal goes through REFUSED(), which also proves that it changed
 * nothing but err_frame; every accepted operation through OK(), which runs
 * the checker and recounts every state from pr_state() after it. States
 * are written as strings, one letter a frame:
 *
 *   U uninitialised  F free  I inuse  o offlining  X offlined
 *   R released  S scratch  . outside every range
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include <pvhk/page_ref.h>

static struct page_ref R;
static struct pr_frame *T;

static const char letter[] = "UFIoXRS.";

/* A fresh allocator with room for `cap` frames, storage full of garbage. */
static void fresh(uint64_t cap)
{
    free(T);
    T = malloc(pr_table_bytes(cap ? cap : 1));
    memset(T, 0xa5, pr_table_bytes(cap ? cap : 1));
    pr_setup(&R, T, cap, 0);
}

static void add(pfn_t start, uint64_t count)
{
    CHECK(pr_add_range(&R, start, count) == PA_OK);
}

/* pr_check() passes and every counter equals a recount through pr_state(). */
static bool consistent(void)
{
    struct pa_violation v;
    uint64_t n[PA_NR_STATES] = { 0 };
    bool ok = true;

    if (pr_check(&R, &v)) {
        fprintf(stderr, "    pr_check: %s at %#llx\n", v.what, (unsigned long long)v.frame);
        ok = false;
    }
    for (unsigned i = 0; i < R.nr_ranges; i++)
        for (pfn_t f = R.range[i].start; f < R.range[i].end; f++)
            n[pr_state(&R, f)]++;
    for (unsigned s = 0; s < PA_NR_STATES; s++)
        if (n[s] != pr_nr_frames(&R, s)) {
            fprintf(stderr, "    %s: counter %llu, recount %llu\n", pa_state_name(s),
                    (unsigned long long)pr_nr_frames(&R, s), (unsigned long long)n[s]);
            ok = false;
        }
    return ok;
}

/* The frames from `a` read `want` (pr_states() and pr_state() agree). */
static bool states(pfn_t a, const char *want)
{
    size_t n = strlen(want);
    uint8_t buf[512];
    char got[513];

    if (n > sizeof(buf))
        return false;
    pr_states(&R, a, n, buf);
    for (size_t j = 0; j < n; j++) {
        got[j] = buf[j] <= PA_OUTSIDE ? letter[buf[j]] : '?';
        if (pr_state(&R, a + j) != buf[j])
            got[j] = '!';
    }
    got[n] = 0;
    if (strcmp(got, want)) {
        fprintf(stderr, "    states from %#llx: got %s, want %s\n", (unsigned long long)a, got,
                want);
        return false;
    }
    return true;
}

/* Everything a refusal must leave alone: the struct but err_frame, the table. */
struct snap {
    struct page_ref pa;
    struct pr_frame *t;
};

static void snap_take(struct snap *s)
{
    s->pa = R;
    s->t = malloc(pr_table_bytes(R.used + 1));
    memcpy(s->t, T, pr_table_bytes(R.used));
}

static bool snap_same(struct snap *s)
{
    bool same = s->pa.table == R.table && s->pa.capacity == R.capacity &&
                s->pa.used == R.used && s->pa.nr_ranges == R.nr_ranges &&
                !memcmp(s->pa.range, R.range, sizeof(R.range)) &&
                !memcmp(s->pa.count, R.count, sizeof(R.count)) &&
                !memcmp(s->t, T, pr_table_bytes(R.used));

    free(s->t);
    return same;
}

/* `call` is refused with `err`, names `frame`, and changes nothing else. */
#define REFUSED(call, err, frame) do {                                          \
    struct snap s_;                                                             \
    int rc_;                                                                    \
    snap_take(&s_);                                                             \
    R.err_frame = 0x5a5a5a5a;                                                   \
    rc_ = (call);                                                               \
    CHECKF(rc_ == (err), "%s: got \"%s\", want \"%s\"", #call, pa_strerror(rc_), \
           pa_strerror(err));                                                   \
    CHECKF(R.err_frame == (pfn_t)(frame), "%s: err_frame %#llx, want %#llx",    \
           #call, (unsigned long long)R.err_frame, (unsigned long long)(frame)); \
    CHECKF(snap_same(&s_), "%s: a refusal changed the allocator", #call);      \
} while (0)

#define OK(call) do {                                                           \
    int rc_ = (call);                                                           \
    CHECKF(rc_ == PA_OK, "%s: got \"%s\"", #call, pa_strerror(rc_));            \
    CHECK(consistent());                                                        \
} while (0)

static enum pa_state ns;

/* ---- ranges -------------------------------------------------------------------- */

HOST_TEST(page_ref_add_range)
{
    fresh(0x100);
    REFUSED(pr_add_range(&R, 0x500, 0), PA_E_INVAL, 0x500);
    REFUSED(pr_add_range(&R, ~0ULL - 2, 5), PA_E_INVAL, ~0ULL - 2);    /* wraps */
    OK(pr_add_range(&R, 0x200, 0x10));
    OK(pr_add_range(&R, 0x100, 0x10));      /* registered out of address order */
    /* The error names the lowest frame shared with any range. */
    REFUSED(pr_add_range(&R, 0xf0, 0x200), PA_E_OVERLAP, 0x100);
    REFUSED(pr_add_range(&R, 0x20c, 8), PA_E_OVERLAP, 0x20c);
    REFUSED(pr_add_range(&R, 0x1f0, 0x11), PA_E_OVERLAP, 0x200);
    /* Overlap is checked before room. */
    REFUSED(pr_add_range(&R, 0x108, 0x1000), PA_E_OVERLAP, 0x108);
    REFUSED(pr_add_range(&R, 0x1000, 0xe1), PA_E_NOSPACE, 0x1000);     /* capacity */
    OK(pr_add_range(&R, 0x210, 0xe0));      /* adjacent: a range of its own, fills the table */
    CHECK(R.nr_ranges == 3 && R.used == 0x100);
    CHECK(states(0xfe, "..UU"));
    CHECK(states(0x10e, "UU.."));
    CHECK(states(0x20e, "UUUU"));
    CHECK(pr_nr_frames(&R, PA_UNINITIALISED) == 0x100);
    CHECK(pr_nr_frames(&R, PA_OUTSIDE) == 0 && pr_nr_frames(&R, 99) == 0);
    CHECK(pr_state(&R, 0x2f0) == PA_OUTSIDE && pr_state(&R, ~0ULL) == PA_OUTSIDE);

    /* Range slots: PA_MAX_RANGES, then PA_E_NOSPACE even with table room. */
    fresh(PA_MAX_RANGES + 10);
    for (unsigned i = 0; i < PA_MAX_RANGES; i++)
        CHECK(pr_add_range(&R, 0x10 + 2 * i, 1) == PA_OK);
    REFUSED(pr_add_range(&R, 0x1000, 1), PA_E_NOSPACE, 0x1000);
    CHECK(consistent());
}

HOST_TEST(page_ref_unbacked_range)
{
    fresh(0x100);
    /* Frame 0 is checked first: before the overlap with [0, 8). */
    add(0, 8);
    REFUSED(pr_add_range_unbacked(&R, 0, 0x10), PA_E_FRAME0, 0);
    REFUSED(pr_add_range_unbacked(&R, 0, 0), PA_E_INVAL, 0);  /* an empty range holds no frame 0 */
    REFUSED(pr_add_range_unbacked(&R, 4, 8), PA_E_OVERLAP, 4);
    REFUSED(pr_add_range_unbacked(&R, 0x100, 0), PA_E_INVAL, 0x100);
    REFUSED(pr_add_range_unbacked(&R, 0x100, 0x100), PA_E_NOSPACE, 0x100);
    OK(pr_add_range_unbacked(&R, 0x100, 0x20));
    CHECK(states(0xff, ".RRRR"));
    CHECK(pr_nr_frames(&R, PA_RELEASED) == 0x20 && pr_nr_frames(&R, PA_UNINITIALISED) == 8);
    /* Unbacked frames never enter the heap but through populate. */
    REFUSED(pr_init_range(&R, 0x100, 4), PA_E_RELEASED, 0x100);
    REFUSED(pr_free(&R, 0x104, 2), PA_E_RELEASED, 0x104);
    REFUSED(pr_offline(&R, 0x104, &ns), PA_E_RELEASED, 0x104);
    CHECK(pr_alloc(&R, 0, 0) == PA_NO_FRAME);
    OK(pr_populate(&R, 0x104, 4));
    CHECK(states(0x102, "RRFFFFRR"));
    OK(pr_scratch(&R, 0x110, 2));
    CHECK(states(0x10f, "RSSR"));
    CHECK(pr_alloc(&R, 2, 0) == 0x104);
    CHECK(consistent());
}

/* ---- the order of the checks ----------------------------------------------------- */

HOST_TEST(page_ref_range_check_order)
{
    fresh(0x200);
    add(0, 0x40);
    add(0x100, 0x40);
    /* 1. count 0, even where 2 would fail. */
    REFUSED(pr_take(&R, 0x80, 0), PA_E_INVAL, 0x80);
    REFUSED(pr_release(&R, 0, 0), PA_E_INVAL, 0);
    /* 2. outside, then spans (err_frame the range's end). */
    REFUSED(pr_take(&R, 0x80, 4), PA_E_OUTSIDE, 0x80);
    REFUSED(pr_take(&R, 0x13e, 4), PA_E_SPANS, 0x140);
    REFUSED(pr_release(&R, 0, 0x41), PA_E_SPANS, 0x40);    /* before frame 0 */
    /* 3. frame 0 before the frames' states; a FREE target passes it. */
    REFUSED(pr_take(&R, 0, 4), PA_E_FRAME0, 0);            /* frames UNINITIALISED */
    REFUSED(pr_populate(&R, 0, 4), PA_E_UNINIT, 0);        /* target FREE: frame 0 is judged */
    REFUSED(pr_unreserve(&R, 0, 4, 1), PA_E_UNINIT, 0);
    /* 4. the first frame in address order that is not allowed. */
    OK(pr_init_range(&R, 0x104, 4));
    OK(pr_scratch(&R, 0x10a, 2));
    CHECK(states(0x100, "UUUUFFFFUUSSUUUU"));
    REFUSED(pr_init_range(&R, 0x100, 0x10), PA_E_FREE_FRAME, 0x104);
    REFUSED(pr_init_range(&R, 0x108, 0x8), PA_E_SCRATCH, 0x10a);
    REFUSED(pr_populate(&R, 0x100, 0x10), PA_E_UNINIT, 0x100);
    REFUSED(pr_take(&R, 0x105, 6), PA_E_UNINIT, 0x108);
    REFUSED(pr_scratch(&R, 0x100, 0x10), PA_E_FREE_FRAME, 0x104);
    REFUSED(pr_unscratch(&R, 0x108, 4, PA_RELEASED), PA_E_UNINIT, 0x108);
    /* unscratch checks `to` first; reserve and unreserve their owner first. */
    REFUSED(pr_unscratch(&R, 0x80, 0, PA_FREE), PA_E_INVAL, 0x80);
    REFUSED(pr_unscratch(&R, 0x10a, 2, PA_SCRATCH), PA_E_INVAL, 0x10a);
    REFUSED(pr_reserve(&R, 0x80, 0, 0), PA_E_INVAL, 0x80);
    REFUSED(pr_reserve(&R, 0x100, 4, PA_MAX_OWNER + 1), PA_E_INVAL, 0x100);
    REFUSED(pr_unreserve(&R, 0x80, 4, 0), PA_E_INVAL, 0x80);
    REFUSED(pr_unreserve(&R, 0x104, 4, PA_MAX_OWNER + 1), PA_E_INVAL, 0x104);
    /* mark_inuse: order, alignment, then the range checks on the block. */
    REFUSED(pr_mark_inuse(&R, 0x81, PA_MAX_ORDER + 1), PA_E_ORDER, 0x81);
    REFUSED(pr_mark_inuse(&R, 0x81, 1), PA_E_MISALIGNED, 0x81);
    REFUSED(pr_mark_inuse(&R, 0x80, 1), PA_E_OUTSIDE, 0x80);
    REFUSED(pr_mark_inuse(&R, 0x100, 7), PA_E_SPANS, 0x140);
    REFUSED(pr_mark_inuse(&R, 0, 1), PA_E_FRAME0, 0);
    REFUSED(pr_mark_inuse(&R, 0x108, 3), PA_E_SCRATCH, 0x10a);
    CHECK(consistent());
}

/*
 * In-use frames in release and unreserve are judged as whole blocks, at
 * the block's first frame in the range: reserved / not the caller's, then
 * an OFFLINING frame (release), then cut by the range; err_frame is the
 * block's first frame.
 */
HOST_TEST(page_ref_block_check_order)
{
    fresh(0x100);
    add(0x100, 0x40);
    OK(pr_init_range(&R, 0x100, 0x20));
    OK(pr_reserve(&R, 0x120, 8, 7));                   /* one order-3 block, owner 7 */
    OK(pr_take(&R, 0x110, 8));                         /* one order-3 block, owner 0 */
    OK(pr_offline(&R, 0x126, &ns));
    OK(pr_offline(&R, 0x116, &ns));
    CHECK(states(0x110, "IIIIIIoIFFFFFFFFIIIIIIoI"));
    /* Reserved, offlining and cut by the range: reserved comes first. */
    REFUSED(pr_release(&R, 0x124, 2), PA_E_RESERVED, 0x120);
    REFUSED(pr_release_check(&R, 0x124, 2), PA_E_RESERVED, 0x120);
    /* Even when the range starts on the offlining frame itself. */
    REFUSED(pr_release(&R, 0x126, 2), PA_E_RESERVED, 0x120);
    /* The heap's block: offlining before cut. */
    REFUSED(pr_release(&R, 0x112, 2), PA_E_OFFLINING, 0x110);
    REFUSED(pr_release(&R, 0x116, 1), PA_E_OFFLINING, 0x110);
    /* The first block met decides: a FREE frame before it is fine. */
    REFUSED(pr_release(&R, 0x10f, 0x12), PA_E_OFFLINING, 0x110);
    OK(pr_online(&R, 0x116, &ns));
    REFUSED(pr_release(&R, 0x112, 2), PA_E_PARTIAL, 0x110);
    REFUSED(pr_release(&R, 0x10c, 8), PA_E_PARTIAL, 0x110);
    REFUSED(pr_release_check(&R, 0x10c, 8), PA_E_PARTIAL, 0x110);
    CHECK(pr_release_check(&R, 0x10c, 0xc) == PA_OK);
    CHECK(states(0x10c, "FFFFIIIIIIIIFFFF"));
    /* unreserve: not the caller's block (the heap's too), then cut. */
    REFUSED(pr_unreserve(&R, 0x124, 2, 8), PA_E_OWNER, 0x120);
    REFUSED(pr_unreserve(&R, 0x110, 8, 7), PA_E_OWNER, 0x110);
    REFUSED(pr_unreserve(&R, 0x126, 1, 7), PA_E_PARTIAL, 0x120);
    /* Frames that are neither in use nor offlining: the error of their state. */
    REFUSED(pr_unreserve(&R, 0x118, 0x10, 7), PA_E_FREE_FRAME, 0x118);
    REFUSED(pr_unreserve(&R, 0x120, 0x10, 7), PA_E_UNINIT, 0x128);
    /* Where in-use frames are not allowed, each frame's own state names the error. */
    REFUSED(pr_init_range(&R, 0x126, 2), PA_E_OFFLINING, 0x126);
    REFUSED(pr_init_range(&R, 0x124, 4), PA_E_INUSE, 0x124);
    REFUSED(pr_take(&R, 0x126, 1), PA_E_OFFLINING, 0x126);
    REFUSED(pr_scratch(&R, 0x110, 1), PA_E_INUSE, 0x110);
    CHECK(consistent());
}

/* ---- init, defer, frame 0 ---------------------------------------------------------- */

HOST_TEST(page_ref_init_defer_frame0)
{
    fresh(0x100);
    add(0, 0x20);
    add(0x40, 0x20);
    OK(pr_init_range(&R, 0, 0x10));
    CHECK(states(0, "UFFFFFFFFFFFFFFFU"));             /* frame 0 skipped */
    CHECK(pr_nr_frames(&R, PA_FREE) == 0xf);
    REFUSED(pr_init_range(&R, 0, 0x10), PA_E_FREE_FRAME, 1);
    /* A range holding frame 0 alone: accepted, nothing changes. */
    OK(pr_init_range(&R, 0, 1));
    CHECK(pr_state(&R, 0) == PA_UNINITIALISED);
    /* pr_defer validates exactly like pr_init_range and makes the frames FREE now. */
    OK(pr_defer(&R, 0x10, 0x10));
    CHECK(states(0x10, "FFFFFFFFFFFFFFFF"));
    REFUSED(pr_defer(&R, 0x1f, 2), PA_E_SPANS, 0x20);
    REFUSED(pr_defer(&R, 0x20, 1), PA_E_OUTSIDE, 0x20);
    REFUSED(pr_defer(&R, 0x40, 0), PA_E_INVAL, 0x40);
    REFUSED(pr_defer(&R, 0x10, 1), PA_E_FREE_FRAME, 0x10);
    OK(pr_release(&R, 0x44, 2));
    REFUSED(pr_defer(&R, 0x40, 8), PA_E_RELEASED, 0x44);
    CHECK(pr_init_all(&R) == 0);                        /* nothing was deferred */
    CHECK(consistent());
    /* Frame 0 never enters the heap: no block can hold it. */
    CHECK(pr_alloc(&R, 5, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 4, 0) == 0x10);
    CHECK(pr_alloc(&R, 3, 0) == 0x8);
    CHECK(pr_alloc(&R, 0, 0) == 1);
    OK(pr_free(&R, 0, 0));                              /* init path: frame 0 stays */
    OK(pr_free(&R, 0, 0));
    CHECK(pr_state(&R, 0) == PA_UNINITIALISED && pr_owner(&R, 0) == 0);
    REFUSED(pr_free(&R, 0, 1), PA_E_MIXED, 1);
    REFUSED(pr_release(&R, 0, 1), PA_E_FRAME0, 0);
    REFUSED(pr_scratch(&R, 0, 1), PA_E_FRAME0, 0);
    REFUSED(pr_unscratch(&R, 0, 1, PA_UNINITIALISED), PA_E_FRAME0, 0);
    REFUSED(pr_reserve(&R, 0, 1, 1), PA_E_FRAME0, 0);
    REFUSED(pr_offline(&R, 0, &ns), PA_E_UNINIT, 0);
    REFUSED(pr_online(&R, 0, &ns), PA_E_UNINIT, 0);
    /* The whole range from frame 0, made FREE by the init path of free. */
    fresh(8);
    add(0, 8);
    OK(pr_free(&R, 0, 3));
    CHECK(states(0, "UFFFFFFF"));
    CHECK(pr_alloc(&R, 2, 0) == 4 && pr_alloc(&R, 1, 0) == 2 && pr_alloc(&R, 0, 0) == 1);
    CHECK(pr_alloc(&R, 0, 0) == PA_NO_FRAME);
}

/*
 * Deferred memory is FREE to every operation: after `range 0x100 0x400`,
 * `init 0x100 0x100`, `defer 0x200 0x300`, freeing or marking a deferred
 * frame is refused exactly like a FREE frame's.
 */
HOST_TEST(page_ref_deferred_is_free)
{
    fresh(0x400);
    add(0x100, 0x400);
    OK(pr_init_range(&R, 0x100, 0x100));
    OK(pr_defer(&R, 0x200, 0x300));
    CHECK(pr_nr_frames(&R, PA_FREE) == 0x400);
    REFUSED(pr_free(&R, 0x300, 0), PA_E_DOUBLE_FREE, 0x300);
    REFUSED(pr_free(&R, 0x200, 8), PA_E_DOUBLE_FREE, 0x200);
    REFUSED(pr_free(&R, 0x150, 0), PA_E_DOUBLE_FREE, 0x150);
    REFUSED(pr_mark_inuse(&R, 0x300, 0), PA_E_FREE_FRAME, 0x300);
    REFUSED(pr_mark_inuse(&R, 0x400, 4), PA_E_FREE_FRAME, 0x400);
    REFUSED(pr_mark_inuse(&R, 0x100, 0), PA_E_FREE_FRAME, 0x100);
    REFUSED(pr_init_range(&R, 0x1ff, 2), PA_E_FREE_FRAME, 0x1ff);
    REFUSED(pr_reserve(&R, 0x300, 1, 1), PA_E_FREE_FRAME, 0x300);
    OK(pr_take(&R, 0x300, 1));
    REFUSED(pr_free(&R, 0x300, 1), PA_E_WRONG_ORDER, 0x300);
    REFUSED(pr_free(&R, 0x300, 2), PA_E_WRONG_ORDER, 0x300);
    OK(pr_free(&R, 0x300, 0));
    CHECK(pr_init_all(&R) == 0 && pr_nr_frames(&R, PA_FREE) == 0x400);
}

/* ---- alloc -------------------------------------------------------------------------- */

HOST_TEST(page_ref_alloc_policy)
{
    const pfn_t lo = 0x80000, hi = 0x200000;

    fresh(0x200);
    add(hi, 0x40);                  /* registered first, and the higher */
    add(lo, 0x40);
    OK(pr_init_range(&R, lo, 0x40));
    /* Only LOW memory: a default request falls back to it, lowest first. */
    CHECK(pr_alloc(&R, 0, 0) == lo);
    /* HIGH memory, deferred: default requests take it first, lowest first. */
    OK(pr_defer(&R, hi, 0x40));
    CHECK(pr_alloc(&R, 0, 0) == hi);
    CHECK(pr_alloc(&R, 0, 0) == hi + 1);
    CHECK(pr_alloc(&R, 1, 0) == hi + 2);
    CHECK(pr_alloc(&R, 3, 0) == hi + 8);
    CHECK(pr_alloc(&R, 2, 0) == hi + 4);
    CHECK(pr_alloc(&R, 5, 0) == hi + 0x20);
    /* PA_ALLOC_LOW: only below 4 GiB, lowest first. */
    CHECK(pr_alloc(&R, 0, PA_ALLOC_LOW) == lo + 1);
    CHECK(pr_alloc(&R, 2, PA_ALLOC_LOW) == lo + 4);
    CHECK(pr_alloc(&R, 0, PA_ALLOC_LOW) == lo + 2);
    /* Other flag bits are ignored. */
    CHECK(pr_alloc(&R, 0, 0x2) == hi + 0x10);
    CHECK(pr_alloc(&R, 0, 0x2 | PA_ALLOC_LOW) == lo + 3);
    CHECK(pr_alloc(&R, PA_MAX_ORDER + 1, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, ~0U, PA_ALLOC_LOW) == PA_NO_FRAME);
    CHECK(consistent());
    /* HIGH exhausted (an order-4 block is left as 0x11 frames... none): fallback. */
    CHECK(pr_alloc(&R, 4, 0) == lo + 0x10);
    OK(pr_take(&R, hi + 0x11, 0xf));
    CHECK(pr_alloc(&R, 0, 0) == lo + 8);
    CHECK(pr_alloc(&R, 3, 0) == lo + 0x20);
    OK(pr_free(&R, hi + 0x20, 5));
    CHECK(pr_alloc(&R, 3, 0) == hi + 0x20);            /* HIGH again once it can serve */
    /* LOW exhausted: a LOW request fails while HIGH memory is free. */
    OK(pr_take(&R, lo + 9, 7));
    OK(pr_take(&R, lo + 0x28, 0x18));
    CHECK(pr_nr_frames(&R, PA_FREE) == 0x18);
    CHECK(pr_alloc(&R, 0, PA_ALLOC_LOW) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 4, 0) == hi + 0x30);
    CHECK(pr_alloc(&R, 4, 0) == PA_NO_FRAME);
    CHECK(consistent());
}

/* Blocks are aligned, inside one range, and never straddle the 4 GiB line. */
HOST_TEST(page_ref_alloc_blocks)
{
    fresh(0x200);
    add(0xfffc0, 0x80);             /* 0x40 frames each side of 4 GiB */
    OK(pr_init_range(&R, 0xfffc0, 0x80));
    CHECK(pr_alloc(&R, 7, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 6, 0) == 0x100000);
    CHECK(pr_alloc(&R, 6, 0) == 0xfffc0);
    CHECK(pr_alloc(&R, 0, 0) == PA_NO_FRAME);
    /* Adjacent ranges never make one block. */
    fresh(0x100);
    add(0x10, 8);
    add(0x18, 8);
    OK(pr_init_range(&R, 0x10, 8));
    OK(pr_init_range(&R, 0x18, 8));
    CHECK(pr_alloc(&R, 4, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 3, 0) == 0x10);
    /* Alignment: a range at an odd frame. */
    fresh(0x100);
    add(0x101, 0x10);
    OK(pr_init_range(&R, 0x101, 0x10));
    CHECK(pr_alloc(&R, 4, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 3, 0) == 0x108);
    CHECK(pr_alloc(&R, 2, 0) == 0x104);
    CHECK(pr_alloc(&R, 1, 0) == 0x102);
    CHECK(pr_alloc(&R, 1, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, 0, 0) == 0x101);
    CHECK(pr_alloc(&R, 0, 0) == 0x110);
    /* Holes: an offlined frame, an in-use block, a released frame. */
    fresh(0x100);
    add(0x100, 0x40);
    OK(pr_init_range(&R, 0x100, 0x40));
    OK(pr_offline(&R, 0x103, &ns));
    OK(pr_take(&R, 0x108, 0x10));
    OK(pr_release(&R, 0x11f, 1));
    CHECK(pr_alloc(&R, 3, 0) == 0x120);
    CHECK(pr_alloc(&R, 2, 0) == 0x104);
    CHECK(pr_alloc(&R, 2, 0) == 0x118);
    CHECK(pr_alloc(&R, 1, 0) == 0x100);
    CHECK(pr_alloc(&R, 1, 0) == 0x11c);
    CHECK(pr_alloc(&R, 1, 0) == 0x128);
    CHECK(consistent());
}

/* The block pr_alloc() returns is the lowest suitable one: brute force. */
static pfn_t lowest_suitable(unsigned k, pfn_t lo, pfn_t hi)
{
    pfn_t size = 1ULL << k, best = PA_NO_FRAME;

    for (unsigned i = 0; i < R.nr_ranges; i++)
        for (pfn_t h = ALIGN_UP(R.range[i].start, size); h + size <= R.range[i].end; h += size) {
            bool all = h >= lo && h + size <= hi;

            for (pfn_t q = h; all && q < h + size; q++)
                all = pr_state(&R, q) == PA_FREE;
            if (all && h < best)
                best = h;
        }
    return best;
}

HOST_TEST(page_ref_alloc_is_lowest_suitable)
{
    static const pfn_t rg[][2] = {
        { 0xffc00, 0x900 }, { 0x7, 0x39 }, { 0x100a00, 0x300 }, { 0x40, 0x40 }, { 0x2c0, 0x140 },
    };
    unsigned steps = host_soak ? 200000 : 20000;

    srand(7);
    fresh(0x1200);
    for (unsigned i = 0; i < ARRAY_SIZE(rg); i++)
        add(rg[i][0], rg[i][1]);
    for (unsigned i = 0; i < ARRAY_SIZE(rg); i++)
        OK(pr_init_range(&R, rg[i][0], rg[i][1]));
    for (unsigned s = 0; s < steps; s++) {
        const pfn_t *r = rg[rand() % ARRAY_SIZE(rg)];
        pfn_t f = r[0] + (pfn_t)rand() % r[1];
        unsigned k = (unsigned)rand() % 8, flags = (unsigned)rand() % 2;
        pfn_t want, got;

        switch (rand() % 4) {
        case 0:
        case 1:
            want = flags ? PA_NO_FRAME : lowest_suitable(k, PA_LOW_LIMIT, PA_NO_FRAME);
            if (want == PA_NO_FRAME)
                want = lowest_suitable(k, 0, PA_LOW_LIMIT);
            got = pr_alloc(&R, k, flags);
            CHECKF(got == want, "alloc(%u, %u): %#llx, lowest suitable %#llx", k, flags,
                   (unsigned long long)got, (unsigned long long)want);
            break;
        case 2:
            pr_free(&R, ALIGN_DOWN(f, 1ULL << k), k);
            break;
        default:
            if (rand() % 2)
                pr_offline(&R, f, &ns);
            else
                pr_online(&R, f, &ns);
            break;
        }
        if (s % 64 == 0)
            CHECK(consistent());
    }
    CHECK(consistent());
}

/* ---- free, exactly ------------------------------------------------------------------- */

HOST_TEST(page_ref_free_exactly)
{
    fresh(0x100);
    add(0x100, 0x40);
    /* 1. outside, order, alignment, span, in that order. */
    REFUSED(pr_free(&R, 0x141, PA_MAX_ORDER + 1), PA_E_OUTSIDE, 0x141);
    REFUSED(pr_free(&R, 0x101, PA_MAX_ORDER + 1), PA_E_ORDER, 0x101);
    REFUSED(pr_free(&R, 0x101, ~0U), PA_E_ORDER, 0x101);
    REFUSED(pr_free(&R, 0x120, 6), PA_E_MISALIGNED, 0x120);
    REFUSED(pr_free(&R, 0x100, 7), PA_E_SPANS, 0x140);
    /* 2. UNINITIALISED: every frame must be, then the init path. */
    OK(pr_free(&R, 0x108, 3));
    CHECK(states(0x100, "UUUUUUUUFFFFFFFFU"));
    REFUSED(pr_free(&R, 0x100, 4), PA_E_MIXED, 0x108);
    OK(pr_mark_inuse(&R, 0x112, 1));
    REFUSED(pr_free(&R, 0x110, 2), PA_E_MIXED, 0x112);
    OK(pr_free(&R, 0x112, 1));
    /* FREE: double free if the whole block is free, else a free frame. */
    REFUSED(pr_free(&R, 0x108, 3), PA_E_DOUBLE_FREE, 0x108);
    REFUSED(pr_free(&R, 0x10c, 1), PA_E_DOUBLE_FREE, 0x10c);
    REFUSED(pr_free(&R, 0x112, 1), PA_E_DOUBLE_FREE, 0x112);
    OK(pr_take(&R, 0x10e, 1));
    REFUSED(pr_free(&R, 0x10c, 2), PA_E_FREE_FRAME, 0x10c);    /* 0x10e in use */
    OK(pr_free(&R, 0x10e, 0));
    /* INUSE: reserved, interior, order, in that order. */
    OK(pr_take(&R, 0x108, 8));
    OK(pr_reserve(&R, 0x120, 0x10, 3));
    REFUSED(pr_free(&R, 0x121, 0), PA_E_RESERVED, 0x121);     /* before interior */
    REFUSED(pr_free(&R, 0x120, 3), PA_E_RESERVED, 0x120);     /* before wrong order */
    REFUSED(pr_free(&R, 0x120, 4), PA_E_RESERVED, 0x120);
    REFUSED(pr_free(&R, 0x10c, 2), PA_E_INTERIOR, 0x10c);
    REFUSED(pr_free(&R, 0x109, 0), PA_E_INTERIOR, 0x109);
    REFUSED(pr_free(&R, 0x108, 2), PA_E_WRONG_ORDER, 0x108);
    REFUSED(pr_free(&R, 0x100, 4), PA_E_MIXED, 0x108);        /* by frame f's state */
    /* OFFLINING counts as INUSE; freeing turns it OFFLINED. */
    OK(pr_offline(&R, 0x108, &ns));
    OK(pr_offline(&R, 0x10d, &ns));
    REFUSED(pr_free(&R, 0x10d, 0), PA_E_INTERIOR, 0x10d);
    REFUSED(pr_free(&R, 0x108, 2), PA_E_WRONG_ORDER, 0x108);
    OK(pr_free(&R, 0x108, 3));
    CHECK(states(0x108, "XFFFFXFF"));
    /* OFFLINED, RELEASED, SCRATCH. */
    REFUSED(pr_free(&R, 0x108, 0), PA_E_OFFLINED, 0x108);
    OK(pr_release(&R, 0x130, 4));
    REFUSED(pr_free(&R, 0x130, 2), PA_E_RELEASED, 0x130);
    OK(pr_scratch(&R, 0x134, 4));
    REFUSED(pr_free(&R, 0x134, 0), PA_E_SCRATCH, 0x134);
}

/* ---- the other rows of the table ----------------------------------------------------- */

HOST_TEST(page_ref_offline_online)
{
    fresh(0x100);
    add(0x100, 0x40);
    CHECK(pr_add_range_unbacked(&R, 0x180, 4) == PA_OK);
    REFUSED(pr_offline(&R, 0x140, &ns), PA_E_OUTSIDE, 0x140);
    REFUSED(pr_online(&R, 0x140, &ns), PA_E_OUTSIDE, 0x140);
    REFUSED(pr_offline(&R, 0x100, &ns), PA_E_UNINIT, 0x100);
    REFUSED(pr_offline(&R, 0x180, &ns), PA_E_RELEASED, 0x180);
    OK(pr_init_range(&R, 0x100, 0x20));
    OK(pr_scratch(&R, 0x120, 1));
    REFUSED(pr_offline(&R, 0x120, &ns), PA_E_SCRATCH, 0x120);
    REFUSED(pr_online(&R, 0x120, &ns), PA_E_SCRATCH, 0x120);
    /* FREE -> OFFLINED -> FREE. */
    ns = PA_NR_STATES;
    OK(pr_offline(&R, 0x105, &ns));
    CHECK(ns == PA_OFFLINED);
    REFUSED(pr_offline(&R, 0x105, &ns), PA_E_OFFLINED, 0x105);
    REFUSED(pr_online(&R, 0x106, &ns), PA_E_FREE_FRAME, 0x106);
    CHECK(pr_alloc(&R, 3, PA_ALLOC_LOW) == 0x108);
    OK(pr_online(&R, 0x105, &ns));
    CHECK(ns == PA_FREE);
    CHECK(pr_alloc(&R, 3, 0) == 0x100);
    /* INUSE -> OFFLINING -> INUSE, in a reserved block: the owner stays. */
    OK(pr_reserve(&R, 0x124, 4, 9));
    OK(pr_offline(&R, 0x126, &ns));
    CHECK(ns == PA_OFFLINING && pr_owner(&R, 0x126) == 9);
    REFUSED(pr_offline(&R, 0x126, &ns), PA_E_OFFLINING, 0x126);
    REFUSED(pr_online(&R, 0x125, &ns), PA_E_INUSE, 0x125);
    OK(pr_online(&R, 0x126, &ns));
    CHECK(ns == PA_INUSE && pr_owner(&R, 0x126) == 9);
    /* Unreserving a block with an offlining frame: it becomes OFFLINED. */
    OK(pr_offline(&R, 0x124, &ns));
    OK(pr_unreserve(&R, 0x124, 4, 9));
    CHECK(states(0x124, "XFFF"));
    CHECK(pr_owner(&R, 0x124) == 0 && pr_owner(&R, 0x125) == 0);
}

HOST_TEST(page_ref_take_release_populate)
{
    fresh(0x100);
    add(0x100, 0x40);
    OK(pr_init_range(&R, 0x100, 0x40));
    /* take: the maximal aligned blocks of [0x103, 0x10d): 1, 4, 4, 1 frames. */
    OK(pr_take(&R, 0x103, 0xa));
    CHECK(states(0x102, "FIIIIIIIIIIF"));
    REFUSED(pr_take(&R, 0x102, 2), PA_E_INUSE, 0x103);
    REFUSED(pr_free(&R, 0x104, 1), PA_E_WRONG_ORDER, 0x104);
    REFUSED(pr_free(&R, 0x104, 3), PA_E_MISALIGNED, 0x104);
    REFUSED(pr_free(&R, 0x105, 0), PA_E_INTERIOR, 0x105);
    REFUSED(pr_free(&R, 0x10c, 1), PA_E_WRONG_ORDER, 0x10c);
    OK(pr_free(&R, 0x104, 2));
    OK(pr_free(&R, 0x103, 0));
    OK(pr_free(&R, 0x10c, 0));
    /* release: FREE, UNINITIALISED and whole owner-0 blocks -> RELEASED. */
    OK(pr_release(&R, 0x110, 8));
    REFUSED(pr_release(&R, 0x10a, 4), PA_E_PARTIAL, 0x108);
    REFUSED(pr_release(&R, 0x100, 0x18), PA_E_RELEASED, 0x110);
    OK(pr_release(&R, 0x100, 0x10));                    /* holds the whole block 0x108 */
    CHECK(states(0x100, "RRRRRRRRRRRRRRRRRRRRRRRRF"));
    REFUSED(pr_release(&R, 0x100, 1), PA_E_RELEASED, 0x100);
    {
        struct snap s;

        snap_take(&s);
        CHECK(pr_release_check(&R, 0x118, 2) == PA_OK);
        CHECK(snap_same(&s));
    }
    /* populate: RELEASED -> FREE. */
    REFUSED(pr_populate(&R, 0x110, 9), PA_E_FREE_FRAME, 0x118);
    OK(pr_populate(&R, 0x104, 4));
    CHECK(states(0x103, "RFFFFR"));
    CHECK(pr_nr_frames(&R, PA_RELEASED) == 0x14 && pr_nr_frames(&R, PA_FREE) == 0x2c);
    /* release of UNINITIALISED frames, and a frame 0 range. */
    fresh(0x10);
    add(0, 0x10);
    OK(pr_release(&R, 1, 0xf));
    CHECK(states(0, "URRRRRRRRRRRRRRR"));
    REFUSED(pr_populate(&R, 0, 2), PA_E_UNINIT, 0);
    OK(pr_populate(&R, 1, 0xf));
    CHECK(pr_alloc(&R, 3, 0) == 8);
}

/* No block is larger than 2^PA_MAX_ORDER frames, even when aligned room allows. */
HOST_TEST(page_ref_max_order)
{
    const pfn_t big = 2ULL << PA_MAX_ORDER;

    fresh(big);
    add(big, big);
    OK(pr_init_range(&R, big, big));
    CHECK(pr_alloc(&R, PA_MAX_ORDER + 1, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, PA_MAX_ORDER, 0) == big);
    OK(pr_free(&R, big, PA_MAX_ORDER));
    /* take and reserve cut the range into blocks of at most PA_MAX_ORDER. */
    OK(pr_take(&R, big, big));
    REFUSED(pr_free(&R, big, PA_MAX_ORDER + 1), PA_E_ORDER, big);
    OK(pr_free(&R, big + (big >> 1), PA_MAX_ORDER));
    OK(pr_free(&R, big, PA_MAX_ORDER));
    OK(pr_release(&R, big, big));
    REFUSED(pr_unscratch(&R, big, 1, PA_UNINITIALISED), PA_E_RELEASED, big);
    OK(pr_scratch(&R, big, 1));
    OK(pr_unscratch(&R, big, 1, PA_UNINITIALISED));
    OK(pr_reserve(&R, big, 1, 1));
    REFUSED(pr_unreserve(&R, big, big, 1), PA_E_RELEASED, big + 1);
    OK(pr_populate(&R, big + 1, big - 1));
    CHECK(pr_alloc(&R, PA_MAX_ORDER, 0) == big + (big >> 1));
    CHECK(pr_alloc(&R, PA_MAX_ORDER, 0) == PA_NO_FRAME);
    CHECK(pr_alloc(&R, PA_MAX_ORDER - 1, 0) == big + (big >> 2));
}

HOST_TEST(page_ref_scratch)
{
    fresh(0x100);
    add(0x100, 0x20);
    OK(pr_release(&R, 0x110, 0x10));
    /* UNINITIALISED and RELEASED -> SCRATCH. */
    OK(pr_scratch(&R, 0x10c, 8));
    CHECK(states(0x10a, "UUSSSSSSSSRR"));
    REFUSED(pr_scratch(&R, 0x10b, 2), PA_E_SCRATCH, 0x10c);
    OK(pr_init_range(&R, 0x100, 4));
    REFUSED(pr_scratch(&R, 0x100, 1), PA_E_FREE_FRAME, 0x100);
    REFUSED(pr_release(&R, 0x10c, 1), PA_E_SCRATCH, 0x10c);
    REFUSED(pr_populate(&R, 0x110, 4), PA_E_SCRATCH, 0x110);
    /* SCRATCH -> `to`: RELEASED or UNINITIALISED only. */
    REFUSED(pr_unscratch(&R, 0x10c, 4, PA_FREE), PA_E_INVAL, 0x10c);
    REFUSED(pr_unscratch(&R, 0x10c, 4, PA_OUTSIDE), PA_E_INVAL, 0x10c);
    REFUSED(pr_unscratch(&R, 0x10a, 4, PA_RELEASED), PA_E_UNINIT, 0x10a);
    OK(pr_unscratch(&R, 0x10c, 4, PA_UNINITIALISED));
    OK(pr_unscratch(&R, 0x110, 4, PA_RELEASED));
    CHECK(states(0x10a, "UUUUUURRRRRR"));
    CHECK(pr_nr_frames(&R, PA_SCRATCH) == 0);
}

HOST_TEST(page_ref_mark_inuse)
{
    fresh(0x100);
    add(0x100, 0x20);
    OK(pr_mark_inuse(&R, 0x108, 3));
    CHECK(states(0x107, "UIIIIIIIIU"));
    CHECK(pr_owner(&R, 0x10a) == 0);
    REFUSED(pr_mark_inuse(&R, 0x10c, 2), PA_E_INUSE, 0x10c);
    REFUSED(pr_mark_inuse(&R, 0x100, 4), PA_E_INUSE, 0x108);
    /* One block of that order: freed as such, and nothing else. */
    REFUSED(pr_free(&R, 0x108, 2), PA_E_WRONG_ORDER, 0x108);
    REFUSED(pr_free(&R, 0x10c, 2), PA_E_INTERIOR, 0x10c);
    OK(pr_free(&R, 0x108, 3));
    CHECK(states(0x107, "UFFFFFFFFU"));
    REFUSED(pr_mark_inuse(&R, 0x108, 0), PA_E_FREE_FRAME, 0x108);
    OK(pr_release(&R, 0x110, 2));
    REFUSED(pr_mark_inuse(&R, 0x110, 1), PA_E_RELEASED, 0x110);
}

/* ---- owners ---------------------------------------------------------------------------- */

HOST_TEST(page_ref_owners)
{
    fresh(0x100);
    add(0x100, 0x40);
    /* reserve: UNINITIALISED only, as the range's maximal aligned blocks. */
    OK(pr_reserve(&R, 0x101, 0xb, PA_MAX_OWNER));        /* 0x101, 0x102-3, 0x104-7, 0x108-b */
    CHECK(states(0x100, "UIIIIIIIIIIIU"));
    CHECK(pr_owner(&R, 0x100) == 0 && pr_owner(&R, 0x105) == PA_MAX_OWNER);
    CHECK(pr_owner(&R, 0x10c) == 0 && pr_owner(&R, 0x200) == 0);
    REFUSED(pr_reserve(&R, 0x10a, 4, 2), PA_E_INUSE, 0x10a);
    /* A reserved block is given back only by unreserve, by its owner, whole. */
    REFUSED(pr_free(&R, 0x104, 2), PA_E_RESERVED, 0x104);
    REFUSED(pr_free(&R, 0x101, 0), PA_E_RESERVED, 0x101);
    REFUSED(pr_release(&R, 0x101, 0xb), PA_E_RESERVED, 0x101);
    REFUSED(pr_unreserve(&R, 0x101, 0xb, 1), PA_E_OWNER, 0x101);
    REFUSED(pr_unreserve(&R, 0x104, 2, PA_MAX_OWNER), PA_E_PARTIAL, 0x104);
    REFUSED(pr_unreserve(&R, 0x100, 4, PA_MAX_OWNER), PA_E_UNINIT, 0x100);
    OK(pr_unreserve(&R, 0x102, 6, PA_MAX_OWNER));        /* two of its blocks */
    CHECK(states(0x100, "UIFFFFFFIIIIU"));
    CHECK(pr_owner(&R, 0x102) == 0 && pr_owner(&R, 0x101) == PA_MAX_OWNER);
    /* Blocks of two owners in one range: the first that is not the caller's. */
    OK(pr_reserve(&R, 0x10c, 4, 5));
    REFUSED(pr_unreserve(&R, 0x108, 8, PA_MAX_OWNER), PA_E_OWNER, 0x10c);
    REFUSED(pr_unreserve(&R, 0x108, 8, 5), PA_E_OWNER, 0x108);
    /* The heap's own blocks are nobody's reservation. */
    CHECK(pr_alloc(&R, 1, 0) == 0x102);
    REFUSED(pr_unreserve(&R, 0x102, 2, 1), PA_E_OWNER, 0x102);
    OK(pr_free(&R, 0x102, 1));
    OK(pr_unreserve(&R, 0x108, 4, PA_MAX_OWNER));
    OK(pr_unreserve(&R, 0x10c, 4, 5));
    OK(pr_unreserve(&R, 0x101, 1, PA_MAX_OWNER));
    CHECK(states(0x100, "UFFFFFFFFFFFFFFFU"));
    CHECK(pr_nr_frames(&R, PA_INUSE) == 0 && pr_nr_frames(&R, PA_FREE) == 0xf);
    /* Owners 1..PA_MAX_OWNER. */
    REFUSED(pr_reserve(&R, 0x110, 1, 0), PA_E_INVAL, 0x110);
    REFUSED(pr_reserve(&R, 0x110, 1, PA_MAX_OWNER + 1), PA_E_INVAL, 0x110);
    REFUSED(pr_unreserve(&R, 0x110, 1, ~0U), PA_E_INVAL, 0x110);
    OK(pr_reserve(&R, 0x110, 1, 1));
    CHECK(pr_owner(&R, 0x110) == 1);
}

/* ---- counters and the checker ------------------------------------------------------------ */

HOST_TEST(page_ref_counters)
{
    fresh(0x100);
    add(0x100, 0x40);
    CHECK(pr_add_range_unbacked(&R, 0x200, 0x10) == PA_OK);
    CHECK(pr_nr_frames(&R, PA_UNINITIALISED) == 0x40 && pr_nr_frames(&R, PA_RELEASED) == 0x10);
    OK(pr_init_range(&R, 0x100, 0x20));
    OK(pr_reserve(&R, 0x120, 8, 4));
    OK(pr_offline(&R, 0x121, &ns));
    OK(pr_offline(&R, 0x101, &ns));
    OK(pr_scratch(&R, 0x200, 3));
    OK(pr_populate(&R, 0x208, 8));
    CHECK(pr_nr_frames(&R, PA_UNINITIALISED) == 0x18);
    CHECK(pr_nr_frames(&R, PA_FREE) == 0x1f + 8);
    CHECK(pr_nr_frames(&R, PA_INUSE) == 7);
    CHECK(pr_nr_frames(&R, PA_OFFLINING) == 1);
    CHECK(pr_nr_frames(&R, PA_OFFLINED) == 1);
    CHECK(pr_nr_frames(&R, PA_RELEASED) == 5);
    CHECK(pr_nr_frames(&R, PA_SCRATCH) == 3);
    CHECK(R.range[0].nr_free == 0x1f && R.range[1].nr_free == 8);
    OK(pr_unreserve(&R, 0x120, 8, 4));
    CHECK(pr_nr_frames(&R, PA_OFFLINED) == 2 && pr_nr_frames(&R, PA_OFFLINING) == 0);
    CHECK(pr_nr_frames(&R, PA_FREE) == 0x1f + 7 + 8);
}

/* Plant one fault, expect PA_E_CORRUPT naming `frame`, then undo it. */
static void expect_corrupt(pfn_t frame, const char *what)
{
    struct pa_violation v;

    CHECKF(pr_check(&R, &v) == PA_E_CORRUPT && v.err == PA_E_CORRUPT && v.what,
           "planted: %s: not caught", what);
    CHECKF(v.frame == frame, "planted: %s: reported at %#llx (%s), want %#llx", what,
           (unsigned long long)v.frame, v.what ? v.what : "", (unsigned long long)frame);
}

HOST_TEST(page_ref_check_catches_corruption)
{
    struct pr_frame keep;
    struct pr_range kr;
    uint64_t kc;

    fresh(0x100);
    add(0, 0x20);
    add(0x100, 0x40);
    OK(pr_init_range(&R, 0, 0x20));
    OK(pr_reserve(&R, 0x108, 8, 3));
    OK(pr_offline(&R, 0x10a, &ns));
    CHECK(consistent());
#define PLANT(idx, field, val, frame, what) do {                                \
    keep = T[idx];                                                              \
    T[idx].field = (val);                                                       \
    expect_corrupt(frame, what);                                                \
    T[idx] = keep;                                                              \
} while (0)
    /* Table indices: [0, 0x20) at 0, [0x100, 0x140) at 0x20. */
    PLANT(0x25, state, PA_NR_STATES, 0x105, "invalid state");
    PLANT(0x25, state, 0xff, 0x105, "invalid state");
    PLANT(0, state, PA_FREE, 0, "frame 0 FREE");
    PLANT(0x24, order, 1, 0x104, "order on a FREE frame");
    PLANT(0x24, owner, 2, 0x104, "owner on a FREE frame");
    PLANT(0x2b, order, 2, 0x10b, "in-use frame disagreeing on the order");
    PLANT(0x2f, owner, 4, 0x10f, "in-use frame disagreeing on the owner");
    PLANT(0x28, order, 2, 0x109, "block smaller than its frames say");
    PLANT(0x28, order, 4, 0x108, "block larger than its frames say (not aligned)");
    PLANT(0x28, order, PA_MAX_ORDER + 1, 0x108, "order above the maximum");
    PLANT(0x2f, state, PA_FREE, 0x10f, "FREE frame inside an in-use block");
    /* An in-use frame whose order names a block it is not the first frame of. */
    keep = T[0x27];
    T[0x27] = (struct pr_frame){ .state = PA_INUSE, .order = 3 };
    expect_corrupt(0x107, "in-use frame outside the block its order names");
    T[0x27] = keep;
    /* A block past its range's end: [0x13c, 0x140) made order 3 (aligned at 0x138). */
    OK(pr_reserve(&R, 0x13c, 4, 1));
    for (unsigned j = 0x5c; j < 0x60; j++)
        T[j].order = 3;
    expect_corrupt(0x13c, "block starting before its frames");
    for (unsigned j = 0x5c; j < 0x60; j++)
        T[j].order = 2;
    CHECK(consistent());
    /* A block running past the range's end: range [0x100, 0x13e). */
    fresh(0x100);
    add(0x100, 0x3e);
    OK(pr_mark_inuse(&R, 0x138, 2));
    R.range[0].end = 0x13a;     /* what the check sees if the range shrank */
    R.used -= 4;
    R.count[PA_UNINITIALISED] -= 4;
    expect_corrupt(0x138, "block past the end of its range");
    fresh(0x100);
    add(0x100, 0x40);
    add(0x200, 0x10);
    OK(pr_init_range(&R, 0x100, 0x40));
    /* Counters and range bookkeeping. */
    kc = R.count[PA_FREE];
    R.count[PA_FREE]++;
    expect_corrupt(PA_NO_FRAME, "state counter");
    R.count[PA_FREE] = kc;
    R.range[0].nr_free--;
    expect_corrupt(0x100, "range free count");
    R.range[0].nr_free++;
    kr = R.range[1];
    R.range[1].start = 0x13f;
    R.range[1].end = 0x13f + 0x10;
    expect_corrupt(0x13f, "overlapping ranges");
    R.range[1] = kr;
    R.range[1].base++;
    expect_corrupt(0x200, "range base");
    R.range[1] = kr;
    R.range[1].end = R.range[1].start;
    expect_corrupt(0x200, "empty range");
    R.range[1] = kr;
    R.used++;
    expect_corrupt(PA_NO_FRAME, "table use");
    R.used--;
    R.capacity = 0x40;
    expect_corrupt(0x200, "capacity");
    R.capacity = 0x100;
    CHECK(consistent());
#undef PLANT
}

HOST_TEST(page_state_names_and_errors)
{
    /* Every error code has a sentence of its own. */
    for (int e = 0; e < PA_NR_ERRS; e++) {
        CHECKF(strcmp(pa_strerror(e), "unknown error") != 0, "error %d has no sentence", e);
        for (int f = 0; f < e; f++)
            CHECKF(strcmp(pa_strerror(e), pa_strerror(f)) != 0, "errors %d and %d read alike",
                   e, f);
    }
    CHECK(!strcmp(pa_strerror(PA_NR_ERRS), "unknown error"));
    CHECK(!strcmp(pa_strerror(-1), "unknown error"));
    CHECK(!strcmp(pa_state_name(PA_OFFLINING), "offlining"));
    CHECK(!strcmp(pa_state_name(PA_OUTSIDE), "outside"));
    CHECK(!strcmp(pa_state_name(PA_OUTSIDE + 1), "?"));
}

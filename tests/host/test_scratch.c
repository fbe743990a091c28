/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host tests for the scratch pool (mm/scratch.c) on the real frame table
 * (mm/page_alloc.c): unit tests for each rule, and a randomized test
 * against a naive model of which frames are handed out.
 */
#include <stdlib.h>
#include <string.h>
#include <pvhk/scratch.h>
#include <pvhk/page_alloc.h>
#include "harness.h"

/* RAM [1, 4096), extra memory [8192, 12288) and [16384, 16384 + 1024). */
#define RAM_START   1
#define RAM_END     4096
#define X1_START    8192
#define X1_N        4096
#define X2_START    16384
#define X2_N        1024

static struct page_alloc pa;
static struct pa_frame table[RAM_END + X1_N + X2_N + 256];
static struct extra_mem em;
static struct scratch_pool sp;

static void setup(void)
{
    struct scratch_frame_ops ops;

    pa_setup(&pa, table, ARRAY_SIZE(table), 0);
    REQUIRE(pa_add_range(&pa, RAM_START, RAM_END - RAM_START) == 0);
    REQUIRE(pa_add_range(&pa, X1_START, X1_N) == 0);
    REQUIRE(pa_add_range(&pa, X2_START, X2_N) == 0);
    REQUIRE(pa_init_range(&pa, RAM_START, RAM_END - RAM_START) == 0);
    /* Extra memory was never backed: RELEASED from the start. */
    REQUIRE(pa_release(&pa, X1_START, X1_N) == 0);
    REQUIRE(pa_release(&pa, X2_START, X2_N) == 0);
    extra_mem_init(&em);
    REQUIRE(extra_mem_add(&em, X1_START, X1_N, EXTRA_MEM_UNUSABLE) == 0);
    REQUIRE(extra_mem_add(&em, X2_START, X2_N, EXTRA_MEM_UNUSABLE) == 0);
    scratch_pa_ops(&ops, &pa);
    scratch_init(&sp, &em, &ops);
}

static bool all_state(uint64_t pfn, uint64_t n, enum pa_state s)
{
    for (uint64_t f = pfn; f < pfn + n; f++)
        if (pa_state(&pa, f) != s)
            return false;
    return true;
}

HOST_TEST(scratch_get_put_rules)
{
    uint64_t a, b, bad = 0;

    setup();
    CHECK(scratch_available(&sp) == X1_N + X2_N);
    CHECK(scratch_get(&sp, 16, 16, &a) == 0);
    CHECK(IS_ALIGNED(a, 16) && extra_mem_contains(&em, a, 16));
    CHECK(all_state(a, 16, PA_SCRATCH));
    CHECK(sp.nr_out == 16);
    CHECK(scratch_get(&sp, 1, 0, &b) == 0);
    CHECK(b < a || b >= a + 16);
    /* Back in pieces is fine... */
    CHECK(scratch_put(&sp, a, 8, NULL) == 0);
    CHECK(scratch_put(&sp, a + 8, 8, NULL) == 0);
    CHECK(all_state(a, 16, PA_RELEASED));
    /* ...twice is not: a double return names the frame. */
    CHECK(scratch_put(&sp, a + 4, 2, &bad) == -XEN_ENOENT && bad == a + 4);
    /* A frame outside the registered ranges (RAM, a hole) is refused. */
    CHECK(scratch_put(&sp, 100, 1, &bad) == -XEN_EINVAL);
    CHECK(scratch_put(&sp, 6000, 1, NULL) == -XEN_EINVAL);
    CHECK(scratch_put(&sp, X1_START + X1_N - 1, 2, NULL) == -XEN_EINVAL);
    /* Partly handed out: nothing changes. */
    CHECK(scratch_put(&sp, b, 2, &bad) == -XEN_ENOENT && bad == b + 1);
    CHECK(pa_state(&pa, b) == PA_SCRATCH);
    CHECK(scratch_put(&sp, b, 1, NULL) == 0);
    CHECK(sp.nr_out == 0 && sp.st.bad_puts == 5);
    /* Bad arguments. */
    CHECK(scratch_get(&sp, 0, 1, &a) == -XEN_EINVAL);
    CHECK(scratch_get(&sp, 4, 3, &a) == -XEN_EINVAL);
}

HOST_TEST(scratch_exhaustion_is_reported)
{
    uint64_t a;
    unsigned got = 0;

    setup();
    while (scratch_get(&sp, 64, 64, &a) == 0)
        got++;
    CHECK(got == (X1_N + X2_N) / 64);
    CHECK(scratch_get(&sp, 1, 1, &a) == -XEN_ENOMEM);
    CHECK(sp.st.exhausted == 2);
    /* Larger than any region: never. */
    setup();
    CHECK(scratch_get(&sp, X1_N + 1, 1, &a) == -XEN_ENOMEM);
    /* Alignment that no region start satisfies within its size. */
    CHECK(scratch_get(&sp, 1024, 8192, &a) == 0 && a == X1_START);
    CHECK(scratch_get(&sp, 1024, 16384, &a) == 0 && a == X2_START);
    CHECK(scratch_get(&sp, 1, 16384, &a) == -XEN_ENOMEM);
}

/* A frame the balloon populated is in the heap: never handed out. */
HOST_TEST(scratch_never_hands_out_frames_in_use)
{
    uint64_t a;

    setup();
    REQUIRE(pa_populate(&pa, X2_START, X2_N) == 0);        /* balloon took X2 */
    REQUIRE(pa_populate(&pa, X1_START + 100, 1) == 0);     /* and one of X1 */
    for (;;) {
        if (scratch_get(&sp, 1, 1, &a))
            break;
        CHECK(a != X1_START + 100 && (a < X2_START || a >= X2_START + X2_N));
    }
    CHECK(sp.nr_out == X1_N - 1);
    /* A frame in the heap is not "handed out" either. */
    CHECK(scratch_put(&sp, X1_START + 100, 1, NULL) == -XEN_ENOENT);
}

/* domU: RAM frames released to Xen become scratch space. */
HOST_TEST(scratch_register_released_ram)
{
    uint64_t a, bad = 0;

    setup();
    /* Backed RAM (FREE in the heap) cannot be registered. */
    CHECK(scratch_register(&sp, 512, 64, SCRATCH_FROM_RELEASED_RAM, &bad) == -XEN_EBUSY);
    CHECK(bad == 512);
    REQUIRE(pa_release(&pa, 512, 64) == 0);    /* what p2m_release() does */
    CHECK(scratch_register(&sp, 512, 64, SCRATCH_FROM_RELEASED_RAM, NULL) == 0);
    CHECK(extra_mem_find(&em, 520)->origin == EXTRA_MEM_RELEASED_RAM);
    CHECK(scratch_register(&sp, 512, 1, SCRATCH_FROM_RELEASED_RAM, NULL) == -XEN_EEXIST);
    CHECK(scratch_get(&sp, 64, 64, &a) == 0);
    CHECK(extra_mem_contains(&em, a, 64));
    CHECK(scratch_put(&sp, a, 64, NULL) == 0);
}

/* ---- randomized against a naive model ------------------------------------ */
static uint64_t rs;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

enum { F_AVAIL, F_OUT, F_HEAP };
static uint8_t model[X2_START + X2_N];

static bool model_has_run(uint64_t count, uint64_t align)
{
    const uint64_t rs_[2][2] = { { X1_START, X1_N }, { X2_START, X2_N } };

    for (int r = 0; r < 2; r++)
        for (uint64_t c = ALIGN_UP(rs_[r][0], align);
             c + count <= rs_[r][0] + rs_[r][1]; c += align) {
            uint64_t k = 0;
            while (k < count && model[c + k] == F_AVAIL)
                k++;
            if (k == count)
                return true;
        }
    return false;
}

HOST_TEST(scratch_random_vs_model)
{
    struct { uint64_t pfn, n; } live[256];
    unsigned nlive, rounds = host_soak ? 200 : 20, steps = 400;

    for (unsigned round = 0; round < rounds; round++) {
        bool ok = true;

        setup();
        rs = 1000 + round;
        nlive = 0;
        memset(model, F_AVAIL, sizeof(model));
        for (unsigned k = 0; k < steps && ok; k++) {
            uint64_t op = rnd() % 10, a, bad;

            if (op < 4 && nlive < ARRAY_SIZE(live)) {
                uint64_t n = 1 + rnd() % 96, al = 1ULL << (rnd() % 8);
                int rc = scratch_get(&sp, n, al, &a);
                bool exists = model_has_run(n, al);

                ok = (rc == 0) == exists;
                CHECKF(ok, "round %u step %u: get %lu/%lu rc %d, model %d", round,
                       k, (unsigned long)n, (unsigned long)al, rc, exists);
                if (rc == 0) {
                    ok = IS_ALIGNED(a, al) && extra_mem_contains(&em, a, n);
                    for (uint64_t f = a; ok && f < a + n; f++) {
                        ok = model[f] == F_AVAIL;
                        model[f] = F_OUT;
                    }
                    CHECKF(ok, "round %u step %u: bad run %#lx+%lu", round, k,
                           (unsigned long)a, (unsigned long)n);
                    live[nlive].pfn = a;
                    live[nlive++].n = n;
                }
            } else if (op < 7 && nlive) {
                unsigned i = rnd() % nlive;
                CHECK(scratch_put(&sp, live[i].pfn, live[i].n, NULL) == 0);
                memset(model + live[i].pfn, F_AVAIL, live[i].n);
                /* ...and again: a double return is always caught. */
                CHECK(scratch_put(&sp, live[i].pfn, live[i].n, &bad) == -XEN_ENOENT);
                live[i] = live[--nlive];
            } else if (op < 8) {
                /* A bad return somewhere: refused unless it is all out. */
                uint64_t f = X1_START - 64 + rnd() % (X2_START + X2_N - X1_START + 128);
                uint64_t n = 1 + rnd() % 8;
                bool all_out = extra_mem_contains(&em, f, n);
                for (uint64_t g = f; all_out && g < f + n; g++)
                    all_out = model[g] == F_OUT;
                if (!all_out)
                    CHECK(scratch_put(&sp, f, n, NULL) != 0);
            } else {
                /* The balloon takes or gives back a frame of extra memory. */
                uint64_t f = rnd() % 2 ? X1_START + rnd() % X1_N : X2_START + rnd() % X2_N;
                if (model[f] == F_AVAIL) {
                    CHECK(pa_populate(&pa, f, 1) == 0);
                    model[f] = F_HEAP;
                } else if (model[f] == F_HEAP) {
                    CHECK(pa_release(&pa, f, 1) == 0);
                    model[f] = F_AVAIL;
                }
            }
        }
        /* The frame table agrees with the model everywhere. */
        uint64_t out = 0;
        for (uint64_t f = X1_START; f < X2_START + X2_N; f++) {
            enum pa_state s = pa_state(&pa, f);
            if (!extra_mem_find(&em, f))
                continue;
            out += model[f] == F_OUT;
            if ((model[f] == F_OUT) != (s == PA_SCRATCH) ||
                (model[f] == F_AVAIL) != (s == PA_RELEASED)) {
                CHECKF(0, "round %u pfn %#lx: model %u, state %s", round,
                       (unsigned long)f, model[f], pa_state_name(s));
                break;
            }
        }
        CHECK(out == sp.nr_out);
        struct pa_violation v;
        CHECK(pa_check(&pa, &v) == 0);
        if (!ok)
            break;
    }
}

/* ---- boundaries ------------------------------------------------------------ */

/* Next fit: a get goes on after the last one, not back to freed frames. */
HOST_TEST(scratch_next_fit_and_default_alignment)
{
    uint64_t a, b, c, d, bad = 0;

    setup();
    CHECK(scratch_get(&sp, 1, 0, &a) == 0 && a == X1_START);
    CHECK(scratch_get(&sp, 1, 0, &b) == 0 && b == a + 1);   /* align 0: none */
    CHECK(scratch_put(&sp, a, 1, NULL) == 0);
    CHECK(scratch_get(&sp, 1, 1, &c) == 0 && c == b + 1);
    /* A refused return outside the regions names its first frame. */
    CHECK(scratch_put(&sp, 100, 3, &bad) == -XEN_EINVAL && bad == 100);
    /* The last frame of a region is handed out, and after it the search
     * starts again at the region's first frame. */
    setup();
    CHECK(scratch_get(&sp, X1_N - 1, 1, &a) == 0 && a == X1_START);
    CHECK(scratch_get(&sp, 1, 1, &b) == 0 && b == X1_START + X1_N - 1);
    CHECK(scratch_put(&sp, X1_START + 5, 1, NULL) == 0);
    CHECK(scratch_get(&sp, 1, 1, &d) == 0 && d == X1_START + 5);
}

/* The frame table is asked to claim only runs inside one region. */
static struct scratch_frame_ops real_ops;
static uint64_t claims, bad_claims;

static int claim_checked(void *ft, uint64_t pfn, uint64_t count)
{
    claims++;
    if (!extra_mem_contains(&em, pfn, count))
        bad_claims++;
    return real_ops.claim(ft, pfn, count);
}

/*
 * Regions folded together (the table shifts under the pool's hint), frames
 * RELEASED next to a region but not registered: the pool hands out and
 * counts registered frames only.
 */
HOST_TEST(scratch_hint_after_regions_fold)
{
    struct scratch_frame_ops ops;
    uint64_t a;

    setup();
    scratch_pa_ops(&real_ops, &pa);
    ops = real_ops;
    ops.claim = claim_checked;
    scratch_init(&sp, &em, &ops);
    claims = bad_claims = 0;
    /* RAM [100, 150) released; three pieces registered, [130, 140) not. */
    REQUIRE(pa_release(&pa, 100, 50) == 0);
    REQUIRE(scratch_register(&sp, 100, 10, SCRATCH_FROM_RELEASED_RAM, NULL) == 0);
    REQUIRE(scratch_register(&sp, 120, 10, SCRATCH_FROM_RELEASED_RAM, NULL) == 0);
    REQUIRE(scratch_register(&sp, 140, 10, SCRATCH_FROM_RELEASED_RAM, NULL) == 0);
    CHECK(scratch_available(&sp) == 30 + X1_N + X2_N);
    /* After a run from [120, 130) the hint is region 1, at frame 130. */
    CHECK(scratch_get(&sp, 1, 1, &a) == 0 && a == 100);
    CHECK(scratch_put(&sp, 100, 1, NULL) == 0);
    CHECK(scratch_get(&sp, 10, 1, &a) == 0 && a == 120);
    CHECK(scratch_put(&sp, 120, 10, NULL) == 0);
    /* [110, 120) folds regions 0 and 1: region 1 is now [140, 150). */
    REQUIRE(scratch_register(&sp, 110, 10, SCRATCH_FROM_RELEASED_RAM, NULL) == 0);
    REQUIRE(em.nr_regions == 4);
    CHECK(scratch_available(&sp) == 40 + X1_N + X2_N);
    /* 15 frames: not from the stale hint (130: across the gap), but
     * from the first region that has them. */
    CHECK(scratch_get(&sp, 15, 1, &a) == 0 && extra_mem_contains(&em, a, 15));
    CHECK(bad_claims == 0 && claims > 0);
    /* Exhausted: no claim at all for a run that does not exist. */
    claims = 0;
    CHECK(scratch_get(&sp, X1_N + 1, 1, &a) == -XEN_ENOMEM && claims == 0);
}

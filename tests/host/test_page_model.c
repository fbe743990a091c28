/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast page allocator (mm/page_alloc.c) and the reference allocator
 * (mm/page_ref.c) in lockstep against the contract's model (page_model.h):
 *   - a differential random test: millions of random operations, good and
 *     bad, applied to all three; after every step the per-frame states,
 *     owners and counts agree, every error code and err_frame agrees, both
 *     checkers pass, and every allocation result is one the model's policy
 *     predicate allows. Allocations are led in turn by the fast and the
 *     reference allocator (each may pick any block the policy allows); the
 *     other follows with pa_take()/pr_take() of the block chosen;
 *   - an exhaustive test: every operation sequence up to a fixed depth on
 *     a 16-frame heap with a gap and frame 0, from several starting states.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "page_model.h"
#include <pvhk/page_ref.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct rig {
    struct page_alloc pa;
    struct page_ref r;
    struct pm m;
    struct pa_frame *table;
    struct pr_frame *rtable;
    uint64_t cap;
    unsigned failures;      /* stop a run after the first disagreement */
};

/* Ranges whose bit is set in `unbacked` are registered unbacked (RELEASED). */
static void rig_setup(struct rig *g, const pfn_t (*ranges)[2], unsigned nr, bool garbage,
                      unsigned unbacked)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < nr; i++)
        total += ranges[i][1];
    g->cap = total;
    g->table = malloc(pa_table_bytes(total) + 16);
    /* Garbage storage proves entries are never read before their chunk is touched. */
    memset(g->table, garbage ? 0xa5 : 0, pa_table_bytes(total));
    pa_setup(&g->pa, g->table, total, garbage ? 0 : PA_TABLE_ZEROED);
    g->rtable = malloc(pr_table_bytes(total) + 16);
    memset(g->rtable, garbage ? 0xa5 : 0, pr_table_bytes(total));
    pr_setup(&g->r, g->rtable, total, garbage ? 0 : PA_TABLE_ZEROED);
    memset(&g->m, 0, sizeof(g->m));
    for (unsigned i = 0; i < nr; i++) {
        int rc, rrc;

        if (unbacked & (1U << i)) {
            rc = pa_add_range_unbacked(&g->pa, ranges[i][0], ranges[i][1]);
            rrc = pr_add_range_unbacked(&g->r, ranges[i][0], ranges[i][1]);
            CHECK(rc == pm_add_range_unbacked(&g->m, ranges[i][0], ranges[i][1]));
        } else {
            rc = pa_add_range(&g->pa, ranges[i][0], ranges[i][1]);
            rrc = pr_add_range(&g->r, ranges[i][0], ranges[i][1]);
            pm_add_range(&g->m, ranges[i][0], ranges[i][1]);
        }
        CHECKF(rc == 0 && rrc == 0, "range %u: fast %d, reference %d", i, rc, rrc);
    }
    g->failures = 0;
}

static void rig_free(struct rig *g)
{
    free(g->table);
    free(g->rtable);
}

/* Which CPU's cache holds each frame, read from the fast allocator's stacks
 * into the model (pm.hold: CPU + 1, 0 for none). */
static void rig_holders(struct rig *g)
{
    memset(g->m.hold, 0, sizeof(g->m.hold));
    for (unsigned c = 0; c < PA_MAX_CPUS; c++)
        for (unsigned z = 0; z < PA_NR_ZONES; z++)
            for (unsigned k = 0; k < PA_CACHE_ORDERS; k++)
                for (uint32_t j = 0; j < g->pa.cpu[c].st[k][z].nr; j++) {
                    uint32_t idx = g->pa.cpu[c].st[k][z].idx[j];
                    pfn_t f = idx + g->pa.delta[g->table[idx].rid];

                    for (pfn_t q = f; q < f + (1ULL << k); q++)
                        g->m.hold[pm_ix(&g->m, q)] = (uint8_t)(c + 1);
                }
}

/* Compare everything; returns false (and reports) on the first difference. */
static bool rig_compare(struct rig *g, const char *op, uint64_t step, bool full)
{
    static uint8_t buf[PM_MAX_FRAMES];
    struct pa_violation v;

    for (unsigned i = 0; i < g->m.nr; i++) {
        pfn_t s = g->m.start[i], n = g->m.end[i] - s;

        for (int who = 0; who < 2; who++) {
            if (who)
                pr_states(&g->r, s, n, buf);
            else
                pa_states(&g->pa, s, n, buf);
            for (pfn_t j = 0; j < n; j++) {
                if (buf[j] != g->m.st[g->m.base[i] + j]) {
                    CHECKF(false, "step %llu (%s): frame %#llx is %s in the %s allocator, "
                           "model says %s", (unsigned long long)step, op,
                           (unsigned long long)(s + j), pa_state_name(buf[j]),
                           who ? "reference" : "fast",
                           pa_state_name(g->m.st[g->m.base[i] + j]));
                    g->failures++;
                    return false;
                }
            }
        }
    }
    for (unsigned i = 0; i < g->m.nr && (step % 4 == 0 || full); i++)
        for (pfn_t f = g->m.start[i]; f < g->m.end[i]; f++)
            if (pa_owner(&g->pa, f) != pm_owner(&g->m, f) ||
                pr_owner(&g->r, f) != pm_owner(&g->m, f)) {
                CHECKF(false, "step %llu (%s): frame %#llx has owner %u (reference %u), "
                       "model says %u", (unsigned long long)step, op, (unsigned long long)f,
                       pa_owner(&g->pa, f), pr_owner(&g->r, f), pm_owner(&g->m, f));
                g->failures++;
                return false;
            }
    for (unsigned st = 0; st < PA_NR_STATES && (step % 4 == 0 || full); st++)
        if (pa_nr_frames(&g->pa, st) != pm_count(&g->m, st) ||
            pr_nr_frames(&g->r, st) != pm_count(&g->m, st)) {
            CHECKF(false, "step %llu (%s): %llu frames %s (reference %llu), model says %llu",
                   (unsigned long long)step, op,
                   (unsigned long long)pa_nr_frames(&g->pa, st), pa_state_name(st),
                   (unsigned long long)pr_nr_frames(&g->r, st),
                   (unsigned long long)pm_count(&g->m, st));
            g->failures++;
            return false;
        }
    /* A cached frame is FREE, and pa_cache_cpu() names the CPU whose stack holds it. */
    if (step % 4 == 0 || full) {
        rig_holders(g);
        for (unsigned i = 0; i < g->m.nr; i++)
            for (pfn_t f = g->m.start[i]; f < g->m.end[i]; f++) {
                unsigned h = g->m.hold[pm_ix(&g->m, f)];

                /* pa_cache_cpu() is O(log) per frame: on full comparisons only. */
                if ((h && pm_st(&g->m, f) != PA_FREE) ||
                    (full && (pa_cache_cpu(&g->pa, f) != (int)h - 1 ||
                              pr_cache_cpu(&g->r, f) != PA_NO_CPU))) {
                    CHECKF(false, "step %llu (%s): frame %#llx is %s, held by CPU %d's stack, "
                           "pa_cache_cpu() says %d", (unsigned long long)step, op,
                           (unsigned long long)f, pa_state_name(pm_st(&g->m, f)), (int)h - 1,
                           pa_cache_cpu(&g->pa, f));
                    g->failures++;
                    return false;
                }
            }
    }
    /* The checker is O(frames) too; every few steps and at the end is enough. */
    if ((step % 4 == 0 || full) && pa_check(&g->pa, &v)) {
        CHECKF(false, "step %llu (%s): checker: %s at %#llx", (unsigned long long)step, op,
               v.what, (unsigned long long)v.frame);
        g->failures++;
        return false;
    }
    if ((step % 4 == 0 || full) && pr_check(&g->r, &v)) {
        CHECKF(false, "step %llu (%s): reference checker: %s at %#llx",
               (unsigned long long)step, op, v.what, (unsigned long long)v.frame);
        g->failures++;
        return false;
    }
    return true;
}

/* The fast allocator's answer, the reference's and the model's agree, and
 * so does the frame a refusal names. */
static bool rc_agree(struct rig *g, int real, int ref, int model, const char *op, pfn_t a,
                     uint64_t b, uint64_t step)
{
    if (real == model && ref == model &&
        (!real || (g->pa.err_frame == g->m.err && g->r.err_frame == g->m.err)))
        return true;
    if (real == model && ref == model) {
        CHECKF(false, "step %llu: %s(%#llx, %#llx): '%s' names frame %#llx (reference "
               "%#llx), model %#llx", (unsigned long long)step, op, (unsigned long long)a,
               (unsigned long long)b, pa_strerror(real), (unsigned long long)g->pa.err_frame,
               (unsigned long long)g->r.err_frame, (unsigned long long)g->m.err);
        g->failures++;
        return false;
    }
    CHECKF(false, "step %llu: %s(%#llx, %#llx): allocator says '%s', reference '%s', "
           "model '%s'", (unsigned long long)step, op, (unsigned long long)a,
           (unsigned long long)b, pa_strerror(real), pa_strerror(ref), pa_strerror(model));
    g->failures++;
    return false;
}

/* No CPU: pa_alloc()/pa_free() themselves. */
#define NOCPU   (~0U)

static pfn_t alloc_fast(struct rig *g, unsigned cpu, unsigned k, unsigned flags)
{
    return cpu == NOCPU ? pa_alloc(&g->pa, k, flags) : pa_alloc_on(&g->pa, cpu, k, flags);
}

static pfn_t alloc_ref(struct rig *g, unsigned cpu, unsigned k, unsigned flags)
{
    return cpu == NOCPU ? pr_alloc(&g->r, k, flags) : pr_alloc_on(&g->r, cpu, k, flags);
}

/*
 * Allocation: the leader's result must be one the policy allows (page_model.h's
 * predicate over the heap before the call: for an allocation on a CPU, over
 * the lists and that CPU's cache, or the whole heap when those hold no
 * suitable block); the follower takes the same block (or, when there is
 * none, must find none either), then the model records it. The fast
 * allocator leads on even steps, the reference on odd.
 */
static bool do_alloc(struct rig *g, unsigned cpu, unsigned k, unsigned flags, uint64_t step,
                     pfn_t *got)
{
    bool ref_leads = step & 1;
    pfn_t f;
    int rc = 0;

    if (ref_leads)
        memset(g->m.hold, 0, sizeof(g->m.hold));    /* the reference caches nothing */
    else
        rig_holders(g);
    f = ref_leads ? alloc_ref(g, cpu, k, flags) : alloc_fast(g, cpu, k, flags);
    *got = f;
    if (!pm_policy_allows_on(&g->m, k, flags, f, cpu == NOCPU ? 0 : cpu + 1)) {
        CHECKF(false, "step %llu: alloc(%u, %#x) on CPU %d gave %#llx in the %s allocator, "
               "which the policy does not allow", (unsigned long long)step, k, flags,
               (int)cpu, (unsigned long long)f, ref_leads ? "reference" : "fast");
        g->failures++;
        return false;
    }
    if (f == PA_NO_FRAME) {
        pfn_t other = ref_leads ? alloc_fast(g, cpu, k, flags) : alloc_ref(g, cpu, k, flags);

        if (other != PA_NO_FRAME) {
            CHECKF(false, "step %llu: alloc(%u, %#x): the %s allocator found %#llx, the "
                   "other none", (unsigned long long)step, k, flags,
                   ref_leads ? "fast" : "reference", (unsigned long long)other);
            g->failures++;
            return false;
        }
        return true;
    }
    rc = ref_leads ? pa_take(&g->pa, f, 1ULL << k) : pr_take(&g->r, f, 1ULL << k);
    if (rc) {
        CHECKF(false, "step %llu: alloc(%u, %#x) gave %#llx; the %s allocator cannot take "
               "it: %s", (unsigned long long)step, k, flags, (unsigned long long)f,
               ref_leads ? "fast" : "reference", pa_strerror(rc));
        g->failures++;
        return false;
    }
    pm_alloc_at(&g->m, f, k);
    return true;
}

/* A random frame: mostly inside the ranges, sometimes in a gap or beyond. */
static pfn_t rnd_frame(struct rig *g)
{
    unsigned i = rn(g->m.nr);
    pfn_t s = g->m.start[i], n = g->m.end[i] - s;

    switch (rn(16)) {
    case 0: return s ? s - 1 - rn(3) : g->m.end[i] + rn(3);
    case 1: return g->m.end[i] + rn(3);
    default: return s + rn((unsigned)n);
    }
}

struct live {
    pfn_t f;
    unsigned k;
};

static const pfn_t diff_ranges[][2] = {
    { 0x0, 0x40 },              /* frame 0 */
    { 0x3ffc0, 0x80 },          /* crosses a chunk boundary */
    { 0xfffc0, 0x80 },          /* crosses the 4 GiB zone line */
    { 0x100040, 0x40 },         /* adjacent to the previous: never merges */
    { 0x200001, 0x31 },         /* odd alignment */
};

static const char *const opname[] = {
    "alloc", "free", "badfree", "init", "defer", "offline", "online", "take",
    "release", "populate", "scratch", "unscratch", "mark_inuse", "init_all", "reserve",
    "unreserve", "drain",
};

/* The CPU of an allocation or a free: mostly one of three, sometimes none. */
static unsigned rnd_cpu(void)
{
    return rn(4) ? rn(3) : NOCPU;
}

static int free_fast(struct rig *g, unsigned cpu, pfn_t f, unsigned k)
{
    return cpu == NOCPU ? pa_free(&g->pa, f, k) : pa_free_on(&g->pa, cpu, f, k);
}

static int free_ref(struct rig *g, unsigned cpu, pfn_t f, unsigned k)
{
    return cpu == NOCPU ? pr_free(&g->r, f, k) : pr_free_on(&g->r, cpu, f, k);
}

/* Sets of diff_ranges registered unbacked (extra memory), one per run in turn. */
static const unsigned diff_unbacked[] = {
    0,
    1U << 1,                    /* across a chunk boundary */
    1U << 2 | 1U << 3,          /* both sides of the 4 GiB line, adjacent */
    1U << 1 | 1U << 4,          /* and the odd start */
};

static void diff_run(uint64_t seed, uint64_t steps, bool garbage, unsigned unbacked)
{
    static struct rig g;
    static struct live live[PM_MAX_FRAMES];
    unsigned nlive = 0;

    rng_state = seed;
    rig_setup(&g, diff_ranges, ARRAY_SIZE(diff_ranges), garbage, unbacked);
    for (uint64_t step = 0; step < steps && !g.failures; step++) {
        unsigned op = rn(100), k, ns = 0, rs = 0, ms = 0, cpu = rnd_cpu();
        pfn_t f = rnd_frame(&g), got;
        uint64_t n = 1 + rn(rn(4) ? 8 : 64);
        int rc = 0, rrc = 0, mrc = 0;
        const char *name;

        /* Weights: mostly alloc/free, every other operation regularly. */
        if (op < 30) op = 0;
        else if (op < 58) op = 1;
        else if (op < 64) op = 2;
        else if (op < 70) op = 3;
        else if (op < 74) op = 4;
        else if (op < 78) op = 5;
        else if (op < 81) op = 6;
        else if (op < 84) op = 7;
        else if (op < 88) op = 8;
        else if (op < 91) op = 9;
        else if (op < 94) op = 10;
        else if (op < 96) op = 11;
        else if (op < 97) op = 12;
        else if (op < 98) op = 14;
        else if (op < 99) op = 15;
        else op = rn(20) ? (rn(2) ? 3 : 16) : 13;
        name = opname[op];

        switch (op) {
        case 0:
            k = rn(4) ? rn(3) : rn(7);
            if (do_alloc(&g, cpu, k, rn(4) ? 0 : PA_ALLOC_LOW, step, &got) &&
                got != PA_NO_FRAME)
                live[nlive++] = (struct live){ got, k };
            break;
        case 1:
            if (!nlive)
                continue;
            k = rn(nlive);
            f = live[k].f;
            n = live[k].k;
            live[k] = live[--nlive];
            rc = free_fast(&g, cpu, f, (unsigned)n);
            rrc = free_ref(&g, cpu, f, (unsigned)n);
            mrc = pm_free(&g.m, f, (unsigned)n);
            break;
        case 2:
            n = rn(8) ? rn(4) : rn(24);
            if (rn(2))
                f &= ~((1ULL << n) - 1) | (rn(8) ? 0 : 1);
            rc = free_fast(&g, cpu, f, (unsigned)n);
            rrc = free_ref(&g, cpu, f, (unsigned)n);
            mrc = pm_free(&g.m, f, (unsigned)n);
            break;
        case 3:
            rc = pa_init_range(&g.pa, f, n);
            rrc = pr_init_range(&g.r, f, n);
            mrc = pm_init(&g.m, f, n);
            break;
        case 4:
            rc = pa_defer(&g.pa, f, n);
            rrc = pr_defer(&g.r, f, n);
            mrc = pm_defer(&g.m, f, n);
            break;
        case 5:
            rc = pa_offline(&g.pa, f, (enum pa_state *)&ns);
            rrc = pr_offline(&g.r, f, (enum pa_state *)&rs);
            mrc = pm_offline(&g.m, f, &ms);
            if (!rc && !mrc && (ns != ms || rs != ms))
                rc = -1;
            break;
        case 6:
            rc = pa_online(&g.pa, f, (enum pa_state *)&ns);
            rrc = pr_online(&g.r, f, (enum pa_state *)&rs);
            mrc = pm_online(&g.m, f, &ms);
            if (!rc && !mrc && (ns != ms || rs != ms))
                rc = -1;
            break;
        case 7:
            rc = pa_take(&g.pa, f, n);
            rrc = pr_take(&g.r, f, n);
            mrc = pm_take(&g.m, f, n);
            if (!rc) {
                for (pfn_t p = f; p < f + n; p += 1ULL << pm_piece(p, f + n))
                    live[nlive++] = (struct live){ p, pm_piece(p, f + n) };
            }
            break;
        case 8:
            rc = pa_release(&g.pa, f, n);
            rrc = pr_release(&g.r, f, n);
            mrc = pm_release(&g.m, f, n);
            break;
        case 9:
            rc = pa_populate(&g.pa, f, n);
            rrc = pr_populate(&g.r, f, n);
            mrc = pm_populate(&g.m, f, n);
            break;
        case 10:
            rc = pa_scratch(&g.pa, f, n);
            rrc = pr_scratch(&g.r, f, n);
            mrc = pm_scratch(&g.m, f, n);
            break;
        case 11:
            k = rn(2) ? PA_RELEASED : PA_UNINITIALISED;
            rc = pa_unscratch(&g.pa, f, n, k);
            rrc = pr_unscratch(&g.r, f, n, k);
            mrc = pm_unscratch(&g.m, f, n, k);
            break;
        case 12:
            k = rn(4);
            f &= ~((1ULL << k) - 1);
            rc = pa_mark_inuse(&g.pa, f, k);
            rrc = pr_mark_inuse(&g.r, f, k);
            mrc = pm_mark_inuse(&g.m, f, k);
            if (!rc)
                live[nlive++] = (struct live){ f, k };
            break;
        case 13:
            pa_init_all(&g.pa);     /* a cost, not a state: nothing to compare */
            pr_init_all(&g.r);
            break;
        case 16:
            /* Only the holder changes: nothing but the states to compare. */
            k = rn(4) ? rn(3) : PA_ALL_CPUS;
            pa_drain(&g.pa, k);
            CHECK(pr_drain(&g.r, k) == 0);
            break;
        case 14:
            k = rn(8) ? 1 + rn(3) : (rn(2) ? 0 : PA_MAX_OWNER + 1);
            rc = pa_reserve(&g.pa, f, n, k);
            rrc = pr_reserve(&g.r, f, n, k);
            mrc = pm_reserve(&g.m, f, n, k);
            break;
        case 15:
            k = rn(8) ? 1 + rn(3) : 0;
            rc = pa_unreserve(&g.pa, f, n, k);
            rrc = pr_unreserve(&g.r, f, n, k);
            mrc = pm_unreserve(&g.m, f, n, k);
            break;
        }
        if (!rc_agree(&g, rc, rrc, mrc, name, f, n, step))
            break;
        /* Forget live blocks that another operation (release) consumed. */
        if (op == 8 && !rc)
            for (unsigned j = 0; j < nlive; j++)
                if (pm_st(&g.m, live[j].f) == PA_RELEASED)
                    live[j--] = live[--nlive];
        if (nlive > PM_MAX_FRAMES - 64)
            nlive = 0;
        rig_compare(&g, name, step, false);
    }
    rig_compare(&g, "end", steps, true);
    rig_free(&g);
}

HOST_TEST(page_model_differential)
{
    uint64_t total = host_soak ? 20000000 : 1000000;
    uint64_t per_run = 20000;

    for (uint64_t s = 0; s * per_run < total; s++) {
        diff_run(0x5eed0000 + s, per_run, s & 1,
                 diff_unbacked[(s >> 1) % ARRAY_SIZE(diff_unbacked)]);
        if (s > 4 && !host_soak && s * per_run >= total)
            break;
    }
}

/* ---- exhaustive ---------------------------------------------------------------- */

static const pfn_t tiny_ranges[][2] = { { 0, 7 }, { 8, 9 } };   /* 16 frames, gap at 7 */

enum { X_ALLOC, X_FREE, X_INIT, X_OFFLINE, X_ONLINE, X_MARK, X_RELEASE, X_POPULATE,
       X_SCRATCH, X_UNSCRATCH, X_TAKE, X_DEFER, X_RESERVE, X_UNRESERVE, X_ALLOC_ON,
       X_FREE_ON, X_DRAIN };

struct xop {
    uint8_t kind, order;
    pfn_t f;
    uint64_t n;             /* X_*_ON, X_DRAIN: the CPU */
};

static struct xop xops[96];
static unsigned nxops;

static void xops_build(void)
{
    nxops = 0;
    for (unsigned k = 0; k <= 2; k++)
        xops[nxops++] = (struct xop){ X_ALLOC, (uint8_t)k, 0, 0 };
    for (unsigned k = 0; k <= 2; k++)
        for (pfn_t f = 0; f <= 16; f += 1ULL << k)
            xops[nxops++] = (struct xop){ X_FREE, (uint8_t)k, f, 0 };
    xops[nxops++] = (struct xop){ X_FREE, 1, 3, 0 };           /* misaligned */
    xops[nxops++] = (struct xop){ X_INIT, 0, 0, 7 };
    xops[nxops++] = (struct xop){ X_INIT, 0, 8, 9 };
    xops[nxops++] = (struct xop){ X_INIT, 0, 2, 3 };
    xops[nxops++] = (struct xop){ X_OFFLINE, 0, 1, 0 };
    xops[nxops++] = (struct xop){ X_OFFLINE, 0, 9, 0 };
    xops[nxops++] = (struct xop){ X_ONLINE, 0, 9, 0 };
    xops[nxops++] = (struct xop){ X_MARK, 1, 4, 0 };
    xops[nxops++] = (struct xop){ X_RELEASE, 0, 8, 4 };
    xops[nxops++] = (struct xop){ X_POPULATE, 0, 8, 4 };
    xops[nxops++] = (struct xop){ X_SCRATCH, 0, 12, 4 };
    xops[nxops++] = (struct xop){ X_UNSCRATCH, 0, 12, 4 };
    xops[nxops++] = (struct xop){ X_TAKE, 0, 4, 3 };
    xops[nxops++] = (struct xop){ X_DEFER, 0, 8, 9 };
    xops[nxops++] = (struct xop){ X_RESERVE, 1, 9, 3 };       /* order: the owner */
    xops[nxops++] = (struct xop){ X_UNRESERVE, 1, 8, 4 };
    xops[nxops++] = (struct xop){ X_UNRESERVE, 2, 8, 4 };
    /* On CPUs 0 and 1: their caches, double frees across them, a drain. */
    xops[nxops++] = (struct xop){ X_ALLOC_ON, 0, 0, 0 };
    xops[nxops++] = (struct xop){ X_ALLOC_ON, 0, 0, 1 };
    xops[nxops++] = (struct xop){ X_ALLOC_ON, 1, 0, 1 };
    for (pfn_t f = 1; f <= 3; f++)
        xops[nxops++] = (struct xop){ X_FREE_ON, 0, f, 1 };
    xops[nxops++] = (struct xop){ X_FREE_ON, 0, 2, 0 };
    xops[nxops++] = (struct xop){ X_FREE_ON, 0, 9, 0 };
    xops[nxops++] = (struct xop){ X_FREE_ON, 0, 10, 1 };
    xops[nxops++] = (struct xop){ X_FREE_ON, 1, 2, 1 };
    xops[nxops++] = (struct xop){ X_FREE_ON, 1, 10, 0 };
    xops[nxops++] = (struct xop){ X_DRAIN, 0, 0, 1 };
}

struct xsnap {
    struct page_alloc pa;
    struct pa_frame table[16];
    struct page_ref r;
    struct pr_frame rtable[16];
    uint8_t st[16], order[16];
    uint16_t owner[16];
    pfn_t head[16];
};

static void snap(struct rig *g, struct xsnap *s)
{
    s->pa = g->pa;
    memcpy(s->table, g->table, sizeof(s->table));
    s->r = g->r;
    memcpy(s->rtable, g->rtable, sizeof(s->rtable));
    memcpy(s->st, g->m.st, 16);
    memcpy(s->owner, g->m.owner, sizeof(s->owner));
    memcpy(s->order, g->m.order, 16);
    memcpy(s->head, g->m.head, sizeof(s->head));
}

static void unsnap(struct rig *g, const struct xsnap *s)
{
    g->pa = s->pa;
    g->pa.table = g->table;
    memcpy(g->table, s->table, sizeof(s->table));
    g->r = s->r;
    g->r.table = g->rtable;
    memcpy(g->rtable, s->rtable, sizeof(s->rtable));
    memcpy(g->m.st, s->st, 16);
    memcpy(g->m.owner, s->owner, sizeof(s->owner));
    memcpy(g->m.order, s->order, 16);
    memcpy(g->m.head, s->head, sizeof(s->head));
}

static uint64_t xnodes;

static void x_apply(struct rig *g, const struct xop *o, uint64_t id)
{
    unsigned ns = 0, rs = 0, ms = 0;
    int rc = 0, rrc = 0, mrc = 0;
    pfn_t got;

    switch (o->kind) {
    case X_ALLOC:
        do_alloc(g, NOCPU, o->order, 0, id, &got);
        return;
    case X_ALLOC_ON:
        do_alloc(g, (unsigned)o->n, o->order, 0, id, &got);
        return;
    case X_FREE_ON:
        rc = pa_free_on(&g->pa, (unsigned)o->n, o->f, o->order);
        rrc = pr_free_on(&g->r, (unsigned)o->n, o->f, o->order);
        mrc = pm_free(&g->m, o->f, o->order);
        break;
    case X_DRAIN:
        pa_drain(&g->pa, (unsigned)o->n);
        return;
    case X_FREE:
        rc = pa_free(&g->pa, o->f, o->order);
        rrc = pr_free(&g->r, o->f, o->order);
        mrc = pm_free(&g->m, o->f, o->order);
        break;
    case X_INIT:
        rc = pa_init_range(&g->pa, o->f, o->n);
        rrc = pr_init_range(&g->r, o->f, o->n);
        mrc = pm_init(&g->m, o->f, o->n);
        break;
    case X_OFFLINE:
        rc = pa_offline(&g->pa, o->f, (enum pa_state *)&ns);
        rrc = pr_offline(&g->r, o->f, (enum pa_state *)&rs);
        mrc = pm_offline(&g->m, o->f, &ms);
        break;
    case X_ONLINE:
        rc = pa_online(&g->pa, o->f, (enum pa_state *)&ns);
        rrc = pr_online(&g->r, o->f, (enum pa_state *)&rs);
        mrc = pm_online(&g->m, o->f, &ms);
        break;
    case X_MARK:
        rc = pa_mark_inuse(&g->pa, o->f, o->order);
        rrc = pr_mark_inuse(&g->r, o->f, o->order);
        mrc = pm_mark_inuse(&g->m, o->f, o->order);
        break;
    case X_RELEASE:
        rc = pa_release(&g->pa, o->f, o->n);
        rrc = pr_release(&g->r, o->f, o->n);
        mrc = pm_release(&g->m, o->f, o->n);
        break;
    case X_POPULATE:
        rc = pa_populate(&g->pa, o->f, o->n);
        rrc = pr_populate(&g->r, o->f, o->n);
        mrc = pm_populate(&g->m, o->f, o->n);
        break;
    case X_SCRATCH:
        rc = pa_scratch(&g->pa, o->f, o->n);
        rrc = pr_scratch(&g->r, o->f, o->n);
        mrc = pm_scratch(&g->m, o->f, o->n);
        break;
    case X_UNSCRATCH:
        rc = pa_unscratch(&g->pa, o->f, o->n, PA_RELEASED);
        rrc = pr_unscratch(&g->r, o->f, o->n, PA_RELEASED);
        mrc = pm_unscratch(&g->m, o->f, o->n, PA_RELEASED);
        break;
    case X_TAKE:
        rc = pa_take(&g->pa, o->f, o->n);
        rrc = pr_take(&g->r, o->f, o->n);
        mrc = pm_take(&g->m, o->f, o->n);
        break;
    case X_DEFER:
        rc = pa_defer(&g->pa, o->f, o->n);
        rrc = pr_defer(&g->r, o->f, o->n);
        mrc = pm_defer(&g->m, o->f, o->n);
        break;
    case X_RESERVE:
        rc = pa_reserve(&g->pa, o->f, o->n, o->order);
        rrc = pr_reserve(&g->r, o->f, o->n, o->order);
        mrc = pm_reserve(&g->m, o->f, o->n, o->order);
        break;
    case X_UNRESERVE:
        rc = pa_unreserve(&g->pa, o->f, o->n, o->order);
        rrc = pr_unreserve(&g->r, o->f, o->n, o->order);
        mrc = pm_unreserve(&g->m, o->f, o->n, o->order);
        break;
    }
    if (!rc && (ns != ms || rs != ms))
        rc = -1;
    rc_agree(g, rc, rrc, mrc, "exhaustive op", o->f, o->kind, id);
}

static void x_dfs(struct rig *g, unsigned depth)
{
    struct xsnap s;

    if (!depth || g->failures)
        return;
    snap(g, &s);
    for (unsigned i = 0; i < nxops && !g->failures; i++) {
        x_apply(g, &xops[i], xnodes);
        xnodes++;
        rig_compare(g, "exhaustive", xnodes, true);
        x_dfs(g, depth - 1);
        unsnap(g, &s);
    }
}

HOST_TEST(page_model_exhaustive)
{
    static struct rig g;
    unsigned depth = host_soak ? 4 : 3;

    xops_build();
    for (unsigned start = 0; start < 6; start++) {
        rig_setup(&g, tiny_ranges, ARRAY_SIZE(tiny_ranges), start & 1, start == 4 ? 2 : 0);
        switch (start) {
        case 1:                 /* all initialised */
            CHECK(pa_init_range(&g.pa, 0, 7) == 0 && pr_init_range(&g.r, 0, 7) == 0 &&
                  pm_init(&g.m, 0, 7) == 0);
            CHECK(pa_init_range(&g.pa, 8, 9) == 0 && pr_init_range(&g.r, 8, 9) == 0 &&
                  pm_init(&g.m, 8, 9) == 0);
            break;
        case 2:                 /* lazy: one range deferred */
            CHECK(pa_init_range(&g.pa, 0, 7) == 0 && pr_init_range(&g.r, 0, 7) == 0 &&
                  pm_init(&g.m, 0, 7) == 0);
            CHECK(pa_defer(&g.pa, 8, 9) == 0 && pr_defer(&g.r, 8, 9) == 0 &&
                  pm_defer(&g.m, 8, 9) == 0);
            break;
        case 3:                 /* mixed: in-use, offlining, released */
            CHECK(pa_init_range(&g.pa, 1, 6) == 0 && pr_init_range(&g.r, 1, 6) == 0 &&
                  pm_init(&g.m, 1, 6) == 0);
            CHECK(pa_mark_inuse(&g.pa, 8, 2) == 0 && pr_mark_inuse(&g.r, 8, 2) == 0 &&
                  pm_mark_inuse(&g.m, 8, 2) == 0);
            CHECK(pa_release(&g.pa, 12, 4) == 0 && pr_release(&g.r, 12, 4) == 0 &&
                  pm_release(&g.m, 12, 4) == 0);
            {
                unsigned a, b;
                CHECK(pa_offline(&g.pa, 9, (enum pa_state *)&a) == 0);
                CHECK(pr_offline(&g.r, 9, (enum pa_state *)&a) == 0);
                CHECK(pm_offline(&g.m, 9, &b) == 0);
            }
            break;
        case 4:                 /* [8, 17) registered unbacked: all RELEASED */
            CHECK(pa_init_range(&g.pa, 0, 7) == 0 && pr_init_range(&g.r, 0, 7) == 0 &&
                  pm_init(&g.m, 0, 7) == 0);
            break;
        case 5:                 /* boot hand-over: reserved blocks among deferred memory */
            CHECK(pa_reserve(&g.pa, 1, 3, 1) == 0 && pr_reserve(&g.r, 1, 3, 1) == 0 &&
                  pm_reserve(&g.m, 1, 3, 1) == 0);
            CHECK(pa_defer(&g.pa, 4, 3) == 0 && pr_defer(&g.r, 4, 3) == 0 &&
                  pm_defer(&g.m, 4, 3) == 0);
            CHECK(pa_reserve(&g.pa, 8, 2, 2) == 0 && pr_reserve(&g.r, 8, 2, 2) == 0 &&
                  pm_reserve(&g.m, 8, 2, 2) == 0);
            CHECK(pa_defer(&g.pa, 10, 7) == 0 && pr_defer(&g.r, 10, 7) == 0 &&
                  pm_defer(&g.m, 10, 7) == 0);
            break;
        }
        xnodes = 0;
        x_dfs(&g, depth);
        CHECK(xnodes > 0);
        rig_free(&g);
    }
}

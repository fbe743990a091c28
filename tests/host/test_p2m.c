/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host tests for the P2M core (xen/p2m.c) against the simulated
 * hypervisor (xen_sim.c) and a model frame table: release / populate /
 * boot trim / balloon, scheduled and random faults. After every step: the
 * core's account equals the sim's reservation, the frame table agrees with
 * the sim frame by frame, and the sim saw no violation (populate over
 * backed, unscrubbed release, touch of an unbacked frame, PoD crash).
 */
#include <stdlib.h>
#include <string.h>
#include <pvhk/p2m.h>
#include <pvhk/page_alloc.h>
#include "harness.h"
#include "xen_sim.h"

/* ---- a model frame table: the page_alloc transitions P2M uses ---------- */
enum { M_UNINIT, M_FREE, M_INUSE, M_RELEASED, M_SCRATCH, M_OUTSIDE };

struct mft {
    uint64_t base, n;       /* frames [base, base + n) are in the table */
    uint8_t *st;
    uint64_t hint;
    uint64_t refusals;
};

static uint8_t *mst(struct mft *m, uint64_t pfn)
{
    return pfn >= m->base && pfn - m->base < m->n ? &m->st[pfn - m->base] : NULL;
}

/* The model's release check: what m_release() would refuse. */
static int m_check_release(void *ft, uint64_t pfn, uint64_t count)
{
    struct mft *m = ft;

    for (uint64_t i = pfn; i < pfn + count; i++) {
        uint8_t *s = mst(m, i);
        if (!s || (*s != M_FREE && *s != M_UNINIT && *s != M_INUSE))
            return 1;
    }
    return 0;
}

static int m_release(void *ft, uint64_t pfn, uint64_t count)
{
    struct mft *m = ft;

    if (m_check_release(ft, pfn, count)) {
        m->refusals++;
        return 1;
    }
    for (uint64_t i = pfn; i < pfn + count; i++)
        *mst(m, i) = M_RELEASED;
    return 0;
}

static int m_populate(void *ft, uint64_t pfn, uint64_t count)
{
    struct mft *m = ft;

    for (uint64_t i = pfn; i < pfn + count; i++) {
        uint8_t *s = mst(m, i);
        if (!s || *s != M_RELEASED) {
            m->refusals++;
            return 1;
        }
    }
    for (uint64_t i = pfn; i < pfn + count; i++)
        *mst(m, i) = M_FREE;
    return 0;
}

static uint64_t m_alloc(void *ft, unsigned int order)
{
    struct mft *m = ft;
    uint64_t size = 1ULL << order;

    for (uint64_t k = 0; k < m->n; k += size) {
        uint64_t f = ALIGN_UP(m->base + ((m->hint + k) % m->n), size);
        bool ok = f + size <= m->base + m->n && f != 0;

        for (uint64_t i = 0; ok && i < size; i++)
            ok = *mst(m, f + i) == M_FREE;
        if (ok) {
            for (uint64_t i = 0; i < size; i++)
                *mst(m, f + i) = M_INUSE;
            m->hint = f + size - m->base;
            return f;
        }
    }
    return P2M_NO_FRAME;
}

static int m_free(void *ft, uint64_t pfn, unsigned int order)
{
    struct mft *m = ft;

    for (uint64_t i = pfn; i < pfn + (1ULL << order); i++) {
        uint8_t *s = mst(m, i);
        if (!s || *s != M_INUSE) {
            m->refusals++;
            return 1;
        }
    }
    for (uint64_t i = pfn; i < pfn + (1ULL << order); i++)
        *mst(m, i) = M_FREE;
    return 0;
}

static bool m_is_released(void *ft, uint64_t pfn)
{
    uint8_t *s = mst(ft, pfn);
    return s && *s == M_RELEASED;
}

static void mft_init(struct mft *m, struct p2m_frame_ops *fops, uint64_t base,
                     uint64_t n, uint8_t state)
{
    m->base = base;
    m->n = n;
    m->st = malloc(n);
    memset(m->st, state, n);
    m->hint = 0;
    m->refusals = 0;
    fops->release = m_release;
    fops->check_release = m_check_release;
    fops->populate = m_populate;
    fops->alloc = m_alloc;
    fops->free = m_free;
    fops->is_released = m_is_released;
    fops->ft = m;
}

/* ---- the world: sim + frame table + core ------------------------------- */
struct world {
    struct xen_sim sim;
    struct mft mft;             /* model frame table, or ... */
    struct page_alloc *pa;      /* ... the real one when non-NULL */
    struct p2m p;
    struct p2m_ops ops;
    struct p2m_frame_ops fops;
};

static struct world W;
static struct page_alloc PA;
static struct pa_frame pa_table[32768];

/* A frame's state in the world's frame table, as an M_* code. */
static uint8_t wstate(struct world *w, uint64_t pfn)
{
    if (!w->pa) {
        uint8_t *s = mst(&w->mft, pfn);
        return s ? *s : M_OUTSIDE;
    }
    switch (pa_state(w->pa, pfn)) {
    case PA_UNINITIALISED: return M_UNINIT;
    case PA_FREE: return M_FREE;
    case PA_RELEASED: return M_RELEASED;
    case PA_SCRATCH: return M_SCRATCH;
    case PA_OUTSIDE: return M_OUTSIDE;
    default: return M_INUSE;
    }
}

/*
 * dom0-like: frames [0, nr) all backed and in the heap (FREE), the frame
 * table covering [0, nr + extra) with [nr, nr + extra) unbacked extra
 * memory, RELEASED. Account synced.
 */
static void world_dom0(struct world *w, uint64_t nr, uint64_t extra,
                       uint64_t max_res, uint64_t host_free)
{
    struct p2m_result r;

    xen_sim_init(&w->sim, nr + extra + 4096, max_res, host_free);
    xen_sim_back(&w->sim, 0, nr);
    xen_sim_special(&w->sim, 3);
    xen_sim_ops(&w->sim, &w->ops);
    mft_init(&w->mft, &w->fops, 0, nr + extra, M_FREE);
    if (w->pa) {
        /* Frame 0 never enters page_alloc's heap: leave it outside and
         * unbacked, the account starts at nr - 1. */
        pa_setup(w->pa, pa_table, ARRAY_SIZE(pa_table), 0);
        CHECK(pa_add_range(w->pa, 1, nr - 1) == 0);
        CHECK(pa_init_range(w->pa, 1, nr - 1) == 0);
        if (extra)
            CHECK(pa_add_range(w->pa, nr, extra) == 0);
        p2m_pa_frame_ops(&w->fops, w->pa);
        w->sim.f[0] = 0;
        w->sim.reservation--;
    }
    p2m_init(&w->p, &w->ops, &w->fops, w->pa ? nr - 1 : nr);
    if (extra)
        CHECK(w->fops.release(w->fops.ft, nr, extra) == 0);  /* never backed */
    CHECK(p2m_sync(&w->p, &r) == 0);
    CHECK(w->p.offset == 3);
}

static void world_free(struct world *w)
{
    xen_sim_free(&w->sim);
    free(w->mft.st);
}

/*
 * Every invariant, frame by frame. Returns false (after reporting) on the
 * first broken one so a random test stops at the step that broke it.
 */
static bool world_ok(struct world *w, const char *step)
{
    struct xen_sim *s = &w->sim;
    uint64_t backed_in_table = 0;

    if (xen_sim_violations(s)) {
        CHECKF(xen_sim_violations(s) == 0, "after %s", step);
        xen_sim_print_violations(s);
        return false;
    }
    if ((int64_t)s->reservation != (int64_t)w->p.backed + w->p.offset) {
        CHECKF(0, "after %s: reservation %lu != backed %lu + offset %ld", step,
               (unsigned long)s->reservation, (unsigned long)w->p.backed,
               (long)w->p.offset);
        return false;
    }
    for (uint64_t i = 0; i < w->mft.n; i++) {
        uint64_t pfn = w->mft.base + i;
        uint8_t st = wstate(w, pfn);
        if (st == M_OUTSIDE)
            continue;
        bool backed = xen_sim_backed(s, pfn) || (s->f[pfn] & SIM_POD);

        /* A released frame is unbacked; every other frame is backed
         * (no backed frame lost, none backed behind our back). */
        if ((st == M_RELEASED || st == M_SCRATCH) == backed) {
            CHECKF(0, "after %s: pfn %#lx state %u sim %#x", step,
                   (unsigned long)pfn, st, s->f[pfn]);
            return false;
        }
        backed_in_table += backed;
    }
    if (backed_in_table != w->p.backed) {
        CHECKF(0, "after %s: %lu frames backed in the table, account %lu",
               step, (unsigned long)backed_in_table, (unsigned long)w->p.backed);
        return false;
    }
    if (w->pa) {
        struct pa_violation v;
        if (pa_check(w->pa, &v)) {
            CHECKF(0, "after %s: pa_check: %s at %#lx", step, v.what,
                   (unsigned long)v.frame);
            return false;
        }
    }
    if (w->mft.refusals) {
        CHECKF(0, "after %s: frame table refused %lu transitions", step,
               (unsigned long)w->mft.refusals);
        return false;
    }
    return true;
}

static void write_all_heap(struct world *w)
{
    for (uint64_t i = 0; i < w->mft.n; i++) {
        uint8_t st = wstate(w, w->mft.base + i);
        if (st == M_FREE || st == M_INUSE)
            xen_sim_write(&w->sim, w->mft.base + i);
    }
}

/* ---- the simulator itself ---------------------------------------------- */
HOST_TEST(xen_sim_detects_violations)
{
    struct xen_sim s;
    struct p2m_ops ops;
    uint64_t g = 10;

    xen_sim_init(&s, 1024, 2000, 4096);
    xen_sim_ops(&s, &ops);
    xen_sim_back(&s, 0, 512);
    CHECK(ops.current_reservation(ops.ctx) == 512);
    /* Populate over backed: accepted, as Xen does, but flagged + leaked. */
    CHECK(ops.populate_physmap(ops.ctx, &g, 1, 0) == 1);
    CHECK(s.v_populate_over_backed == 1 && s.leaked == 1);
    CHECK(ops.current_reservation(ops.ctx) == 513);
    /* Release of a frame with guest data in it. */
    xen_sim_write(&s, 11);
    g = 11;
    CHECK(ops.decrease_reservation(ops.ctx, &g, 1, 0) == 1);
    CHECK(s.v_released_dirty == 1);
    /* A released frame cannot be released again (Xen: not ours). */
    CHECK(ops.decrease_reservation(ops.ctx, &g, 1, 0) == 0);
    /* Writing to it is touching unbacked memory. */
    xen_sim_write(&s, 11);
    CHECK(s.v_touch_unbacked == 1);
    /* A partial order-9 extent: pages before the failing one go. */
    s.fault = (struct xen_sim_fault){ .at_call = s.calls + 1, .extent = 0, .page = 7 };
    g = 512;
    xen_sim_back(&s, 512, 512);
    long before = ops.current_reservation(ops.ctx);
    CHECK(ops.decrease_reservation(ops.ctx, &g, 1, 9) == 0);
    CHECK(ops.current_reservation(ops.ctx) == before - 7);
    /* Maximum reservation stops populate. */
    s.max_reservation = s.reservation + 3;
    uint64_t gs[4] = { 600, 601, 602, 603 };
    xen_sim_write(&s, 600);     /* (touch-unbacked count +1) */
    CHECK(ops.populate_physmap(ops.ctx, gs, 4, 0) == 3);
    /* PoD: touch with an empty cache crashes. */
    xen_sim_pod(&s, 700, 2, 1);
    xen_sim_write(&s, 700);
    CHECK(s.v_pod_crash == 0 && xen_sim_backed(&s, 700));
    xen_sim_write(&s, 701);
    CHECK(s.v_pod_crash == 1);
    xen_sim_free(&s);
}

/* ---- release / populate ------------------------------------------------ */
HOST_TEST(p2m_release_populate_roundtrip)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    write_all_heap(w);
    /* Frames the caller owns: here, FREE frames nobody allocates. */
    CHECK(p2m_release(&w->p, 1024, 2048 + 5, 0, &r) == 0);
    CHECK(r.done == 2053 && r.flags == 0);
    CHECK(r.hypercalls == 2);       /* 4 order-9 extents, then 5 order-0 */
    CHECK(w->p.backed == 8192 - 2053);
    CHECK(world_ok(w, "release"));
    CHECK(p2m_populate(&w->p, 1024, 2053, &r) == 0);
    CHECK(r.done == 2053 && r.hypercalls == 2);
    CHECK(w->p.backed == 8192);
    CHECK(world_ok(w, "populate"));
    /* The new frames are in the heap (FREE), usable. */
    CHECK(w->mft.st[1024] == M_FREE && w->mft.st[1024 + 2052] == M_FREE);
    world_free(w);
}

HOST_TEST(p2m_never_populates_over_backed)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    CHECK(p2m_release(&w->p, 512, 512, 0, &r) == 0);
    /* One frame of the range is still backed: refused before any call. */
    CHECK(p2m_populate(&w->p, 512, 513, &r) == -XEN_EBUSY);
    CHECK(r.hypercalls == 0 && r.stop_pfn == 1024 && (r.flags & P2M_R_REFUSED));
    CHECK(w->sim.v_populate_over_backed == 0);
    CHECK(world_ok(w, "refused populate"));
    world_free(w);
}

HOST_TEST(p2m_release_scrubs_first)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    write_all_heap(w);
    CHECK(p2m_release(&w->p, 0, 4096, 0, &r) == 0);
    CHECK(w->sim.v_released_dirty == 0);
    CHECK(w->p.st.scrubbed == 4096);
    CHECK(p2m_populate(&w->p, 0, 4096, &r) == 0);
    write_all_heap(w);
    /* The sim does see an unscrubbed release (so the check above can fail). */
    CHECK(p2m_release(&w->p, 0, 16, P2M_NOSCRUB, &r) == 0);
    CHECK(w->sim.v_released_dirty == 16);
    world_free(w);
}

HOST_TEST(p2m_hypercall_counts_by_mode)
{
    static const struct { enum p2m_mode mode; uint64_t calls; } t[] = {
        { P2M_MODE_SINGLE, 16384 }, { P2M_MODE_BATCH, 32 }, { P2M_MODE_LARGE, 1 },
    };
    struct world *w = &W;
    struct p2m_result r;

    for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
        world_dom0(w, 16384 + 512, 0, 1 << 20, 1 << 20);
        w->p.mode = t[i].mode;
        CHECK(p2m_release(&w->p, 512, 16384, 0, &r) == 0);
        CHECKF(r.hypercalls == t[i].calls, "mode %u: %lu calls", t[i].mode,
               (unsigned long)r.hypercalls);
        CHECK(p2m_populate(&w->p, 512, 16384, &r) == 0);
        CHECK(r.hypercalls == t[i].calls);
        CHECK(world_ok(w, "mode"));
        world_free(w);
    }
}

HOST_TEST(p2m_release_partial_large_extent)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    /* Call 1 stops in extent 2, after removing its first 100 pages. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 2, .page = 100 };
    CHECK(p2m_release(&w->p, 2048, 4096, 0, &r) == 0);
    CHECK(r.done == 4096);
    CHECK(r.flags & P2M_R_SHORT);
    CHECK(r.flags & P2M_R_PARTIAL);
    CHECK(w->p.st.fallbacks == 1);
    CHECK(world_ok(w, "partial release"));
    world_free(w);
}

HOST_TEST(p2m_release_short_order0_stops)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    w->p.mode = P2M_MODE_BATCH;
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1, .extent = 5 };
    CHECK(p2m_release(&w->p, 100, 50, 0, &r) == -XEN_EBUSY);
    CHECK(r.done == 5 && r.stop_pfn == 105);
    CHECK(w->mft.st[104] == M_RELEASED && w->mft.st[105] == M_FREE);
    CHECK(world_ok(w, "short release"));
    world_free(w);
}

HOST_TEST(p2m_call_error_changes_nothing)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .call_error = -XEN_ENOSYS };
    CHECK(p2m_release(&w->p, 0, 1024, 0, &r) == -XEN_ENOSYS);
    CHECK(r.done == 0 && (r.flags & P2M_R_CALL_ERROR) && r.stop_pfn == 0);
    CHECK(world_ok(w, "call error"));
    world_free(w);
}

HOST_TEST(p2m_populate_short_at_maximum)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    CHECK(p2m_release(&w->p, 2048, 4096, 0, &r) == 0);
    /* Room for 700 more pages only. */
    w->sim.max_reservation = w->sim.reservation + 700;
    CHECK(p2m_populate(&w->p, 2048, 4096, &r) == -XEN_ENOMEM);
    CHECK(r.done == 700);
    CHECK(r.stop_pfn == 2048 + 700);
    CHECK(w->p.st.fallbacks == 1);  /* order 9 failed, order 0 went on */
    CHECK(world_ok(w, "populate at maximum"));
    world_free(w);
}

HOST_TEST(p2m_order9_refused_falls_back)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    w->sim.max_order = 0;           /* e.g. a domain limited to order 0 */
    CHECK(p2m_release(&w->p, 0, 4096, 0, &r) == 0);
    CHECK(r.done == 4096);
    CHECK(p2m_populate(&w->p, 0, 4096, &r) == 0);
    CHECK(r.done == 4096);
    CHECK(world_ok(w, "order limit"));
    /* Host memory without any free 2 MiB block: order 0 still works. */
    w->sim.max_order = 9;
    CHECK(p2m_release(&w->p, 0, 4096, 0, &r) == 0);
    w->sim.host_free_large = 0;
    CHECK(p2m_populate(&w->p, 0, 4096, &r) == 0);
    CHECK(world_ok(w, "fragmented host"));
    world_free(w);
}

/* ---- boot ---------------------------------------------------------------- */
/* xl domU, memory=32M maxmem=64M: RAM to 64M, PoD cache for 32M. */
HOST_TEST(p2m_boot_trim_pod_domu)
{
    const struct p2m_range ram[] = { { 0, 0x9f }, { 0x100, 0x4000 - 0x100 } };
    uint64_t ram_pages = 0x9f + 0x4000 - 0x100;
    uint64_t target = 0x2000 - 8;   /* PoD target minus special pages */
    struct world *w = &W;
    struct p2m_result r;

    xen_sim_init(&w->sim, 0x5000, 0x4000 + 16, 1 << 20);
    xen_sim_ops(&w->sim, &w->ops);
    xen_sim_pod(&w->sim, 0, 0x9f, 0);
    xen_sim_pod(&w->sim, 0x100, 0x4000 - 0x100, 0x2000 - 8);
    xen_sim_special(&w->sim, 8);
    mft_init(&w->mft, &w->fops, 0, 0x4000, M_UNINIT);
    memset(w->mft.st + 0x9f, M_OUTSIDE, 0x61);   /* the hole */
    p2m_init(&w->p, &w->ops, &w->fops, 0);
    CHECK(p2m_boot_trim(&w->p, ram, 2, target, &r) == 0);
    CHECK(r.done == ram_pages - target);
    CHECK(w->p.backed == target);
    CHECK(w->p.synced && w->p.offset == 8);
    CHECK(w->sim.v_pod_crash == 0 && w->sim.v_scrub_unbacked == 0);
    /* Now the kernel may touch every frame it kept: no crash. */
    for (uint64_t i = 0; i < 0x4000; i++)
        if (w->mft.st[i] == M_UNINIT)
            xen_sim_write(&w->sim, i);
    CHECK(w->sim.v_pod_crash == 0);
    CHECK(w->sim.reservation == target + 8);
    world_free(w);
}

/* Without trimming first, touching everything crashes the domain: the
 * test above is not vacuous. */
HOST_TEST(p2m_boot_untrimmed_pod_crashes_in_sim)
{
    struct xen_sim s;

    xen_sim_init(&s, 0x4000, 0x4000, 1 << 20);
    xen_sim_pod(&s, 0, 0x4000, 0x2000);
    for (uint64_t i = 0; i < 0x4000; i++)
        xen_sim_write(&s, i);
    CHECK(s.v_pod_crash == 0x2000);
    xen_sim_free(&s);
}

HOST_TEST(p2m_boot_trim_dom0_target)
{
    const struct p2m_range ram[] = { { 0, 0x9f }, { 0x100, 0x8000 - 0x100 } };
    struct world *w = &W;
    struct p2m_result r;

    xen_sim_init(&w->sim, 0x9000, 0x10000, 1 << 20);
    xen_sim_ops(&w->sim, &w->ops);
    xen_sim_back(&w->sim, 0, 0x9f);
    xen_sim_back(&w->sim, 0x100, 0x8000 - 0x100);
    xen_sim_back(&w->sim, 0x9f, 2);         /* Xen's own pages in a hole */
    mft_init(&w->mft, &w->fops, 0, 0x8000, M_UNINIT);
    memset(w->mft.st + 0x9f, M_OUTSIDE, 0x61);
    p2m_init(&w->p, &w->ops, &w->fops, 0);
    CHECK(p2m_boot_trim(&w->p, ram, 2, 0x5000, &r) == 0);
    CHECK(w->p.backed == 0x5000 && w->p.offset == 2);
    CHECK(w->mft.st[0x4fff + 0x61] == M_RELEASED || w->mft.st[0x7fff] == M_RELEASED);
    CHECK(world_ok(w, "dom0 trim"));
    world_free(w);
}

/* ---- balloon -------------------------------------------------------------- */
HOST_TEST(p2m_balloon_down_and_up)
{
    static struct extra_mem em;
    const struct p2m_range ram[] = { { 0, 16384 } };
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 16384, 8192, 1 << 20, 1 << 20);
    extra_mem_init(&em);
    extra_mem_add(&em, 16384, 8192, EXTRA_MEM_UNUSABLE);
    p2m_set_ranges(&w->p, ram, 1, &em);
    write_all_heap(w);

    CHECK(p2m_set_target(&w->p, 16384 - 3000, &r) == 0);
    CHECK(r.done == 3000 && w->p.backed == 16384 - 3000);
    CHECK(world_ok(w, "balloon down"));
    /* Up past the original RAM: released RAM first, then extra memory. */
    CHECK(p2m_set_target(&w->p, 16384 + 1000, &r) == 0);
    CHECK(r.done == 4000 && w->p.backed == 16384 + 1000);
    for (uint64_t i = 0; i < 16384; i++)
        CHECK(w->mft.st[i] != M_RELEASED);
    CHECK(w->mft.st[16384] == M_FREE && w->mft.st[16384 + 999] == M_FREE);
    CHECK(w->mft.st[16384 + 1000] == M_RELEASED);
    CHECK(world_ok(w, "balloon up"));
    /* The maximum reservation caps the growth: this much, no more. */
    w->sim.max_reservation = w->sim.reservation + 100;
    CHECK(p2m_set_target(&w->p, 16384 + 4000, &r) == -XEN_ENOMEM);
    CHECK(r.done == 100);
    CHECK(world_ok(w, "balloon at maximum"));
    /* No room left at all. */
    w->sim.max_reservation = 1 << 30;
    CHECK(p2m_set_target(&w->p, 16384 + 8192 + 1, &r) == -XEN_ENOSPC);
    CHECK(r.flags & P2M_R_NO_ROOM);
    CHECK(world_ok(w, "balloon no room"));
    /* Down below what the heap has free. */
    for (uint64_t i = 0; i < w->mft.n; i++)
        if (w->mft.st[i] == M_FREE)
            w->mft.st[i] = M_INUSE;         /* someone holds it */
    w->mft.st[5] = M_FREE;
    CHECK(p2m_set_target(&w->p, 100, &r) == -XEN_EAGAIN);
    CHECKF(r.done == 1 && (r.flags & P2M_R_HEAP_EMPTY), "done %lu flags %#x",
           (unsigned long)r.done, r.flags);
    CHECK(world_ok(w, "balloon empty heap"));
    world_free(w);
}

/* ---- random fault schedules --------------------------------------------- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Find a run of FREE frames to release as "caller-owned". */
static bool pick_free_run(struct world *w, uint64_t *pfn, uint64_t *n)
{
    uint64_t s = rnd() % w->mft.n, len = 1 + rnd() % 1500;

    while (s < w->mft.n && wstate(w, s) != M_FREE)
        s++;
    if (s >= w->mft.n)
        return false;
    *pfn = s;
    for (*n = 0; s + *n < w->mft.n && *n < len && wstate(w, s + *n) == M_FREE;)
        (*n)++;
    return true;
}

static bool pick_released_run(struct world *w, uint64_t *pfn, uint64_t *n)
{
    uint64_t s = rnd() % w->mft.n, len = 1 + rnd() % 1500;

    while (s < w->mft.n && wstate(w, s) != M_RELEASED)
        s++;
    if (s >= w->mft.n)
        return false;
    *pfn = s;
    for (*n = 0; s + *n < w->mft.n && *n < len && wstate(w, s + *n) == M_RELEASED;)
        (*n)++;
    return true;
}

static void random_schedules(struct page_alloc *pa, unsigned seeds,
                             unsigned steps)
{
    static struct extra_mem em;
    const struct p2m_range ram[] = { { 0, 8192 } };
    struct world *w = &W;
    uint64_t short_counts = 0, partials = 0, mismatches = 0;

    for (unsigned seed = 1; seed <= seeds; seed++) {
        struct p2m_result r;
        char step[64];
        bool ok = true;

        rng_state = seed * 7919;
        w->pa = pa;
        world_dom0(w, 8192, 4096, 8192 + 2048 + rnd() % 4096, 1 << 20);
        w->p.mode = rnd() % 3 == 0 ? P2M_MODE_BATCH : P2M_MODE_LARGE;
        w->sim.rand_one_in = 2 + rnd() % 6;
        w->sim.rng = seed;
        if (rnd() % 4 == 0)
            w->sim.max_order = 0;
        extra_mem_init(&em);
        extra_mem_add(&em, 8192, 4096, EXTRA_MEM_UNUSABLE);
        p2m_set_ranges(&w->p, ram, 1, &em);

        for (unsigned k = 0; k < steps && ok; k++) {
            uint64_t pfn, n, op = rnd() % 10;
            uint64_t before = w->p.backed;
            int rc = 0;

            write_all_heap(w);
            if (op < 3 && pick_free_run(w, &pfn, &n)) {
                snprintf(step, sizeof(step), "seed %u step %u release", seed, k);
                rc = p2m_release(&w->p, pfn, n, 0, &r);
                ok = r.done <= n && before - w->p.backed == r.done &&
                     (rc == 0) == (r.done == n);
            } else if (op < 6 && pick_released_run(w, &pfn, &n)) {
                snprintf(step, sizeof(step), "seed %u step %u populate", seed, k);
                rc = p2m_populate(&w->p, pfn, n, &r);
                ok = r.done <= n && w->p.backed - before == r.done;
            } else {
                uint64_t t = 2048 + rnd() % (8192 + 4096 - 2048);
                snprintf(step, sizeof(step), "seed %u step %u target %lu", seed,
                         k, (unsigned long)t);
                rc = p2m_set_target(&w->p, t, &r);
                ok = rc != 0 || w->p.backed == t;
            }
            CHECKF(ok, "%s: rc %d done %lu", step, rc, (unsigned long)r.done);
            CHECKF(!(r.flags & P2M_R_MISMATCH), "%s: mismatch", step);
            short_counts += !!(r.flags & P2M_R_SHORT);
            partials += !!(r.flags & P2M_R_PARTIAL);
            mismatches += w->p.st.mismatches;
            ok = ok && world_ok(w, step);
            /* Shrink gives back every block Xen would not take. */
            for (uint64_t i = 0; ok && i < w->mft.n; i++) {
                if (wstate(w, i) == M_INUSE) {
                    CHECKF(0, "%s: pfn %#lx left INUSE", step, (unsigned long)i);
                    ok = false;
                }
            }
        }
        world_free(w);
        w->pa = NULL;
        if (!ok)
            break;
    }
    /* The schedules did exercise the failure paths. */
    CHECKF(short_counts > seeds * steps / 50, "%lu short counts",
           (unsigned long)short_counts);
    CHECKF(partials >= seeds / 4, "%lu partial extents", (unsigned long)partials);
    CHECK(mismatches == 0);
}

HOST_TEST(p2m_random_fault_schedules)
{
    random_schedules(NULL, host_soak ? 400 : 25, host_soak ? 400 : 120);
}

/* The same schedules with mm/page_alloc.c as the frame table. */
HOST_TEST(p2m_random_fault_schedules_page_alloc)
{
    /* pa_state() and pa_check() per frame per step: fewer, shorter runs. */
    random_schedules(&PA, host_soak ? 100 : 5, host_soak ? 400 : 80);
}

/* domU: released RAM registered as scratch space is not ballooned into. */
HOST_TEST(p2m_grow_skips_scratch_carved_from_ram)
{
    static struct extra_mem em;
    const struct p2m_range ram[] = { { 0, 8192 } };
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    extra_mem_init(&em);
    p2m_set_ranges(&w->p, ram, 1, &em);
    CHECK(p2m_release(&w->p, 4096, 1024, 0, &r) == 0);     /* the pool */
    CHECK(extra_mem_add(&em, 4096, 1024, EXTRA_MEM_RELEASED_RAM) == 0);
    CHECK(p2m_release(&w->p, 6000, 100, 0, &r) == 0);      /* ballooned */
    CHECK(p2m_set_target(&w->p, 8192 - 1024, &r) == 0);
    CHECK(r.done == 100);
    CHECK(p2m_set_target(&w->p, 8192 - 1023, &r) == -XEN_ENOSPC);
    for (uint64_t f = 4096; f < 4096 + 1024; f++)
        CHECK(w->mft.st[f] == M_RELEASED);
    CHECK(world_ok(w, "grow around scratch"));
    world_free(w);
}

/*
 * A caller's INUSE block wider than one extent is released as a whole
 * (one frame-table transition after the hypercalls), and a range that
 * cuts such a block is refused before the first hypercall: once Xen has
 * taken a frame there is no undoing it.
 */
HOST_TEST(p2m_release_respects_inuse_blocks)
{
    struct world *w = &W;
    struct p2m_result r;

    w->pa = &PA;
    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    pfn_t b = pa_alloc(&PA, 11, 0);                 /* 2048 frames, 4 extents */
    REQUIRE(b != PA_NO_FRAME);
    uint64_t resv = w->sim.reservation;
    uint64_t calls = w->p.st.hypercalls;

    CHECK(p2m_release(&w->p, b, 1024, 0, &r) == -XEN_EBUSY);      /* half */
    CHECK(r.flags & P2M_R_REFUSED);
    CHECK(w->p.st.hypercalls == calls);
    CHECK(w->sim.reservation == resv);
    CHECK(pa_state(&PA, b) == PA_INUSE && pa_state(&PA, b + 1500) == PA_INUSE);

    CHECK(p2m_release(&w->p, b, 2048, 0, &r) == 0);
    CHECK(r.done == 2048);
    CHECK(w->sim.reservation == resv - 2048);
    for (pfn_t f = b; f < b + 2048; f++)
        CHECK(pa_state(&PA, f) == PA_RELEASED);
    CHECK(world_ok(w, "whole INUSE block released"));
    CHECK(p2m_populate(&w->p, b, 2048, &r) == 0);
    CHECK(pa_state(&PA, b + 7) == PA_FREE);
    CHECK(world_ok(w, "repopulated"));
    w->pa = NULL;
    world_free(w);
}

/* ---- a hypervisor that answers oddly -------------------------------------- */

/*
 * Xen removes the whole failing extent yet reports it not done (the
 * reservation shows it went): those pages are gone, so they are RELEASED
 * and accounted, and since nothing was refused the release goes on.
 */
HOST_TEST(p2m_release_whole_extent_taken_but_reported_failed)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    /* Order 9: call 1 does extent 0, then all of extent 1, says 1. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 1, .page = 512 };
    CHECK(p2m_release(&w->p, 2048, 2048, 0, &r) == 0);
    CHECKF(r.done == 2048 && r.stop_pfn == P2M_NO_FRAME, "done %lu",
           (unsigned long)r.done);
    CHECK((r.flags & P2M_R_SHORT) && (r.flags & P2M_R_PARTIAL));
    for (uint64_t f = 2048; f < 4096; f++)
        CHECK(w->mft.st[f] == M_RELEASED);
    CHECK(world_ok(w, "whole order-9 extent reported failed"));

    /* Order 0: frame 103 goes, the call says 3 of 50 were done. */
    w->p.mode = P2M_MODE_BATCH;
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 3, .page = 1 };
    CHECK(p2m_release(&w->p, 100, 50, 0, &r) == 0);
    CHECKF(r.done == 50, "done %lu", (unsigned long)r.done);
    CHECK(w->mft.st[103] == M_RELEASED && w->mft.st[149] == M_RELEASED);
    CHECK(world_ok(w, "whole order-0 extent reported failed"));
    world_free(w);
}

/* The same for the balloon: the block Xen took while saying no is not
 * handed back to the heap as if it were still backed. */
HOST_TEST(p2m_shrink_whole_extent_taken_but_reported_failed)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 1, .page = 512 };
    CHECK(p2m_set_target(&w->p, 4096 - 1024, &r) == 0);
    CHECKF(r.done == 1024 && w->p.backed == 4096 - 1024, "done %lu",
           (unsigned long)r.done);
    CHECK(world_ok(w, "shrink, whole extent reported failed"));
    for (uint64_t i = 0; i < w->mft.n; i++)
        CHECK(w->mft.st[i] != M_INUSE);
    world_free(w);
}

/*
 * A count above the extents the call carried answers no call of ours: the
 * operation stops with -XEN_EBADMSG (P2M_R_BAD_COUNT), and what Xen did is
 * read from the reservation instead, so no frame is lost either way.
 */
HOST_TEST(p2m_count_above_asked_is_refused)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 8192, 0, 1 << 20, 1 << 20);
    /* Release: both order-9 extents done, 3 reported. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 512, .over = 1 };
    CHECK(p2m_release(&w->p, 2048, 1024, 0, &r) == -XEN_EBADMSG);
    CHECKF(r.done == 1024 && (r.flags & P2M_R_BAD_COUNT), "done %lu flags %#x",
           (unsigned long)r.done, r.flags);
    CHECK(world_ok(w, "release, all done, count above asked"));
    /* Release: one of two extents done, 7 reported: the one, then stop. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 1, .over = 6 };
    CHECK(p2m_release(&w->p, 4096, 1024, 0, &r) == -XEN_EBADMSG);
    CHECKF(r.done == 512 && r.stop_pfn == 4096 + 512, "done %lu stop %#lx",
           (unsigned long)r.done, (unsigned long)r.stop_pfn);
    CHECK(w->mft.st[4096 + 511] == M_RELEASED && w->mft.st[4096 + 512] == M_FREE);
    CHECK(world_ok(w, "release, one done, count above asked"));
    /* Populate: both extents back, 3 reported. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 512, .over = 1 };
    CHECK(p2m_populate(&w->p, 2048, 1024, &r) == -XEN_EBADMSG);
    CHECK(r.done == 1024 && (r.flags & P2M_R_BAD_COUNT));
    CHECK(w->mft.st[2048] == M_FREE && w->mft.st[3071] == M_FREE);
    CHECK(world_ok(w, "populate, all done, count above asked"));
    /* Populate order 0: 3 of 10 frames, 11 reported. */
    w->p.mode = P2M_MODE_BATCH;
    REQUIRE(p2m_release(&w->p, 100, 10, 0, &r) == 0);
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 3, .over = 8 };
    CHECK(p2m_populate(&w->p, 100, 10, &r) == -XEN_EBADMSG);
    CHECKF(r.done == 3 && r.stop_pfn == 103, "done %lu stop %#lx",
           (unsigned long)r.done, (unsigned long)r.stop_pfn);
    CHECK(w->mft.st[102] == M_FREE && w->mft.st[103] == M_RELEASED);
    CHECK(world_ok(w, "populate, 3 done, count above asked"));
    /* Shrink: the block goes, 2 reported; no block is left INUSE. */
    w->p.mode = P2M_MODE_LARGE;
    uint64_t backed = w->p.backed;
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 512, .over = 1 };
    CHECK(p2m_set_target(&w->p, backed - 512, &r) == -XEN_EBADMSG);
    CHECK(r.done == 512 && w->p.backed == backed - 512);
    CHECK(world_ok(w, "shrink, count above asked"));
    for (uint64_t i = 0; i < w->mft.n; i++)
        CHECK(w->mft.st[i] != M_INUSE);
    /* A count the reservation cannot explain: nothing accounted, the
     * frames stay ours, the call is still refused. */
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .extent = 0, .over = 3 };
    CHECK(p2m_release(&w->p, 6144, 1024, 0, &r) == -XEN_EBADMSG);
    CHECK(r.done == 0 && r.stop_pfn == 6144 && w->mft.st[6144] == M_FREE);
    CHECK(world_ok(w, "release, nothing done, count above asked"));
    world_free(w);
}

/* ---- boundaries ----------------------------------------------------------- */

/* The account check: live after p2m_sync() only, and it does say so. */
HOST_TEST(p2m_check_reports_a_mismatch)
{
    struct world *w = &W;
    struct p2m_result r;

    /* Before the sync nothing is compared: no reservation in the result. */
    xen_sim_init(&w->sim, 4096, 1 << 20, 1 << 20);
    xen_sim_back(&w->sim, 0, 4096);
    xen_sim_ops(&w->sim, &w->ops);
    mft_init(&w->mft, &w->fops, 0, 4096, M_FREE);
    p2m_init(&w->p, &w->ops, &w->fops, 4096);
    CHECK(!w->p.synced && w->p.last_reservation == -1 && w->p.offset == 0);
    xen_sim_special(&w->sim, 7);
    CHECK(p2m_release(&w->p, 100, 1, 0, &r) == 0);
    CHECK(r.reservation == -1 && r.expected == -1 && !(r.flags & P2M_R_MISMATCH));
    CHECK(p2m_check(&w->p, &r) == 0 && w->p.st.mismatches == 0);
    /* A sync whose query fails changes nothing and turns nothing on. */
    w->sim.query_error = -XEN_ENOSYS;
    memset(&r, 0, sizeof(r));
    CHECK(p2m_sync(&w->p, &r) == -XEN_ENOSYS);
    CHECK((r.flags & P2M_R_CALL_ERROR) && r.call_error == -XEN_ENOSYS);
    CHECK(!w->p.synced && w->p.offset == 0 && w->p.last_reservation == -1);
    /* A reservation of 0 is a reservation, not an error. */
    w->sim.query_error = 0;
    w->sim.reservation = 0;
    memset(&r, 0, sizeof(r));
    CHECK(p2m_sync(&w->p, &r) == 0 && w->p.synced && r.flags == 0);
    CHECK(w->p.offset == -(int64_t)w->p.backed && w->p.last_reservation == 0);
    CHECK(r.reservation == 0 && r.expected == 0);
    world_free(w);

    /* After it, Xen counting pages behind our back is reported. */
    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    CHECK(p2m_release(&w->p, 100, 1, 0, &r) == 0);
    CHECK(r.reservation == (long)w->sim.reservation && r.expected == r.reservation);
    xen_sim_special(&w->sim, 2);
    CHECK(p2m_release(&w->p, 101, 1, 0, &r) == -XEN_EIO);
    CHECK((r.flags & P2M_R_MISMATCH) && r.done == 1);
    CHECK(r.reservation == (long)w->sim.reservation && r.expected == r.reservation - 2);
    CHECK(w->p.st.mismatches == 1 && w->p.last_reservation == r.reservation);
    world_free(w);
}

/* Ranges that wrap past 2^64 are refused before anything is touched. */
HOST_TEST(p2m_ranges_past_2_64_refused)
{
    struct world *w = &W;
    struct p2m_result r;
    uint64_t top = UINT64_MAX - 9;      /* 10 frames to 2^64, 20 asked */

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    CHECK(p2m_release(&w->p, top, 20, 0, &r) == -XEN_EINVAL);
    CHECK(r.hypercalls == 0 && r.done == 0 && w->p.st.scrubbed == 0);
    CHECK(p2m_populate(&w->p, top, 20, &r) == -XEN_EINVAL && r.hypercalls == 0);
    /* Exactly to 2^64 still wraps (the end is not representable). */
    CHECK(p2m_release(&w->p, top, 10, 0, &r) == -XEN_EINVAL);
    CHECK(p2m_populate(&w->p, top, 10, &r) == -XEN_EINVAL && r.hypercalls == 0);
    CHECK(w->sim.calls == 0 && w->sim.v_bad_gpfn == 0);
    CHECK(world_ok(w, "wrapping ranges"));
    world_free(w);
}

/* Nothing asked, nothing done: not even a frame-table question. */
HOST_TEST(p2m_release_of_nothing)
{
    struct world *w = &W;
    struct p2m_result r;

    w->pa = &PA;
    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    CHECK(p2m_release(&w->p, 100, 0, 0, &r) == 0);
    CHECK(r.done == 0 && r.hypercalls == 0 && r.flags == 0);
    CHECK(p2m_release(&w->p, 1ULL << 40, 0, 0, &r) == 0);   /* outside */
    CHECK(p2m_populate(&w->p, 100, 0, &r) == 0 && r.hypercalls == 0);
    CHECK(world_ok(w, "release of nothing"));
    w->pa = NULL;
    world_free(w);
}

HOST_TEST(p2m_populate_call_error_changes_nothing)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    REQUIRE(p2m_release(&w->p, 1024, 1024, 0, &r) == 0);
    w->sim.fault = (struct xen_sim_fault){ .at_call = w->sim.calls + 1,
                                           .call_error = -XEN_ENOSYS };
    CHECK(p2m_populate(&w->p, 1024, 1024, &r) == -XEN_ENOSYS);
    CHECK(r.done == 0 && r.stop_pfn == 1024 && (r.flags & P2M_R_CALL_ERROR));
    CHECK(r.call_error == -XEN_ENOSYS);
    CHECK(w->mft.st[1024] == M_RELEASED && w->mft.st[2047] == M_RELEASED);
    CHECK(world_ok(w, "populate call error"));
    world_free(w);
}

/* A shrink of exactly one large page is one order-9 extent in one call. */
HOST_TEST(p2m_shrink_exactly_one_large_page)
{
    struct world *w = &W;
    struct p2m_result r;
    uint64_t c9;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    c9 = w->sim.calls_at_order[9];
    CHECK(p2m_set_target(&w->p, 4096 - 512, &r) == 0);
    CHECK(r.done == 512 && r.hypercalls == 1 && w->p.st.fallbacks == 0);
    CHECK(w->sim.calls_at_order[9] == c9 + 1);
    /* The released frames are one aligned 2 MiB block. */
    uint64_t first = ~0ULL, n = 0;
    for (uint64_t i = 0; i < 4096; i++)
        if (w->mft.st[i] == M_RELEASED) {
            first = MIN(first, i);
            n++;
        }
    CHECK(n == 512 && IS_ALIGNED(first, 512) && w->mft.st[first + 511] == M_RELEASED);
    CHECK(world_ok(w, "shrink by 512"));
    /* One page less than that: order 0 throughout. */
    c9 = w->sim.calls_at_order[9];
    CHECK(p2m_set_target(&w->p, 4096 - 512 - 511, &r) == 0);
    CHECK(r.done == 511 && r.hypercalls == 1 && w->sim.calls_at_order[9] == c9);
    /* The order-0 modes never ask for a large extent. */
    w->p.mode = P2M_MODE_BATCH;
    CHECK(p2m_set_target(&w->p, 4096 - 2048, &r) == 0);
    CHECK(r.done == 1025 && w->sim.calls_at_order[9] == c9);
    CHECK(world_ok(w, "shrinks"));
    world_free(w);
}

/* No free 2 MiB block: the balloon goes down page by page instead. */
HOST_TEST(p2m_shrink_without_a_free_large_block)
{
    struct world *w = &W;
    struct p2m_result r;

    world_dom0(w, 4096, 0, 1 << 20, 1 << 20);
    for (uint64_t i = 0; i < 4096; i += 500)
        w->mft.st[i] = M_INUSE;         /* one held frame in every 2 MiB */
    CHECK(p2m_set_target(&w->p, 4096 - 600, &r) == 0);
    CHECK(r.done == 600 && w->sim.calls_at_order[9] == 0);
    for (uint64_t i = 0; i < 4096; i += 500)
        w->mft.st[i] = M_FREE;
    CHECK(world_ok(w, "shrink, fragmented heap"));
    world_free(w);
}

/* A trim larger than the top RAM range goes on into the ones below. */
HOST_TEST(p2m_boot_trim_reaches_the_first_range)
{
    const struct p2m_range ram[] = { { 0, 0x9f }, { 0x100, 0x100 } };
    struct world *w = &W;
    struct p2m_result r;

    xen_sim_init(&w->sim, 0x400, 0x10000, 1 << 20);
    xen_sim_ops(&w->sim, &w->ops);
    xen_sim_back(&w->sim, 0, 0x9f);
    xen_sim_back(&w->sim, 0x100, 0x100);
    mft_init(&w->mft, &w->fops, 0, 0x200, M_UNINIT);
    memset(w->mft.st + 0x9f, M_OUTSIDE, 0x61);
    p2m_init(&w->p, &w->ops, &w->fops, 0);
    CHECK(p2m_boot_trim(&w->p, ram, 2, 0x50, &r) == 0);
    CHECK(r.done == 0x9f + 0x100 - 0x50 && w->p.backed == 0x50);
    CHECK(w->mft.st[0x4f] == M_UNINIT && w->mft.st[0x50] == M_RELEASED);
    CHECK(w->mft.st[0x100] == M_RELEASED && w->mft.st[0x1ff] == M_RELEASED);
    CHECK(world_ok(w, "trim into the first range"));
    world_free(w);
}

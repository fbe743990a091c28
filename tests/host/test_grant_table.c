/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant-table bookkeeping and batches against a simulated hypervisor: two
 * domains with real v1 table frames, a fake Xen that maps/unmaps/copies by
 * reading those entries and setting GTF_reading/GTF_writing the way the
 * real one does, a scratch-frame pool on the mapping side, and sync ops
 * that let a "peer" act between end_access's read and its swap.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include <pvhk/types.h>
#include <pvhk/grant.h>

#define SIM_FRAMES      4
#define SIM_PAGES       64              /* guest memory, gfn 0..63 */
#define SIM_SCRATCH     600             /* scratch frames on the mapper */
#define SCRATCH_BASE    0x100000000ull  /* their guest-physical base */
#define SIM_HANDLES     1024

struct gdom {
    domid_t id;
    struct gnttab_book book;
    grant_entry_v1_t *frames[SIM_FRAMES];       /* Xen's view */
    grant_entry_v1_t *bframes[SIM_FRAMES];      /* the book's storage */
    uint32_t link[SIM_FRAMES * GNTTAB_EPF];
    uint8_t (*mem)[PAGE_SIZE];
    /* Xen's side: per-ref pin counts of this domain's grants. */
    uint16_t pin_r[SIM_FRAMES * GNTTAB_EPF], pin_w[SIM_FRAMES * GNTTAB_EPF];
    /* Mapper side: which handle sits in each scratch frame (-1: none). */
    int scratch[SIM_SCRATCH];
    bool scratch_taken[SIM_SCRATCH];    /* the pool: handed out or free */
    unsigned grows;
    bool grow_fails;
};

struct xsim {
    struct gdom *d[2];
    struct { bool used; struct gdom *granter, *mapper; grant_ref_t ref;
             unsigned slot; bool ro; } h[SIM_HANDLES];
    bool crashed;                       /* a map onto an occupied frame */
    unsigned fail_after;                /* hypercall faults at this op (0: never) */
};

static int sim_grow(void *ctx, uint32_t idx, grant_entry_v1_t **va)
{
    struct gdom *d = ctx;

    if (d->grow_fails || idx >= SIM_FRAMES)
        return -XEN_ENOMEM;
    d->grows++;
    d->frames[idx] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    memset(d->frames[idx], 0, PAGE_SIZE);
    /* Not d->frames: the book keeps its own copy of the pointer. */
    *va = d->frames[idx];
    return 0;
}

static struct gdom *gdom_new(domid_t id, uint32_t max_frames,
                             const struct gnttab_sync_ops *sync)
{
    struct gdom *d = calloc(1, sizeof(*d));
    grant_entry_v1_t *f0;

    d->id = id;
    d->mem = calloc(SIM_PAGES, PAGE_SIZE);
    for (unsigned i = 0; i < SIM_SCRATCH; i++)
        d->scratch[i] = -1;
    gnttab_book_init(&d->book, d->bframes, d->link, max_frames,
                     sim_grow, d, sync);
    /* Frame 0 exists from domain creation; the toolstack filled ref 1. */
    f0 = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    memset(f0, 0, PAGE_SIZE);
    f0[GNTTAB_RESERVED_XENSTORE] = (grant_entry_v1_t){ GTF_permit_access, 0, 0xfeffe };
    d->frames[0] = f0;
    gnttab_book_add_frame(&d->book, f0);
    return d;
}

static void gdom_free(struct gdom *d)
{
    for (unsigned i = 0; i < SIM_FRAMES; i++)
        free(d->frames[i]);
    free(d->mem);
    free(d);
}

static struct gdom *sim_dom(struct xsim *x, domid_t id)
{
    for (unsigned i = 0; i < 2; i++)
        if (x->d[i] && x->d[i]->id == id)
            return x->d[i];
    return NULL;
}

/* The granter's entry as Xen sees it. */
static grant_entry_v1_t *sim_entry(struct gdom *g, grant_ref_t ref)
{
    if (ref >= g->book.nr_frames * GNTTAB_EPF)
        return NULL;
    return &g->frames[ref / GNTTAB_EPF][ref % GNTTAB_EPF];
}

/* Validate (granter, ref) for caller; returns GNTST_okay or a failure. */
static int16_t sim_check(struct gdom *caller, struct gdom *g, grant_ref_t ref,
                         bool write)
{
    grant_entry_v1_t *e;

    if (!g)
        return GNTST_bad_domain;
    if (!(e = sim_entry(g, ref)))
        return GNTST_bad_gntref;
    if ((e->flags & GTF_type_mask) != GTF_permit_access ||
        e->domid != caller->id)
        return GNTST_general_error;     /* measured: ungranted ref */
    if (write && (e->flags & GTF_readonly))
        return GNTST_general_error;
    if (e->frame >= SIM_PAGES)
        return GNTST_bad_page;
    return GNTST_okay;
}

static void sim_pin_flags(struct gdom *g, grant_ref_t ref)
{
    grant_entry_v1_t *e = sim_entry(g, ref);
    uint16_t f = e->flags & (uint16_t)~(GTF_reading | GTF_writing);

    if (g->pin_r[ref] || g->pin_w[ref])
        f |= GTF_reading;
    if (g->pin_w[ref])
        f |= GTF_writing;
    e->flags = f;
}

static long sim_map(struct xsim *x, struct gdom *me,
                    struct gnttab_map_grant_ref *ops, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct gnttab_map_grant_ref *op = &ops[i];
        bool ro = op->flags & GNTMAP_readonly;
        struct gdom *g = op->dom == DOMID_SELF ? NULL : sim_dom(x, op->dom);
        uint64_t slot = (op->host_addr - SCRATCH_BASE) / PAGE_SIZE;
        unsigned h;

        if (x->fail_after && i == x->fail_after)
            return -XEN_EFAULT;
        op->status = sim_check(me, g, op->ref, !ro);
        if (op->status)
            continue;
        if (op->host_addr < SCRATCH_BASE || slot >= SIM_SCRATCH ||
            op->host_addr % PAGE_SIZE) {
            op->status = GNTST_bad_virt_addr;
            continue;
        }
        if (me->scratch[slot] >= 0) {
            x->crashed = true;          /* the real one took dom0 down */
            op->status = GNTST_general_error;
            continue;
        }
        for (h = 0; h < SIM_HANDLES && x->h[h].used; h++)
            ;
        if (h == SIM_HANDLES) {
            op->status = GNTST_no_space;
            continue;
        }
        x->h[h].used = true;
        x->h[h].granter = g;
        x->h[h].mapper = me;
        x->h[h].ref = op->ref;
        x->h[h].slot = (unsigned)slot;
        x->h[h].ro = ro;
        me->scratch[slot] = (int)h;
        if (ro)
            g->pin_r[op->ref]++;
        else
            g->pin_w[op->ref]++;
        sim_pin_flags(g, op->ref);
        op->handle = h;
    }
    return 0;
}

static long sim_unmap(struct xsim *x, struct gdom *me,
                      struct gnttab_unmap_grant_ref *ops, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct gnttab_unmap_grant_ref *op = &ops[i];
        uint32_t h = op->handle;

        if (x->fail_after && i == x->fail_after)
            return -XEN_EFAULT;
        if (h >= SIM_HANDLES || !x->h[h].used || x->h[h].mapper != me ||
            op->host_addr != SCRATCH_BASE + x->h[h].slot * PAGE_SIZE) {
            op->status = GNTST_bad_handle;
            continue;
        }
        struct gdom *g = x->h[h].granter;

        if (x->h[h].ro)
            g->pin_r[x->h[h].ref]--;
        else
            g->pin_w[x->h[h].ref]--;
        sim_pin_flags(g, x->h[h].ref);
        me->scratch[x->h[h].slot] = -1;
        x->h[h].used = false;
        op->status = GNTST_okay;
    }
    return 0;
}

/* The bytes a mapping at a scratch frame shows. */
static uint8_t *sim_mapped(struct xsim *x, struct gdom *me, uint64_t addr)
{
    int h = me->scratch[(addr - SCRATCH_BASE) / PAGE_SIZE];

    if (h < 0)
        return NULL;
    return x->h[h].granter->mem[sim_entry(x->h[h].granter,
                                          x->h[h].ref)->frame];
}

static uint8_t *copy_side(struct xsim *x, struct gdom *me,
                          const struct gnttab_copy_ptr *p, bool gref,
                          bool write, int16_t *st)
{
    if (gref) {
        struct gdom *g = sim_dom(x, p->domid);

        *st = sim_check(me, g, p->u.ref, write);
        return *st ? NULL : g->mem[sim_entry(g, p->u.ref)->frame];
    }
    if (p->domid != DOMID_SELF) {
        *st = GNTST_permission_denied;  /* measured with an explicit own id */
        return NULL;
    }
    if (p->u.gmfn >= SIM_PAGES) {
        *st = GNTST_bad_page;
        return NULL;
    }
    *st = GNTST_okay;
    return me->mem[p->u.gmfn];
}

static long sim_copy(struct xsim *x, struct gdom *me, struct gnttab_copy *ops,
                     unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct gnttab_copy *op = &ops[i];
        uint8_t *s, *d;

        if (op->source.offset + op->len > PAGE_SIZE ||
            op->dest.offset + op->len > PAGE_SIZE) {
            op->status = GNTST_bad_copy_arg;
            continue;
        }
        s = copy_side(x, me, &op->source, op->flags & GNTCOPY_source_gref,
                      false, &op->status);
        if (!s)
            continue;
        d = copy_side(x, me, &op->dest, op->flags & GNTCOPY_dest_gref, true,
                      &op->status);
        if (!d)
            continue;
        memmove(d + op->dest.offset, s + op->source.offset, op->len);
    }
    return 0;
}

/* Take n scratch frames from the mapper's pool. */
static void scratch_take(struct gdom *d, uint64_t *addrs, unsigned n)
{
    unsigned k = 0;

    for (unsigned i = 0; i < SIM_SCRATCH && k < n; i++) {
        if (!d->scratch_taken[i]) {
            d->scratch_taken[i] = true;
            addrs[k++] = SCRATCH_BASE + i * PAGE_SIZE;
        }
    }
    if (k != n)
        abort();
}

static unsigned scratch_free_count(const struct gdom *d)
{
    unsigned n = 0;

    for (unsigned i = 0; i < SIM_SCRATCH; i++)
        n += !d->scratch_taken[i];
    return n;
}

/* Return frames whose unmap succeeded, and only those. */
static void scratch_return(struct gdom *d,
                           const struct gnttab_unmap_grant_ref *ops, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (ops[i].status == GNTST_okay)
            d->scratch_taken[(ops[i].host_addr - SCRATCH_BASE) / PAGE_SIZE] =
                false;
}

/* ---- the book ------------------------------------------------------------- */

HOST_TEST(gnttab_reserved_refs_and_fifo)
{
    struct gdom *d = gdom_new(1, 1, NULL);
    struct gnttab_book *b = &d->book;
    grant_ref_t r, first;

    CHECK(GNTTAB_EPF == 512 && GNTTAB_NR_RESERVED_ENTRIES == 8);
    CHECK(b->nr_free == GNTTAB_EPF - GNTTAB_NR_RESERVED_ENTRIES);
    for (unsigned i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++)
        CHECK(b->link[i] == GNTTAB_LINK_RESERVED);
    REQUIRE(gnttab_book_alloc_ref(b, &first) == 0);
    CHECK(first == GNTTAB_NR_RESERVED_ENTRIES);
    for (grant_ref_t want = first + 1; want < GNTTAB_EPF; want++) {
        REQUIRE(gnttab_book_alloc_ref(b, &r) == 0);
        CHECKF(r == want, "got %u want %u", r, want);
    }
    CHECK(b->nr_free == 0);
    CHECK(gnttab_book_alloc_ref(b, &r) == -XEN_ENOSPC);     /* max 1 frame */
    /* FIFO: freed refs come back in the order they were freed. */
    CHECK(gnttab_book_free_ref(b, 100) == 0);
    CHECK(gnttab_book_free_ref(b, 9) == 0);
    CHECK(gnttab_book_free_ref(b, 9) == -XEN_EINVAL);       /* double free */
    CHECK(gnttab_book_free_ref(b, GNTTAB_RESERVED_XENSTORE) == -XEN_EINVAL);
    CHECK(gnttab_book_free_ref(b, GNTTAB_EPF) == -XEN_EINVAL); /* not ours */
    CHECK(gnttab_book_alloc_ref(b, &r) == 0 && r == 100);
    CHECK(gnttab_book_alloc_ref(b, &r) == 0 && r == 9);
    /* The toolstack's xenstore entry is untouched. */
    CHECK(d->frames[0][GNTTAB_RESERVED_XENSTORE].frame == 0xfeffe);
    /* All-or-nothing batch allocation. */
    CHECK(gnttab_book_free_ref(b, 200) == 0);
    grant_ref_t two[2];
    CHECK(gnttab_book_alloc_refs(b, two, 2) == -XEN_ENOSPC);
    CHECK(b->nr_free == 1 && gnttab_book_alloc_ref(b, &r) == 0 && r == 200);
    gdom_free(d);
}

HOST_TEST(gnttab_stale_entries_kept_out)
{
    grant_entry_v1_t *f = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    grant_entry_v1_t *frames[1];
    uint32_t link[GNTTAB_EPF];
    struct gnttab_book b;
    grant_ref_t r;

    memset(f, 0, PAGE_SIZE);
    f[20].flags = GTF_permit_access;    /* left by a previous kernel */
    gnttab_book_init(&b, frames, link, 1, NULL, NULL, NULL);
    CHECK(gnttab_book_add_frame(&b, f) == 0);
    CHECK(b.nr_stale == 1 && link[20] == GNTTAB_LINK_STALE);
    CHECK(b.nr_free == GNTTAB_EPF - 8 - 1);
    while (b.nr_free) {
        REQUIRE(gnttab_book_alloc_ref(&b, &r) == 0);
        CHECK(r != 20);
    }
    CHECK(gnttab_book_add_frame(&b, f) == -XEN_ENOSPC);
    CHECK(gnttab_book_entry(&b, GNTTAB_EPF) == NULL);
    free(f);
}

HOST_TEST(gnttab_grow_by_frames)
{
    struct gdom *d = gdom_new(1, SIM_FRAMES, NULL);
    struct gnttab_book *b = &d->book;
    unsigned total = SIM_FRAMES * GNTTAB_EPF - GNTTAB_NR_RESERVED_ENTRIES;
    grant_ref_t r;

    for (unsigned i = 0; i < total; i++) {
        REQUIRE(gnttab_book_alloc_ref(b, &r) == 0);
        /* Frame 0 is the only one with reserved refs. */
        if (i == GNTTAB_EPF - GNTTAB_NR_RESERVED_ENTRIES)
            CHECKF(r == GNTTAB_EPF, "first ref of frame 1 is %u", r);
    }
    CHECK(d->grows == SIM_FRAMES - 1 && b->nr_frames == SIM_FRAMES);
    CHECK(gnttab_book_alloc_ref(b, &r) == -XEN_ENOSPC);
    CHECK(d->grows == SIM_FRAMES - 1);  /* no call beyond max */
    gdom_free(d);

    /* A failing grow leaves the book as it was. */
    d = gdom_new(1, SIM_FRAMES, NULL);
    b = &d->book;
    for (unsigned i = 0; i < GNTTAB_EPF - GNTTAB_NR_RESERVED_ENTRIES; i++)
        REQUIRE(gnttab_book_alloc_ref(b, &r) == 0);
    d->grow_fails = true;
    CHECK(gnttab_book_alloc_ref(b, &r) == -XEN_ENOMEM);
    CHECK(b->nr_frames == 1 && b->nr_free == 0);
    d->grow_fails = false;
    CHECK(gnttab_book_alloc_ref(b, &r) == 0 && r == GNTTAB_EPF);
    gdom_free(d);
}

/* Sync ops that check the entry at the barrier, and can act as a peer. */
struct probe {
    struct gnttab_book *b;
    uint32_t gfn;
    domid_t domid;
    unsigned wmbs, bad_order;
    enum { PEER_NONE, PEER_MAPS, PEER_FLIPS_ONCE, PEER_FLIPS_FOREVER } peer;
    unsigned swaps;
};

static void probe_wmb(void *ctx)
{
    struct probe *p = ctx;
    unsigned pending = 0;

    p->wmbs++;
    /*
     * At the barrier exactly one entry is allocated but not yet published
     * (flags still 0), and it already holds the new frame and domid.
     */
    for (grant_ref_t r = 0; r < p->b->nr_frames * GNTTAB_EPF; r++) {
        grant_entry_v1_t *e = gnttab_book_entry(p->b, r);

        if (p->b->link[r] != GNTTAB_LINK_INUSE || e->flags != 0)
            continue;
        pending++;
        p->bad_order += e->frame != p->gfn || e->domid != p->domid;
    }
    p->bad_order += pending != 1;
}

static uint16_t probe_cmpxchg(void *ctx, uint16_t *flags, uint16_t old,
                              uint16_t new_)
{
    struct probe *p = ctx;

    p->swaps++;
    /* The peer acts between end_access's read of flags and its swap. */
    if (p->peer == PEER_MAPS && p->swaps == 1)
        *flags |= GTF_reading;
    if (p->peer == PEER_FLIPS_FOREVER ||
        (p->peer == PEER_FLIPS_ONCE && p->swaps == 1))
        *flags ^= GTF_PWT;              /* a change that is not a mapping */
    return gnttab_sync_native.cmpxchg_flags(NULL, flags, old, new_);
}

HOST_TEST(gnttab_grant_write_order)
{
    struct probe p = { 0 };
    struct gnttab_sync_ops ops = { probe_wmb, probe_cmpxchg, &p };
    struct gdom *d = gdom_new(0, 1, &ops);
    grant_entry_v1_t *e;
    grant_ref_t r;
    unsigned before;

    p.b = &d->book;
    p.gfn = 0x1234;
    p.domid = 7;
    REQUIRE(gnttab_grant_access(&d->book, 7, 0x1234, true, &r) == 0);
    CHECK(p.wmbs == 1 && p.bad_order == 0);
    e = gnttab_book_entry(&d->book, r);
    CHECK(e->flags == (GTF_permit_access | GTF_readonly));
    CHECK(e->domid == 7 && e->frame == 0x1234);
    p.gfn = 0x5678;
    REQUIRE(gnttab_grant_access(&d->book, 7, 0x5678, false, &r) == 0);
    CHECK(p.wmbs == 2 && p.bad_order == 0);
    CHECK(gnttab_book_entry(&d->book, r)->flags == GTF_permit_access);

    before = d->book.nr_free;
    CHECK(gnttab_grant_access(&d->book, DOMID_SELF, 1, false, &r) ==
          -XEN_EINVAL);
    CHECK(gnttab_grant_access(&d->book, 7, 1ull << 32, false, &r) ==
          -XEN_ERANGE);
    CHECK(d->book.nr_free == before);   /* no ref leaked on refusal */
    gdom_free(d);
}

HOST_TEST(gnttab_end_access_races)
{
    struct probe p = { 0 };
    struct gnttab_sync_ops ops = { probe_wmb, probe_cmpxchg, &p };
    struct gdom *d = gdom_new(0, 1, &ops);
    grant_entry_v1_t *e;
    grant_ref_t r;

    p.b = &d->book;
    REQUIRE(gnttab_grant_access(&d->book, 3, 10, false, &r) == 0);
    e = gnttab_book_entry(&d->book, r);

    /* The peer maps between our read and our swap: busy, grant intact. */
    p.peer = PEER_MAPS;
    CHECK(gnttab_end_access(&d->book, r) == -XEN_EBUSY);
    CHECK(e->flags == (GTF_permit_access | GTF_reading));
    CHECK(d->book.link[r] == GNTTAB_LINK_INUSE);
    /* Still mapped: busy at the first look, no swap attempted. */
    p.swaps = 0;
    CHECK(gnttab_end_access(&d->book, r) == -XEN_EBUSY && p.swaps == 0);
    e->flags &= (uint16_t)~GTF_reading; /* the peer unmaps */

    /* The word changes under us once (not a mapping): retried, done. */
    p.peer = PEER_FLIPS_ONCE;
    p.swaps = 0;
    CHECK(gnttab_end_access(&d->book, r) == 0);
    CHECK(p.swaps == 2 && e->flags == 0);
    CHECK(gnttab_end_access(&d->book, r) == -XEN_EINVAL);   /* already ended */

    /* A word that never settles: bounded, reported busy. */
    REQUIRE(gnttab_grant_access(&d->book, 3, 11, false, &r) == 0);
    p.peer = PEER_FLIPS_FOREVER;
    p.swaps = 0;
    CHECK(gnttab_end_access(&d->book, r) == -XEN_EBUSY);
    CHECK(p.swaps == 64);
    CHECK(d->book.link[r] == GNTTAB_LINK_INUSE);

    /* Allocated but never granted, and out of range. */
    p.peer = PEER_NONE;
    REQUIRE(gnttab_book_alloc_ref(&d->book, &r) == 0);
    CHECK(gnttab_end_access(&d->book, r) == -XEN_EINVAL);
    CHECK(gnttab_book_free_ref(&d->book, r) == 0);
    CHECK(gnttab_end_access(&d->book, 100000) == -XEN_EINVAL);
    gdom_free(d);
}

/* ---- two domains through the simulated hypervisor ------------------------- */

struct pair {
    struct xsim x;
    struct gdom *a, *b;                 /* a grants, b maps */
};

static struct pair *pair_new(void)
{
    struct pair *p = calloc(1, sizeof(*p));

    p->a = gdom_new(1, SIM_FRAMES, NULL);
    p->b = gdom_new(2, SIM_FRAMES, NULL);
    p->x.d[0] = p->a;
    p->x.d[1] = p->b;
    return p;
}

static void pair_free(struct pair *p)
{
    for (unsigned h = 0; h < SIM_HANDLES; h++)
        CHECK(!p->x.h[h].used);         /* every test unmaps everything */
    gdom_free(p->a);
    gdom_free(p->b);
    free(p);
}

HOST_TEST(gnttab_batch_map_unmap_roundtrip)
{
    enum { N = 512 };
    struct pair *p = pair_new();
    static grant_ref_t refs[N];
    static uint64_t addrs[N];
    static struct gnttab_map_grant_ref map[N];
    static struct gnttab_unmap_grant_ref unmap[N];
    static grant_handle_t handles[N];
    struct gnttab_report rep;
    unsigned pool = scratch_free_count(p->b);

    /* A grants N pages (the table grows to 2 frames), half read-only. */
    for (unsigned i = 0; i < N; i++) {
        memset(p->a->mem[i % SIM_PAGES], (int)(i % SIM_PAGES), PAGE_SIZE);
        REQUIRE(gnttab_grant_access(&p->a->book, 2, i % SIM_PAGES, i & 1,
                                    &refs[i]) == 0);
    }
    CHECK(p->a->book.nr_frames == 2);
    scratch_take(p->b, addrs, N / 2);
    /* Read-write maps of the even refs... */
    grant_ref_t even[N / 2], odd[N / 2];
    for (unsigned i = 0; i < N / 2; i++) {
        even[i] = refs[2 * i];
        odd[i] = refs[2 * i + 1];
    }
    REQUIRE(gnttab_build_map(map, N / 2, 1, even, addrs, false) == 0);
    CHECK(map[0].flags == GNTMAP_host_map && map[0].dom == 1 &&
          map[0].status == GNTTAB_ST_NOT_DONE);
    CHECK(gnttab_report_map(map, N / 2, sim_map(&p->x, p->b, map, N / 2),
                            &rep) == 0);
    CHECK(rep.ok == N / 2 && rep.failed == 0 && rep.not_done == 0 &&
          rep.count[0] == N / 2 && rep.first_bad == N / 2);
    /* ...and read-only maps of the odd ones in a second batch. */
    scratch_take(p->b, addrs + N / 2, N / 2);
    REQUIRE(gnttab_build_map(map + N / 2, N / 2, 1, odd, addrs + N / 2,
                             true) == 0);
    CHECK(map[N / 2].flags == (GNTMAP_host_map | GNTMAP_readonly));
    CHECK(gnttab_report_map(map + N / 2, N / 2,
                            sim_map(&p->x, p->b, map + N / 2, N / 2),
                            &rep) == 0);
    CHECK(!p->x.crashed);

    /* The mapping shows the granted page; the entry shows the pin. */
    for (unsigned i = 0; i < N / 2; i++) {
        uint8_t *m = sim_mapped(&p->x, p->b, addrs[i]);

        REQUIRE(m);
        CHECK(m[17] == (uint8_t)((2 * i) % SIM_PAGES));
        CHECK(gnttab_book_entry(&p->a->book, even[i])->flags ==
              (GTF_permit_access | GTF_reading | GTF_writing));
        CHECK(gnttab_book_entry(&p->a->book, odd[i])->flags ==
              (GTF_permit_access | GTF_readonly | GTF_reading));
        CHECK(gnttab_end_access(&p->a->book, even[i]) == -XEN_EBUSY);
        CHECK(gnttab_end_access(&p->a->book, odd[i]) == -XEN_EBUSY);
    }

    for (unsigned i = 0; i < N; i++)
        handles[i] = map[i].handle;
    REQUIRE(gnttab_build_unmap(unmap, N, addrs, handles) == 0);
    CHECK(gnttab_report_unmap(unmap, N, sim_unmap(&p->x, p->b, unmap, N),
                              &rep) == 0 && rep.ok == N);
    scratch_return(p->b, unmap, N);
    CHECK(scratch_free_count(p->b) == pool);    /* pool exactly restored */
    for (unsigned i = 0; i < N; i++)
        CHECK(gnttab_end_access(&p->a->book, refs[i]) == 0);
    CHECK(p->a->book.nr_free ==
          2 * GNTTAB_EPF - GNTTAB_NR_RESERVED_ENTRIES);
    pair_free(p);
}

HOST_TEST(gnttab_batch_partial_failure)
{
    struct pair *p = pair_new();
    grant_ref_t refs[8];
    uint64_t addrs[8];
    struct gnttab_map_grant_ref map[8];
    struct gnttab_unmap_grant_ref unmap[8];
    struct gnttab_report rep;
    unsigned pool = scratch_free_count(p->b), n;

    for (unsigned i = 0; i < 8; i++)
        REQUIRE(gnttab_grant_access(&p->a->book, 2, i, false, &refs[i]) == 0);
    REQUIRE(gnttab_end_access(&p->a->book, refs[2]) == 0);  /* ungranted */
    refs[5] = 100000;                                       /* no such ref */
    scratch_take(p->b, addrs, 8);
    REQUIRE(gnttab_build_map(map, 8, 1, refs, addrs, false) == 0);
    map[6].dom = 9;                     /* no such domain */
    CHECK(gnttab_report_map(map, 8, sim_map(&p->x, p->b, map, 8), &rep) ==
          -XEN_EIO);                    /* the first failure: general_error */
    CHECK(rep.ok == 5 && rep.failed == 3 && rep.not_done == 0);
    CHECK(rep.first_bad == 2 && rep.first_status == GNTST_general_error);
    CHECK(rep.count[-GNTST_general_error] == 1 &&
          rep.count[-GNTST_bad_gntref] == 1 &&
          rep.count[-GNTST_bad_domain] == 1 && rep.count[0] == 5);

    /* Exactly the successful ones are undone; the rest hold nothing. */
    n = gnttab_build_unmap_of_mapped(map, 8, unmap);
    CHECK(n == 5);
    CHECK(gnttab_report_unmap(unmap, n, sim_unmap(&p->x, p->b, unmap, n),
                              &rep) == 0);
    scratch_return(p->b, unmap, n);
    /* Frames of failed maps were never mapped: return them directly. */
    for (unsigned i = 0; i < 8; i++)
        if (map[i].status != GNTST_okay)
            p->b->scratch_taken[(addrs[i] - SCRATCH_BASE) / PAGE_SIZE] = false;
    CHECK(scratch_free_count(p->b) == pool);

    /* A stale unmap: bad_handle, and that frame must not go back. */
    CHECK(gnttab_report_unmap(unmap, 1, sim_unmap(&p->x, p->b, unmap, 1),
                              &rep) == -XEN_EBADF);
    CHECK(rep.count[-GNTST_bad_handle] == 1);
    pair_free(p);
}

HOST_TEST(gnttab_batch_hypercall_fault_midway)
{
    struct pair *p = pair_new();
    grant_ref_t refs[8];
    uint64_t addrs[8];
    struct gnttab_map_grant_ref map[8];
    struct gnttab_unmap_grant_ref unmap[8];
    struct gnttab_report rep;

    for (unsigned i = 0; i < 8; i++)
        REQUIRE(gnttab_grant_access(&p->a->book, 2, i, true, &refs[i]) == 0);
    scratch_take(p->b, addrs, 8);
    REQUIRE(gnttab_build_map(map, 8, 1, refs, addrs, true) == 0);
    p->x.fail_after = 3;
    CHECK(gnttab_report_map(map, 8, sim_map(&p->x, p->b, map, 8), &rep) ==
          -XEN_EFAULT);
    CHECK(rep.hc_rc == -XEN_EFAULT && rep.ok == 3 && rep.not_done == 5 &&
          rep.failed == 0 && rep.first_bad == 3 &&
          rep.first_status == GNTTAB_ST_NOT_DONE);
    p->x.fail_after = 0;
    CHECK(gnttab_build_unmap_of_mapped(map, 8, unmap) == 3);
    CHECK(gnttab_report_unmap(unmap, 3, sim_unmap(&p->x, p->b, unmap, 3),
                              &rep) == 0);

    /* A hypercall that says 0 but skipped ops is not success. */
    REQUIRE(gnttab_build_map(map, 2, 1, refs, addrs, true) == 0);
    CHECK(gnttab_report_map(map, 2, 0, &rep) == -XEN_ENODATA);
    CHECK(rep.not_done == 2);
    pair_free(p);
}

HOST_TEST(gnttab_build_refuses_dangerous_batches)
{
    struct gnttab_map_grant_ref map[4];
    struct gnttab_unmap_grant_ref unmap[2];
    grant_ref_t refs[4] = { 8, 9, 10, 11 };
    grant_handle_t h[2] = { 0, 1 };
    uint64_t a[4] = { 0x1000, 0x2000, 0x3000, 0x2000 };

    /* Two grants at one frame: the crash at Xen's p2m.c:673. */
    CHECK(gnttab_build_map(map, 4, 1, refs, a, false) == -XEN_EINVAL);
    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == 0);
    a[1] = 0x2001;
    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == -XEN_EINVAL);
    a[1] = 0;
    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == -XEN_EINVAL);
    a[1] = 0x2000;
    CHECK(gnttab_build_map(map, 3, DOMID_SELF, refs, a, false) == -XEN_EINVAL);
    CHECK(gnttab_build_map(map, 3, 0, refs, a, false) == 0);
    CHECK(map[2].host_addr == 0x3000 && map[2].ref == 10 && map[2].dom == 0);
    CHECK(gnttab_build_unmap(unmap, 2, a, h) == 0 &&
          unmap[1].handle == 1 && unmap[1].dev_bus_addr == 0 &&
          unmap[1].status == GNTTAB_ST_NOT_DONE);
    a[0] = 0x1800;
    CHECK(gnttab_build_unmap(unmap, 2, a, h) == -XEN_EINVAL);
}

HOST_TEST(gnttab_copy_forms)
{
    struct pair *p = pair_new();
    struct gnttab_copy op[4];
    struct gnttab_report rep;
    grant_ref_t rw, ro;

    memset(p->a->mem[5], 0xa5, PAGE_SIZE);
    memcpy(p->b->mem[3] + 100, "grant copy", 10);
    REQUIRE(gnttab_grant_access(&p->a->book, 2, 5, false, &rw) == 0);
    REQUIRE(gnttab_grant_access(&p->a->book, 2, 6, true, &ro) == 0);

    /* B: local -> A's rw grant; A's grant -> local; local -> local. */
    struct gnttab_copy_end loc3 = { false, 0, 3, 100 };
    struct gnttab_copy_end grw = { true, 1, rw, 2000 };
    struct gnttab_copy_end loc4 = { false, 0, 4, 0 };
    struct gnttab_copy_end gro = { true, 1, ro, 0 };
    REQUIRE(gnttab_build_copy(&op[0], &loc3, &grw, 10) == 0);
    CHECK(op[0].flags == GNTCOPY_dest_gref && op[0].source.domid == DOMID_SELF &&
          op[0].source.u.gmfn == 3 && op[0].dest.u.ref == rw &&
          op[0].dest.domid == 1 && op[0].status == GNTTAB_ST_NOT_DONE);
    REQUIRE(gnttab_build_copy(&op[1], &grw, &loc4, 10) == 0);
    CHECK(op[1].flags == GNTCOPY_source_gref);
    REQUIRE(gnttab_build_copy(&op[2], &loc3, &loc4, 10) == 0);
    CHECK(op[2].flags == 0 && op[2].dest.domid == DOMID_SELF);
    /* Into a read-only grant: refused per op, the others still done. */
    REQUIRE(gnttab_build_copy(&op[3], &loc3, &gro, 10) == 0);
    CHECK(gnttab_report_copy(op, 4, sim_copy(&p->x, p->b, op, 4), &rep) ==
          -XEN_EIO);
    CHECK(rep.ok == 3 && rep.first_bad == 3);
    CHECK(!memcmp(p->a->mem[5] + 2000, "grant copy", 10));
    CHECK(!memcmp(p->b->mem[4], "grant copy", 10));
    CHECK(p->a->mem[6][0] == 0);

    /* Crossing a page is caught before Xen's bad_copy_arg. */
    struct gnttab_copy_end edge = { false, 0, 3, 4090 };
    CHECK(gnttab_build_copy(&op[0], &edge, &loc4, 7) == -XEN_EINVAL);
    CHECK(gnttab_build_copy(&op[0], &edge, &loc4, 6) == 0);
    CHECK(gnttab_build_copy(&op[0], &loc4, &edge, 7) == -XEN_EINVAL);
    struct gnttab_copy_end big = { true, 1, 1ull << 32, 0 };
    CHECK(gnttab_build_copy(&op[0], &big, &loc4, 1) == -XEN_ERANGE);
    /* A refused build leaves nothing that looks done. */
    CHECK(op[0].status == GNTTAB_ST_NOT_DONE);
    /* The sim's own check, for ops built by hand. */
    REQUIRE(gnttab_build_copy(&op[0], &edge, &loc4, 6) == 0);
    op[0].len = 7;
    CHECK(gnttab_report_copy(op, 1, sim_copy(&p->x, p->b, op, 1), &rep) ==
          -XEN_EINVAL && rep.count[-GNTST_bad_copy_arg] == 1);
    pair_free(p);
}

HOST_TEST(gnttab_status_names_cover_the_header)
{
#define ST(x) { x, #x }
    static const struct { int16_t st; const char *name; } t[] = {
        ST(GNTST_okay), ST(GNTST_general_error), ST(GNTST_bad_domain),
        ST(GNTST_bad_gntref), ST(GNTST_bad_handle), ST(GNTST_bad_virt_addr),
        ST(GNTST_bad_dev_addr), ST(GNTST_no_device_space),
        ST(GNTST_permission_denied), ST(GNTST_bad_page),
        ST(GNTST_bad_copy_arg), ST(GNTST_address_too_big),
        ST(GNTST_eagain), ST(GNTST_no_space),
    };
#undef ST
    struct gnttab_unmap_grant_ref ops[ARRAY_SIZE(t) + 2];
    struct gnttab_report rep;

    CHECK(ARRAY_SIZE(t) == GNTTAB_NR_STATUS);
    for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
        CHECKF(!strcmp(gnttab_status_name(t[i].st), t[i].name), "%s vs %s",
               gnttab_status_name(t[i].st), t[i].name);
        CHECK((gnttab_status_errno(t[i].st) == 0) == (t[i].st == 0));
        for (unsigned j = 0; j < i; j++)
            CHECK(gnttab_status_errno(t[i].st) != gnttab_status_errno(t[j].st) ||
                  t[i].st == GNTST_bad_dev_addr);
        ops[i].status = t[i].st;
    }
    CHECK(gnttab_status_errno(GNTST_eagain) == -XEN_EAGAIN);
    CHECK(!strcmp(gnttab_status_name(-14), "GNTST_unknown"));
    CHECK(!strcmp(gnttab_status_name(3), "GNTST_unknown"));
    CHECK(!strcmp(gnttab_status_name(GNTTAB_ST_NOT_DONE), "GNTST_not_done"));
    ops[ARRAY_SIZE(t)].status = -14;
    ops[ARRAY_SIZE(t) + 1].status = GNTTAB_ST_NOT_DONE;
    /* Every status is counted, none lost: one of each, one unknown. */
    CHECK(gnttab_report_unmap(ops, ARRAY_SIZE(ops), 0, &rep) == -XEN_EIO);
    for (unsigned i = 0; i <= GNTTAB_NR_STATUS; i++)
        CHECKF(rep.count[i] == 1, "count[%u] = %u", i, rep.count[i]);
    CHECK(rep.ok == 1 && rep.failed == GNTTAB_NR_STATUS &&
          rep.not_done == 1 && rep.first_bad == 1);
}

/*
 * Random grant/map/unmap/end sequences against a model: end_access is busy
 * exactly while a mapping exists, refs are never handed out twice, and the
 * ref count always adds up.
 */
HOST_TEST(gnttab_random_against_model)
{
    unsigned iters = host_soak ? 200000 : 20000;
    struct pair *p = pair_new();
    enum { M = 64 };
    struct { bool granted, mapped, ro; grant_ref_t ref; uint64_t addr;
             grant_handle_t h; } s[M] = { 0 };
    uint32_t seed = 99;
    unsigned pool = scratch_free_count(p->b);

    for (unsigned it = 0; it < iters; it++) {
        seed = seed * 1664525u + 1013904223u;
        unsigned i = (seed >> 10) % M, op = (seed >> 20) % 4;
        struct gnttab_report rep;

        if (op == 0 && !s[i].granted) {
            s[i].ro = seed & 1;
            REQUIRE(gnttab_grant_access(&p->a->book, 2, i % SIM_PAGES,
                                        s[i].ro, &s[i].ref) == 0);
            for (unsigned j = 0; j < M; j++)
                CHECK(j == i || !s[j].granted || s[j].ref != s[i].ref);
            s[i].granted = true;
        } else if (op == 1 && s[i].granted && !s[i].mapped) {
            struct gnttab_map_grant_ref m;

            scratch_take(p->b, &s[i].addr, 1);
            REQUIRE(gnttab_build_map(&m, 1, 1, &s[i].ref, &s[i].addr,
                                     s[i].ro) == 0);
            CHECK(gnttab_report_map(&m, 1, sim_map(&p->x, p->b, &m, 1),
                                    &rep) == 0);
            s[i].h = m.handle;
            s[i].mapped = true;
        } else if (op == 2 && s[i].mapped) {
            struct gnttab_unmap_grant_ref u;

            REQUIRE(gnttab_build_unmap(&u, 1, &s[i].addr, &s[i].h) == 0);
            CHECK(gnttab_report_unmap(&u, 1, sim_unmap(&p->x, p->b, &u, 1),
                                      &rep) == 0);
            scratch_return(p->b, &u, 1);
            s[i].mapped = false;
        } else if (op == 3 && s[i].granted) {
            int rc = gnttab_end_access(&p->a->book, s[i].ref);

            CHECKF(rc == (s[i].mapped ? -XEN_EBUSY : 0), "rc %d mapped %d",
                   rc, s[i].mapped);
            if (!rc)
                s[i].granted = false;
        }
        unsigned in_use = 0;
        for (unsigned j = 0; j < M; j++)
            in_use += s[j].granted;
        CHECK(p->a->book.nr_free + in_use + GNTTAB_NR_RESERVED_ENTRIES ==
              p->a->book.nr_frames * GNTTAB_EPF);
    }
    for (unsigned i = 0; i < M; i++) {
        if (s[i].mapped) {
            struct gnttab_unmap_grant_ref u;
            struct gnttab_report rep;

            gnttab_build_unmap(&u, 1, &s[i].addr, &s[i].h);
            gnttab_report_unmap(&u, 1, sim_unmap(&p->x, p->b, &u, 1), &rep);
            scratch_return(p->b, &u, 1);
        }
        if (s[i].granted)
            CHECK(gnttab_end_access(&p->a->book, s[i].ref) == 0);
    }
    CHECK(scratch_free_count(p->b) == pool);
    CHECK(!p->x.crashed);
    pair_free(p);
}

/* ---- boundaries ------------------------------------------------------------ */

/* A v1 entry's frame is 32 bits: gfn 0xffffffff is the last one it holds. */
HOST_TEST(gnttab_gfn_and_ref_limits)
{
    struct gdom *d = gdom_new(0, 1, NULL);
    struct gnttab_copy op;
    struct gnttab_copy_end loc = { false, 0, 3, 0 };
    struct gnttab_copy_end top = { true, 1, 0xffffffffull, 0 };
    struct gnttab_copy_end past = { true, 1, 0x100000000ull, 0 };
    grant_ref_t r;
    unsigned before;

    REQUIRE(gnttab_grant_access(&d->book, 7, 0xffffffffull, false, &r) == 0);
    CHECK(gnttab_book_entry(&d->book, r)->frame == 0xffffffffu);
    before = d->book.nr_free;
    CHECK(gnttab_grant_access(&d->book, 7, 0x100000000ull, false, &r) ==
          -XEN_ERANGE);
    CHECK(d->book.nr_free == before);
    /* The same for a copy's grant reference. */
    CHECK(gnttab_build_copy(&op, &top, &loc, 1) == 0 &&
          op.source.u.ref == 0xffffffffu);
    CHECK(gnttab_build_copy(&op, &loc, &top, 1) == 0 &&
          op.dest.u.ref == 0xffffffffu);
    CHECK(gnttab_build_copy(&op, &past, &loc, 1) == -XEN_ERANGE);
    CHECK(gnttab_build_copy(&op, &loc, &past, 1) == -XEN_ERANGE);
    /* A local frame is a full 64-bit gmfn. */
    loc.ref_or_gfn = 0x100000000ull;
    CHECK(gnttab_build_copy(&op, &loc, &top, 1) == 0 &&
          op.source.u.gmfn == 0x100000000ull);
    gdom_free(d);
}

/* A grow callback that hands back an unusable frame: refused, no retry. */
static unsigned bad_grows;

static int grow_unaligned(void *ctx, uint32_t idx, grant_entry_v1_t **va)
{
    (void)idx;
    bad_grows++;
    *va = (grant_entry_v1_t *)((uint8_t *)ctx + 8);
    return 0;
}

HOST_TEST(gnttab_grow_refused_frame)
{
    static grant_entry_v1_t *frames[2];
    static uint32_t link[2 * GNTTAB_EPF];
    grant_entry_v1_t *f0 = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    struct gnttab_book b;
    grant_ref_t r;

    memset(f0, 0, PAGE_SIZE);
    gnttab_book_init(&b, frames, link, 2, grow_unaligned, f0, NULL);
    REQUIRE(gnttab_book_add_frame(&b, f0) == 0);
    while (b.nr_free)
        REQUIRE(gnttab_book_alloc_ref(&b, &r) == 0);
    bad_grows = 0;
    CHECK(gnttab_book_alloc_ref(&b, &r) == -XEN_EINVAL);
    CHECK(bad_grows == 1 && b.nr_frames == 1 && b.nr_free == 0);
    free(f0);
}

/* Unmap ops built from a map batch carry nothing but what Xen needs. */
HOST_TEST(gnttab_unmap_of_mapped_is_clean)
{
    struct gnttab_map_grant_ref map[3];
    struct gnttab_unmap_grant_ref out[3];

    memset(map, 0, sizeof(map));
    memset(out, 0xa5, sizeof(out));     /* whatever the caller's array held */
    map[0] = (struct gnttab_map_grant_ref){ .host_addr = 0x1000, .handle = 4,
                                            .status = GNTST_okay };
    map[1] = (struct gnttab_map_grant_ref){ .host_addr = 0x2000, .handle = 5,
                                            .status = GNTST_bad_gntref };
    map[2] = (struct gnttab_map_grant_ref){ .host_addr = 0x3000, .handle = 6,
                                            .status = GNTST_okay };
    CHECK(gnttab_build_unmap_of_mapped(map, 3, out) == 2);
    CHECK(out[0].host_addr == 0x1000 && out[0].handle == 4 &&
          out[0].dev_bus_addr == 0 && out[0].status == GNTTAB_ST_NOT_DONE);
    CHECK(out[1].host_addr == 0x3000 && out[1].handle == 6 &&
          out[1].dev_bus_addr == 0);
}

/*
 * A book with exactly one frame's link array (on the heap: reading the
 * link of ref GNTTAB_EPF would be an ASan report), no grow callback.
 */
HOST_TEST(gnttab_book_edges)
{
    grant_entry_v1_t **frames = calloc(2, sizeof(*frames));
    uint32_t *link = malloc(GNTTAB_EPF * sizeof(*link));
    grant_entry_v1_t *f0 = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    struct gnttab_book b;
    grant_ref_t r, *refs;
    unsigned free0;

    memset(f0, 0, PAGE_SIZE);
    /* max_frames 2 but no way to grow: full is full, nothing is called. */
    gnttab_book_init(&b, frames, link, 2, NULL, NULL, NULL);
    CHECK(gnttab_book_add_frame(&b, NULL) == -XEN_EINVAL);
    CHECK(gnttab_book_add_frame(&b, (grant_entry_v1_t *)((uint8_t *)f0 + 64)) ==
          -XEN_EINVAL);
    CHECK(b.nr_frames == 0 && b.nr_free == 0);
    REQUIRE(gnttab_book_add_frame(&b, f0) == 0);
    /* The ref one past the table: neither freed nor ended. */
    CHECK(gnttab_book_free_ref(&b, GNTTAB_EPF) == -XEN_EINVAL);
    CHECK(gnttab_end_access(&b, GNTTAB_EPF) == -XEN_EINVAL);
    CHECK(gnttab_book_entry(&b, GNTTAB_EPF - 1) == &f0[GNTTAB_EPF - 1]);

    /* alloc_refs takes exactly n (into an array of exactly n). */
    free0 = b.nr_free;
    refs = malloc(3 * sizeof(*refs));
    CHECK(gnttab_book_alloc_refs(&b, refs, 3) == 0);
    CHECK(b.nr_free == free0 - 3 && refs[0] != refs[1] && refs[1] != refs[2]);
    for (unsigned i = 0; i < 3; i++)
        CHECK(link[refs[i]] == GNTTAB_LINK_INUSE);
    free(refs);
    CHECK(gnttab_book_alloc_refs(&b, NULL, 0) == 0 && b.nr_free == free0 - 3);

    while (b.nr_free)
        REQUIRE(gnttab_book_alloc_ref(&b, &r) == 0);
    CHECK(gnttab_book_alloc_ref(&b, &r) == -XEN_ENOSPC);
    /* A grant on a full book is refused without writing any entry. */
    uint8_t before[PAGE_SIZE];
    memcpy(before, f0, PAGE_SIZE);
    CHECK(gnttab_grant_access(&b, 3, 77, false, &r) == -XEN_ENOSPC);
    CHECK(!memcmp(before, f0, PAGE_SIZE));
    free(f0);
    free(link);
    free(frames);
}

/* Every op of a batch is checked, the first as much as the last. */
HOST_TEST(gnttab_build_checks_every_op)
{
    struct gnttab_map_grant_ref map[3];
    struct gnttab_unmap_grant_ref unmap[3];
    grant_ref_t refs[3] = { 8, 9, 10 };
    grant_handle_t h[3] = { 1, 2, 3 };
    uint64_t a[3] = { 0, 0x2000, 0x3000 };

    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == -XEN_EINVAL);
    CHECK(gnttab_build_unmap(unmap, 3, a, h) == -XEN_EINVAL);
    a[0] = 0x1800;
    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == -XEN_EINVAL);
    CHECK(gnttab_build_unmap(unmap, 3, a, h) == -XEN_EINVAL);
    a[0] = 0x3000;                      /* the same frame as the last op */
    CHECK(gnttab_build_map(map, 3, 1, refs, a, false) == -XEN_EINVAL);
    a[0] = 0x1000;
    /* What the caller's arrays held before does not leak into the ops. */
    memset(map, 0xa5, sizeof(map));
    REQUIRE(gnttab_build_map(map, 3, 1, refs, a, true) == 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(map[i].host_addr == a[i] && map[i].ref == refs[i] && map[i].dom == 1);
        CHECK(map[i].flags == (GNTMAP_host_map | GNTMAP_readonly));
        CHECK(map[i].dev_bus_addr == 0 && map[i].handle == 0 &&
              map[i].status == GNTTAB_ST_NOT_DONE);
    }
}

/* A copy end named by a grant ref carries only the ref in the union. */
HOST_TEST(gnttab_copy_op_is_clean)
{
    struct gnttab_copy op;
    struct gnttab_copy_end g = { true, 1, 12, 100 };
    struct gnttab_copy_end l = { false, 0, 5, 200 };

    memset(&op, 0xa5, sizeof(op));
    REQUIRE(gnttab_build_copy(&op, &g, &l, 50) == 0);
    CHECK(op.source.u.gmfn == 12 && op.source.domid == 1 && op.source.offset == 100);
    CHECK(op.dest.u.gmfn == 5 && op.dest.domid == DOMID_SELF && op.dest.offset == 200);
    CHECK(op.len == 50 && op.flags == GNTCOPY_source_gref &&
          op.status == GNTTAB_ST_NOT_DONE);
}

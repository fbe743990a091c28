/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-tests of the grant-table glue against the real Xen (suite gnttab;
 * the benchmark is in suite bench). On dom0 they map our own grants (dom =
 * our id 0). Xen then drops the granted page from its frame number (see
 * gnt_selfmap_restore), so every self-map grants a sacrificial heap frame,
 * never one holding anything, and restores it afterwards; many refs may
 * grant one such frame, so a batch of maps costs one page per frame.
 *
 * Every test checks that the scratch pool is exactly as large afterwards
 * and that the P2M account still equals Xen's reservation.
 */
#include <pvhk/e820.h>
#include <pvhk/grant.h>
#include <pvhk/hypercall.h>
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>
#include <pvhk/xen.h>
#include <xen/memory.h>

#include "gnt_util.h"
#include "cpu_team.h"

#define SELF            ((domid_t)0)    /* dom0's own id */
#define PEER            ((domid_t)1)    /* any other id: never mapped */
#define BIG_REF         100000u

static bool gnt_ready(struct ktest_ctx *t)
{
    if (!on_xen()) {
        t->skip_reason = "not running on Xen";
        return false;
    }
    int rc = gnt_init();
    if (rc == 0)
        return true;
    ktest_note(t, "gnt_init: %d", rc);
    ktest_fail(t, __FILE__, __LINE__, "gnt_init() == 0");
    return false;
}
#define REQUIRE_GNT(t) do { if (!gnt_ready(t)) return; } while (0)

/* Self-maps need our own domid: 0 on dom0. */
#define REQUIRE_DOM0(t) do {                                                \
    if (platform != PLATFORM_XEN_DOM0)                                      \
        KT_SKIP(t, "self-maps need our domid (dom0 only)");                 \
} while (0)

static uint64_t pattern(uint64_t frame, unsigned word)
{
    return 0x6e74000000000000ull ^ (frame << 16) ^ word;
}

static void fill(void *va, uint64_t tag)
{
    volatile uint64_t *p = va;
    for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
        p[w] = pattern(tag, w);
}

static bool holds(const void *va, uint64_t tag)
{
    const volatile uint64_t *p = va;
    for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
        if (p[w] != pattern(tag, w))
            return false;
    return true;
}

static bool all_ones(const void *va)
{
    const volatile uint64_t *p = va;
    for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
        if (p[w] != ~0ull)
            return false;
    return true;
}

static void *va_of(uint64_t pfn) { return (void *)(uintptr_t)PFN_PHYS(pfn); }

/* A frame v1 can grant (gfn below 2^32), filled with its tag. */
static void *sacrificial_frame(uint64_t tag)
{
    void *va = alloc_pages(0, PA_ALLOC_LOW);
    if (va)
        fill(va, tag);
    return va;
}

/* ---- setup ------------------------------------------------------------ */

KTEST(gnttab, table_frames_in_scratch_space)
{
    uint32_t nr, max;

    REQUIRE_GNT(t);
    KT_EXPECT(t, gnt_get_version() == 1);
    KT_ASSERT(t, gnt_query_size(&nr, &max) == 0);
    KT_EXPECT(t, nr == gnt_book.nr_frames);
    KT_EXPECT(t, gnt_book.max_frames == MIN(max, (uint32_t)GNT_MAX_FRAMES));
    for (uint32_t i = 0; i < gnt_book.nr_frames; i++) {
        uint64_t pfn = gnt_table_pfn(i);
        const struct extra_mem_region *r = extra_mem_find(&extra_mem, pfn);
        KT_EXPECT(t, pa_state(&heap, pfn) == PA_SCRATCH);
        KT_ASSERT(t, r != NULL);
        if (platform == PLATFORM_XEN_DOM0)
            KT_EXPECT(t, r->origin == EXTRA_MEM_UNUSABLE &&
                         e820_type_at(&e820, PFN_PHYS(pfn)) == E820_UNUSABLE);
        else
            KT_EXPECT(t, r->origin == EXTRA_MEM_RELEASED_RAM);
        KT_EXPECT(t, (uintptr_t)gnt_book.frames[i] == PFN_PHYS(pfn));
    }
    /* Refs 0..7 are the toolstack's, never on the free list. */
    for (grant_ref_t r = 0; r < GNTTAB_NR_RESERVED_ENTRIES; r++)
        KT_EXPECT(t, gnt_book.link[r] == GNTTAB_LINK_RESERVED);
    KT_EXPECT(t, gnt_account_matches(t));
    ktest_note(t, "v%d, %u of max %u frames, frame 0 at pfn 0x%llx, %u free refs",
               gnt_get_version(), nr, max, (unsigned long long)gnt_table_pfn(0),
               gnt_book.nr_free);
}

KTEST(gnttab, grant_end_and_reuse)
{
    grant_ref_t a, b, c;
    void *f = alloc_pages(0, PA_ALLOC_LOW);

    REQUIRE_GNT(t);
    KT_ASSERT(t, f != NULL);
    uint64_t gfn = PFN_DOWN((uintptr_t)f);
    KT_ASSERT(t, gnt_grant(PEER, gfn, true, &a) == 0);
    grant_entry_v1_t *e = gnttab_book_entry(&gnt_book, a);
    KT_ASSERT(t, e != NULL);
    KT_EXPECT(t, e->flags == (GTF_permit_access | GTF_readonly));
    KT_EXPECT(t, e->domid == PEER && e->frame == gfn);
    KT_ASSERT(t, gnt_grant(PEER, gfn, false, &b) == 0);
    KT_EXPECT(t, gnttab_book_entry(&gnt_book, b)->flags == GTF_permit_access);
    KT_EXPECT(t, gnt_end(a) == 0);
    KT_EXPECT(t, e->flags == 0);
    KT_EXPECT(t, gnt_end(a) == -XEN_EINVAL);        /* not granted any more */
    /* FIFO: the ref just ended is not the next one handed out. */
    KT_ASSERT(t, gnt_grant(PEER, gfn, false, &c) == 0);
    KT_EXPECT(t, c != a);
    KT_EXPECT(t, gnt_end(b) == 0 && gnt_end(c) == 0);
    free_pages(f, 0);
}

KTEST(gnttab, table_grows_on_demand)
{
    static grant_ref_t refs[2 * GNTTAB_EPF];
    uint32_t nr0 = gnt_book.nr_frames, nr, max;
    void *f = alloc_pages(0, PA_ALLOC_LOW);

    REQUIRE_GNT(t);
    KT_ASSERT(t, f != NULL);
    uint64_t avail = scratch_available(&scratch);
    long resv = xen_current_reservation();
    /* Every free ref, then one more: the book must add a table frame. */
    unsigned n = gnt_book.nr_free + 1, got = 0;
    KT_ASSERT(t, n <= ARRAY_SIZE(refs));
    while (got < n && gnt_grant(PEER, PFN_DOWN((uintptr_t)f), true, &refs[got]) == 0)
        got++;
    KT_EXPECT(t, got == n);
    KT_EXPECT(t, gnt_book.nr_frames == nr0 + 1);
    KT_ASSERT(t, gnt_query_size(&nr, &max) == 0);
    KT_EXPECT(t, nr == gnt_book.nr_frames);             /* Xen grew too */
    uint64_t pfn = gnt_table_pfn(nr0);
    KT_EXPECT(t, pa_state(&heap, pfn) == PA_SCRATCH);
    if (platform == PLATFORM_XEN_DOM0)
        KT_EXPECT(t, e820_type_at(&e820, PFN_PHYS(pfn)) == E820_UNUSABLE);
    /* The new table frame came from the pool, and Xen's own page for it
     * is not counted against us: the reservation did not move. */
    KT_EXPECT(t, scratch_available(&scratch) == avail - 1);
    KT_EXPECT(t, xen_current_reservation() == resv);
    /* A grant in the new frame is live in Xen's eyes: a copy through it
     * would work; here its entry is simply in the mapped frame. */
    KT_EXPECT(t, (uintptr_t)gnttab_book_entry(&gnt_book, refs[got - 1]) >= PFN_PHYS(pfn) &&
                 (uintptr_t)gnttab_book_entry(&gnt_book, refs[got - 1]) < PFN_PHYS(pfn + 1));
    unsigned ended = 0;
    for (unsigned i = 0; i < got; i++)
        ended += gnt_end(refs[i]) == 0;
    KT_EXPECT(t, ended == got);
    KT_EXPECT(t, gnt_account_matches(t));
    ktest_note(t, "grew from %u to %u frames (max %u); new frame at pfn 0x%llx",
               nr0, gnt_book.nr_frames, max, (unsigned long long)pfn);
    free_pages(f, 0);
}

/* ---- self-map --------------------------------------------------------- */

static void poke(void *p)
{
    *(volatile uint64_t *)p = 0xbadbadbadull;
}

KTEST(gnttab, self_map_rw_with_sacrificial_frame)
{
    struct gnttab_report rep;
    struct gnt_map m;
    grant_ref_t ref;

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    void *f = sacrificial_frame(1);
    KT_ASSERT(t, f != NULL);
    uint64_t gfn = PFN_DOWN((uintptr_t)f);
    long resv0 = xen_current_reservation();

    KT_ASSERT(t, gnt_grant(SELF, gfn, false, &ref) == 0);
    KT_ASSERT(t, gnt_map_refs(SELF, &ref, 1, 0, &m, &rep) == 0);
    KT_EXPECT(t, rep.ok == 1 && m.status == GNTST_okay);
    KT_EXPECT(t, pa_state(&heap, m.pfn) == PA_SCRATCH);
    KT_EXPECT(t, gnt_pool_level() == avail - 1);
    /* The mapping shows the granted data, and writes reach the page. */
    KT_EXPECT(t, holds(va_of(m.pfn), 1));
    fill(va_of(m.pfn), 2);
    KT_EXPECT(t, holds(va_of(m.pfn), 2));
    /* Xen pins the entry while it is mapped: ending it is refused. */
    uint16_t fl = gnttab_book_entry(&gnt_book, ref)->flags;
    KT_EXPECT(t, (fl & (GTF_reading | GTF_writing)) == (GTF_reading | GTF_writing));
    KT_EXPECT(t, gnt_end(ref) == -XEN_EBUSY);
    /* The measured Xen quirk: the granting frame number lost its page. */
    bool gone = all_ones(f);
    KT_EXPECT(t, gone);
    long resv1 = xen_current_reservation();
    KT_EXPECT(t, resv1 == resv0);

    /* An unmap Xen refuses keeps the frame out of the pool, named. */
    grant_handle_t h = m.handle;
    m.handle = 0xffffffu;
    KT_EXPECT(t, gnt_unmap(&m, 1, 0, &rep) == -XEN_EBADF);
    KT_EXPECT(t, m.status == GNTST_bad_handle && m.pfn != 0);
    KT_EXPECT(t, pa_state(&heap, m.pfn) == PA_SCRATCH);
    KT_EXPECT(t, gnt_pool_level() == avail - 1);
    KT_EXPECT(t, holds(va_of(m.pfn), 2));               /* still mapped */
    m.handle = h;
    uint64_t at = m.pfn;
    KT_ASSERT(t, gnt_unmap(&m, 1, 0, &rep) == 0);
    KT_EXPECT(t, m.pfn == 0 && rep.ok == 1);
    KT_EXPECT(t, pa_state(&heap, at) == PA_RELEASED);    /* back in the pool */
    KT_EXPECT(t, all_ones(va_of(at)));                  /* nothing there now */
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, all_ones(f));                       /* still gone */
    KT_EXPECT(t, gnt_end(ref) == 0);
    KT_EXPECT(t, xen_current_reservation() == resv0);

    /* Restore: the page goes to the offset, the frame is backed afresh. */
    int64_t off0 = p2m.offset;
    KT_EXPECT(t, gnt_selfmap_restore(gfn) == 0);
    KT_EXPECT(t, pa_state(&heap, gfn) == PA_FREE);
    KT_EXPECT(t, p2m.offset == off0 + 1);
    KT_EXPECT(t, xen_current_reservation() == resv0 + 1);
    KT_EXPECT(t, !all_ones(f) && !holds(f, 1) && !holds(f, 2));
    KT_EXPECT(t, gnt_account_matches(t));
    ktest_note(t, "reservation %ld before, %ld while mapped, %ld after restore "
               "(one page leaked to the offset)", resv0, resv1, xen_current_reservation());
}

KTEST(gnttab, readonly_map_is_readonly)
{
    struct gnttab_report rep;
    struct caught_trap ti;
    struct gnt_map m;
    grant_ref_t ref;

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    void *f = sacrificial_frame(3);
    KT_ASSERT(t, f != NULL);
    uint64_t gfn = PFN_DOWN((uintptr_t)f);

    KT_ASSERT(t, gnt_grant(SELF, gfn, true, &ref) == 0);
    /* A writable map of a read-only grant is refused, and named. */
    KT_EXPECT(t, gnt_map_refs(SELF, &ref, 1, 0, &m, &rep) == -XEN_EIO);
    KT_EXPECT(t, m.status == GNTST_general_error && rep.count[1] == 1);
    KT_EXPECT(t, gnt_pool_level() == avail);

    KT_ASSERT(t, gnt_map_refs(SELF, &ref, 1, GNT_MAP_READONLY, &m, &rep) == 0);
    KT_EXPECT(t, holds(va_of(m.pfn), 3));
    uint16_t fl = gnttab_book_entry(&gnt_book, ref)->flags;
    KT_EXPECT(t, (fl & (GTF_reading | GTF_writing)) == GTF_reading);
    KT_EXPECT(t, gnt_end(ref) == -XEN_EBUSY);
    /*
     * Our page tables say writable; Xen's second stage maps the frame
     * p2m_grant_map_ro. Measured on this Xen: no exception reaches us, the
     * write is dropped (Xen treats the type as discard-write). Either way
     * the page must not change; a trap, if a later Xen raised one, is
     * caught and named here.
     */
    int trapped = trap_try(poke, va_of(m.pfn), &ti);
    ktest_note(t, "write through a read-only grant map: %s%s",
               trapped ? "trapped: " : "no trap, write dropped",
               trapped ? exception_name(ti.vector) : "");
    KT_EXPECT(t, holds(va_of(m.pfn), 3));               /* the write did not land */
    KT_ASSERT(t, gnt_unmap(&m, 1, 0, &rep) == 0);
    KT_EXPECT(t, gnt_end(ref) == 0);
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, gnt_selfmap_restore(gfn) == 0);
    KT_EXPECT(t, gnt_account_matches(t));
}

/* ---- batches ---------------------------------------------------------- */

/*
 * n sacrificial frames, each granted to ourselves by one ref. One ref per
 * frame: once a self-map has moved a frame's page away, every other ref
 * naming that frame number grants nothing.
 */
static int grant_frames(void **f, grant_ref_t *refs, unsigned n, bool readonly, uint64_t tag0)
{
    for (unsigned i = 0; i < n; i++)
        f[i] = NULL;
    for (unsigned i = 0; i < n; i++) {
        f[i] = sacrificial_frame(tag0 + i);
        if (!f[i])
            return -XEN_ENOMEM;
        int rc = gnt_grant(SELF, PFN_DOWN((uintptr_t)f[i]), readonly, &refs[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static unsigned end_all(const grant_ref_t *refs, unsigned n)
{
    unsigned ended = 0;
    for (unsigned i = 0; i < n; i++)
        ended += gnt_end(refs[i]) == 0;
    return ended;
}

/* After the self-maps: every frame backed afresh, account exact. */
static unsigned restore_all(void **f, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += gnt_selfmap_restore(PFN_DOWN((uintptr_t)f[i])) == 0;
    return ok;
}

#define BATCH_N 64

KTEST(gnttab, batch_map_unmap_and_partial_undo)
{
    static grant_ref_t refs[BATCH_N];
    static struct gnt_map m[BATCH_N];
    static void *f[BATCH_N];
    struct gnttab_report rep;
    const unsigned n = BATCH_N;

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    KT_ASSERT(t, grant_frames(f, refs, n, false, 10) == 0);

    uint64_t h0 = gnt_st.hypercalls;
    int rc = gnt_map_refs(SELF, refs, n, 0, m, &rep);
    if (rc)
        ktest_note(t, "map: %d, op %u: %s", rc, rep.first_bad,
                   gnttab_status_name(rep.first_status));
    KT_ASSERT(t, rc == 0);
    KT_EXPECT(t, gnt_st.hypercalls - h0 == 1);
    KT_EXPECT(t, rep.ok == n && rep.failed == 0 && rep.not_done == 0);
    KT_EXPECT(t, gnt_pool_level() == avail - n);
    unsigned good = 0;
    for (unsigned i = 0; i < n; i++)
        good += pa_state(&heap, m[i].pfn) == PA_SCRATCH && holds(va_of(m[i].pfn), 10 + i);
    KT_EXPECT(t, good == n);
    KT_EXPECT(t, gnt_end(refs[n - 1]) == -XEN_EBUSY);

    h0 = gnt_st.hypercalls;
    KT_ASSERT(t, gnt_unmap(m, n, 0, &rep) == 0);
    KT_EXPECT(t, gnt_st.hypercalls - h0 == 1);
    KT_EXPECT(t, rep.ok == n);
    KT_EXPECT(t, gnt_pool_level() == avail);

    /* The frame behind refs[0] has lost its page: mapping it again fails. */
    KT_EXPECT(t, gnt_map_refs(SELF, refs, 1, 0, m, &rep) != 0);
    ktest_note(t, "map of a ref whose frame a self-map emptied: %s",
               gnttab_status_name(m[0].status));
    KT_EXPECT(t, end_all(refs, n) == n);
    KT_EXPECT(t, restore_all(f, n) == n);

    /*
     * A batch with one bad op in the middle: Xen maps the others, the
     * glue unmaps them again (all or nothing) and reports the bad one by
     * name; the pool and the entries' busy bits are as before.
     */
    KT_ASSERT(t, grant_frames(f, refs, 2, false, 80) == 0);
    grant_ref_t part[3] = { refs[0], BIG_REF, refs[1] };
    uint64_t undone = gnt_st.undone;
    KT_EXPECT(t, gnt_map_refs(SELF, part, 3, 0, m, &rep) == -XEN_ENOENT);
    KT_EXPECT(t, m[0].status == GNTST_okay && m[2].status == GNTST_okay);
    KT_EXPECT(t, m[1].status == GNTST_bad_gntref && rep.first_bad == 1);
    KT_EXPECT(t, rep.ok == 2 && rep.failed == 1);
    KT_EXPECT(t, m[0].pfn == 0 && m[1].pfn == 0 && m[2].pfn == 0);
    KT_EXPECT(t, gnt_st.undone == undone + 2);
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, end_all(refs, 2) == 2);
    KT_EXPECT(t, restore_all(f, 2) == 2);
    KT_EXPECT(t, gnt_st.leaked == 0);
    KT_EXPECT(t, gnt_account_matches(t));
}

/* ---- copy ------------------------------------------------------------- */

static struct gnttab_copy_end local(const void *va, uint16_t off)
{
    return (struct gnttab_copy_end){ .ref_or_gfn = PFN_DOWN((uintptr_t)va), .offset = off };
}

static struct gnttab_copy_end gref(grant_ref_t r, uint16_t off)
{
    return (struct gnttab_copy_end){ .is_gref = true, .domid = SELF, .ref_or_gfn = r,
                                     .offset = off };
}

KTEST(gnttab, copy_all_forms)
{
    struct gnttab_copy ops[3];
    struct gnttab_report rep;
    grant_ref_t ra, rb;
    uint8_t *a = alloc_pages(0, PA_ALLOC_LOW), *b = alloc_pages(0, PA_ALLOC_LOW);

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    KT_ASSERT(t, a && b);
    fill(a, 20);
    memset(b, 0, PAGE_SIZE);

    /* frame -> frame, both named with DOMID_SELF */
    struct gnttab_copy_end s = local(a, 8), d = local(b, 16);
    KT_ASSERT(t, gnttab_build_copy(&ops[0], &s, &d, 100) == 0);
    KT_EXPECT(t, gnt_copy(ops, 1, &rep) == 0 && ops[0].status == GNTST_okay);
    KT_EXPECT(t, memcmp(b + 16, a + 8, 100) == 0 && b[15] == 0 && b[116] == 0);

    /* ref -> frame and frame -> ref, through our own grants, one call */
    KT_ASSERT(t, gnt_grant(SELF, PFN_DOWN((uintptr_t)a), true, &ra) == 0);
    KT_ASSERT(t, gnt_grant(SELF, PFN_DOWN((uintptr_t)b), false, &rb) == 0);
    s = gref(ra, 1000), d = local(b, 2000);
    KT_ASSERT(t, gnttab_build_copy(&ops[0], &s, &d, 512) == 0);
    s = local(a, 0), d = gref(rb, 3000);
    KT_ASSERT(t, gnttab_build_copy(&ops[1], &s, &d, 1096) == 0);    /* to the last byte */
    s = gref(ra, 0), d = gref(rb, 200);
    KT_ASSERT(t, gnttab_build_copy(&ops[2], &s, &d, 8) == 0);
    uint64_t h0 = gnt_st.hypercalls;
    KT_EXPECT(t, gnt_copy(ops, 3, &rep) == 0);
    KT_EXPECT(t, gnt_st.hypercalls - h0 == 1 && rep.ok == 3);
    KT_EXPECT(t, memcmp(b + 2000, a + 1000, 512) == 0);
    KT_EXPECT(t, memcmp(b + 3000, a, 1096) == 0);
    KT_EXPECT(t, memcmp(b + 200, a, 8) == 0);

    /* A read-only grant is no copy destination. */
    s = local(b, 0), d = gref(ra, 0);
    KT_ASSERT(t, gnttab_build_copy(&ops[0], &s, &d, 8) == 0);
    KT_EXPECT(t, gnt_copy(ops, 1, &rep) != 0);
    ktest_note(t, "copy into a read-only grant: %s", gnttab_status_name(ops[0].status));
    KT_EXPECT(t, ops[0].status != GNTST_okay && holds(a, 20));

    /* A copy holds the entry only while it runs, and never moves a page. */
    KT_EXPECT(t, gnt_end(ra) == 0 && gnt_end(rb) == 0);
    KT_EXPECT(t, holds(a, 20));
    KT_EXPECT(t, gnt_account_matches(t));
    free_pages(a, 0);
    free_pages(b, 0);
}

/* ---- every status ----------------------------------------------------- */

static bool named(struct ktest_ctx *t, int16_t st, int16_t want, const char *name)
{
    ktest_note(t, "%s", gnttab_status_name(st));
    return st == want && strcmp(gnttab_status_name(st), name) == 0;
}

KTEST(gnttab, every_status_provoked_and_named)
{
    struct gnttab_report rep;
    struct gnt_map m;
    grant_ref_t r, peer_ref;
    uint64_t s;

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    uint8_t *a = alloc_pages(0, PA_ALLOC_LOW);
    KT_ASSERT(t, a != NULL);
    fill(a, 30);

    /* bad_gntref: a ref past the end of our table. */
    r = BIG_REF;
    KT_EXPECT(t, gnt_map_refs(SELF, &r, 1, 0, &m, &rep) == -XEN_ENOENT);
    KT_EXPECT(t, named(t, m.status, GNTST_bad_gntref, "GNTST_bad_gntref"));
    KT_EXPECT(t, rep.count[-GNTST_bad_gntref] == 1);

    /* general_error: a ref of ours that grants nothing. */
    KT_ASSERT(t, gnttab_book_alloc_ref(&gnt_book, &r) == 0);
    KT_EXPECT(t, gnt_map_refs(SELF, &r, 1, 0, &m, &rep) == -XEN_EIO);
    KT_EXPECT(t, named(t, m.status, GNTST_general_error, "GNTST_general_error"));
    KT_EXPECT(t, gnttab_book_free_ref(&gnt_book, r) == 0);

    /* bad_domain: DOMID_SELF in a map. The builder refuses it without a
     * hypercall; sent raw (at a scratch frame we hold), Xen names it. */
    KT_ASSERT(t, gnt_grant(PEER, PFN_DOWN((uintptr_t)a), true, &peer_ref) == 0);
    uint64_t h0 = gnt_st.hypercalls;
    KT_EXPECT(t, gnt_map_refs(DOMID_SELF, &peer_ref, 1, 0, &m, &rep) == -XEN_EINVAL);
    KT_EXPECT(t, gnt_st.hypercalls == h0);
    KT_ASSERT(t, scratch_frames_get(1, 1, &s) == 0);
    struct gnttab_map_grant_ref mop = {
        .host_addr = PFN_PHYS(s), .flags = GNTMAP_host_map | GNTMAP_readonly,
        .ref = peer_ref, .dom = DOMID_SELF, .status = GNTTAB_ST_NOT_DONE,
    };
    KT_EXPECT(t, xen_grant_table_op(GNTTABOP_map_grant_ref, &mop, 1) == 0);
    KT_EXPECT(t, named(t, mop.status, GNTST_bad_domain, "GNTST_bad_domain"));
    KT_EXPECT(t, gnttab_status_errno(mop.status) == -XEN_ESRCH);
    KT_EXPECT(t, gnt_end(peer_ref) == 0);

    /* bad_handle: unmapping a handle Xen has already released. */
    void *f = sacrificial_frame(31);
    KT_ASSERT(t, f != NULL);
    KT_ASSERT(t, gnt_grant(SELF, PFN_DOWN((uintptr_t)f), true, &r) == 0);
    KT_ASSERT(t, gnt_map_refs(SELF, &r, 1, GNT_MAP_READONLY, &m, &rep) == 0);
    grant_handle_t stale = m.handle;
    KT_ASSERT(t, gnt_unmap(&m, 1, 0, &rep) == 0);
    struct gnttab_unmap_grant_ref uop = {
        .host_addr = PFN_PHYS(s), .handle = stale, .status = GNTTAB_ST_NOT_DONE,
    };
    KT_EXPECT(t, xen_grant_table_op(GNTTABOP_unmap_grant_ref, &uop, 1) == 0);
    KT_EXPECT(t, named(t, uop.status, GNTST_bad_handle, "GNTST_bad_handle"));
    KT_EXPECT(t, gnt_end(r) == 0);
    KT_EXPECT(t, gnt_selfmap_restore(PFN_DOWN((uintptr_t)f)) == 0);

    /* bad_copy_arg: a copy crossing its page (the builder refuses it). */
    struct gnttab_copy_end cs = local(a, 4000), cd = local(a + 0, 0);
    struct gnttab_copy cop;
    KT_EXPECT(t, gnttab_build_copy(&cop, &cs, &cd, 200) == -XEN_EINVAL);
    cs.offset = 0;
    KT_ASSERT(t, gnttab_build_copy(&cop, &cs, &cd, 200) == 0);
    cop.source.offset = 4000;
    KT_EXPECT(t, gnt_copy(&cop, 1, &rep) == -XEN_EINVAL);
    KT_EXPECT(t, named(t, cop.status, GNTST_bad_copy_arg, "GNTST_bad_copy_arg"));

    /* bad_page: an unbacked source frame (the scratch frame we hold). */
    cs = (struct gnttab_copy_end){ .ref_or_gfn = s };
    cd = local(a, 0);
    KT_ASSERT(t, gnttab_build_copy(&cop, &cs, &cd, 8) == 0);
    KT_EXPECT(t, gnt_copy(&cop, 1, &rep) == -XEN_ENXIO);
    KT_EXPECT(t, named(t, cop.status, GNTST_bad_page, "GNTST_bad_page"));

    /* permission_denied: a local frame named with our own id, not DOMID_SELF. */
    cs = local(a, 0), cd = local(a, 8);
    KT_ASSERT(t, gnttab_build_copy(&cop, &cs, &cd, 8) == 0);
    cop.source.domid = SELF;
    KT_EXPECT(t, gnt_copy(&cop, 1, &rep) == -XEN_EPERM);
    KT_EXPECT(t, named(t, cop.status, GNTST_permission_denied, "GNTST_permission_denied"));
    KT_EXPECT(t, holds(a, 30));                         /* nothing was copied */

    /* -EFAULT: a NULL argument fails the whole call; no op is touched. */
    KT_EXPECT(t, xen_grant_table_op(GNTTABOP_map_grant_ref, NULL, 1) == -XEN_EFAULT);
    KT_EXPECT(t, xen_grant_table_op(GNTTABOP_unmap_grant_ref, NULL, 1) == -XEN_EFAULT);
    KT_EXPECT(t, xen_grant_table_op(GNTTABOP_copy, NULL, 1) == -XEN_EFAULT);
    mop.status = GNTTAB_ST_NOT_DONE;
    KT_EXPECT(t, gnttab_report_map(&mop, 1, -XEN_EFAULT, &rep) == -XEN_EFAULT);
    KT_EXPECT(t, rep.not_done == 1 && strcmp(gnttab_status_name(mop.status), "GNTST_not_done") == 0);

    KT_EXPECT(t, scratch_frames_put(s, 1) == 0);
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, gnt_st.leaked == 0);
    KT_EXPECT(t, gnt_account_matches(t));
    free_pages(a, 0);
}

/* ---- every CPU at once ------------------------------------------------ */

/*
 * Each online CPU, all started together (as the heap's every-CPU tests),
 * runs SMP_ROUNDS rounds of: grant SMP_N sacrificial frames of its own,
 * tagged (CPU, round, frame); map them in one batch; check every mapping
 * shows its tag; write a new tag through it; have Xen copy the start of
 * each granted page, named by its grant ref, into a local page (Xen's view
 * of the page the grant names, so the mapping must alias it, not our
 * TLB's view); unmap; end the grants; restore the frames. (A copy from the
 * mapping's frame number works on Xen 4.17 but Xen 4.20 refuses it,
 * GNTST_bad_page: the ref works on both.)
 * Without gnt_lock two CPUs build their batches in the same arrays and one
 * sends the other's frames or refs.
 *
 * The page behind a self-map cannot be read after the unmap: Xen dropped
 * it from its granting frame number (see gnt_selfmap_restore), so the new
 * tag is checked through the mapping and through Xen's copy before it.
 */
#define SMP_ROUNDS      12
#define SMP_N           8
#define SMP_COPY_LEN    (PAGE_SIZE / SMP_N)

struct gjob {
    bool on;                            /* started on this CPU */
    unsigned rounds, maps, failures;
    uint64_t ns;
    /* the first failure */
    const char *what;
    unsigned round, op;
    int rc;
    int16_t status;
};

static struct gjob gjobs[NR_CPUS];
static struct cpu_team gteam;
static unsigned gjob_inflight, gjob_peak;

static uint64_t smp_tag(unsigned cpu, unsigned round, unsigned i, unsigned phase)
{
    return 0x5000000ull | (uint64_t)cpu << 16 | round << 8 | i << 1 | phase;
}

static void gfail(struct gjob *j, unsigned round, unsigned op, const char *what, int rc,
                  int16_t st)
{
    if (j->failures++)
        return;
    j->what = what;
    j->round = round;
    j->op = op;
    j->rc = rc;
    j->status = st;
}

/* How many CPUs are inside a round at once, at most. */
static void round_enter(void)
{
    unsigned now = __atomic_add_fetch(&gjob_inflight, 1, __ATOMIC_RELAXED);
    unsigned peak = __atomic_load_n(&gjob_peak, __ATOMIC_RELAXED);

    while (now > peak && !__atomic_compare_exchange_n(&gjob_peak, &peak, now, false,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* One round; false when it failed (j says how), and the worker stops. */
static bool smp_round(struct gjob *j, unsigned cpu, unsigned r, uint8_t *page)
{
    struct gnttab_copy ops[SMP_N];
    struct gnt_map m[SMP_N];
    grant_ref_t refs[SMP_N];
    struct gnttab_report rep;
    void *f[SMP_N];
    unsigned n, fails = j->failures;
    bool mapped = false;
    int rc;

    memset(m, 0, sizeof(m));
    for (n = 0; n < SMP_N; n++) {
        f[n] = sacrificial_frame(smp_tag(cpu, r, n, 0));
        if (!f[n]) {
            gfail(j, r, n, "allocate a frame", -XEN_ENOMEM, 0);
            break;
        }
        rc = gnt_grant(SELF, PFN_DOWN((uintptr_t)f[n]), false, &refs[n]);
        if (rc) {
            gfail(j, r, n, "grant", rc, 0);
            free_pages(f[n], 0);
            break;
        }
    }
    if (n == SMP_N) {
        rc = gnt_map_refs(SELF, refs, SMP_N, 0, m, &rep);
        if (rc)
            gfail(j, r, rep.first_bad, "map", rc, rep.first_status);
        mapped = rc == 0;
    }
    if (mapped) {
        j->maps += SMP_N;
        for (unsigned i = 0; i < SMP_N; i++) {
            void *va = va_of(m[i].pfn);
            if (!holds(va, smp_tag(cpu, r, i, 0)))
                gfail(j, r, i, "the mapping shows another tag", 0, 0);
            fill(va, smp_tag(cpu, r, i, 1));
            if (!holds(va, smp_tag(cpu, r, i, 1)))
                gfail(j, r, i, "a write through the mapping did not land", 0, 0);
            struct gnttab_copy_end s = gref(refs[i], 0);
            struct gnttab_copy_end d = local(page, i * SMP_COPY_LEN);
            if (gnttab_build_copy(&ops[i], &s, &d, SMP_COPY_LEN))
                gfail(j, r, i, "build a copy", -XEN_EINVAL, 0);
        }
        memset(page, 0, PAGE_SIZE);
        rc = gnt_copy(ops, SMP_N, &rep);
        if (rc)
            gfail(j, r, rep.first_bad, "copy from the granted page", rc, rep.first_status);
        for (unsigned i = 0; i < SMP_N && !rc; i++) {
            const volatile uint64_t *w = (const volatile uint64_t *)(page + i * SMP_COPY_LEN);
            for (unsigned k = 0; k < SMP_COPY_LEN / 8; k++)
                if (w[k] != pattern(smp_tag(cpu, r, i, 1), k)) {
                    gfail(j, r, i, "Xen's copy of the granted page lacks the new tag", 0, 0);
                    break;
                }
        }
        rc = gnt_end(refs[0]);
        if (rc != -XEN_EBUSY)
            gfail(j, r, 0, "gnt_end of a mapped grant not refused as busy", rc, 0);
        rc = gnt_unmap(m, SMP_N, 0, &rep);
        if (rc) {
            /* Frames still mapped: leave them, their grants and pages alone. */
            gfail(j, r, rep.first_bad, "unmap", rc, rep.first_status);
            return false;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        rc = gnt_end(refs[i]);
        if (rc)
            gfail(j, r, i, "end the grant", rc, 0);
    }
    for (unsigned i = 0; i < n; i++) {
        /*
         * A self-map took the page away from its frame: back it afresh.
         * One word tells (a tag never reads all ones); every read of an
         * empty frame is a trip through Xen's emulator, 512 a page.
         */
        if (*(volatile uint64_t *)f[i] == ~0ull) {
            rc = gnt_selfmap_restore(PFN_DOWN((uintptr_t)f[i]));
            if (rc)
                gfail(j, r, i, "restore the self-mapped frame", rc, 0);
        } else {
            if (mapped)
                gfail(j, r, i, "the granting frame kept its page through a self-map", 0, 0);
            free_pages(f[i], 0);
        }
    }
    return j->failures == fails;
}

static void gnt_smp_worker(void *arg)
{
    unsigned me = smp_processor_id();
    struct gjob *j = &gjobs[me];

    (void)arg;
    uint64_t t0 = now_ns();
    uint8_t *page = alloc_pages(0, 0);
    if (!page) {
        gfail(j, 0, 0, "allocate the copy page", -XEN_ENOMEM, 0);
        return;
    }
    for (unsigned r = 0; r < SMP_ROUNDS; r++) {
        round_enter();
        bool ok = smp_round(j, me, r, page);
        __atomic_sub_fetch(&gjob_inflight, 1, __ATOMIC_RELAXED);
        if (!ok)
            break;
        j->rounds++;
    }
    free_pages(page, 0);
    j->ns = now_ns() - t0;
}

/* Refs handed out (granted or reserved): growth adds as many free refs
 * as refs, so the figure is comparable across it. */
static uint32_t refs_not_free(void)
{
    uint32_t n;

    spin_lock(&gnt_lock);
    n = gnt_book.nr_frames * GNTTAB_EPF - gnt_book.nr_free;
    spin_unlock(&gnt_lock);
    return n;
}

KTEST(gnttab, map_unmap_from_every_cpu_at_once)
{
    unsigned me = smp_processor_id(), cpus = 0;
    char msg[192];

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    uint64_t leaked = gnt_st.leaked, unmap_failed = gnt_st.unmap_failed;
    uint32_t held = refs_not_free();

    __atomic_store_n(&gjob_inflight, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&gjob_peak, 0, __ATOMIC_RELAXED);
    for_each_cpu(c, &cpu_online_mask)
        gjobs[c] = (struct gjob){ .on = true };
    /* All at once, this CPU too. */
    team_start(&gteam, gnt_smp_worker, NULL);
    for_each_cpu(c, &cpu_online_mask)
        if (c != me && !cpumask_test(&gteam.started, c)) {
            gjobs[c].on = false;
            ktest_note(t, "CPU %u: could not start the worker", c);
        }
    gnt_smp_worker(NULL);
    team_wait(&gteam);

    for_each_cpu(c, &cpu_online_mask) {
        const struct gjob *j = &gjobs[c];
        if (!j->on)
            continue;
        cpus++;
        ktest_note(t, "CPU %u: %u of %u rounds, %u maps in %llu ms, %u failure(s)", c,
                   j->rounds, SMP_ROUNDS, j->maps, (unsigned long long)(j->ns / 1000000),
                   j->failures);
        if (j->failures) {
            snprintf(msg, sizeof(msg), "CPU %u, round %u, op %u: %s (rc %d, %s)%s", c,
                     j->round, j->op, j->what, j->rc,
                     j->rc ? gnttab_status_name(j->status) : "-",
                     j->failures > 1 ? "; more failures after it" : "");
            ktest_fail(t, __FILE__, __LINE__, msg);
        } else if (j->rounds != SMP_ROUNDS) {
            snprintf(msg, sizeof(msg), "CPU %u: %u of %u rounds", c, j->rounds, SMP_ROUNDS);
            ktest_fail(t, __FILE__, __LINE__, msg);
        }
    }
    ktest_note(t, "%u CPU(s), at most %u inside a round at once", cpus,
               __atomic_load_n(&gjob_peak, __ATOMIC_RELAXED));
    KT_EXPECT(t, cpus == num_online_cpus());
    KT_EXPECT(t, refs_not_free() == held);              /* every grant ended */
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, gnt_st.leaked == leaked && gnt_st.unmap_failed == unmap_failed);
    KT_EXPECT(t, gnt_account_matches(t));
}

/* ---- make bench ------------------------------------------------------- */

struct bench_run {
    uint64_t map_ns, unmap_ns, map_calls, unmap_calls;
};

/*
 * Map and unmap BENCH_N self-grants once, in the given mode. Each self-map
 * empties its frame, so every run grants fresh sacrificial frames and
 * restores them afterwards (not timed).
 */
#define BENCH_N GNT_BATCH_MAX

static int bench_once(unsigned flags, struct bench_run *br)
{
    static grant_ref_t refs[BENCH_N];
    static struct gnt_map m[BENCH_N];
    static void *f[BENCH_N];
    struct gnttab_report rep;
    int rc = grant_frames(f, refs, BENCH_N, false, 1000);

    if (rc == 0) {
        uint64_t h0 = gnt_st.hypercalls, t0 = now_ns();
        rc = gnt_map_refs(SELF, refs, BENCH_N, flags, m, &rep);
        uint64_t t1 = now_ns(), h1 = gnt_st.hypercalls;
        if (rc == 0)
            rc = gnt_unmap(m, BENCH_N, flags, &rep);
        uint64_t t2 = now_ns();
        br->map_ns = t1 - t0;
        br->unmap_ns = t2 - t1;
        br->map_calls = h1 - h0;
        br->unmap_calls = gnt_st.hypercalls - h1;
    }
    for (unsigned i = 0; i < BENCH_N && f[i]; i++) {
        gnt_end(refs[i]);
        gnt_selfmap_restore(PFN_DOWN((uintptr_t)f[i]));
    }
    return rc;
}

static uint64_t per_s(uint64_t n, uint64_t ns) { return n * 1000000000ull / (ns ? ns : 1); }

KTEST(bench, gnttab_map_unmap_512)
{
    static const char *const names[] = { "one per hypercall", "batched" };
    static const unsigned modes[] = { GNT_ONE_PER_CALL, 0 };
    struct bench_run br[2];

    REQUIRE_GNT(t);
    REQUIRE_DOM0(t);
    uint64_t avail = gnt_pool_level();
    for (int i = 0; i < 2; i++) {
        int rc = bench_once(modes[i], &br[i]);
        if (rc)
            ktest_note(t, "%s: %d", names[i], rc);
        KT_ASSERT(t, rc == 0);
        printk("    # bench gnttab %s: map %u in %llu us (%llu maps/s, %llu hypercalls), "
               "unmap in %llu us (%llu unmaps/s, %llu hypercalls)\n", names[i], BENCH_N,
               (unsigned long long)(br[i].map_ns / 1000),
               (unsigned long long)per_s(BENCH_N, br[i].map_ns),
               (unsigned long long)br[i].map_calls, (unsigned long long)(br[i].unmap_ns / 1000),
               (unsigned long long)per_s(BENCH_N, br[i].unmap_ns),
               (unsigned long long)br[i].unmap_calls);
    }
    /* Ratios with one decimal, in integers (no floating point here). */
    uint64_t rm = br[0].map_ns * 10 / (br[1].map_ns ? br[1].map_ns : 1);
    uint64_t ru = br[0].unmap_ns * 10 / (br[1].unmap_ns ? br[1].unmap_ns : 1);
    printk("    # bench gnttab ratio batched vs one per hypercall: map %llu.%llux, "
           "unmap %llu.%llux\n", (unsigned long long)(rm / 10), (unsigned long long)(rm % 10),
           (unsigned long long)(ru / 10), (unsigned long long)(ru % 10));
    KT_EXPECT(t, br[0].map_calls == BENCH_N && br[1].map_calls == 1);
    KT_EXPECT(t, br[0].unmap_calls == BENCH_N && br[1].unmap_calls == 1);
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, gnt_st.leaked == 0);
    KT_EXPECT(t, gnt_account_matches(t));
}

/* ---- two domUs (the rig's pvhk-gnt-pair scenario) ---------------------- */

/*
 * Two pvhk domUs: the granter (gnttab.granter=1) and the mapper
 * (gnttab.peer=GRANTER-DOMID, which the rig passes on xl create's command
 * line once it knows the granter's id). They meet in the granter's
 * xenstore directory D = /local/domain/G/data/pvhk-gnt, which the granter
 * opens to every domain (perms "b<G>"):
 *
 *   mapper:  D/mapper = its domid
 *   granter: grants PAIR_RO read-only and PAIR_RW read-write frames and a
 *            copy frame to it; D/refs = the refs, D/state = granted
 *   mapper:  maps the ro refs in one batch, the rw refs in another, checks
 *            the data, writes its own pattern through the rw maps;
 *            D/mstate = mapped
 *   granter: every ref busy (gnt_end -EBUSY); D/state = busy-checked
 *   mapper:  unmaps both batches; copies: granter's ro ref -> a local
 *            frame, a local frame -> granter's copy ref; D/mstate = unmapped
 *   granter: sees the mapper's pattern in the rw frames and the copied
 *            data in the copy frame; every gnt_end now succeeds;
 *            D/state = done
 */
#define PAIR_RO         4
#define PAIR_RW         4
#define PAIR_N          (PAIR_RO + PAIR_RW + 1)     /* + the copy frame */
#define PAIR_WAIT_NS    (30ull * 1000 * 1000 * 1000)
#define PAIR_TAG        0x700u
#define PAIR_MAPPER_TAG 0x7a0u

#include <pvhk/cmdline.h>
#include <pvhk/xenbus.h>

static char pair_dir[64];

static int pair_write(const char *key, const char *val)
{
    return meet_put(pair_dir, key, val);
}

/* Poll D/key until it reads `want` (or anything, if want is NULL). */
static int pair_wait(const char *key, const char *want, char *buf, size_t bufsz)
{
    return meet_wait(pair_dir, key, want, buf, bufsz, PAIR_WAIT_NS);
}

static bool pair_ready(struct ktest_ctx *t)
{
    if (platform != PLATFORM_XEN_DOMU) {
        t->skip_reason = "a domU pair only";
        return false;
    }
    if (!xenbus()) {
        ktest_fail(t, __FILE__, __LINE__, "xenbus() != NULL");
        return false;
    }
    return gnt_ready(t);
}

KTEST_OPTIN(gnttab, pair_granter, "gnttab.granter")
{
    static grant_ref_t refs[PAIR_N];
    static void *f[PAIR_N];
    char buf[128], list[128];
    uint32_t peer;
    int len = 0;

    if (!pair_ready(t))
        return;
    uint32_t self = xenbus_info.domid;
    snprintf(pair_dir, sizeof(pair_dir), "/local/domain/%u/data/pvhk-gnt", self);
    KT_ASSERT(t, xs_mkdir(xenbus(), 0, pair_dir) == 0);
    /* Owner: us; everyone else: read and write (the mapper answers here). */
    char perm[16];
    snprintf(perm, sizeof(perm), "b%u", self);
    const char *strs[2] = { pair_dir, perm };
    KT_ASSERT(t, xs_request(xenbus(), XS_SET_PERMS, 0, strs, 2, NULL, 0, NULL) == 0);
    KT_ASSERT(t, pair_write("state", "waiting") == 0);

    KT_ASSERT(t, pair_wait("mapper", NULL, buf, sizeof(buf)) == 0);
    KT_ASSERT(t, xs_parse_u32(buf, strlen(buf), &peer) == 0 && peer != self);
    ktest_note(t, "granter %u, mapper %u", self, peer);

    for (unsigned i = 0; i < PAIR_N; i++) {
        f[i] = alloc_pages(0, PA_ALLOC_LOW);
        KT_ASSERT(t, f[i] != NULL);
        if (i < PAIR_RO + PAIR_RW)
            fill(f[i], PAIR_TAG + i);
        else
            memset(f[i], 0, PAGE_SIZE);
        KT_ASSERT(t, gnt_grant((domid_t)peer, PFN_DOWN((uintptr_t)f[i]), i < PAIR_RO,
                               &refs[i]) == 0);
        len += snprintf(list + len, sizeof(list) - len, "%s%u", i ? " " : "", refs[i]);
    }
    KT_ASSERT(t, pair_write("refs", list) == 0);
    KT_ASSERT(t, pair_write("state", "granted") == 0);

    /* While the mapper holds its maps, nothing can be ended. */
    KT_ASSERT(t, pair_wait("mstate", "mapped", buf, sizeof(buf)) == 0);
    unsigned busy = 0;
    for (unsigned i = 0; i < PAIR_RO + PAIR_RW; i++)
        busy += gnt_end(refs[i]) == -XEN_EBUSY;
    KT_EXPECT(t, busy == PAIR_RO + PAIR_RW);
    KT_ASSERT(t, pair_write("state", "busy-checked") == 0);

    KT_ASSERT(t, pair_wait("mstate", "unmapped", buf, sizeof(buf)) == 0);
    unsigned ro_kept = 0, rw_written = 0;
    for (unsigned i = 0; i < PAIR_RO; i++)
        ro_kept += holds(f[i], PAIR_TAG + i);
    for (unsigned i = PAIR_RO; i < PAIR_RO + PAIR_RW; i++)
        rw_written += holds(f[i], PAIR_MAPPER_TAG + i);
    KT_EXPECT(t, ro_kept == PAIR_RO);
    KT_EXPECT(t, rw_written == PAIR_RW);
    /* The mapper copied its frame 0's pattern into our copy frame. */
    KT_EXPECT(t, holds(f[PAIR_N - 1], PAIR_MAPPER_TAG));
    KT_EXPECT(t, end_all(refs, PAIR_N) == PAIR_N);
    KT_EXPECT(t, pair_write("state", "done") == 0);
    for (unsigned i = 0; i < PAIR_N; i++)
        free_pages(f[i], 0);
    KT_EXPECT(t, gnt_account_matches(t));
}

KTEST_OPTIN(gnttab, pair_mapper, "gnttab.mapper")
{
    static struct gnt_map m[PAIR_N];
    grant_ref_t refs[PAIR_N];
    struct gnttab_report rep;
    char buf[128];

    if (!pair_ready(t))
        return;
    uint64_t g = cmdline_u64(boot_cmdline, "gnttab.peer", ~0ull);
    KT_ASSERT(t, g < DOMID_FIRST_RESERVED);
    domid_t peer = (domid_t)g;
    snprintf(pair_dir, sizeof(pair_dir), "/local/domain/%u/data/pvhk-gnt", peer);
    uint64_t avail = gnt_pool_level();

    /* The granter's directory may not be there (or open) yet. */
    KT_ASSERT(t, pair_wait("state", "waiting", buf, sizeof(buf)) == 0);
    snprintf(buf, sizeof(buf), "%u", xenbus_info.domid);
    KT_ASSERT(t, pair_write("mapper", buf) == 0);
    KT_ASSERT(t, pair_wait("state", "granted", buf, sizeof(buf)) == 0);
    KT_ASSERT(t, pair_wait("refs", NULL, buf, sizeof(buf)) == 0);
    unsigned n = 0;
    for (char *p = buf; *p && n < PAIR_N; ) {
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint32_t)(*p++ - '0');
        refs[n++] = v;
        while (*p == ' ')
            p++;
    }
    KT_ASSERT(t, n == PAIR_N);

    /* Two batches, one call each: read-only, then read-write. */
    uint64_t h0 = gnt_st.hypercalls;
    KT_ASSERT(t, gnt_map_refs(peer, refs, PAIR_RO, GNT_MAP_READONLY, m, &rep) == 0);
    KT_ASSERT(t, gnt_map_refs(peer, refs + PAIR_RO, PAIR_RW, 0, m + PAIR_RO, &rep) == 0);
    KT_EXPECT(t, gnt_st.hypercalls - h0 == 2);
    unsigned good = 0;
    for (unsigned i = 0; i < PAIR_RO + PAIR_RW; i++)
        good += pa_state(&heap, m[i].pfn) == PA_SCRATCH && holds(va_of(m[i].pfn), PAIR_TAG + i);
    KT_EXPECT(t, good == PAIR_RO + PAIR_RW);
    for (unsigned i = PAIR_RO; i < PAIR_RO + PAIR_RW; i++)
        fill(va_of(m[i].pfn), PAIR_MAPPER_TAG + i);
    /* A read-only grant mapped writable is refused, by name. */
    struct gnt_map bad;
    KT_EXPECT(t, gnt_map_refs(peer, refs, 1, 0, &bad, &rep) == -XEN_EIO &&
                 bad.status == GNTST_general_error);
    KT_ASSERT(t, pair_write("mstate", "mapped") == 0);

    KT_ASSERT(t, pair_wait("state", "busy-checked", buf, sizeof(buf)) == 0);
    KT_EXPECT(t, gnt_unmap(m, PAIR_RO, 0, &rep) == 0);
    KT_EXPECT(t, gnt_unmap(m + PAIR_RO, PAIR_RW, 0, &rep) == 0);
    KT_EXPECT(t, gnt_pool_level() == avail);

    /* Copies through the granter's refs, both directions, one call. */
    uint8_t *a = alloc_pages(0, 0), *b = alloc_pages(0, 0);
    KT_ASSERT(t, a && b);
    fill(a, PAIR_MAPPER_TAG);
    memset(b, 0, PAGE_SIZE);
    struct gnttab_copy ops[2];
    struct gnttab_copy_end s = { .is_gref = true, .domid = peer, .ref_or_gfn = refs[0] };
    struct gnttab_copy_end d = local(b, 0);
    KT_ASSERT(t, gnttab_build_copy(&ops[0], &s, &d, PAGE_SIZE) == 0);
    s = local(a, 0);
    d = (struct gnttab_copy_end){ .is_gref = true, .domid = peer, .ref_or_gfn = refs[PAIR_N - 1] };
    KT_ASSERT(t, gnttab_build_copy(&ops[1], &s, &d, PAGE_SIZE) == 0);
    KT_EXPECT(t, gnt_copy(ops, 2, &rep) == 0 && rep.ok == 2);
    KT_EXPECT(t, holds(b, PAIR_TAG));
    KT_ASSERT(t, pair_write("mstate", "unmapped") == 0);

    KT_EXPECT(t, pair_wait("state", "done", buf, sizeof(buf)) == 0);
    KT_EXPECT(t, gnt_st.leaked == 0 && gnt_st.unmap_failed == 0);
    KT_EXPECT(t, gnt_account_matches(t));
    free_pages(a, 0);
    free_pages(b, 0);
}

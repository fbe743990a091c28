/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant tables, the kernel mapper: the hypercalls around the pure book and
 * batch builders of xen/grant_table.c, and the scratch-frame discipline
 * (docs/grant-table.md).
 *
 * Everything Xen maps into us for grants lands in a scratch frame: the
 * table frames (XENMEM_add_to_physmap, XENMAPSPACE_grant_table) and every
 * foreign mapping (GNTTABOP_map_grant_ref with GNTMAP_host_map, host_addr =
 * the frame's guest-physical address). A scratch frame is handed out only
 * while RELEASED, so nothing is ever mapped over backed RAM (Xen would leak
 * that page) or over a frame that already holds a mapping (a second grant
 * at one frame crashed dom0 in Xen's p2m.c). It goes back to the pool
 * only once Xen said the mapping is gone.
 *
 * gnt_lock guards the book, table_pfn[], the one-time setup and the batch
 * arrays; gnt_copy and the query hypercalls touch none of them and run
 * without it (docs/grant-table.md "Locking (several CPUs)").
 */
#include <pvhk/grant.h>
#include <pvhk/hypercall.h>
#include <pvhk/mm.h>
#include <pvhk/spinlock.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/xen.h>
#include <xen/memory.h>

/*
 * Taken before p2m_lock (scratch frames) and the heap's locks, never after
 * them. No grant path runs in an interrupt handler, so plain spin_lock as
 * for p2m_lock; the lock's debug check would report one that did.
 */
DEFINE_SPINLOCK(gnt_lock);

struct gnttab_book gnt_book;
struct gnt_stats gnt_st;

static int init_rc = 1;                 /* 1: not tried yet; read unlocked by gnt_init */
static uint64_t table_pfn[GNT_MAX_FRAMES];

/*
 * The batch arrays: too big for a stack (16 + 12 KiB), so one set shared
 * by every CPU, used only under gnt_lock. Two batches built in them at once
 * would send one CPU's frames with the other's refs: two grants at one
 * frame, which Xen answers by crashing dom0.
 */
static struct gnttab_map_grant_ref map_ops[GNT_BATCH_MAX];
static struct gnttab_unmap_grant_ref unmap_ops[GNT_BATCH_MAX];
static grant_ref_t batch_refs[GNT_BATCH_MAX];
static uint64_t batch_addrs[GNT_BATCH_MAX];
static grant_handle_t batch_handles[GNT_BATCH_MAX];

/* Counters bumped outside gnt_lock too (gnt_copy, the queries). */
static void stat_add(uint64_t *c, uint64_t n)
{
    __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static long gnttab_op(unsigned cmd, void *ops, unsigned n)
{
    stat_add(&gnt_st.hypercalls, 1);
    return xen_grant_table_op(cmd, ops, n);
}

int gnt_query_size(uint32_t *nr_frames, uint32_t *max_frames)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = gnttab_op(GNTTABOP_query_size, &q, 1);

    if (rc)
        return (int)rc;
    if (q.status != GNTST_okay)
        return gnttab_status_errno(q.status);
    *nr_frames = q.nr_frames;
    *max_frames = q.max_nr_frames;
    return 0;
}

int gnt_get_version(void)
{
    struct gnttab_get_version v = { .dom = DOMID_SELF };
    long rc = gnttab_op(GNTTABOP_get_version, &v, 1);

    return rc ? (int)rc : (int)v.version;
}

uint64_t gnt_table_pfn(uint32_t idx)
{
    uint64_t pfn;

    spin_lock(&gnt_lock);
    pfn = idx < gnt_book.nr_frames ? table_pfn[idx] : 0;
    spin_unlock(&gnt_lock);
    return pfn;
}

/*
 * The book's grow callback, also used for the frames Xen made at domain
 * creation: put table frame idx at a fresh scratch frame. An idx at or
 * past Xen's current size makes Xen grow the table (up to max_nr_frames;
 * beyond it -EINVAL). Each idx is mapped exactly once: mapping it at a
 * second frame would move it and leave the first frame unbacked. Runs
 * under gnt_lock (setup, or the book growing inside gnt_grant).
 */
static int map_table_frame(void *ctx, uint32_t idx, grant_entry_v1_t **va)
{
    uint64_t pfn;
    int rc;

    (void)ctx;
    if (idx >= GNT_MAX_FRAMES)
        return -XEN_ENOSPC;
    rc = scratch_frames_get(1, 1, &pfn);
    if (rc)
        return rc;
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_grant_table,
        .idx = idx,
        .gpfn = pfn,
    };
    stat_add(&gnt_st.hypercalls, 1);
    long hrc = xen_memory_op(XENMEM_add_to_physmap, &xatp);
    if (hrc) {
        /* Xen refused before mapping anything: the frame is still empty. */
        scratch_frames_put(pfn, 1);
        printk("pvhk: gnttab: add_to_physmap(grant_table, %u) at pfn 0x%llx: %ld\n",
               idx, (unsigned long long)pfn, hrc);
        return (int)hrc;
    }
    table_pfn[idx] = pfn;
    *va = (grant_entry_v1_t *)(uintptr_t)PFN_PHYS(pfn);
    return 0;
}

static int gnt_setup(void)
{
    uint32_t nr, max;
    int rc;

    if (!on_xen() || !scratch_ready)
        return -XEN_ENODEV;
    rc = gnt_query_size(&nr, &max);
    if (rc)
        return rc;
    /* The book speaks v1 only. Switching is refused while grants are
     * live, which is fine: nothing of ours is granted yet. */
    rc = gnt_get_version();
    if (rc < 0)
        return rc;
    if (rc != 1) {
        struct gnttab_set_version sv = { .version = 1 };
        long hrc = gnttab_op(GNTTABOP_set_version, &sv, 1);
        if (hrc)
            return (int)hrc;
    }
    if (nr == 0 || nr > max)
        return -XEN_EINVAL;
    if (max > GNT_MAX_FRAMES)
        max = GNT_MAX_FRAMES;

    /* Caller storage for the book: a link word per ref, a pointer per frame. */
    uint64_t bytes = (uint64_t)max * GNTTAB_EPF * sizeof(uint32_t) +
                     max * sizeof(grant_entry_v1_t *);
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    uint32_t *link = alloc_pages(order, 0);
    if (!link)
        return -XEN_ENOMEM;
    grant_entry_v1_t **frames =
        (grant_entry_v1_t **)(link + (uint64_t)max * GNTTAB_EPF);

    gnttab_book_init(&gnt_book, frames, link, max, map_table_frame, NULL,
                     &gnttab_sync_native);
    for (uint32_t i = 0; i < nr; i++) {
        grant_entry_v1_t *va;
        rc = map_table_frame(NULL, i, &va);
        if (rc)
            return rc;
        rc = gnttab_book_add_frame(&gnt_book, va);
        if (rc)
            return rc;
    }
    printk("pvhk: gnttab: v1, %u of max %u frames (table frame 0 at pfn 0x%llx), "
           "%u free refs, %u found live\n", nr, max, (unsigned long long)table_pfn[0],
           gnt_book.nr_free, gnt_book.nr_stale);
    return 0;
}

/* The first caller sets up; the others wait on gnt_lock and see its result. */
static int init_locked(void)
{
    if (init_rc == 1) {
        int rc = gnt_setup();
        if (rc && rc != -XEN_ENODEV)
            printk("pvhk: gnttab: setup failed: %d\n", rc);
        /* Release: a gnt_init that reads it unlocked sees the book set up. */
        __atomic_store_n(&init_rc, rc, __ATOMIC_RELEASE);
    }
    return init_rc;
}

int gnt_init(void)
{
    int rc = __atomic_load_n(&init_rc, __ATOMIC_ACQUIRE);

    if (rc != 1)
        return rc;
    spin_lock(&gnt_lock);
    rc = init_locked();
    spin_unlock(&gnt_lock);
    return rc;
}

int gnt_grant(domid_t domid, uint64_t gfn, bool readonly, grant_ref_t *ref)
{
    int rc;

    spin_lock(&gnt_lock);
    rc = init_locked();
    if (rc == 0)
        rc = gnttab_grant_access(&gnt_book, domid, gfn, readonly, ref);
    spin_unlock(&gnt_lock);
    return rc;
}

int gnt_end(grant_ref_t ref)
{
    int rc;

    spin_lock(&gnt_lock);
    rc = init_locked();
    if (rc == 0)
        rc = gnttab_end_access(&gnt_book, ref);
    spin_unlock(&gnt_lock);
    return rc;
}

/* ---- mapping foreign grants ----------------------------------------------- */

/*
 * Issue a built batch, in one call or one op per call. One per call stops
 * at the first failure: the ops after it were never submitted and keep
 * GNTTAB_ST_NOT_DONE. *issued says how many ops Xen saw (all of them for a
 * batched call), so a NOT_DONE op past it is known to hold nothing.
 */
static long issue(unsigned cmd, void *ops, size_t size, unsigned n,
                  bool one_per_call, unsigned *issued)
{
    if (!one_per_call) {
        *issued = n;
        return gnttab_op(cmd, ops, n);
    }
    for (unsigned i = 0; i < n; i++) {
        void *op = (char *)ops + i * size;
        long rc = gnttab_op(cmd, op, 1);
        /* status sits at a different offset in each struct */
        int16_t st = cmd == GNTTABOP_map_grant_ref
                   ? ((struct gnttab_map_grant_ref *)op)->status
                   : ((struct gnttab_unmap_grant_ref *)op)->status;
        *issued = i + 1;
        if (rc)
            return rc;
        if (st != GNTST_okay)
            return 0;
    }
    return 0;
}

/*
 * Frames go back to the pool in runs: a batch's frames are usually one
 * contiguous run (see gnt_map_refs), and one scratch_put per run instead
 * of per frame is most of the glue's own cost in a batched unmap.
 */
struct frame_run {
    uint64_t pfn, count;
};

static void run_flush(struct frame_run *r)
{
    /* A run of single-frame gets may straddle two adjacent regions, which
     * one put refuses (changing nothing): then frame by frame. */
    if (r->count && scratch_frames_put_run(r->pfn, r->count))
        for (uint64_t i = 0; i < r->count; i++)
            scratch_frames_put(r->pfn + i, 1);
    r->count = 0;
}

static void run_add(struct frame_run *r, uint64_t pfn)
{
    if (r->count && r->pfn + r->count == pfn) {
        r->count++;
        return;
    }
    run_flush(r);
    r->pfn = pfn;
    r->count = 1;
}

/* Frames whose mapping state we cannot know stay out of the pool. */
static void leak(uint64_t pfn, const char *why, int16_t st)
{
    gnt_st.leaked++;
    printk("pvhk: gnttab: scratch frame 0x%llx kept out of the pool for good: %s (%s)\n",
           (unsigned long long)pfn, why, gnttab_status_name(st));
}

/*
 * Unmap ops[0..n) (built), batched or not; a frame goes back to the pool
 * only on GNTST_okay. Returns the report's verdict.
 */
static int unmap_batch_locked(unsigned n, bool one_per_call, struct gnttab_report *rep)
{
    unsigned issued;
    long hrc = issue(GNTTABOP_unmap_grant_ref, unmap_ops, sizeof(unmap_ops[0]), n,
                     one_per_call, &issued);
    int rc = gnttab_report_unmap(unmap_ops, n, hrc, rep);
    struct frame_run run = { 0, 0 };

    for (unsigned i = 0; i < n; i++) {
        if (unmap_ops[i].status == GNTST_okay) {
            gnt_st.unmapped++;
            run_add(&run, PFN_DOWN(unmap_ops[i].host_addr));
        }
    }
    run_flush(&run);
    return rc;
}

/*
 * Every frame at addrs[0..n) is SCRATCH. The frame table is read with every
 * heap lock held: another CPU's change to a neighbouring frame may be half
 * done otherwise (docs/allocator.md "Concurrency").
 */
static bool all_scratch(const uint64_t *addrs, unsigned n)
{
    bool ok = true;

    pas_lock_all(&heap_smp);
    for (unsigned i = 0; i < n && ok; i++)
        ok = addrs[i] && pa_state(&heap, PFN_DOWN(addrs[i])) == PA_SCRATCH;
    pas_unlock_all(&heap_smp);
    return ok;
}

static int map_refs_locked(domid_t dom, const grant_ref_t *refs, unsigned n,
                           unsigned flags, struct gnt_map *m, struct gnttab_report *rep)
{
    bool one = flags & GNT_ONE_PER_CALL;
    struct frame_run run = { 0, 0 };
    unsigned i, got = 0, issued;
    uint64_t base;
    int rc;

    if (n == 0 || n > GNT_BATCH_MAX)
        return -XEN_EINVAL;
    /* One contiguous run if the pool has one, else frame by frame. */
    if (scratch_frames_get(n, 1, &base) == 0) {
        for (got = 0; got < n; got++)
            batch_addrs[got] = PFN_PHYS(base + got);
    }
    for (; got < n; got++) {
        uint64_t pfn;
        rc = scratch_frames_get(1, 1, &pfn);
        if (rc)
            goto put_frames;
        batch_addrs[got] = PFN_PHYS(pfn);
    }
    /* The pool's promise, re-checked where it matters most. */
    if (!all_scratch(batch_addrs, n)) {
        rc = -XEN_EFAULT;
        goto put_frames;
    }
    for (i = 0; i < n; i++)
        batch_refs[i] = refs[i];
    rc = gnttab_build_map(map_ops, n, dom, batch_refs, batch_addrs,
                          flags & GNT_MAP_READONLY);
    if (rc)
        goto put_frames;
    if (flags & GNT_MAP_PER_OP)
        for (i = 0; i < n; i++)
            if (m[i].readonly)
                map_ops[i].flags |= GNTMAP_readonly;

    long hrc = issue(GNTTABOP_map_grant_ref, map_ops, sizeof(map_ops[0]), n, one, &issued);
    rc = gnttab_report_map(map_ops, n, hrc, rep);
    for (i = 0; i < n; i++) {
        m[i].status = map_ops[i].status;
        m[i].handle = map_ops[i].handle;
        m[i].pfn = map_ops[i].status == GNTST_okay ? PFN_DOWN(map_ops[i].host_addr) : 0;
    }
    if (rc == 0) {
        gnt_st.mapped += n;
        return 0;
    }

    /*
     * All or nothing: unmap what did map (not a retry: the failed ops are
     * reported as they are). Frames of ops Xen answered with an error hold
     * nothing and go back, as do those of ops never submitted (one per
     * call stops at the first failure). An op Xen was given but left
     * NOT_DONE (the call failed as a whole) may or may not hold a mapping:
     * its frame stays out.
     */
    unsigned nu = gnttab_build_unmap_of_mapped(map_ops, n, unmap_ops);
    gnt_st.mapped += nu;
    if (nu) {
        struct gnttab_report urep;
        unmap_batch_locked(nu, one, &urep);
        for (i = 0; i < nu; i++)
            if (unmap_ops[i].status == GNTST_okay)
                gnt_st.undone++;
            else
                leak(PFN_DOWN(unmap_ops[i].host_addr), "undo unmap failed",
                     unmap_ops[i].status);
    }
    for (i = 0; i < n; i++) {
        int16_t st = map_ops[i].status;
        m[i].pfn = 0;
        if (st == GNTST_okay)
            continue;                   /* dealt with by the undo */
        if (st != GNTTAB_ST_NOT_DONE || i >= issued)
            run_add(&run, PFN_DOWN(batch_addrs[i]));
        else
            leak(PFN_DOWN(batch_addrs[i]), "map call failed before its status", st);
    }
    run_flush(&run);
    return rc;

put_frames:
    for (i = 0; i < got; i++)
        run_add(&run, PFN_DOWN(batch_addrs[i]));
    run_flush(&run);
    return rc;
}

int gnt_map_refs(domid_t dom, const grant_ref_t *refs, unsigned n,
                 unsigned flags, struct gnt_map *m, struct gnttab_report *rep)
{
    int rc;

    memset(rep, 0, sizeof(*rep));
    spin_lock(&gnt_lock);
    rc = init_locked();
    if (rc == 0)
        rc = map_refs_locked(dom, refs, n, flags, m, rep);
    spin_unlock(&gnt_lock);
    return rc;
}

static int unmap_locked(struct gnt_map *m, unsigned n, unsigned flags,
                        struct gnttab_report *rep)
{
    int rc;

    if (n == 0 || n > GNT_BATCH_MAX)
        return -XEN_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        batch_addrs[i] = PFN_PHYS(m[i].pfn);
        batch_handles[i] = m[i].handle;
    }
    if (!all_scratch(batch_addrs, n))
        return -XEN_EINVAL;             /* not a mapping of ours */
    rc = gnttab_build_unmap(unmap_ops, n, batch_addrs, batch_handles);
    if (rc)
        return rc;
    rc = unmap_batch_locked(n, flags & GNT_ONE_PER_CALL, rep);
    for (unsigned i = 0; i < n; i++) {
        int16_t st = unmap_ops[i].status;
        m[i].status = st;
        if (st == GNTST_okay) {
            m[i].pfn = 0;
        } else if (st != GNTTAB_ST_NOT_DONE) {
            /* The frame stays SCRATCH and in m[i] until an unmap of it
             * succeeds; if none ever does, it is lost to the pool. */
            gnt_st.unmap_failed++;
            printk("pvhk: gnttab: unmap at pfn 0x%llx (handle %u): %s; frame kept out of the pool\n",
                   (unsigned long long)m[i].pfn, m[i].handle, gnttab_status_name(st));
        }
        /* NOT_DONE: never reached; still mapped, the caller may unmap again. */
    }
    return rc;
}

int gnt_unmap(struct gnt_map *m, unsigned n, unsigned flags,
              struct gnttab_report *rep)
{
    int rc;

    memset(rep, 0, sizeof(*rep));
    spin_lock(&gnt_lock);
    rc = init_locked();
    if (rc == 0)
        rc = unmap_locked(m, n, flags, rep);
    spin_unlock(&gnt_lock);
    return rc;
}

/*
 * No gnt_lock: the ops are the caller's, Xen serialises the entries they
 * name, and nothing of the book or the batch arrays is touched; only the
 * counters are shared, and they are atomic.
 */
int gnt_copy(struct gnttab_copy *ops, unsigned n, struct gnttab_report *rep)
{
    int rc = gnt_init();

    memset(rep, 0, sizeof(*rep));
    if (rc)
        return rc;
    long hrc = gnttab_op(GNTTABOP_copy, ops, n);
    rc = gnttab_report_copy(ops, n, hrc, rep);
    stat_add(&gnt_st.copied, rep->ok);
    return rc;
}

/* ---- the self-map's casualty ---------------------------------------------- */

/*
 * Measured on this Xen: mapping our own grant (dom = our id) makes Xen
 * move the granted page: the new grant mapping aliases it, and Xen drops
 * the page's old gfn from our p2m (p2m code that removes an existing
 * mapping of a page before adding it elsewhere). The gfn reads all ones
 * from then on, also after the unmap, and XENMEM_current_reservation still
 * counts the page: it belongs to us at no frame number, so only a domain
 * destroy frees it.
 *
 * For the P2M account that page now is what docs/p2m.md calls the offset
 * (pages Xen counts outside our frame table). So: the frame leaves the
 * table's account (INUSE -> RELEASED, backed - 1) and the page joins the
 * offset (+1): backed + offset is unchanged and still equals the
 * reservation. Then p2m_populate backs the frame afresh (+1 on both sides)
 * and hands it to the heap as FREE.
 */
static int selfmap_restore_locked(uint64_t gfn)
{
    struct p2m_result res;
    int rc;

    pas_lock_all(&heap_smp);        /* the frame table: every heap lock */
    rc = pa_state(&heap, gfn) != PA_INUSE ? -XEN_EINVAL :
         pa_release(&heap, gfn, 1) ? -XEN_EBUSY : 0;
    pas_unlock_all(&heap_smp);
    if (rc)
        return rc;
    p2m.backed--;
    p2m.offset++;
    rc = p2m_check(&p2m, &res);
    if (rc) {
        p2m_print_result("gnttab self-map restore (before populate)", rc, &res);
        return rc;
    }
    rc = p2m_populate(&p2m, gfn, 1, &res);
    if (rc)
        p2m_print_result("gnttab self-map restore", rc, &res);
    return rc;
}

/* No gnt_lock: the restore touches the P2M account and the frame table,
 * not the book, and callers may run it on every CPU at once. */
int gnt_selfmap_restore(uint64_t gfn)
{
    int rc;

    if (!p2m_ready || !p2m.synced)
        return -XEN_ENODEV;
    spin_lock(&p2m_lock);
    rc = selfmap_restore_locked(gfn);
    spin_unlock(&p2m_lock);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * P2M core: release frames to Xen and populate them again, keeping an
 * exact account. Pure: the hypercalls and the frame table are reached
 * through the ops tables in include/pvhk/p2m.h. The contract and the Xen
 * behaviour it relies on are in docs/p2m.md.
 */
#include <pvhk/p2m.h>
#include <pvhk/string.h>
#include <pvhk/page_alloc.h>

void p2m_init(struct p2m *p, const struct p2m_ops *ops,
              const struct p2m_frame_ops *fops, uint64_t backed)
{
    memset(p, 0, sizeof(*p));
    p->ops = *ops;
    p->fops = *fops;
    p->backed = backed;
    p->mode = P2M_MODE_LARGE;
    p->last_reservation = -1;
}

void p2m_set_ranges(struct p2m *p, const struct p2m_range *ram,
                    unsigned int nr_ram, const struct extra_mem *extra)
{
    p->ram = ram;
    p->nr_ram = nr_ram;
    p->extra = extra;
}

static void res_reset(struct p2m_result *res, uint64_t requested)
{
    memset(res, 0, sizeof(*res));
    res->requested = requested;
    res->stop_pfn = P2M_NO_FRAME;
    res->reservation = -1;
    res->expected = -1;
}

static long query_reservation(struct p2m *p)
{
    p->st.queries++;
    return p->ops.current_reservation(p->ops.ctx);
}

static int64_t expected_reservation(const struct p2m *p)
{
    return (int64_t)p->backed + p->offset;
}

int p2m_sync(struct p2m *p, struct p2m_result *res)
{
    long r = query_reservation(p);

    res->reservation = r;
    if (r < 0) {
        res->flags |= P2M_R_CALL_ERROR;
        res->call_error = r;
        return (int)r;
    }
    p->offset = (int64_t)r - (int64_t)p->backed;
    p->synced = true;
    p->last_reservation = r;
    res->expected = r;
    return 0;
}

int p2m_check(struct p2m *p, struct p2m_result *res)
{
    long r;

    if (!p->synced)
        return 0;
    r = query_reservation(p);
    p->last_reservation = r;
    res->reservation = r;
    res->expected = (long)expected_reservation(p);
    if (r != res->expected) {
        p->st.mismatches++;
        res->flags |= P2M_R_MISMATCH;
        return -XEN_EIO;
    }
    return 0;
}

/* Finish a public operation: the account check has the last word only if
 * nothing else went wrong; the result keeps both. */
static int finish(struct p2m *p, int rc, struct p2m_result *res)
{
    int crc = p2m_check(p, res);

    return rc ? rc : crc;
}

/*
 * One hypercall over p->batch[0, n). Returns extents done or the
 * whole-call error. A count above n is returned as is, flagged
 * P2M_R_BAD_COUNT: it answers no call of ours, see recount().
 */
static long issue(struct p2m *p, bool populate, unsigned int n,
                  unsigned int order, struct p2m_result *res)
{
    long rc;

    if (populate)
        rc = p->ops.populate_physmap(p->ops.ctx, p->batch, n, order);
    else
        rc = p->ops.decrease_reservation(p->ops.ctx, p->batch, n, order);
    p->st.hypercalls++;
    res->hypercalls++;
    if (rc < 0) {
        res->flags |= P2M_R_CALL_ERROR;
        res->call_error = rc;
        return rc;
    }
    if ((unsigned long)rc > n)
        res->flags |= P2M_R_BAD_COUNT;
    else if ((unsigned long)rc < n) {
        p->st.short_counts++;
        res->flags |= P2M_R_SHORT;
    }
    return rc;
}

/* The reservation before a call: the account's when it is live. */
static long reservation_before(struct p2m *p)
{
    return p->synced ? (long)expected_reservation(p) : query_reservation(p);
}

/*
 * Xen answered more extents than the call carried: a hypervisor bug, or a
 * continuation gone wrong, and no answer to this call. The operation stops
 * with -XEN_EBADMSG and the reservation says what was done instead: Xen
 * does extents in list order, so the `moved` pages are that many whole
 * extents from the start of the batch and, for a decrease, the first pages
 * of the next one (fact 2 in docs/p2m.md). Returns the whole extents
 * (*partial: the pages after them), or -1 when the reservation is unknown
 * or no prefix of the batch explains it: then nothing is accounted, and
 * the account check reports what is off.
 */
static long recount(struct p2m *p, bool populate, long before, unsigned int n,
                    unsigned int order, uint64_t *partial)
{
    uint64_t mask = (1ULL << order) - 1;
    long after;
    int64_t moved;

    *partial = 0;
    if (before < 0 || (after = query_reservation(p)) < 0)
        return -1;
    moved = populate ? (int64_t)after - before : (int64_t)before - after;
    if (moved < 0 || (uint64_t)moved > ((uint64_t)n << order) ||
        (populate && ((uint64_t)moved & mask)))
        return -1;          /* populate backs whole extents only */
    *partial = (uint64_t)moved & mask;
    return (long)((uint64_t)moved >> order);
}

/* Frames Xen took: the frame table learns it (tracked) or the offset does. */
static void account_released(struct p2m *p, uint64_t pfn, uint64_t count,
                             bool tracked, bool table, struct p2m_result *res)
{
    if (tracked) {
        /*
         * Per extent, for blocks the core allocated itself (shrink). A
         * caller's range is recorded in one transition by release_range()
         * instead (table == false): an INUSE block wider than one extent
         * can only change state as a whole. A refusal here means the frame
         * table disagrees with a transition Xen has already made: count
         * the frames as gone anyway (they are) and say so.
         */
        if (table && p->fops.release(p->fops.ft, pfn, count))
            res->flags |= P2M_R_REFUSED;
        p->backed -= count;
    } else {
        p->offset -= (int64_t)count;
    }
    p->st.released += count;
    res->done += count;
}

/*
 * Decrease the reservation by the n extents in p->batch. Extents Xen did
 * are accounted. Xen removes an extent page by page and, when a page
 * fails, leaves the pages before it removed while not counting the extent
 * (common/memory.c: decrease_reservation() -> guest_remove_page()); the
 * reservation tells how many, and *partial gets that number (the pages
 * are the extent's first ones). It may be the whole extent: a hypervisor
 * that took it and still reported it failed. The caller accounts the
 * partial pages: how depends on who owns the extent.
 */
static long decrease_batch(struct p2m *p, unsigned int n, unsigned int order,
                           bool tracked, bool table, uint64_t *partial,
                           struct p2m_result *res)
{
    long before, after, done;
    uint64_t size = 1ULL << order;
    int64_t gone;

    *partial = 0;
    before = reservation_before(p);
    done = issue(p, false, n, order, res);
    if (done < 0)
        return done;
    if ((unsigned long)done > n) {
        done = recount(p, false, before, n, order, partial);
        if (done < 0)
            return -XEN_EBADMSG;
        if (*partial)
            res->flags |= P2M_R_PARTIAL;
    }
    for (long i = 0; i < done; i++)
        account_released(p, p->batch[i], size, tracked, table, res);
    if ((unsigned long)done == n || before < 0 || *partial)
        return done;

    after = query_reservation(p);
    if (after < 0)
        return done;
    gone = (int64_t)before - (int64_t)(done * size) - after;
    if (gone > 0 && (uint64_t)gone <= size) {
        *partial = (uint64_t)gone;
        res->flags |= P2M_R_PARTIAL;
    }
    return done;
}

static unsigned int batch_cap(const struct p2m *p)
{
    return p->mode == P2M_MODE_SINGLE ? 1 : P2M_BATCH;
}

static unsigned int walk_order(bool large, uint64_t pfn, uint64_t end)
{
    if (large && IS_ALIGNED(pfn, P2M_LARGE_PAGES) && end - pfn >= P2M_LARGE_PAGES)
        return P2M_LARGE_ORDER;
    return 0;
}

/* Fill p->batch with consecutive extents of one order from pfn. */
static unsigned int fill_walk(struct p2m *p, bool large, uint64_t pfn,
                              uint64_t end, unsigned int *order)
{
    unsigned int n = 0, cap = batch_cap(p);

    *order = walk_order(large, pfn, end);
    while (n < cap && pfn < end && walk_order(large, pfn, end) == *order) {
        p->batch[n++] = pfn;
        pfn += 1ULL << *order;
    }
    return n;
}

static int release_range(struct p2m *p, uint64_t pfn, uint64_t count,
                         unsigned flags, bool tracked, struct p2m_result *res)
{
    uint64_t cur = pfn, end = pfn + count;
    bool large = p->mode == P2M_MODE_LARGE;

    if (end < pfn)
        return -XEN_EINVAL;
    /*
     * Refuse up front what the frame table would refuse afterwards: once
     * Xen has taken a frame there is no undoing it, so a frame in the
     * wrong state must stop the release before the first hypercall.
     */
    if (tracked && count && p->fops.check_release &&
        p->fops.check_release(p->fops.ft, pfn, count)) {
        res->stop_pfn = pfn;
        res->flags |= P2M_R_REFUSED;
        return -XEN_EBUSY;
    }
    /*
     * Scrub everything first: Xen was seen handing a released page's old
     * contents back on a later populate (to us or to another domain).
     */
    if (!(flags & P2M_NOSCRUB) && count) {
        p->ops.scrub(p->ops.ctx, pfn, count);
        p->st.scrubbed += count;
    }
    int rc = 0;
    while (cur < end) {
        unsigned int order, n = fill_walk(p, large, cur, end, &order);
        uint64_t partial;
        long done = decrease_batch(p, n, order, tracked, false, &partial, res);

        if (done < 0) {
            res->stop_pfn = cur;
            rc = (int)done;
            break;
        }
        cur += (uint64_t)done << order;
        if ((unsigned long)done == n && !(res->flags & P2M_R_BAD_COUNT))
            continue;
        if (partial)
            account_released(p, cur, partial, tracked, false, res);
        cur += partial;
        if (res->flags & P2M_R_BAD_COUNT) {
            res->stop_pfn = cur < end ? cur : P2M_NO_FRAME;
            rc = -XEN_EBADMSG;
            break;
        }
        if (partial == 1ULL << order)
            continue;           /* the extent reported failed went after all */
        if (order > 0) {
            /* Order 9 may exceed the domain's limit, or one page of the
             * extent is special: go on page by page from here. */
            large = false;
            p->st.fallbacks++;
            continue;
        }
        res->stop_pfn = cur;
        res->flags |= P2M_R_REFUSED;
        rc = -XEN_EBUSY;
        break;
    }
    /*
     * Everything in [pfn, cur) is gone: one frame-table transition. It can
     * only be refused after a short count that cut an INUSE block in two;
     * the frames are counted as gone (they are) and the refusal is
     * reported: the caller must not use that block again.
     */
    if (tracked && cur > pfn && p->fops.release(p->fops.ft, pfn, cur - pfn))
        res->flags |= P2M_R_REFUSED;
    return rc;
}

int p2m_release(struct p2m *p, uint64_t pfn, uint64_t count, unsigned flags,
                struct p2m_result *res)
{
    res_reset(res, count);
    return finish(p, release_range(p, pfn, count, flags, true, res), res);
}

static int populate_range(struct p2m *p, uint64_t pfn, uint64_t count,
                          struct p2m_result *res)
{
    uint64_t cur = pfn, end = pfn + count;
    bool large = p->mode == P2M_MODE_LARGE;

    if (end < pfn)
        return -XEN_EINVAL;
    /*
     * Never over a backed frame: Xen would accept it, drop our mapping of
     * the old page and keep counting that page against us (a leak only a
     * domain destroy recovers). So every frame must be RELEASED first.
     */
    for (uint64_t f = pfn; f < end; f++) {
        if (!p->fops.is_released(p->fops.ft, f)) {
            res->stop_pfn = f;
            res->flags |= P2M_R_REFUSED;
            return -XEN_EBUSY;
        }
    }
    while (cur < end) {
        unsigned int order, n = fill_walk(p, large, cur, end, &order);
        uint64_t size = 1ULL << order, partial;
        long before = reservation_before(p);
        long done = issue(p, true, n, order, res);

        if (done < 0) {
            res->stop_pfn = cur;
            return (int)done;
        }
        if ((unsigned long)done > n &&
            (done = recount(p, true, before, n, order, &partial)) < 0) {
            res->stop_pfn = cur;
            return -XEN_EBADMSG;
        }
        for (long i = 0; i < done; i++) {
            /* Into the heap through its init path (RELEASED -> FREE). */
            if (p->fops.populate(p->fops.ft, p->batch[i], size))
                res->flags |= P2M_R_REFUSED;
            p->backed += size;
            p->st.populated += size;
            res->done += size;
        }
        cur += (uint64_t)done * size;
        if (res->flags & P2M_R_BAD_COUNT) {
            res->stop_pfn = cur < end ? cur : P2M_NO_FRAME;
            return -XEN_EBADMSG;
        }
        if ((unsigned long)done == n)
            continue;
        if (order > 0) {
            /* No 2 MiB of contiguous host memory (or order 9 is above
             * the domain's limit): 4 KiB pages may still be there. */
            large = false;
            p->st.fallbacks++;
            continue;
        }
        /* An order-0 extent failed: maximum reservation or host memory
         * reached. Asking again would only fail again. */
        res->stop_pfn = cur;
        return -XEN_ENOMEM;
    }
    return 0;
}

int p2m_populate(struct p2m *p, uint64_t pfn, uint64_t count,
                 struct p2m_result *res)
{
    res_reset(res, count);
    return finish(p, populate_range(p, pfn, count, res), res);
}

/*
 * Populate up to `need` RELEASED frames found in [start, start + nr),
 * run by run. Returns 0 when the range is exhausted or need is met.
 */
static int grow_in(struct p2m *p, uint64_t start, uint64_t nr,
                   uint64_t *need, struct p2m_result *res)
{
    uint64_t f = start, end = start + nr;

    while (f < end && *need) {
        const struct extra_mem_region *x =
            p->extra ? extra_mem_find(p->extra, f) : NULL;
        uint64_t run = f, before = res->done;
        int rc;

        /* Released RAM registered as scratch space stays scratch space:
         * the domU's pool was carved out of RAM for that purpose. */
        if (x && x->origin == EXTRA_MEM_RELEASED_RAM) {
            f = x->start_pfn + x->nr_pfns;
            continue;
        }
        if (!p->fops.is_released(p->fops.ft, f)) {
            f++;
            continue;
        }
        while (run < end && run - f < *need &&
               p->fops.is_released(p->fops.ft, run) &&
               !((x = p->extra ? extra_mem_find(p->extra, run) : NULL) &&
                 x->origin == EXTRA_MEM_RELEASED_RAM))
            run++;
        rc = populate_range(p, f, run - f, res);
        *need -= res->done - before;
        if (rc)
            return rc;
        f = run;
    }
    return 0;
}

static int grow(struct p2m *p, uint64_t need, struct p2m_result *res)
{
    int rc = 0;

    for (unsigned int i = 0; i < p->nr_ram && need && !rc; i++)
        rc = grow_in(p, p->ram[i].start_pfn, p->ram[i].nr_pfns, &need, res);
    if (p->extra) {
        for (unsigned int i = 0; i < p->extra->nr_regions && need && !rc; i++)
            if (p->extra->region[i].origin == EXTRA_MEM_UNUSABLE)
                rc = grow_in(p, p->extra->region[i].start_pfn,
                         p->extra->region[i].nr_pfns, &need, res);
    }
    if (!rc && need) {
        res->flags |= P2M_R_NO_ROOM;
        rc = -XEN_ENOSPC;
    }
    return rc;
}

/* Balloon down: free heap blocks -> scrub -> release. */
static int shrink(struct p2m *p, uint64_t need, struct p2m_result *res)
{
    unsigned int order = p->mode == P2M_MODE_LARGE ? P2M_LARGE_ORDER : 0;

    while (need) {
        unsigned int n = 0, cap = batch_cap(p);
        uint64_t size, partial;
        long done;

        if (order && need < P2M_LARGE_PAGES)
            order = 0;
        size = 1ULL << order;
        while (n < cap && (uint64_t)(n + 1) * size <= need) {
            uint64_t f = p->fops.alloc(p->fops.ft, order);

            if (f == P2M_NO_FRAME)
                break;
            p->batch[n++] = f;
        }
        if (n == 0) {
            if (order) {
                order = 0;      /* no free 2 MiB block: take pages */
                continue;
            }
            res->flags |= P2M_R_HEAP_EMPTY;
            return -XEN_EAGAIN;
        }
        for (unsigned int i = 0; i < n; i++)
            p->ops.scrub(p->ops.ctx, p->batch[i], size);
        p->st.scrubbed += (uint64_t)n * size;

        done = decrease_batch(p, n, order, true, true, &partial, res);
        if (done < 0)
            done = 0;   /* nothing went: all blocks back to the heap */
        need -= (uint64_t)done * size;
        if ((unsigned long)done == n && !(res->flags & P2M_R_BAD_COUNT))
            continue;
        /* The blocks Xen did not take go back to the heap; of the failed
         * one, the pages Xen did take are released from the free heap. */
        for (unsigned int i = (unsigned int)done; i < n; i++)
            if (p->fops.free(p->fops.ft, p->batch[i], order))
                res->flags |= P2M_R_REFUSED;
        if (partial) {
            account_released(p, p->batch[done], partial, true, true, res);
            need -= partial;
        }
        if (res->flags & P2M_R_CALL_ERROR)
            return (int)res->call_error;
        if (res->flags & P2M_R_BAD_COUNT)
            return -XEN_EBADMSG;
        if (partial == size)
            continue;           /* the block reported failed went after all */
        if (order) {
            order = 0;
            p->st.fallbacks++;
            continue;
        }
        res->stop_pfn = p->batch[done];
        res->flags |= P2M_R_REFUSED;
        return -XEN_EBUSY;
    }
    return 0;
}

int p2m_set_target(struct p2m *p, uint64_t target, struct p2m_result *res)
{
    int rc = 0;

    if (target > p->backed) {
        res_reset(res, target - p->backed);
        rc = grow(p, target - p->backed, res);
    } else {
        res_reset(res, p->backed - target);
        if (target < p->backed)
            rc = shrink(p, p->backed - target, res);
    }
    return finish(p, rc, res);
}

int p2m_boot_trim(struct p2m *p, const struct p2m_range *ram,
                  unsigned int nr_ram, uint64_t target,
                  struct p2m_result *res)
{
    uint64_t ram_pages = 0, excess;
    int rc = 0, src;

    for (unsigned int i = 0; i < nr_ram; i++)
        ram_pages += ram[i].nr_pfns;
    excess = ram_pages > target ? ram_pages - target : 0;
    res_reset(res, excess);
    p->backed = ram_pages;
    p->synced = false;

    /*
     * From the top down, unscrubbed: with populate-on-demand these frames
     * have no page behind them yet, and the first touch of one past the
     * PoD target crashes the domain. We never wrote them, so there is
     * nothing of ours to leak.
     */
    for (unsigned int i = nr_ram; i-- > 0 && excess && !rc;) {
        uint64_t take = MIN(excess, ram[i].nr_pfns);
        uint64_t before = res->done;

        rc = release_range(p, ram[i].start_pfn + ram[i].nr_pfns - take, take,
                           P2M_NOSCRUB, true, res);
        excess -= res->done - before;
    }
    src = p2m_sync(p, res);
    return rc ? rc : src;
}

/* ---- the frame table: page_alloc ------------------------------------------ */
static int pa_op_release(void *ft, uint64_t pfn, uint64_t count)
{
    return pa_release(ft, pfn, count);
}

static int pa_op_check_release(void *ft, uint64_t pfn, uint64_t count)
{
    return pa_release_check(ft, pfn, count);
}

static int pa_op_populate(void *ft, uint64_t pfn, uint64_t count)
{
    return pa_populate(ft, pfn, count);
}

static uint64_t pa_op_alloc(void *ft, unsigned int order)
{
    pfn_t f = pa_alloc(ft, order, 0);

    return f == PA_NO_FRAME ? P2M_NO_FRAME : f;
}

static int pa_op_free(void *ft, uint64_t pfn, unsigned int order)
{
    return pa_free(ft, pfn, order);
}

static bool pa_op_is_released(void *ft, uint64_t pfn)
{
    return pa_state(ft, pfn) == PA_RELEASED;
}

void p2m_pa_frame_ops(struct p2m_frame_ops *fops, struct page_alloc *pa)
{
    fops->release = pa_op_release;
    fops->check_release = pa_op_check_release;
    fops->populate = pa_op_populate;
    fops->alloc = pa_op_alloc;
    fops->free = pa_op_free;
    fops->is_released = pa_op_is_released;
    fops->ft = pa;
}

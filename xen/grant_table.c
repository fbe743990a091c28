/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant-table bookkeeping (v1) and batch building, pure.
 *
 * A v1 entry is {u16 flags, u16 domid, u32 frame}. We write domid and frame
 * (the [GST] fields) and flags; Xen sets GTF_reading/GTF_writing in flags
 * while the grantee has the frame mapped or a copy in progress, and it does
 * so with a compare-and-swap on flags+domid as one 32-bit word. Two rules
 * follow, both from the invalidation protocol in <xen/grant_table.h>:
 *  - a grant is published by its flags, so frame and domid must be visible
 *    first (otherwise Xen may validate the new flags against the old domid);
 *  - a grant is revoked by swapping flags to 0 only if neither busy bit is
 *    set, in one compare-and-swap, so Xen cannot slip a mapping in between
 *    our check and our store.
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/grant.h>

/* ---- sync primitives ------------------------------------------------------ */

static void native_wmb(void *ctx)
{
    (void)ctx;
    /* Release fence: on x86 (TSO, write-back memory) a compiler barrier. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static uint16_t native_cmpxchg(void *ctx, uint16_t *flags, uint16_t old,
                               uint16_t new_)
{
    (void)ctx;
    __atomic_compare_exchange_n(flags, &old, new_, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return old;                         /* updated to what was seen on failure */
}

const struct gnttab_sync_ops gnttab_sync_native = {
    .wmb = native_wmb,
    .cmpxchg_flags = native_cmpxchg,
};

/* ---- the book --------------------------------------------------------------*/

void gnttab_book_init(struct gnttab_book *b, grant_entry_v1_t **frames,
                      uint32_t *link, uint32_t max_frames,
                      gnttab_grow_fn grow, void *grow_ctx,
                      const struct gnttab_sync_ops *sync)
{
    memset(b, 0, sizeof(*b));
    b->frames = frames;
    b->link = link;
    b->max_frames = max_frames;
    b->free_head = b->free_tail = GNTTAB_LINK_END;
    b->grow = grow;
    b->grow_ctx = grow_ctx;
    b->sync = sync ? sync : &gnttab_sync_native;
}

static void free_push(struct gnttab_book *b, grant_ref_t ref)
{
    b->link[ref] = GNTTAB_LINK_END;
    if (b->free_tail == GNTTAB_LINK_END)
        b->free_head = ref;
    else
        b->link[b->free_tail] = ref;
    b->free_tail = ref;
    b->nr_free++;
}

int gnttab_book_add_frame(struct gnttab_book *b, grant_entry_v1_t *va)
{
    uint32_t idx = b->nr_frames;

    if (idx >= b->max_frames)
        return -XEN_ENOSPC;
    if (!va || !IS_ALIGNED((uintptr_t)va, PAGE_SIZE))
        return -XEN_EINVAL;
    b->frames[idx] = va;
    b->nr_frames++;
    for (uint32_t i = 0; i < GNTTAB_EPF; i++) {
        grant_ref_t ref = idx * GNTTAB_EPF + i;
        uint16_t f = __atomic_load_n(&va[i].flags, __ATOMIC_RELAXED);

        /*
         * Refs 0..GNTTAB_NR_RESERVED_ENTRIES-1 belong to the toolstack,
         * which may have pre-filled them (GNTTAB_RESERVED_CONSOLE and
         * _XENSTORE for the rings' backends), so they are never ours to
         * hand out. An entry already live was granted by somebody before
         * us (a previous kernel): leave it alone rather than revoke it.
         */
        if (ref < GNTTAB_NR_RESERVED_ENTRIES) {
            b->link[ref] = GNTTAB_LINK_RESERVED;
        } else if ((f & GTF_type_mask) != GTF_invalid) {
            b->link[ref] = GNTTAB_LINK_STALE;
            b->nr_stale++;
        } else {
            free_push(b, ref);
        }
    }
    return 0;
}

grant_entry_v1_t *gnttab_book_entry(const struct gnttab_book *b,
                                    grant_ref_t ref)
{
    if (ref >= b->nr_frames * GNTTAB_EPF)
        return NULL;
    return &b->frames[ref / GNTTAB_EPF][ref % GNTTAB_EPF];
}

int gnttab_book_alloc_ref(struct gnttab_book *b, grant_ref_t *ref)
{
    grant_ref_t r;

    while (b->nr_free == 0) {
        grant_entry_v1_t *va = NULL;
        int rc;

        if (!b->grow || b->nr_frames >= b->max_frames)
            return -XEN_ENOSPC;
        rc = b->grow(b->grow_ctx, b->nr_frames, &va);
        if (rc)
            return rc;
        rc = gnttab_book_add_frame(b, va);
        if (rc)
            return rc;
    }
    r = b->free_head;
    b->free_head = b->link[r];
    if (b->free_head == GNTTAB_LINK_END)
        b->free_tail = GNTTAB_LINK_END;
    b->link[r] = GNTTAB_LINK_INUSE;
    b->nr_free--;
    *ref = r;
    return 0;
}

int gnttab_book_alloc_refs(struct gnttab_book *b, grant_ref_t *refs,
                           unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = gnttab_book_alloc_ref(b, &refs[i]);

        if (rc) {
            while (i--)
                free_push(b, refs[i]);
            return rc;
        }
    }
    return 0;
}

static bool ref_in_use(const struct gnttab_book *b, grant_ref_t ref)
{
    return ref < b->nr_frames * GNTTAB_EPF &&
           b->link[ref] == GNTTAB_LINK_INUSE;
}

int gnttab_book_free_ref(struct gnttab_book *b, grant_ref_t ref)
{
    grant_entry_v1_t *e;

    if (!ref_in_use(b, ref))
        return -XEN_EINVAL;
    e = gnttab_book_entry(b, ref);
    /* Freeing a live grant would hand it to the next caller still open. */
    if ((__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & GTF_type_mask) !=
        GTF_invalid)
        return -XEN_EBUSY;
    free_push(b, ref);
    return 0;
}

int gnttab_grant_access(struct gnttab_book *b, domid_t domid, uint64_t gfn,
                        bool readonly, grant_ref_t *ref)
{
    grant_entry_v1_t *e;
    grant_ref_t r;
    int rc;

    if (domid >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    if (gfn > UINT32_MAX)
        return -XEN_ERANGE;
    rc = gnttab_book_alloc_ref(b, &r);
    if (rc)
        return rc;
    e = gnttab_book_entry(b, r);
    e->frame = (uint32_t)gfn;
    e->domid = domid;
    b->sync->wmb(b->sync->ctx);
    __atomic_store_n(&e->flags,
                     (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
                     __ATOMIC_RELAXED);
    *ref = r;
    return 0;
}

/*
 * A peer that maps and unmaps in a tight loop could make every swap fail;
 * after this many we report busy rather than spin with the caller waiting.
 */
#define END_ACCESS_TRIES 64

int gnttab_end_access(struct gnttab_book *b, grant_ref_t ref)
{
    grant_entry_v1_t *e;
    uint16_t flags;

    if (!ref_in_use(b, ref))
        return -XEN_EINVAL;
    e = gnttab_book_entry(b, ref);
    flags = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
    if ((flags & GTF_type_mask) == GTF_invalid)
        return -XEN_EINVAL;             /* allocated, never granted */
    for (unsigned i = 0; i < END_ACCESS_TRIES; i++) {
        uint16_t seen;

        if (flags & (GTF_reading | GTF_writing))
            return -XEN_EBUSY;
        seen = b->sync->cmpxchg_flags(b->sync->ctx, &e->flags, flags, 0);
        if (seen == flags) {
            free_push(b, ref);
            return 0;
        }
        flags = seen;                   /* the peer moved: look again */
    }
    return -XEN_EBUSY;
}

/* ---- batches ------------------------------------------------------------- */

int gnttab_build_map(struct gnttab_map_grant_ref *ops, unsigned n,
                     domid_t dom, const grant_ref_t *refs,
                     const uint64_t *host_addrs, bool readonly)
{
    if (dom == DOMID_SELF)
        return -XEN_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        if (!host_addrs[i] || !IS_ALIGNED(host_addrs[i], PAGE_SIZE))
            return -XEN_EINVAL;
        /*
         * Quadratic, but batches are at most a few hundred ops and this is
         * the check that stands between a caller bug and a dead dom0.
         */
        for (unsigned j = 0; j < i; j++)
            if (host_addrs[j] == host_addrs[i])
                return -XEN_EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        memset(&ops[i], 0, sizeof(ops[i]));
        ops[i].host_addr = host_addrs[i];
        ops[i].flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
        ops[i].ref = refs[i];
        ops[i].dom = dom;
        ops[i].status = GNTTAB_ST_NOT_DONE;
    }
    return 0;
}

int gnttab_build_unmap(struct gnttab_unmap_grant_ref *ops, unsigned n,
                       const uint64_t *host_addrs,
                       const grant_handle_t *handles)
{
    for (unsigned i = 0; i < n; i++)
        if (!host_addrs[i] || !IS_ALIGNED(host_addrs[i], PAGE_SIZE))
            return -XEN_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        memset(&ops[i], 0, sizeof(ops[i]));
        ops[i].host_addr = host_addrs[i];
        ops[i].handle = handles[i];
        ops[i].status = GNTTAB_ST_NOT_DONE;
    }
    return 0;
}

unsigned gnttab_build_unmap_of_mapped(const struct gnttab_map_grant_ref *map,
                                      unsigned n,
                                      struct gnttab_unmap_grant_ref *out)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++) {
        if (map[i].status != GNTST_okay)
            continue;
        memset(&out[k], 0, sizeof(out[k]));
        out[k].host_addr = map[i].host_addr;
        out[k].handle = map[i].handle;
        out[k].status = GNTTAB_ST_NOT_DONE;
        k++;
    }
    return k;
}

static int copy_end(struct gnttab_copy_ptr *p, const struct gnttab_copy_end *e,
                    uint16_t len, uint16_t *flags, uint16_t gref_flag)
{
    if ((uint32_t)e->offset + len > PAGE_SIZE)
        return -XEN_EINVAL;
    p->offset = e->offset;
    if (e->is_gref) {
        if (e->ref_or_gfn > UINT32_MAX)
            return -XEN_ERANGE;
        p->u.ref = (grant_ref_t)e->ref_or_gfn;
        p->domid = e->domid;
        *flags |= gref_flag;
    } else {
        p->u.gmfn = e->ref_or_gfn;
        p->domid = DOMID_SELF;
    }
    return 0;
}

int gnttab_build_copy(struct gnttab_copy *op, const struct gnttab_copy_end *src,
                      const struct gnttab_copy_end *dst, uint16_t len)
{
    uint16_t flags = 0;
    int rc;

    memset(op, 0, sizeof(*op));
    op->status = GNTTAB_ST_NOT_DONE;    /* also if refused below */
    rc = copy_end(&op->source, src, len, &flags, GNTCOPY_source_gref);
    if (!rc)
        rc = copy_end(&op->dest, dst, len, &flags, GNTCOPY_dest_gref);
    if (rc)
        return rc;
    op->len = len;
    op->flags = flags;
    return 0;
}

/* ---- results -------------------------------------------------------------- */

_Static_assert(GNTST_no_space == -(GNTTAB_NR_STATUS - 1),
               "grant_table.h status codes changed: update the table");

/* Indexed by -status. The errno is the nearest meaning, for callers that
 * propagate a single code; the name is what gets printed. */
static const struct {
    char name[24];
    int err;
} gntst[GNTTAB_NR_STATUS] = {
    [-GNTST_okay]              = { "GNTST_okay", 0 },
    [-GNTST_general_error]     = { "GNTST_general_error", -XEN_EIO },
    [-GNTST_bad_domain]        = { "GNTST_bad_domain", -XEN_ESRCH },
    [-GNTST_bad_gntref]        = { "GNTST_bad_gntref", -XEN_ENOENT },
    [-GNTST_bad_handle]        = { "GNTST_bad_handle", -XEN_EBADF },
    [-GNTST_bad_virt_addr]     = { "GNTST_bad_virt_addr", -XEN_EFAULT },
    [-GNTST_bad_dev_addr]      = { "GNTST_bad_dev_addr", -XEN_EFAULT },
    [-GNTST_no_device_space]   = { "GNTST_no_device_space", -XEN_ENOSPC },
    [-GNTST_permission_denied] = { "GNTST_permission_denied", -XEN_EPERM },
    [-GNTST_bad_page]          = { "GNTST_bad_page", -XEN_ENXIO },
    [-GNTST_bad_copy_arg]      = { "GNTST_bad_copy_arg", -XEN_EINVAL },
    [-GNTST_address_too_big]   = { "GNTST_address_too_big", -XEN_ERANGE },
    [-GNTST_eagain]            = { "GNTST_eagain", -XEN_EAGAIN },
    [-GNTST_no_space]          = { "GNTST_no_space", -XEN_ENOMEM },
};

static int status_idx(int16_t st)
{
    if (st <= 0 && st > -GNTTAB_NR_STATUS)
        return -st;
    return -1;
}

const char *gnttab_status_name(int16_t st)
{
    int i = status_idx(st);

    if (i >= 0)
        return gntst[i].name;
    return st == GNTTAB_ST_NOT_DONE ? "GNTST_not_done" : "GNTST_unknown";
}

int gnttab_status_errno(int16_t st)
{
    int i = status_idx(st);

    if (i >= 0)
        return gntst[i].err;
    /*
     * Not reached: normally the hypercall's return says why; if it returned
     * 0 anyway, Xen skipped an op, which is worth its own code.
     */
    return st == GNTTAB_ST_NOT_DONE ? -XEN_ENODATA : -XEN_EIO;
}

/* Shared walk over the status field of any op array. */
static int report(const void *ops, size_t stride, size_t st_off, unsigned n,
                  long hc_rc, struct gnttab_report *r)
{
    memset(r, 0, sizeof(*r));
    r->hc_rc = hc_rc;
    r->n = n;
    r->first_bad = n;
    for (unsigned i = 0; i < n; i++) {
        int16_t st;
        int idx;

        memcpy(&st, (const uint8_t *)ops + i * stride + st_off, sizeof(st));
        idx = status_idx(st);
        if (st == GNTTAB_ST_NOT_DONE) {
            r->not_done++;
        } else {
            if (st == GNTST_okay)
                r->ok++;
            else
                r->failed++;
            r->count[idx >= 0 ? (unsigned)idx : GNTTAB_ST_UNKNOWN_IDX]++;
        }
        if (st != GNTST_okay && r->first_bad == n) {
            r->first_bad = i;
            r->first_status = st;
        }
    }
    if (hc_rc < 0)
        return (int)hc_rc;
    if (r->first_bad == n)
        return 0;
    return gnttab_status_errno(r->first_status);
}

int gnttab_report_map(const struct gnttab_map_grant_ref *ops, unsigned n,
                      long hc_rc, struct gnttab_report *r)
{
    return report(ops, sizeof(*ops),
                  offsetof(struct gnttab_map_grant_ref, status), n, hc_rc, r);
}

int gnttab_report_unmap(const struct gnttab_unmap_grant_ref *ops, unsigned n,
                        long hc_rc, struct gnttab_report *r)
{
    return report(ops, sizeof(*ops),
                  offsetof(struct gnttab_unmap_grant_ref, status), n, hc_rc, r);
}

int gnttab_report_copy(const struct gnttab_copy *ops, unsigned n,
                       long hc_rc, struct gnttab_report *r)
{
    return report(ops, sizeof(*ops), offsetof(struct gnttab_copy, status), n,
                  hc_rc, r);
}

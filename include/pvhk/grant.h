/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant tables, the kernel side (xen/grant_map.c) over the pure bookkeeping
 * of <pvhk/gnttab.h>: table frames and foreign mappings live only in
 * scratch frames (UNUSABLE space on dom0, released RAM on a domU), never in
 * a hole and never over backed RAM. See docs/grant-table.md.
 *
 * Every entry point initialises the table on first use (gnt_init); none
 * retries anything. Errors are negative Xen errno values; per-op results
 * keep their GNTST_* code (gnttab_status_name names it). pvhk runs one CPU
 * and no grant user runs from an interrupt, so there is no lock; a second
 * CPU or an upcall-time user would need one around the book and the batch
 * arrays.
 */
#ifndef PVHK_GRANT_H
#define PVHK_GRANT_H

#include <pvhk/gnttab.h>

/* Most ops in one map/unmap call (the static batch arrays). */
#define GNT_BATCH_MAX       512
/* Most table frames the book has room for, whatever Xen's maximum. */
#define GNT_MAX_FRAMES      256

/*
 * Set up the grant table once: query its size, make it v1, map the frames
 * Xen already has at scratch frames. -XEN_ENODEV off Xen or without a
 * scratch pool. Later calls return the first call's result.
 */
int gnt_init(void);

/* After gnt_init: the book, and the scratch frame table frame idx sits at. */
extern struct gnttab_book gnt_book;
uint64_t gnt_table_pfn(uint32_t idx);
/* GNTTABOP_query_size / get_version for DOMID_SELF: Xen's view, not ours. */
int gnt_query_size(uint32_t *nr_frames, uint32_t *max_frames);
int gnt_get_version(void);

/*
 * Give domid access to our frame gfn (read-only or read-write), and take it
 * back. gnt_end is -XEN_EBUSY while the peer has the frame mapped or is
 * copying through it: the grant stays and the ref stays allocated.
 */
int gnt_grant(domid_t domid, uint64_t gfn, bool readonly, grant_ref_t *ref);
int gnt_end(grant_ref_t ref);

/* One foreign grant mapped at a scratch frame: its data is at
 * PFN_PHYS(pfn) through the identity map. */
struct gnt_map {
    uint64_t pfn;                       /* 0 when not mapped */
    grant_handle_t handle;
    int16_t status;                     /* of the last map/unmap op */
};

#define GNT_MAP_READONLY    0x1         /* GNTMAP_readonly */
#define GNT_ONE_PER_CALL    0x2         /* one op per hypercall (benchmark) */

/*
 * Map refs[0..n) of domain dom (n <= GNT_BATCH_MAX) at fresh scratch
 * frames, all in one hypercall. All or nothing: if any op fails, the ops
 * that succeeded are unmapped again and every frame whose state is known
 * goes back to the pool; out[i].status says what each op got, rep counts
 * them, the return is the first failure's errno. dom is the peer's real
 * id (DOMID_SELF is refused, as Xen would refuse it).
 */
int gnt_map_refs(domid_t dom, const grant_ref_t *refs, unsigned n,
                 unsigned flags, struct gnt_map *m, struct gnttab_report *rep);

/*
 * Unmap m[0..n), batched. A frame goes back to the pool only when its
 * unmap reported GNTST_okay (then m[i].pfn = 0); one whose unmap failed
 * keeps its state (SCRATCH, m[i].pfn set, m[i].status the failure) and
 * stays out of the pool unless a later unmap of it succeeds: a lost frame
 * costs a page, a second mapping at that frame crashed dom0.
 */
int gnt_unmap(struct gnt_map *m, unsigned n, unsigned flags,
              struct gnttab_report *rep);

/* GNTTABOP_copy over ops built with gnttab_build_copy, one hypercall. */
int gnt_copy(struct gnttab_copy *ops, unsigned n, struct gnttab_report *rep);

/*
 * After a self-map (map_grant_ref with our own domid) of our frame gfn,
 * Xen has taken the page out of our p2m but still counts it: move it from
 * the frame table's account to the offset and have gfn backed afresh.
 * gfn must be an INUSE order-0 heap frame; on success it is FREE again
 * (the caller's page is gone) and the P2M account still matches.
 */
int gnt_selfmap_restore(uint64_t gfn);

struct gnt_stats {
    uint64_t hypercalls;                /* grant_table_op + add_to_physmap */
    uint64_t mapped, unmapped, copied;  /* ops that reported okay */
    uint64_t undone;                    /* maps unmapped after a failed batch */
    uint64_t unmap_failed;              /* unmaps Xen refused (frame kept) */
    uint64_t leaked;                    /* frames the glue gave up on */
};
extern struct gnt_stats gnt_st;

#endif

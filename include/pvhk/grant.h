/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant tables. See docs/grant-table.md.
 *
 * The pure part (xen/grant_table.c): v1 grant-reference bookkeeping
 * (gnttab_book_*, gnttab_grant_access, gnttab_end_access) and the builders
 * and checkers for batched GNTTABOP_map_grant_ref / unmap_grant_ref / copy
 * (gnttab_build_*, gnttab_report_*). No hypercalls there: the kernel mapper
 * maps table frames (XENMEM_add_to_physmap, XENMAPSPACE_grant_table, at
 * scratch frames), issues the batches, and owns the scratch frames mappings
 * land in.
 *
 * The kernel mapper (xen/grant_map.c), gnt_*: table frames and foreign
 * mappings live only in scratch frames (UNUSABLE space on dom0, released
 * RAM on a domU), never in a hole and never over backed RAM. Every entry
 * point initialises the table on first use (gnt_init); none retries
 * anything. Every entry point may be called from any CPU at once, never
 * from an interrupt handler: gnt_lock serialises the book, the table and
 * the batch arrays (see its declaration below).
 *
 * Errors are negative Xen errno values (<xen/errno.h>); per-op results keep
 * their GNTST_* code, named by gnttab_status_name().
 */
#ifndef PVHK_GRANT_H
#define PVHK_GRANT_H

#include <pvhk/types.h>
#include <xen/errno.h>
#include <xen/grant_table.h>

/* ---- the book: entries and references (xen/grant_table.c) ---------------- */

/* v1 entries are 8 bytes: 512 per 4 KiB table frame. */
#define GNTTAB_EPF      ((uint32_t)(PAGE_SIZE / sizeof(grant_entry_v1_t)))

/*
 * Ordering and atomicity the entries need, abstracted so a host test can put
 * a racing peer between our read of an entry's flags and our update of them.
 * gnttab_sync_native (atomic builtins, usable by the kernel and the host)
 * is what the kernel passes.
 */
struct gnttab_sync_ops {
    /* Make earlier stores to the entry visible before later ones. */
    void (*wmb)(void *ctx);
    /* Atomically: if *flags == old then *flags = new. Returns what it saw. */
    uint16_t (*cmpxchg_flags)(void *ctx, uint16_t *flags, uint16_t old,
                              uint16_t new_);
    void *ctx;
};
extern const struct gnttab_sync_ops gnttab_sync_native;

/* Per-ref state in book->link[]; any other value is the next free ref. */
#define GNTTAB_LINK_END         0xffffffffu     /* last on the free list */
#define GNTTAB_LINK_INUSE       0xfffffffeu     /* handed out */
#define GNTTAB_LINK_RESERVED    0xfffffffdu     /* 0..7: the toolstack's */
#define GNTTAB_LINK_STALE       0xfffffffcu     /* found live when added */

/*
 * Called when the free list is empty and nr_frames < max_frames: make table
 * frame `idx` exist (add_to_physmap at a scratch frame) and return where it
 * is mapped. 0 or a negative error.
 */
typedef int (*gnttab_grow_fn)(void *ctx, uint32_t idx, grant_entry_v1_t **va);

struct gnttab_book {
    grant_entry_v1_t **frames;          /* [max_frames] mapped table frames */
    uint32_t *link;                     /* [max_frames * GNTTAB_EPF] */
    uint32_t nr_frames, max_frames;
    uint32_t free_head, free_tail, nr_free;
    uint32_t nr_stale;                  /* entries found live, never used */
    gnttab_grow_fn grow;
    void *grow_ctx;
    const struct gnttab_sync_ops *sync;
};

/*
 * Caller storage: frames[max_frames], link[max_frames * GNTTAB_EPF].
 * grow may be NULL (fixed size). Then add the frames that already exist
 * (at least frame 0) with gnttab_book_add_frame.
 */
void gnttab_book_init(struct gnttab_book *b, grant_entry_v1_t **frames,
                      uint32_t *link, uint32_t max_frames,
                      gnttab_grow_fn grow, void *grow_ctx,
                      const struct gnttab_sync_ops *sync);

/*
 * Account table frame number b->nr_frames, mapped at va. Its free entries
 * join the free list in ascending order; refs below GNTTAB_NR_RESERVED_ENTRIES
 * and entries whose flags are not GTF_invalid are kept out.
 */
int gnttab_book_add_frame(struct gnttab_book *b, grant_entry_v1_t *va);

/* The entry for a ref the book knows, or NULL. */
grant_entry_v1_t *gnttab_book_entry(const struct gnttab_book *b,
                                    grant_ref_t ref);

/*
 * Take a free ref (growing the table by one frame if needed). -XEN_ENOSPC
 * when the table is at max_frames and full; the grow callback's error if
 * growing failed. Refs come back in FIFO order, so a just-freed ref is the
 * last to be reused: a peer holding a stale ref then fails instead of
 * reaching a new grant.
 */
int gnttab_book_alloc_ref(struct gnttab_book *b, grant_ref_t *ref);
/* n refs, all or none. */
int gnttab_book_alloc_refs(struct gnttab_book *b, grant_ref_t *refs,
                           unsigned n);
/* Return a ref whose entry is already GTF_invalid. -XEN_EINVAL if not ours. */
int gnttab_book_free_ref(struct gnttab_book *b, grant_ref_t ref);

/*
 * Grant domid access to local frame gfn: allocate a ref and fill its entry,
 * frame and domid first, then (after wmb) flags, because Xen validates
 * flags and domid together and would otherwise let the previous domid or
 * frame be used. -XEN_EINVAL for a reserved domid, -XEN_ERANGE for a gfn
 * a v1 entry cannot hold (32 bits).
 */
int gnttab_grant_access(struct gnttab_book *b, domid_t domid, uint64_t gfn,
                        bool readonly, grant_ref_t *ref);

/*
 * Revoke a grant and free its ref, unless the peer has it mapped or is
 * copying through it (GTF_reading/GTF_writing): then -XEN_EBUSY and
 * nothing changes; try again after the peer unmaps. -XEN_EINVAL for a ref
 * that is not granted.
 */
int gnttab_end_access(struct gnttab_book *b, grant_ref_t ref);

/* ---- batches ------------------------------------------------------------- */

/*
 * Every builder presets each op's status to GNTTAB_ST_NOT_DONE, a value
 * Xen never writes (its codes are <= 0), so an op a failed or truncated
 * hypercall did not reach is told apart from one that failed.
 */
#define GNTTAB_ST_NOT_DONE      ((int16_t)0x7fff)

/*
 * n map ops of (dom, refs[i]) at host_addrs[i] (guest-physical addresses of
 * scratch frames), GNTMAP_host_map, read-only if asked. -XEN_EINVAL if an
 * address is 0 or unaligned, if two ops share a frame (a second grant at a
 * frame holding one crashed dom0 in Xen's p2m.c), or if dom is DOMID_SELF (Xen
 * answers GNTST_bad_domain: use the own domid).
 */
int gnttab_build_map(struct gnttab_map_grant_ref *ops, unsigned n,
                     domid_t dom, const grant_ref_t *refs,
                     const uint64_t *host_addrs, bool readonly);

int gnttab_build_unmap(struct gnttab_unmap_grant_ref *ops, unsigned n,
                       const uint64_t *host_addrs,
                       const grant_handle_t *handles);

/*
 * Unmap ops for exactly the maps in a completed batch that succeeded (to
 * undo a partial batch). Returns how many were written to out.
 */
unsigned gnttab_build_unmap_of_mapped(const struct gnttab_map_grant_ref *map,
                                      unsigned n,
                                      struct gnttab_unmap_grant_ref *out);

/* One side of a copy: a grant ref of domid, or a local frame. */
struct gnttab_copy_end {
    bool is_gref;
    domid_t domid;                      /* is_gref only */
    uint64_t ref_or_gfn;
    uint16_t offset;
};

/*
 * Fill one copy op. Local frames are named with DOMID_SELF (an explicit own
 * domid gave GNTST_permission_denied). -XEN_EINVAL if either side would cross
 * its page (Xen: GNTST_bad_copy_arg), -XEN_ERANGE for a ref above 32 bits.
 */
int gnttab_build_copy(struct gnttab_copy *op, const struct gnttab_copy_end *src,
                      const struct gnttab_copy_end *dst, uint16_t len);

/* ---- results -------------------------------------------------------------- */

/* GNTST_okay .. GNTST_no_space are 0 .. -13; one more slot for the rest. */
#define GNTTAB_NR_STATUS        14
#define GNTTAB_ST_UNKNOWN_IDX   GNTTAB_NR_STATUS

struct gnttab_report {
    long hc_rc;                         /* the hypercall's own return */
    unsigned n, ok, failed, not_done;
    unsigned first_bad;                 /* index of the first non-okay op, or n */
    int16_t first_status;               /* its status */
    unsigned count[GNTTAB_NR_STATUS + 1];       /* by -status; last: unknown */
};

/*
 * Account every op's status. Returns 0 only if the hypercall returned 0 and
 * every op is GNTST_okay; else the first failure as an error
 * (gnttab_status_errno), or hc_rc if that was the failure. Nothing is
 * retried here: the caller sees which ops hold mappings and must keep or
 * unmap exactly those.
 */
int gnttab_report_map(const struct gnttab_map_grant_ref *ops, unsigned n,
                      long hc_rc, struct gnttab_report *r);
int gnttab_report_unmap(const struct gnttab_unmap_grant_ref *ops, unsigned n,
                        long hc_rc, struct gnttab_report *r);
int gnttab_report_copy(const struct gnttab_copy *ops, unsigned n,
                       long hc_rc, struct gnttab_report *r);

/* "GNTST_bad_gntref"; "GNTST_not_done" for the preset; "GNTST_unknown". */
const char *gnttab_status_name(int16_t status);
/*
 * 0 for okay, else a negative Xen errno (the table in xen/grant_table.c);
 * -XEN_ENODATA for GNTTAB_ST_NOT_DONE, -XEN_EIO for codes Xen added later.
 */
int gnttab_status_errno(int16_t status);

/* ---- the kernel mapper (xen/grant_map.c) --------------------------------- */

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

/*
 * gnt_lock guards the book (granting, ending, the table growing), the
 * one-time setup and the map/unmap batch arrays: gnt_grant, gnt_end,
 * gnt_map_refs, gnt_unmap and gnt_table_pfn take it. gnt_copy, the queries
 * and gnt_selfmap_restore do not. Lock order: gnt_lock, then p2m_lock
 * (scratch frames), then the heap's locks; nothing holding one of those
 * takes gnt_lock.
 */
struct spinlock;
extern struct spinlock gnt_lock;

/*
 * After gnt_init: the book, and the scratch frame table frame idx sits at.
 * Read gnt_book under gnt_lock while another CPU may grant or end.
 */
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
    bool readonly;                      /* in, with GNT_MAP_PER_OP */
    uint64_t pfn;                       /* 0 when not mapped */
    grant_handle_t handle;
    int16_t status;                     /* of the last map/unmap op */
};

#define GNT_MAP_READONLY    0x1         /* GNTMAP_readonly */
#define GNT_ONE_PER_CALL    0x2         /* one op per hypercall (benchmark) */
#define GNT_MAP_PER_OP      0x4         /* m[i].readonly picks each op's mode */

/*
 * Map refs[0..n) of domain dom (n <= GNT_BATCH_MAX) at fresh scratch
 * frames, all in one hypercall. All or nothing: if any op fails, the ops
 * that succeeded are unmapped again and every frame whose state is known
 * goes back to the pool; out[i].status says what each op got, rep counts
 * them, the return is the first failure's errno. dom is the peer's real
 * id (DOMID_SELF is refused, as Xen would refuse it). Every op is
 * read-only with GNT_MAP_READONLY; with GNT_MAP_PER_OP, those whose
 * m[i].readonly the caller set (one batch may mix both).
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

/* hypercalls and copied are updated atomically (gnt_copy runs without
 * gnt_lock), the others under gnt_lock. */
struct gnt_stats {
    uint64_t hypercalls;                /* grant_table_op + add_to_physmap */
    uint64_t mapped, unmapped, copied;  /* ops that reported okay */
    uint64_t undone;                    /* maps unmapped after a failed batch */
    uint64_t unmap_failed;              /* unmaps Xen refused (frame kept) */
    uint64_t leaked;                    /* frames the glue gave up on */
};
extern struct gnt_stats gnt_st;

#endif

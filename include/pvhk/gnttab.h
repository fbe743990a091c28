/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Grant tables, the pure part: v1 grant-reference bookkeeping (gnttab_book_*,
 * gnttab_grant_access, gnttab_end_access) and the builders and checkers for
 * batched GNTTABOP_map_grant_ref / unmap_grant_ref / copy (gnttab_build_*,
 * gnttab_report_*). No hypercalls here: the kernel glue maps table frames
 * (XENMEM_add_to_physmap, XENMAPSPACE_grant_table, at scratch frames), issues
 * the batches, and owns the scratch frames mappings land in.
 *
 * Errors are negative Xen errno values (<xen/errno.h>); per-op results keep
 * their GNTST_* code, named by gnttab_status_name(). See docs/grant-table.md.
 */
#ifndef PVHK_GNTTAB_H
#define PVHK_GNTTAB_H

#include <pvhk/types.h>
#include <xen/errno.h>
#include <xen/grant_table.h>

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

#endif

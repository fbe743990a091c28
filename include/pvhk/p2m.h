/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * P2M: which guest frames Xen backs for us, changed with
 * XENMEM_populate_physmap / XENMEM_decrease_reservation (docs/p2m.md).
 *
 * This is the pure core. The hypercalls are behind struct p2m_ops, the
 * frame-table transitions behind struct p2m_frame_ops, so the same code
 * runs in the kernel (xen/ glue + mm/page_alloc.c) and against the host
 * simulator (tests/host/xen_sim.c).
 *
 * The account: p->backed counts the frames of the frame table that Xen
 * backs for us; every other frame the core has dealt with is RELEASED in
 * the frame table. Xen's current reservation also counts pages outside the
 * frame table (special pages, ACPI tables Xen built in dom0's RAM, frames
 * in map holes): that is p->offset, measured once at the end of boot
 * reconciliation (p2m_sync). From then on, after every operation,
 * backed + offset must equal XENMEM_current_reservation; a difference is
 * reported (P2M_R_MISMATCH) and counted, never hidden.
 */
#ifndef PVHK_P2M_H
#define PVHK_P2M_H

#include <pvhk/types.h>
#include <pvhk/extra_mem.h>
#include <xen/errno.h>

#define P2M_LARGE_ORDER     9       /* 2 MiB extents */
#define P2M_LARGE_PAGES     (1ULL << P2M_LARGE_ORDER)
#define P2M_BATCH           512     /* extents per hypercall */
#define P2M_NO_FRAME        (~(uint64_t)0)

/*
 * The hypervisor, as the core sees it. In the kernel each is one
 * HYPERVISOR_memory_op on DOMID_SELF; ctx is unused there.
 *
 * decrease_reservation / populate_physmap return the number of extents
 * done, counted from the start of the list; Xen stops at the first extent
 * it cannot do and never reports that as a negative errno. A negative
 * return is a whole-call error (e.g. -XEN_EINVAL for an order above the
 * domain's limit, -XEN_ENOSYS) and means nothing was done.
 */
struct p2m_ops {
    long (*decrease_reservation)(void *ctx, const uint64_t *gpfns,
                                 unsigned int nr_extents, unsigned int order);
    long (*populate_physmap)(void *ctx, const uint64_t *gpfns,
                             unsigned int nr_extents, unsigned int order);
    long (*current_reservation)(void *ctx);     /* pages, or -errno */
    long (*maximum_reservation)(void *ctx);     /* pages, or -errno */
    /* Zero the frames (kernel: memset through the direct map). */
    void (*scrub)(void *ctx, uint64_t pfn, uint64_t count);
    void *ctx;
};

/*
 * The frame-table transitions the core needs, one-to-one with
 * include/pvhk/page_alloc.h (docs/allocator.md); p2m_pa_frame_ops() gives
 * the page_alloc implementation. Each returns 0 or a non-zero code and
 * changes nothing when it refuses.
 */
struct p2m_frame_ops {
    /* FREE, UNINITIALISED or whole INUSE blocks -> RELEASED (pa_release) */
    int (*release)(void *ft, uint64_t pfn, uint64_t count);
    /* Would release() accept the range? Optional (NULL: not checked). */
    int (*check_release)(void *ft, uint64_t pfn, uint64_t count);
    /* RELEASED -> FREE through the heap's init path (pa_populate) */
    int (*populate)(void *ft, uint64_t pfn, uint64_t count);
    /* a FREE block -> INUSE, or P2M_NO_FRAME (pa_alloc) */
    uint64_t (*alloc)(void *ft, unsigned int order);
    /* an INUSE block back to the heap (pa_free) */
    int (*free)(void *ft, uint64_t pfn, unsigned int order);
    /* pa_state(pfn) == PA_RELEASED */
    bool (*is_released)(void *ft, uint64_t pfn);
    void *ft;
};

/* The header, not a forward declaration: under PA_IMPL_REF it names the
 * allocator struct page_ref, and this prototype must say the same. */
#include <pvhk/page_alloc.h>
/* Fill fops with the page allocator's implementation over pa. */
void p2m_pa_frame_ops(struct p2m_frame_ops *fops, struct page_alloc *pa);

/* How extents are built: the benchmark compares the three. */
enum p2m_mode {
    P2M_MODE_LARGE = 0,     /* order 9 where possible, batched (default) */
    P2M_MODE_BATCH,         /* order 0 only, P2M_BATCH extents per call */
    P2M_MODE_SINGLE,        /* order 0, one extent per call */
};

struct p2m_range {
    uint64_t start_pfn;
    uint64_t nr_pfns;
};

struct p2m_stats {
    uint64_t hypercalls;        /* decrease + populate calls */
    uint64_t queries;           /* current/maximum reservation calls */
    uint64_t released;          /* frames released */
    uint64_t populated;         /* frames populated */
    uint64_t scrubbed;          /* frames scrubbed */
    uint64_t short_counts;      /* calls that did less than asked */
    uint64_t fallbacks;         /* order-9 failures retried as order 0 */
    uint64_t mismatches;        /* account != reservation after an op */
};

struct p2m {
    struct p2m_ops ops;
    struct p2m_frame_ops fops;
    uint64_t backed;            /* frame-table frames Xen backs for us */
    int64_t offset;             /* reservation - backed, from p2m_sync() */
    bool synced;                /* offset known: the check is live */
    enum p2m_mode mode;
    /* Where p2m_set_target() grows: RAM first, then extra memory. */
    const struct p2m_range *ram;
    unsigned int nr_ram;
    const struct extra_mem *extra;
    struct p2m_stats st;
    long last_reservation;      /* from the last check */
    uint64_t batch[P2M_BATCH];  /* extent list, too big for a stack */
};

/* Result flags (p2m_result.flags): what went short, for the log. */
#define P2M_R_SHORT         0x1     /* Xen did fewer extents than asked */
#define P2M_R_REFUSED       0x2     /* a frame was in the wrong state */
#define P2M_R_MISMATCH      0x4     /* account != current reservation */
#define P2M_R_CALL_ERROR    0x8     /* a hypercall failed as a whole */
#define P2M_R_HEAP_EMPTY    0x10    /* shrink: no free heap frame left */
#define P2M_R_NO_ROOM       0x20    /* grow: no released frame left */
#define P2M_R_PARTIAL       0x40    /* a failed extent was partly removed */
#define P2M_R_BAD_COUNT     0x80    /* Xen answered more extents than asked */

struct p2m_result {
    uint64_t requested;         /* frames asked for */
    uint64_t done;              /* frames released / populated */
    uint64_t hypercalls;        /* calls made by this operation */
    uint64_t stop_pfn;          /* first frame not done, or P2M_NO_FRAME */
    unsigned int flags;         /* P2M_R_* */
    long call_error;            /* the negative return, with CALL_ERROR */
    long reservation;           /* Xen's, after the operation */
    long expected;              /* backed + offset, after the operation */
};

/* Flags for p2m_release(). */
#define P2M_NOSCRUB     0x1     /* frames never written: do not touch them */

/*
 * Every operation returns 0 when all requested frames were done and the
 * account matched, else a negative code (details in the result):
 *   -XEN_ENOMEM   Xen gave fewer frames than asked (maximum reservation or
 *                 host memory): "this much, no more";
 *   -XEN_EBUSY    a frame was refused: release of one Xen would not take,
 *                 populate over a frame that is not RELEASED, a frame-table
 *                 refusal; nothing was done from that frame on;
 *   -XEN_EAGAIN   shrink found no free heap frame;
 *   -XEN_EIO      the account does not match the reservation;
 *   -XEN_EBADMSG  Xen answered more extents than the call carried: refused,
 *                 the operation stops, and what Xen did is taken from the
 *                 reservation (P2M_R_BAD_COUNT);
 *   other         a hypercall's whole-call error.
 */

void p2m_init(struct p2m *p, const struct p2m_ops *ops,
              const struct p2m_frame_ops *fops, uint64_t backed);
/* Where p2m_set_target() looks for released frames (not copied). */
void p2m_set_ranges(struct p2m *p, const struct p2m_range *ram,
                    unsigned int nr_ram, const struct extra_mem *extra);

/* Measure offset = reservation - backed and turn the check on. */
int p2m_sync(struct p2m *p, struct p2m_result *res);
/* Compare the account with the reservation now (no-op before p2m_sync). */
int p2m_check(struct p2m *p, struct p2m_result *res);

/*
 * Give [pfn, pfn + count) back to Xen. The caller owns the frames (INUSE,
 * UNINITIALISED, or FREE and not to be allocated meanwhile). Every frame is
 * scrubbed first unless P2M_NOSCRUB. On success they are RELEASED; on a
 * short count, exactly the frames Xen took are RELEASED and the rest are
 * left as they were, starting at res->stop_pfn.
 */
int p2m_release(struct p2m *p, uint64_t pfn, uint64_t count, unsigned flags,
                struct p2m_result *res);

/*
 * Have Xen back [pfn, pfn + count), every frame of which must be RELEASED
 * (checked first: never populate over a backed frame). Order 9 where
 * aligned; a failed large extent is retried as order 0. Frames Xen backs
 * go to the heap through the init path (RELEASED -> FREE).
 */
int p2m_populate(struct p2m *p, uint64_t pfn, uint64_t count,
                 struct p2m_result *res);

/*
 * Boot reconciliation, before the heap touches any RAM frame: all RAM in
 * `ram` (sorted) is taken as backed or populate-on-demand; keep `target`
 * pages and release the rest from the top, unscrubbed (touching a PoD
 * frame past the target crashes the domain). Then p2m_sync().
 */
int p2m_boot_trim(struct p2m *p, const struct p2m_range *ram,
                  unsigned int nr_ram, uint64_t target,
                  struct p2m_result *res);

/*
 * Balloon: make p->backed equal `target`. Grows by populating RELEASED
 * frames (RAM ranges first, then extra memory), shrinks by taking free
 * heap blocks (order 9 first), scrubbing and releasing them. res->done is
 * the number of frames moved, in either direction.
 */
int p2m_set_target(struct p2m *p, uint64_t target, struct p2m_result *res);

/* ---- kernel side (xen/memory.c): what Xen backs behind the map's non-RAM - */

/*
 * Classes of guest frames that the memory map does not call RAM: its
 * RESERVED, ACPI, NVS and UNUSABLE ranges, any other non-RAM type, and the
 * gaps between ranges below the highest RAM address.
 */
enum p2m_bk_class {
    P2M_BK_RESERVED, P2M_BK_ACPI, P2M_BK_NVS, P2M_BK_UNUSABLE, P2M_BK_OTHER,
    P2M_BK_GAP, P2M_BK_NR
};

struct p2m_bk_count {
    uint64_t ranges, frames;
    uint64_t asked;         /* frames asked about (all of them in a full scan) */
    uint64_t backed;        /* Xen has a RAM page there (ram_rw / ram_ro) */
    uint64_t accounted;     /* of those, frames the frame table says we use
                               (FREE, INUSE, SCRATCH, ...: not RELEASED) */
    uint64_t released_backed;   /* RELEASED in the frame table yet backed */
};

#define P2M_BK_RUNS 8
/* A run of consecutive backed frames the frame table does not account for. */
struct p2m_bk_run { uint64_t pfn, count; enum p2m_bk_class cls; };

struct p2m_backing {
    struct p2m_bk_count c[P2M_BK_NR];
    struct p2m_bk_run run[P2M_BK_RUNS];
    unsigned int nr_runs, runs_dropped;
    uint64_t queries;
    long error;             /* first failing HVMOP_get_mem_type, or 0 */
    uint64_t error_pfn;
};

/* Frames a sampled scan asks about in a range of more than this many:
 * the first and last P2M_BK_EDGE, and P2M_BK_SAMPLES evenly spread. */
#define P2M_BK_EDGE     1024
#define P2M_BK_SAMPLES  2048

struct e820_map;
struct page_alloc;
const char *p2m_bk_class_name(enum p2m_bk_class c);
/*
 * Ask Xen about the non-RAM frames of `map` (pa: our frame table): every
 * frame if `full`, else every frame of a range of at most
 * 2 * P2M_BK_EDGE + P2M_BK_SAMPLES frames and a sample of a larger one.
 */
void p2m_backing_scan(const struct e820_map *map, const struct page_alloc *pa,
                      bool full, struct p2m_backing *out);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page allocator's contract, shared by its two implementations: the
 * states a frame can be in, the errors a refused operation returns, the
 * flags and limits. docs/allocator.md says what each operation does.
 *
 *   include/pvhk/page_ref.h    the reference allocator (mm/page_ref.c):
 *                              one state per frame, plain searches
 *   include/pvhk/page_alloc.h  the fast allocator (mm/page_alloc*.c):
 *                              buddy lists over a frame table of block heads
 *
 * Both implement the same operations with the same errors; the
 * differential tests hold them to it. Only which suitable block pa_alloc()
 * returns may differ (see "Allocation policy" in docs/allocator.md).
 */
#ifndef PVHK_PAGE_STATE_H
#define PVHK_PAGE_STATE_H

#include <pvhk/types.h>

/*
 * Largest block: 2^18 frames = 1 GiB. Overridable only for the host model
 * test that runs the fast allocator's chunk logic on tiny heaps
 * (Makefile: hosttests-o3); the kernel always uses 18.
 */
#ifndef PA_MAX_ORDER
#define PA_MAX_ORDER    18
#endif
#define PA_NR_ORDERS    (PA_MAX_ORDER + 1)

/* Zones: LOW is below 4 GiB (frame 0x100000). Blocks never straddle it. */
#define PA_ZONE_HIGH    0
#define PA_ZONE_LOW     1       /* == PA_ALLOC_LOW: the flag is the zone index */
#define PA_NR_ZONES     2
#define PA_LOW_LIMIT    0x100000ULL

static inline unsigned pa_zone_of(pfn_t f)
{
    return f < PA_LOW_LIMIT ? PA_ZONE_LOW : PA_ZONE_HIGH;
}

#define PA_MAX_RANGES   64
#define PA_NO_FRAME     (~(pfn_t)0)

/*
 * Per-CPU caches (docs/allocator.md, "Per-CPU caches"): CPUs are numbered
 * 0..PA_MAX_CPUS-1; blocks of order below PA_CACHE_ORDERS freed on a CPU
 * may stay in that CPU's cache, FREE, for its next allocations.
 */
#ifndef PA_MAX_CPUS
#define PA_MAX_CPUS     8
#endif
/* Orders 0..9 (up to 2 MiB blocks): every order the small-block loads use;
 * fewer on the host model's tiny heaps. */
#define PA_CACHE_ORDERS (PA_MAX_ORDER + 1 < 10 ? PA_MAX_ORDER + 1 : 10)
#define PA_ALL_CPUS     (~0U)   /* pa_drain(): every CPU's cache */
#define PA_NO_CPU       (-1)    /* pa_cache_cpu(): the frame is in no cache */
#define PA_CACHE_MISS   (-1)    /* pa_cache_put(): not cached, nothing changed */

/* Owners of reserved blocks (pa_reserve): 1..PA_MAX_OWNER; 0 is "the heap". */
#define PA_MAX_OWNER    0xffffU

/* Per-frame states. In the fast allocator's table, all-zero means UNINITIALISED. */
enum pa_state {
    PA_UNINITIALISED = 0,   /* never passed through heap init, nobody handed it over */
    PA_FREE,                /* free: on a free list, or deferred (pa_defer) */
    PA_INUSE,               /* handed out: by the heap (owner 0) or reserved (owner > 0) */
    PA_OFFLINING,           /* in use, to become OFFLINED when its block is freed */
    PA_OFFLINED,            /* out of service, never handed out */
    PA_RELEASED,            /* given back to Xen: unbacked, never handed out */
    PA_SCRATCH,             /* owned by the scratch pool (Xen maps there) */
    PA_NR_STATES,
    PA_OUTSIDE = PA_NR_STATES,  /* pa_state(): frame not in the table */
};

enum pa_err {
    PA_OK = 0,
    PA_E_OUTSIDE,       /* frame not in the frame table */
    PA_E_SPANS,         /* block/range runs past the end of its range */
    PA_E_ORDER,         /* order > PA_MAX_ORDER */
    PA_E_MISALIGNED,    /* frame not aligned to the order */
    PA_E_DOUBLE_FREE,   /* every frame of the block is already free */
    PA_E_FREE_FRAME,    /* a frame is free (operation needs it not to be) */
    PA_E_INTERIOR,      /* frame is inside an in-use block, not its head */
    PA_E_WRONG_ORDER,   /* head of an in-use block of another order */
    PA_E_PARTIAL,       /* range cuts through an in-use block */
    PA_E_INUSE,         /* frame is in use (operation needs it not to be) */
    PA_E_OFFLINING,     /* frame is being offlined */
    PA_E_OFFLINED,      /* frame is offlined */
    PA_E_RELEASED,      /* frame is released to Xen */
    PA_E_SCRATCH,       /* frame belongs to the scratch pool */
    PA_E_UNINIT,        /* frame was never initialised */
    PA_E_MIXED,         /* uninitialised block mixed with initialised frames */
    PA_E_FRAME0,        /* frame 0 never enters the heap or changes state */
    PA_E_OVERLAP,       /* new range overlaps a registered one */
    PA_E_NOSPACE,       /* table capacity or range slots exhausted */
    PA_E_INVAL,         /* zero count, bad argument */
    PA_E_CORRUPT,       /* pa_check(): invariant violated */
    PA_E_RESERVED,      /* block is reserved by a boot owner */
    PA_E_OWNER,         /* block is not reserved by this owner */
    PA_NR_ERRS,
};

/* Flags for pa_setup(). */
#define PA_TABLE_ZEROED 0x1U    /* storage is known zero-filled: no lazy memset */

/* Flags for pa_alloc(); other bits are ignored. */
#define PA_ALLOC_LOW    0x1U    /* block must lie below 4 GiB */

/* What pa_check() found. */
struct pa_violation {
    int err;                /* PA_E_CORRUPT or 0 */
    pfn_t frame;            /* where, or PA_NO_FRAME */
    const char *what;       /* static text */
};

/* "uninitialised", "free", ... "outside"; "?" for anything else. */
const char *pa_state_name(enum pa_state s);
/* A sentence for a PA_E_* code. */
const char *pa_strerror(int err);

#endif

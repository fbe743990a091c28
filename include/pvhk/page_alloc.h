/*
 * Frame table and buddy allocator with explicit page states.
 *
 * The contract (states, transitions, errors, representation) is written
 * down in docs/allocator.md; this header is the API. Pure code: the caller
 * owns both the allocator state (struct page_alloc) and the frame-table
 * storage; nothing here allocates, prints or uses globals.
 *
 * Frames are guest frame numbers (pfn_t). Every operation that can be
 * refused returns 0 or a PA_E_* code naming the violation; a refused
 * operation changes nothing, and pa->err_frame says which frame offended.
 */
#ifndef PVHK_PAGE_ALLOC_H
#define PVHK_PAGE_ALLOC_H

#include <pvhk/types.h>

/*
 * Largest block: 2^18 frames = 1 GiB. Also the lazy-zeroing chunk size.
 * Overridable only for the host model test that runs the chunk logic on
 * tiny heaps (Makefile: hosttests-o3); the kernel always uses 18.
 */
#ifndef PA_MAX_ORDER
#define PA_MAX_ORDER    18
#endif
#define PA_NR_ORDERS    (PA_MAX_ORDER + 1)
#define PA_CHUNK_FRAMES (1ULL << PA_MAX_ORDER)

/* Zones: blocks never straddle the 4 GiB line (frame 0x100000). */
#define PA_ZONE_HIGH    0
#define PA_ZONE_LOW     1       /* == PA_ALLOC_LOW: the flag is the zone index */
#define PA_NR_ZONES     2
#define PA_LOW_LIMIT    0x100000ULL

static inline unsigned pa_zone_of(pfn_t f)
{
    return f < PA_LOW_LIMIT ? PA_ZONE_LOW : PA_ZONE_HIGH;
}

#define PA_MAX_RANGES   64
#define PA_MAX_DEFER    64
/* Chunk bitmap bound: 2^32 entries / chunk size, plus one partial per range. */
#ifndef PA_MAX_CHUNKS
#define PA_MAX_CHUNKS   ((1U << (32 - PA_MAX_ORDER)) + 2 * PA_MAX_RANGES)
#endif

#define PA_NIL          0xffffffffU
#define PA_NO_FRAME     (~(pfn_t)0)

/* Per-frame states. The all-zero table entry means UNINITIALISED. */
enum pa_state {
    PA_UNINITIALISED = 0,   /* never passed through heap init */
    PA_FREE,                /* in the buddy, on a free list */
    PA_INUSE,               /* handed out (alloc, take, mark_inuse) */
    PA_OFFLINING,           /* in use, to become OFFLINED when freed */
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
    PA_E_DOUBLE_FREE,   /* the whole block is already free */
    PA_E_FREE_FRAME,    /* a frame of the block is free (block differs) */
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
    PA_E_NOSPACE,       /* table capacity, range or defer slots exhausted */
    PA_E_INVAL,         /* zero count, bad argument */
    PA_E_CORRUPT,       /* pa_check(): invariant violated */
    PA_NR_ERRS,
};

/*
 * One frame-table entry, 16 bytes, out of band. Only block heads (and the
 * offlining marks inside an in-use block) are non-zero; see allocator.md.
 */
struct pa_frame {
    uint32_t next, prev;    /* free list links (table indices), FREE heads */
    uint32_t info;          /* PA_HEAD | state | order << PA_ORDER_SHIFT | flags */
    uint32_t rid;           /* range index, valid in heads */
};

#define PA_STATE_MASK   0x7U
#define PA_HEAD         0x8U    /* entry is the head of a block */
#define PA_F_OFFL       0x10U   /* INUSE head: some frame in the block is offlining */
#define PA_ORDER_SHIFT  8
#define PA_INFO(state, order) (PA_HEAD | (state) | ((uint32_t)(order) << PA_ORDER_SHIFT))

struct pa_range {
    pfn_t start, end;       /* [start, end) */
    pfn_t len;              /* end - start: one compare bounds an offset */
    pfn_t delta;            /* start - base: frame = table index + delta */
    pfn_t int_start;        /* first frame of the first chunk wholly inside */
    pfn_t int_len;          /* frames in whole chunks: buddies of a frame
                             * there, up to the chunk, are all in the range */
    uint32_t base;          /* table index of `start` */
    uint32_t chunk_base;    /* first bit in pa->touched */
    uint32_t chunk_adj;     /* chunk bit of f = (f >> PA_MAX_ORDER) + chunk_adj (mod 2^32) */
    uint32_t untouched;     /* chunks of the range not touched yet */
    uint32_t all_touched;   /* every entry readable: all chunks touched, or the
                             * storage was zeroed (pa_free() fast path) */
    uint32_t unbacked;      /* registered by pa_add_range_unbacked(): an
                             * untouched chunk is all RELEASED, not UNINITIALISED */
};

/*
 * One zone's free lists, grouped so that the hot paths reach all of it
 * from one pointer, and 128 bytes so that a zone index scales by a shift.
 */
struct pa_zone {
    uint32_t head[28];      /* [order]: first free block, PA_NIL if none */
    uint32_t avail;         /* bit k: head[k] is not PA_NIL */
    uint32_t pad;
    uint64_t nr_free;       /* FREE frames in the zone */
};
_Static_assert(sizeof(struct pa_zone) == 128, "pa_zone: a power of two");
_Static_assert(PA_NR_ORDERS <= 28, "pa_zone: a list head per order");

struct pa_defer {
    pfn_t start, end;
    uint32_t rid;
};

/* Flags for pa_setup(). */
#define PA_TABLE_ZEROED 0x1U    /* storage is known zero-filled: no lazy memset */

/* Flags for pa_alloc(). */
#define PA_ALLOC_LOW    0x1U    /* block must lie below 4 GiB */
_Static_assert(PA_ALLOC_LOW == PA_ZONE_LOW && PA_ZONE_HIGH == 0, "pa_alloc() zone from flags");

struct page_alloc {
    struct pa_frame *table;
    uint64_t capacity, used;            /* entries */
    unsigned flags;
    unsigned nr_ranges, last_range;
    struct pa_range cur;                /* copy of range[last_range], for pa_free():
                                         * no index to scale on the hot path (its
                                         * `untouched` is not kept: never read) */
    uint32_t nr_chunks;
    struct pa_zone zone[PA_NR_ZONES];
    uint64_t count[PA_NR_STATES];       /* frames per state; [0] unused */
    pfn_t err_frame;                    /* offending frame of the last refusal */
    unsigned nr_defer;
    uint64_t touched[(PA_MAX_CHUNKS + 63) / 64];
    /* Valid below nr_ranges / nr_defer only: pa_setup() zeroes nothing from here. */
    pfn_t delta[PA_MAX_RANGES];         /* range[i].delta, for pa_alloc(): an
                                         * 8-byte stride scales in the address */
    struct pa_range range[PA_MAX_RANGES];       /* insertion order */
    struct pa_defer defer[PA_MAX_DEFER];        /* sorted, disjoint */
};

/* ---- set-up -------------------------------------------------------------- */
/* Bytes of table storage for nr_frames frames (sum of all range counts). */
static inline size_t pa_table_bytes(uint64_t nr_frames)
{
    return (size_t)(nr_frames * sizeof(struct pa_frame));
}
void pa_setup(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity,
              unsigned flags);
/* Caller copied the first pa->used entries to a bigger table. */
void pa_move_table(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity);
/* Register [start, start+count): its frames become known, UNINITIALISED. */
int pa_add_range(struct page_alloc *pa, pfn_t start, uint64_t count);
/*
 * Register [start, start+count) with its frames already RELEASED (never
 * backed: dom0's extra memory). O(1) whatever the count: a chunk of the
 * range gets explicit RELEASED blocks only when an operation first writes
 * in it. Frame 0 cannot be in such a range (PA_E_FRAME0).
 */
int pa_add_range_unbacked(struct page_alloc *pa, pfn_t start, uint64_t count);

/* ---- heap -------------------------------------------------------------------- */
pfn_t pa_alloc(struct page_alloc *pa, unsigned order, unsigned flags);
int pa_free(struct page_alloc *pa, pfn_t frame, unsigned order);
/* UNINITIALISED -> FREE (frame 0 skipped). */
int pa_init_range(struct page_alloc *pa, pfn_t start, uint64_t count);
/* UNINITIALISED block -> INUSE: a page used before the heap existed. */
int pa_mark_inuse(struct page_alloc *pa, pfn_t frame, unsigned order);
/* Lazy init: UNINITIALISED free RAM the heap may initialise when short. */
int pa_defer(struct page_alloc *pa, pfn_t start, uint64_t count);
/* Initialise every deferred frame now. Returns frames initialised. */
uint64_t pa_init_all(struct page_alloc *pa);

/* ---- offlining ------------------------------------------------------------ */
/* FREE -> OFFLINED, INUSE -> OFFLINING. *newstate gets the result. */
int pa_offline(struct page_alloc *pa, pfn_t frame, enum pa_state *newstate);
/* OFFLINED -> FREE, OFFLINING -> INUSE. */
int pa_online(struct page_alloc *pa, pfn_t frame, enum pa_state *newstate);

/* ---- P2M and scratch pool (range operations) ------------------------------ */
/* FREE -> INUSE, as the maximal aligned blocks of the range. */
int pa_take(struct page_alloc *pa, pfn_t start, uint64_t count);
/* FREE, UNINITIALISED, or whole INUSE blocks -> RELEASED. */
int pa_release(struct page_alloc *pa, pfn_t start, uint64_t count);
/* Would pa_release() accept the range? Changes nothing (but err_frame). */
int pa_release_check(struct page_alloc *pa, pfn_t start, uint64_t count);
/* RELEASED -> FREE (the frames were populated again; init path). */
int pa_populate(struct page_alloc *pa, pfn_t start, uint64_t count);
/* UNINITIALISED or RELEASED -> SCRATCH. */
int pa_scratch(struct page_alloc *pa, pfn_t start, uint64_t count);
/* SCRATCH -> `to` (PA_RELEASED or PA_UNINITIALISED). */
int pa_unscratch(struct page_alloc *pa, pfn_t start, uint64_t count,
                 enum pa_state to);

/* ---- queries -------------------------------------------------------------- */
enum pa_state pa_state(const struct page_alloc *pa, pfn_t frame);
/* States of [start, start+count) into out[] (PA_OUTSIDE for gaps); O(count). */
void pa_states(const struct page_alloc *pa, pfn_t start, uint64_t count, uint8_t *out);
const char *pa_state_name(enum pa_state s);
const char *pa_strerror(int err);
uint64_t pa_nr_frames(const struct page_alloc *pa, enum pa_state s);

/* ---- invariant checker (mm/page_check.c) ---------------------------------- */
struct pa_violation {
    int err;                /* PA_E_CORRUPT or 0 */
    pfn_t frame;            /* where, or PA_NO_FRAME */
    const char *what;       /* static text */
};
int pa_check(const struct page_alloc *pa, struct pa_violation *v);

/* Internal helpers shared by page_alloc.c and page_check.c. */
int pa_range_of(const struct page_alloc *pa, pfn_t frame);
bool pa_chunk_touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f);

#endif

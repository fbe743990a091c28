/* SPDX-License-Identifier: BSD-2-Clause */
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

#include <pvhk/page_state.h>

/*
 * `make PA_IMPL=ref` builds the kernel with the reference allocator
 * (mm/page_ref.c) in place of this one: every user of this header then
 * gets the reference under the same names.
 */
#ifdef PA_IMPL_REF
#include <pvhk/page_ref.h>
#define page_alloc              page_ref
#define pa_frame                pr_frame
#define pa_table_bytes          pr_table_bytes
#define pa_setup                pr_setup
#define pa_move_table           pr_move_table
#define pa_add_range            pr_add_range
#define pa_add_range_unbacked   pr_add_range_unbacked
#define pa_alloc                pr_alloc
#define pa_free                 pr_free
#define pa_init_range           pr_init_range
#define pa_mark_inuse           pr_mark_inuse
#define pa_reserve              pr_reserve
#define pa_unreserve            pr_unreserve
#define pa_defer                pr_defer
#define pa_init_all             pr_init_all
#define pa_offline              pr_offline
#define pa_online               pr_online
#define pa_take                 pr_take
#define pa_release              pr_release
#define pa_release_check        pr_release_check
#define pa_populate             pr_populate
#define pa_scratch              pr_scratch
#define pa_unscratch            pr_unscratch
/* Function-like: `enum pa_state` (the type) keeps its name. */
#define pa_state(pa, f)         pr_state(pa, f)
#define pa_states               pr_states
#define pa_owner                pr_owner
#define pa_nr_frames            pr_nr_frames
#define pa_check                pr_check
#define pa_alloc_on             pr_alloc_on
#define pa_free_on              pr_free_on
#define pa_drain                pr_drain
#define pa_cache_cpu            pr_cache_cpu
#define pa_cache_get            pr_cache_get
#define pa_cache_put            pr_cache_put
#define pa_cache_fill           pr_cache_fill
#define pa_cache_free_heap      pr_cache_free_heap
#else

/* Lazy-zeroing chunk: one maximal block (docs/allocator.md, "Representation"). */
#define PA_CHUNK_FRAMES (1ULL << PA_MAX_ORDER)

#define PA_MAX_DEFER    64
/* Chunk bitmap bound: 2^32 entries / chunk size, plus one partial per range. */
#ifndef PA_MAX_CHUNKS
#define PA_MAX_CHUNKS   ((1U << (32 - PA_MAX_ORDER)) + 2 * PA_MAX_RANGES)
#endif

#define PA_NIL          0xffffffffU

/*
 * One frame-table entry, 16 bytes, out of band. Only block heads (and the
 * offlining marks inside an in-use block) are non-zero; see allocator.md.
 */
struct pa_frame {
    uint32_t next, prev;    /* free list links (table indices), FREE heads */
    uint32_t info;          /* PA_HEAD | state | order << PA_ORDER_SHIFT | flags */
    uint32_t rid;           /* range index, valid in heads */
};

/*
 * info = state (bits 0-2) | PA_HEAD | PA_F_OFFL | order (bits 8-12) |
 *        owner (bits 16-31, INUSE heads: 0 = the heap, else reserved).
 * mm/page_fast.h has the macros that read and change it.
 */
#define PA_STATE_MASK   0x7U
#define PA_HEAD         0x8U    /* entry is the head of a block */
#define PA_F_OFFL       0x10U   /* INUSE head: some frame in the block is offlining */
#define PA_F_CACHED     0x20U   /* FREE head: held in the cache of the CPU in the owner bits */
#define PA_ORDER_SHIFT  8
#define PA_ORDER_MASK   0x1fU
#define PA_OWNER_SHIFT  16
#define PA_INFO(state, order) (PA_HEAD | (state) | ((uint32_t)(order) << PA_ORDER_SHIFT))
#define PA_INFO_OWNED(state, order, owner) (PA_INFO(state, order) | (uint32_t)(owner) << PA_OWNER_SHIFT)

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

_Static_assert(PA_ALLOC_LOW == PA_ZONE_LOW && PA_ZONE_HIGH == 0, "pa_alloc() zone from flags");

/*
 * One CPU's cache (mm/page_cpu.c): per order and zone, a stack of the
 * table indices of FREE blocks it holds (heads marked PA_F_CACHED with the
 * CPU). Written by its CPU only, except by pa_drain() and the range
 * operations (which the concurrent entry points run with every cache
 * locked). Its own 4 KiB, aligned: CPUs never share a cache line, and a
 * CPU number scales by a shift.
 */
#define PA_CACHE_SIZE   30      /* most blocks a stack holds: a stack is 128 bytes */
#define PA_CACHE_SHARE  7       /* a stack's cap: its zone's free frames / 2^(7 + order) */

struct pa_stack {
    uint32_t nr;                        /* blocks on it, the top at nr - 1 */
    uint32_t cap;                       /* a free may push while nr < cap (0 until
                                         * the first refill or give-back sets it) */
    uint32_t idx[PA_CACHE_SIZE];        /* table indices */
};

/* Bytes a CPU's cache needs, and what it takes: the power of two above. */
#define PA_CPU_NEED     (sizeof(struct pa_stack) * PA_CACHE_ORDERS * PA_NR_ZONES + \
                         3 * sizeof(pfn_t))
#define PA_CPU_BYTES    (PA_CPU_NEED <= 1024 ? 1024 : PA_CPU_NEED <= 2048 ? 2048 : 4096)
_Static_assert(PA_CPU_NEED <= 4096, "pa_cpu: one CPU's cache fits 4 KiB");

struct pa_cpu {
    union {
        struct {
            struct pa_stack st[PA_CACHE_ORDERS][PA_NR_ZONES];
            /* The range of the last cache free, copied (ranges never
             * move), with len 0 while that range has untouched chunks:
             * a free with f - start < len needs no lookup, no chunk test. */
            pfn_t start, len, delta;
        };
        uint8_t bytes[PA_CPU_BYTES];
    };
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct pa_cpu) == PA_CPU_BYTES, "pa_cpu: a power of two");

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
    uint64_t nr_deferred;               /* frames in defer[]: FREE, not on a list */
    uint64_t touched[(PA_MAX_CHUNKS + 63) / 64];
    uint32_t low_only;                  /* every range lies below 4 GiB (PA_ZONE_LOW) */
    struct pa_cpu cpu[PA_MAX_CPUS];
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
#endif /* PA_IMPL_REF */

/*
 * The API, the same for both implementations (docs/allocator.md is the
 * contract). Frames are guest frame numbers. Every operation that can be
 * refused returns PA_OK or a PA_E_* code; a refused operation changes
 * nothing but pa->err_frame, the frame it names.
 */
void pa_setup(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity,
              unsigned flags);
/* Caller copied the first pa->used entries to a bigger table. */
void pa_move_table(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity);
/* Register [start, start+count): its frames become known, UNINITIALISED. */
int pa_add_range(struct page_alloc *pa, pfn_t start, uint64_t count);
/* Register [start, start+count) with its frames RELEASED (never backed:
 * dom0's extra memory). Frame 0 cannot be in such a range (PA_E_FRAME0). */
int pa_add_range_unbacked(struct page_alloc *pa, pfn_t start, uint64_t count);

/* ---- the heap ------------------------------------------------------------- */
/* A FREE block of 2^order frames, now INUSE (owner 0), or PA_NO_FRAME. */
pfn_t pa_alloc(struct page_alloc *pa, unsigned order, unsigned flags);
/* INUSE block (owner 0) -> FREE; UNINITIALISED block -> FREE (init path). */
int pa_free(struct page_alloc *pa, pfn_t frame, unsigned order);
/* UNINITIALISED -> FREE (frame 0 skipped). */
int pa_init_range(struct page_alloc *pa, pfn_t start, uint64_t count);
/* UNINITIALISED -> FREE too, but the frames may wait off the free lists
 * until the heap runs short (lazy init): a cost, not a state. */
int pa_defer(struct page_alloc *pa, pfn_t start, uint64_t count);
/* Put every deferred frame on the free lists now. Returns how many it put
 * (0 for an implementation that defers nothing). */
uint64_t pa_init_all(struct page_alloc *pa);
/* UNINITIALISED block -> INUSE, owner 0: a page used before the heap existed. */
int pa_mark_inuse(struct page_alloc *pa, pfn_t frame, unsigned order);

/* ---- boot ownership ------------------------------------------------------- */
/* UNINITIALISED -> INUSE reserved by `owner` (1..PA_MAX_OWNER): what the
 * boot path owns, handed over. Only pa_unreserve() by that owner frees it. */
int pa_reserve(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned owner);
/* INUSE blocks reserved by `owner`, wholly inside the range -> FREE. */
int pa_unreserve(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned owner);
/* The owner of frame's INUSE block (0: the heap), or 0 if it is not in use. */
unsigned pa_owner(const struct page_alloc *pa, pfn_t frame);

/* ---- offlining ------------------------------------------------------------ */
/* FREE -> OFFLINED, INUSE -> OFFLINING. *newstate gets the result. */
int pa_offline(struct page_alloc *pa, pfn_t frame, enum pa_state *newstate);
/* OFFLINED -> FREE, OFFLINING -> INUSE. */
int pa_online(struct page_alloc *pa, pfn_t frame, enum pa_state *newstate);

/* ---- P2M and scratch pool (range operations) ------------------------------ */
/* FREE -> INUSE (owner 0), as the maximal aligned blocks of the range. */
int pa_take(struct page_alloc *pa, pfn_t start, uint64_t count);
/* FREE, UNINITIALISED, or whole INUSE blocks of owner 0 -> RELEASED. */
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
/* Frames in state s (FREE counts deferred frames). */
uint64_t pa_nr_frames(const struct page_alloc *pa, enum pa_state s);
/* Every invariant of the implementation's representation; PA_E_CORRUPT
 * and *v filled on the first violation. Read-only, O(frames). */
int pa_check(const struct page_alloc *pa, struct pa_violation *v);

/*
 * ---- per-CPU caches (docs/allocator.md, "Per-CPU caches") -----------------
 * pa_alloc_on()/pa_free_on() are pa_alloc()/pa_free() made on CPU `cpu`:
 * the same checks, errors and states; a FREE block may stay in (or come
 * from) that CPU's cache. A cached frame is FREE to every operation and
 * query. These run as one operation, with nothing else running on the
 * allocator; mm/page_smp.c runs them from several CPUs at once.
 */
pfn_t pa_alloc_on(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags);
int pa_free_on(struct page_alloc *pa, unsigned cpu, pfn_t frame, unsigned order);
/* Give `cpu`'s cached blocks (PA_ALL_CPUS: every CPU's) back to the heap's
 * lists; returns how many frames (0 for an implementation that caches nothing). */
uint64_t pa_drain(struct page_alloc *pa, unsigned cpu);
/* The CPU whose cache holds frame's block, or PA_NO_CPU. */
int pa_cache_cpu(const struct page_alloc *pa, pfn_t frame);

/*
 * The pieces of pa_alloc_on()/pa_free_on() that mm/page_smp.c runs under
 * different locks. pa_cache_get() and pa_cache_put() touch only `cpu`'s
 * cache and the head entry of the block they move; pa_cache_fill() also
 * the heap, never another CPU's cache.
 *   pa_cache_get:  a block from the cache, or PA_NO_FRAME;
 *   pa_cache_put:  PA_OK if the block (INUSE, owner 0, no offlining frame,
 *                  a cacheable order) went into the cache, else
 *                  PA_CACHE_MISS: nothing changed, pa_free_on() decides;
 *   pa_cache_fill: pa_alloc() on the heap and this CPU's cache (on an
 *                  empty stack one block is split: a batch joins the
 *                  cache), PA_NO_FRAME without draining others;
 *   pa_cache_free_heap: a free pa_cache_put() could not take (a full stack,
 *                  a range change, an order not cached) with the heap too:
 *                  PA_OK, or PA_CACHE_MISS for anything but a plain in-use
 *                  block (nothing changed: pa_free_on() checks it).
 */
pfn_t pa_cache_get(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags);
int pa_cache_put(struct page_alloc *pa, unsigned cpu, pfn_t frame, unsigned order);
pfn_t pa_cache_fill(struct page_alloc *pa, unsigned cpu, unsigned order, unsigned flags);
int pa_cache_free_heap(struct page_alloc *pa, unsigned cpu, pfn_t frame, unsigned order);

#endif

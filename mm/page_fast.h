/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internals of the fast allocator, shared by its files. Not an API:
 * include/pvhk/page_alloc.h is.
 *
 *   mm/page_table.c    representation and lookup: chunks, entries, free
 *                      lists, the merge loop, what covers a frame
 *   mm/page_range.c    range operations, deferred memory, offlining,
 *                      ownership, the checked side of pa_free()
 *   mm/page_alloc.c    the hot paths: pa_alloc() and pa_free()
 *   mm/page_check.c    the invariant checker
 *
 * The encoding of a table entry (struct pa_frame in page_alloc.h) is read
 * and written only through the INFO_* macros below.
 */
#ifndef PVHK_MM_PAGE_FAST_H
#define PVHK_MM_PAGE_FAST_H

#include <pvhk/page_alloc.h>

#define BIT(s)              (1U << (s))

/* ---- the info word of a head entry ---------------------------------------- */
#define INFO_STATE(x)       ((x) & PA_STATE_MASK)
#define INFO_ORDER(x)       (((x) >> PA_ORDER_SHIFT) & PA_ORDER_MASK)
#define INFO_OWNER(x)       ((x) >> PA_OWNER_SHIFT)
#define INFO_IS_HEAD(x)     (((x) & PA_HEAD) != 0)
/* Same block, another state (owner and flags kept). */
#define INFO_WITH_STATE(x, st) (((x) & ~PA_STATE_MASK) | (st))
#define INFO_WITHOUT_OWNER(x) ((x) & ~(PA_MAX_OWNER << PA_OWNER_SHIFT))
/* A FREE head's info, now the INUSE block's (same order, owner 0). */
#define INFO_ALLOCATED(x)   ((x) + (PA_INUSE - PA_FREE))
/* A FREE head one order smaller / larger (FREE heads have no owner, no flag). */
#define INFO_ORDER_DOWN(x)  ((x) - (1U << PA_ORDER_SHIFT))
#define INFO_ORDER_UP(x)    ((x) + (1U << PA_ORDER_SHIFT))

/*
 * A head's info word where a per-CPU cache may change it at the same time
 * (mm/page_cpu.c: a CPU moves a block it holds between INUSE and cached
 * with only its own cache locked, while the heap reads that head as a
 * buddy). Relaxed atomics: plain loads and stores on x86; the heap only
 * compares the word with a FREE head's, which a held block never matches.
 */
static inline uint32_t info_load(const struct pa_frame *e)
{
    return __atomic_load_n(&e->info, __ATOMIC_RELAXED);
}

static inline void info_store(struct pa_frame *e, uint32_t v)
{
    __atomic_store_n(&e->info, v, __ATOMIC_RELAXED);
}

/* ---- entries and chunks ---------------------------------------------------- */

static inline struct pa_frame *ent(const struct page_alloc *pa, const struct pa_range *r,
                                   pfn_t f)
{
    return &pa->table[r->base + (f - r->start)];
}

/* Table index of frame f of range r. */
static inline uint32_t idx_of(const struct pa_range *r, pfn_t f)
{
    return (uint32_t)(f - r->delta);
}

static inline uint32_t chunk_bit(const struct pa_range *r, pfn_t f)
{
    return (uint32_t)(f >> PA_MAX_ORDER) + r->chunk_adj;
}

/* Is f's chunk readable (its entries written, or known zero)? */
static inline bool touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    uint32_t c = chunk_bit(r, f);

    return (__atomic_load_n(&pa->touched[c / 64], __ATOMIC_RELAXED) >> (c % 64)) & 1;
}

static inline pfn_t chunk_start(pfn_t f)
{
    return ALIGN_DOWN(f, PA_CHUNK_FRAMES);
}

static inline pfn_t chunk_end(pfn_t f)
{
    return (f | (PA_CHUNK_FRAMES - 1)) + 1;
}

/* Largest order of an aligned block starting at p and ending by `end`. */
static inline unsigned piece_order(pfn_t p, pfn_t end)
{
    unsigned k = p ? (unsigned)__builtin_ctzll(p) : PA_MAX_ORDER;
    unsigned l = 63 - (unsigned)__builtin_clzll(end - p);

    return MIN(MIN(k, l), PA_MAX_ORDER);
}

static inline int fail(struct page_alloc *pa, pfn_t f, int err)
{
    pa->err_frame = f;
    return err;
}

/* ---- free lists: one per zone and order, linked by table index ------------- */

static inline __attribute__((always_inline))
void list_push(struct pa_frame *t, struct pa_zone *zn, unsigned k, uint32_t idx)
{
    uint32_t h = zn->head[k];

    t[idx].next = h;
    t[idx].prev = PA_NIL;
    if (h != PA_NIL)
        t[h].prev = idx;
    else
        zn->avail |= BIT(k);        /* the list was empty */
    zn->head[k] = idx;
}

static inline __attribute__((always_inline))
void list_del(struct pa_frame *t, struct pa_zone *zn, unsigned k, const struct pa_frame *e)
{
    uint32_t n = e->next, p = e->prev;

    if (p != PA_NIL)
        t[p].next = n;
    else if ((zn->head[k] = n) == PA_NIL)
        zn->avail &= ~BIT(k);
    if (n != PA_NIL)
        t[n].prev = p;
}

/* ---- what covers a frame ----------------------------------------------------- */

struct seg {
    pfn_t start, end;       /* the block, or the run of head-less frames */
    unsigned state;         /* the contract's state (OFFLINING blocks read INUSE) */
    unsigned order;
    unsigned owner;         /* INUSE blocks */
    bool block;             /* a head covers it (start is the head) */
    bool offl;              /* INUSE block holding offlining frames */
    bool deferred;          /* FREE because deferred: not on a list */
    struct pa_frame *head;
};

/* mm/page_table.c */
int pa_range_of(const struct page_alloc *pa, pfn_t frame);
bool pa_chunk_touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f);
void touch_chunk(struct page_alloc *pa, const struct pa_range *r, pfn_t f);
void seg_at(const struct page_alloc *pa, const struct pa_range *r, pfn_t p, struct seg *s);
bool frame_offlining(const struct page_alloc *pa, const struct pa_range *r,
                     const struct seg *s, pfn_t f);
void free_insert(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k);
int free_merge(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k,
               struct pa_frame *be, pfn_t stop);
void free_range(struct page_alloc *pa, const struct pa_range *r, pfn_t a, pfn_t b);
void emit_blocks(struct page_alloc *pa, const struct pa_range *r, uint32_t info, pfn_t a,
                 pfn_t b);
int defer_find(const struct page_alloc *pa, uint32_t rid, pfn_t p);

/* mm/page_range.c */
bool grow(struct page_alloc *pa, unsigned flags);
int free_checked(struct page_alloc *pa, pfn_t f, unsigned k);

/* mm/page_alloc.c: pa_alloc() on the heap alone, never draining a cache. */
pfn_t heap_alloc(struct page_alloc *pa, unsigned order, unsigned flags);
/* mm/page_alloc.c: a block of `order` from zone z's lists, which hold one. */
pfn_t take_block(struct page_alloc *pa, unsigned z, unsigned order);

/* ---- per-CPU caches (mm/page_cpu.c; their way back to the lists, mm/page_table.c) ---- */

/* A cached block's head: FREE, held by `cpu`'s cache. */
#define CACHED_INFO(k, cpu) (PA_INFO(PA_FREE, k) | PA_F_CACHED | (uint32_t)(cpu) << PA_OWNER_SHIFT)

static inline pfn_t frame_of(const struct page_alloc *pa, uint32_t idx)
{
    return idx + pa->delta[pa->table[idx].rid];
}

/* FREE frames CPU cc's cache holds in zone z (counted from its stacks:
 * the fast paths keep no counter of them). */
static inline uint64_t cpu_frames(const struct pa_cpu *cc, unsigned z)
{
    uint64_t n = 0;

    for (unsigned k = 0; k < PA_CACHE_ORDERS; k++)
        n += (uint64_t)cc->st[k][z].nr << k;
    return n;
}

/* FREE frames the caches hold in zone z. */
static inline uint64_t cache_frames(const struct page_alloc *pa, unsigned z)
{
    uint64_t n = 0;

    for (unsigned c = 0; c < PA_MAX_CPUS; c++)
        n += cpu_frames(&pa->cpu[c], z);
    return n;
}

/* FREE frames all caches hold: pa->count[PA_INUSE] still counts them (a
 * block moves between INUSE and cached without touching the heap's
 * counters; it leaves the count when it goes back to the lists). */
static inline uint64_t cache_frames_all(const struct page_alloc *pa)
{
    return cache_frames(pa, PA_ZONE_HIGH) + cache_frames(pa, PA_ZONE_LOW);
}

/* mm/page_table.c */
void cache_unhold(struct page_alloc *pa, uint32_t idx, unsigned k);
uint64_t cache_drain_zone(struct page_alloc *pa, unsigned cpu, unsigned z);
void cache_settle(struct page_alloc *pa, pfn_t a, pfn_t b);

#endif

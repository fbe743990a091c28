/*
 * Frame table and buddy allocator with explicit page states.
 *
 * docs/allocator.md is the contract; this comment is the map of the code.
 *
 * Representation. The frame table holds one 16-byte entry per frame of the
 * registered ranges, indexed by a compact 32-bit table index (ranges are
 * laid out one after the other, gaps in the map cost nothing). Only block
 * heads carry information: a head says "frames [f, f + 2^order) are one
 * block in state S". Every other entry is zero, except an "offlining mark"
 * on a frame inside an in-use block. So:
 *
 *   - a frame covered by a block has that block's state (or OFFLINING, if
 *     marked); its block's head is found by looking at f aligned down to
 *     each order in turn (the first head met is the only candidate, because
 *     blocks are disjoint);
 *   - a frame covered by no block is UNINITIALISED. The all-zero table is
 *     therefore the all-UNINITIALISED table, as the seed document asks.
 *
 * Lazy zeroing. The table must be zero where it is read. Zeroing it at boot
 * would cost 16 bytes of writes per frame, so the table is split into
 * chunks of PA_CHUNK_FRAMES frames (aligned in frame space, one maximal
 * block each): a chunk's entries are read only once its bit in
 * pa->touched is set, and are zeroed at that moment unless the caller said
 * the storage was already zero (PA_TABLE_ZEROED). An untouched chunk is
 * wholly UNINITIALISED. Init therefore costs O(blocks), not O(frames).
 *
 * Free lists: one doubly linked list per zone and order, threaded through
 * the heads' next/prev table indices, with a bitmap of non-empty orders so
 * that alloc finds its block with one count-trailing-zeros.
 *
 * pa_alloc() and pa_free() are written for few instructions on their
 * common paths (exact fit, push without merge) and put splitting and
 * merging in tail-called functions; docs/allocator.md ("Performance")
 * says what each saves and what it costs.
 *
 * Blocks never cross a range boundary (ranges never merge), a chunk
 * boundary (so never the 4 GiB zone line, 2^20-aligned) and never include
 * frame 0 when FREE: frame 0 stays UNINITIALISED for ever, so nothing can
 * coalesce with it (the reason Xen keeps MFN 0 out of the heap).
 */
#include "page_fast.h"
#include <pvhk/string.h>

#define BIT(s)          (1U << (s))
#define ORDER_OF(info)  ((info) >> PA_ORDER_SHIFT)

/* ---- small helpers ---------------------------------------------------------- */

static inline struct pa_frame *ent(const struct page_alloc *pa,
                                   const struct pa_range *r, pfn_t f)
{
    return &pa->table[r->base + (f - r->start)];
}

static inline uint32_t chunk_bit(const struct pa_range *r, pfn_t f)
{
    return (uint32_t)(f >> PA_MAX_ORDER) + r->chunk_adj;
}

static inline bool touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    uint32_t c = chunk_bit(r, f);

    return (pa->touched[c / 64] >> (c % 64)) & 1;
}

bool pa_chunk_touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    return touched(pa, r, f);
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

/*
 * Make f's chunk readable: zero its entries on first use. In an unbacked
 * range the untouched chunk stood for "all RELEASED", so that is written
 * down now as explicit blocks (maximal aligned pieces: O(log) heads) and
 * the caller changes them like any others. The counters already hold
 * these frames (pa_add_range_unbacked()), so none changes.
 */
static void touch_chunk(struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    uint32_t c = chunk_bit(r, f);

    if ((pa->touched[c / 64] >> (c % 64)) & 1)
        return;
    if (!(pa->flags & PA_TABLE_ZEROED) || r->unbacked) {
        pfn_t a = MAX(r->start, ALIGN_DOWN(f, PA_CHUNK_FRAMES));
        pfn_t b = MIN(r->end, chunk_end(f));
        uint32_t rid = (uint32_t)(r - pa->range);     /* r is in pa->range[] */

        if (!(pa->flags & PA_TABLE_ZEROED))
            memset(ent(pa, r, a), 0, (size_t)(b - a) * sizeof(struct pa_frame));
        for (pfn_t p = a; r->unbacked && p < b;) {
            unsigned k = piece_order(p, b);
            struct pa_frame *e = ent(pa, r, p);

            e->info = PA_INFO(PA_RELEASED, k);
            e->rid = rid;
            p += 1ULL << k;
        }
    }
    pa->touched[c / 64] |= 1ULL << (c % 64);
    /* Once the last chunk of a range is touched, pa_free() skips the bit test. */
    if (--((struct pa_range *)r)->untouched)
        return;
    ((struct pa_range *)r)->all_touched = 1;
    if (r == &pa->range[pa->last_range])
        pa->cur = *r;
}

static inline int fail(struct page_alloc *pa, pfn_t f, int err)
{
    pa->err_frame = f;
    return err;
}

int pa_range_of(const struct page_alloc *pa, pfn_t f)
{
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (f - pa->range[i].start < pa->range[i].len)
            return (int)i;
    return -1;
}

/* ---- free lists ---------------------------------------------------------------- */

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
void list_del(struct pa_frame *t, struct pa_zone *zn, unsigned k, uint32_t idx)
{
    uint32_t n = t[idx].next, p = t[idx].prev;

    if (p != PA_NIL)
        t[p].next = n;
    else if ((zn->head[k] = n) == PA_NIL)
        zn->avail &= ~BIT(k);
    if (n != PA_NIL)
        t[n].prev = p;
}

/*
 * The free buddy of the block (f, k), or NULL: the block of order k at
 * f ^ 2^k, if it lies wholly inside the range and is a FREE head of order
 * k. f's chunk is touched, and an aligned block's buddy is in the same
 * chunk (k < PA_MAX_ORDER), so the entry is readable once in the range.
 */
static inline __attribute__((always_inline))
struct pa_frame *free_buddy(const struct page_alloc *pa, const struct pa_range *r, pfn_t f,
                            unsigned k)
{
    pfn_t size = 1ULL << k, b = f ^ size;
    struct pa_frame *be;

    /* b >= start and b + size <= end, in one compare (len >= size). */
    if (b - r->start > r->len - size)
        return NULL;
    be = &pa->table[(uint32_t)(b - r->delta)];
    return be->info == PA_INFO(PA_FREE, k) ? be : NULL;
}

/*
 * The largest aligned block around f that lies inside the range, up to a
 * chunk: 2^m frames for the largest m <= PA_MAX_ORDER with
 * f >> m > (start - 1) >> m and f >> m < end >> m, i.e. m at most the
 * highest bit where f differs from start - 1 (which wraps harmlessly for
 * start 0) and from end. No block containing f merges beyond it.
 */
static pfn_t merge_limit(const struct pa_range *r, pfn_t f)
{
    unsigned lo = 63 - (unsigned)__builtin_clzll(f ^ (r->start - 1));
    unsigned hi = 63 - (unsigned)__builtin_clzll(f ^ r->end);

    return 1ULL << MIN(MIN(lo, hi), PA_MAX_ORDER);
}

/*
 * Put the block (f, k) on its free list, coalesced with its free buddies;
 * be is the first of them (free_buddy(), non-NULL). f's entry carries the
 * range index (every head does; free_range() writes it on a fresh entry)
 * and the block's other entries are zero. Merging makes one of two heads
 * the union's head, so no range index is written here.
 *
 * Merging stays inside merge_limit()'s block, the whole chunk but at a
 * range's ends, so after the first buddy the loop tests no bounds. This is
 * the general merge (init, range operations, frees in a partly covered
 * chunk); pa_free()'s common case is free_merge_chunk().
 */
static __attribute__((noinline))
void free_merge(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k,
                struct pa_frame *be)
{
    struct pa_frame *t = pa->table;
    struct pa_zone *zn = &pa->zone[pa_zone_of(f)];
    pfn_t size = 1ULL << k, c = ALIGN_DOWN(f, PA_CHUNK_FRAMES), stop = PA_CHUNK_FRAMES;
    uint32_t idx;

    zn->nr_free += size;
    if (unlikely(c < r->start || r->end - c < PA_CHUNK_FRAMES))
        stop = merge_limit(r, f);
    t[(uint32_t)(f - r->delta)].info = 0;   /* the union's head is written below */
    for (;;) {
        list_del(t, zn, k, (uint32_t)(be - t));
        be->info = 0;
        f &= ~size;                         /* the union starts at the lower one */
        size <<= 1;
        k++;
        if (size == stop)
            break;
        be = &t[(uint32_t)((f ^ size) - r->delta)];
        if (be->info != PA_INFO(PA_FREE, k))
            break;
    }
    idx = (uint32_t)(f - r->delta);
    t[idx].info = PA_INFO(PA_FREE, k);
    list_push(t, zn, k, idx);
}

/* Put the block (f, k), head entry holding its range index, on its free list. */
static void free_insert(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k)
{
    struct pa_frame *be = k < PA_MAX_ORDER ? free_buddy(pa, r, f, k) : NULL;
    struct pa_zone *zn = &pa->zone[pa_zone_of(f)];
    uint32_t idx = (uint32_t)(f - r->delta);

    if (be) {
        free_merge(pa, r, f, k, be);
        return;
    }
    zn->nr_free += 1ULL << k;
    pa->table[idx].info = PA_INFO(PA_FREE, k);
    list_push(pa->table, zn, k, idx);
}

/* [a, b) -> FREE in maximal aligned blocks, frame 0 left out. */
static void free_range(struct page_alloc *pa, const struct pa_range *r, uint32_t rid,
                       pfn_t a, pfn_t b)
{
    while (a < b) {
        unsigned k;

        if (a == 0) {
            a = 1;
            continue;
        }
        k = piece_order(a, b);
        touch_chunk(pa, r, a);
        ent(pa, r, a)->rid = rid;
        free_insert(pa, r, a, k);
        a += 1ULL << k;
    }
}

/* [a, b) -> blocks of a non-FREE state, maximal aligned pieces. */
static void emit_blocks(struct page_alloc *pa, const struct pa_range *r, uint32_t rid,
                        unsigned state, pfn_t a, pfn_t b)
{
    while (a < b) {
        unsigned k = piece_order(a, b);
        struct pa_frame *e;

        touch_chunk(pa, r, a);
        e = ent(pa, r, a);
        e->info = PA_INFO(state, k);
        e->rid = rid;
        a += 1ULL << k;
    }
}

/* ---- segments: what covers a frame ------------------------------------------- */

struct seg {
    pfn_t start, end;       /* the block, or the run of uninitialised frames */
    unsigned state;         /* block state: OFFLINING heads count as INUSE */
    unsigned order;
    bool block, offl;       /* offl: INUSE block holding offlining frames */
    struct pa_frame *head;
};

/* The head of the block covering p, or NULL. p's chunk is touched. */
static struct pa_frame *find_head(const struct page_alloc *pa, const struct pa_range *r,
                                  pfn_t p, pfn_t *hp)
{
    struct pa_frame *e = ent(pa, r, p);
    pfn_t last = PA_NO_FRAME;

    for (unsigned k = 0; k <= PA_MAX_ORDER; k++) {
        pfn_t h = ALIGN_DOWN(p, 1ULL << k);
        struct pa_frame *he;

        if (h < r->start)
            break;
        if (h == last)
            continue;
        last = h;
        he = e - (p - h);
        if (he->info & PA_HEAD) {
            /* Blocks are disjoint: the first head met is the only candidate. */
            if (p - h < (1ULL << ORDER_OF(he->info))) {
                *hp = h;
                return he;
            }
            return NULL;
        }
    }
    return NULL;
}

static void seg_at(const struct page_alloc *pa, const struct pa_range *r, pfn_t p,
                   struct seg *s)
{
    pfn_t lim = MIN(r->end, chunk_end(p)), h;
    struct pa_frame *he;

    s->block = s->offl = false;
    s->start = p;
    s->state = PA_UNINITIALISED;
    s->order = 0;
    s->head = NULL;
    if (!touched(pa, r, p)) {
        /* Nothing written in this chunk yet: all of it is in the range's
         * starting state. (Writers touch it first, see range_apply().) */
        if (r->unbacked)
            s->state = PA_RELEASED;
        s->end = lim;
        return;
    }
    he = find_head(pa, r, p, &h);
    if (he) {
        unsigned st = he->info & PA_STATE_MASK;

        s->block = true;
        s->head = he;
        s->start = h;
        s->order = ORDER_OF(he->info);
        s->end = h + (1ULL << s->order);
        s->offl = st == PA_OFFLINING || (he->info & PA_F_OFFL);
        s->state = st == PA_OFFLINING ? PA_INUSE : st;
        return;
    }
    /* Uninitialised run: up to the next non-zero entry (always a head). */
    const struct pa_frame *e = ent(pa, r, p);
    pfn_t q = p + 1;
    while (q < lim && e[q - p].info == 0)
        q++;
    s->end = q;
}

/* ---- set-up ------------------------------------------------------------------------ */

void pa_setup(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity,
              unsigned flags)
{
    /* The per-range and per-extent arrays are read only below their counts. */
    memset(pa, 0, __builtin_offsetof(struct page_alloc, delta));
    pa->table = table;
    pa->capacity = MIN(capacity, (uint64_t)PA_NIL);
    pa->flags = flags;
    for (unsigned z = 0; z < PA_NR_ZONES; z++)
        memset(pa->zone[z].head, 0xff, sizeof(pa->zone[z].head));
    pa->err_frame = PA_NO_FRAME;
}

void pa_move_table(struct page_alloc *pa, struct pa_frame *table, uint64_t capacity)
{
    /* Links are indices, not pointers: moving the storage is just this. */
    pa->table = table;
    pa->capacity = MIN(capacity, (uint64_t)PA_NIL);
}

int pa_add_range(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    pfn_t end = start + count;
    uint32_t nch;

    if (!count || end < start)
        return fail(pa, start, PA_E_INVAL);
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (start < pa->range[i].end && pa->range[i].start < end)
            return fail(pa, MAX(start, pa->range[i].start), PA_E_OVERLAP);
    nch = (uint32_t)(((end - 1) >> PA_MAX_ORDER) - (start >> PA_MAX_ORDER) + 1);
    if (pa->nr_ranges == PA_MAX_RANGES || count > pa->capacity - pa->used ||
        nch > PA_MAX_CHUNKS - pa->nr_chunks)
        return fail(pa, start, PA_E_NOSPACE);

    struct pa_range *r = &pa->range[pa->nr_ranges++];
    r->start = start;
    r->end = end;
    r->len = count;
    r->base = (uint32_t)pa->used;
    r->delta = start - r->base;
    pa->delta[pa->nr_ranges - 1] = r->delta;
    r->int_start = ALIGN_UP(start, PA_CHUNK_FRAMES);
    r->int_len = ALIGN_DOWN(end, PA_CHUNK_FRAMES) > r->int_start ?
                 ALIGN_DOWN(end, PA_CHUNK_FRAMES) - r->int_start : 0;
    r->chunk_base = pa->nr_chunks;
    r->chunk_adj = pa->nr_chunks - (uint32_t)(start >> PA_MAX_ORDER);
    r->untouched = nch;
    /* Zeroed storage: every entry is readable from the start, so pa_free()
     * needs no per-chunk test (untouched chunks read as all-UNINITIALISED). */
    r->all_touched = !!(pa->flags & PA_TABLE_ZEROED);
    r->unbacked = 0;
    pa->used += count;
    pa->nr_chunks += nch;
    return PA_OK;
}

/*
 * Extra memory on dom0 can be ten times RAM, all of it unbacked from the
 * start. Marking it with pa_release() would touch (zero) every chunk of
 * it at boot; instead the range says "untouched means RELEASED" and the
 * counter takes every frame at once.
 */
int pa_add_range_unbacked(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    int err;

    if (start == 0 && count)
        return fail(pa, 0, PA_E_FRAME0);
    err = pa_add_range(pa, start, count);
    if (err)
        return err;
    pa->range[pa->nr_ranges - 1].unbacked = 1;
    pa->count[PA_RELEASED] += count;
    return PA_OK;
}

/* ---- range operations: the generic state-transition engine -------------------- */

static int state_err(unsigned state)
{
    static const uint8_t err[PA_NR_STATES] = {
        [PA_UNINITIALISED] = PA_E_UNINIT, [PA_FREE] = PA_E_FREE_FRAME,
        [PA_INUSE] = PA_E_INUSE, [PA_OFFLINING] = PA_E_OFFLINING,
        [PA_OFFLINED] = PA_E_OFFLINED, [PA_RELEASED] = PA_E_RELEASED,
        [PA_SCRATCH] = PA_E_SCRATCH,
    };
    return err[state];
}

#define OP_MIXED    0x1U    /* report PA_E_MIXED for any frame not allowed */
#define OP_NOCUT    0x2U    /* the operation does not cut deferred extents */

/*
 * Check that every frame of [start, start + count) is in one of the
 * `allowed` states (in-use frames only as whole blocks without offlining
 * frames). On success *rp is the range. Changes nothing.
 */
static int range_check(struct page_alloc *pa, pfn_t start, uint64_t count,
                       unsigned allowed, unsigned target, unsigned opflags, int *rp)
{
    const struct pa_range *r;
    pfn_t end, p;
    int i;
    struct seg s;

    if (!count)
        return fail(pa, start, PA_E_INVAL);
    i = pa_range_of(pa, start);
    if (i < 0)
        return fail(pa, start, PA_E_OUTSIDE);
    r = &pa->range[i];
    if (count > r->end - start)
        return fail(pa, r->end, PA_E_SPANS);
    end = start + count;
    if (start == 0 && target != PA_FREE)
        return fail(pa, 0, PA_E_FRAME0);
    for (p = start; p < end; p = s.end) {
        seg_at(pa, r, p, &s);
        if (!(allowed & BIT(s.state)))
            return fail(pa, p, (opflags & OP_MIXED) ? PA_E_MIXED : state_err(s.state));
        if (s.state == PA_INUSE) {
            if (s.offl)
                return fail(pa, s.start, PA_E_OFFLINING);
            if (s.start < start || s.end > end)
                return fail(pa, s.start, PA_E_PARTIAL);
        }
    }
    /* Deferred extents are uninitialised; cutting one in two needs a slot. */
    if ((allowed & BIT(PA_UNINITIALISED)) && !(opflags & OP_NOCUT) &&
        pa->nr_defer == PA_MAX_DEFER)
        for (unsigned j = 0; j < pa->nr_defer; j++)
            if (pa->defer[j].start < start && end < pa->defer[j].end)
                return fail(pa, start, PA_E_NOSPACE);
    *rp = i;
    return PA_OK;
}

static void defer_remove(struct page_alloc *pa, unsigned j)
{
    pa->nr_defer--;
    memmove(&pa->defer[j], &pa->defer[j + 1], (pa->nr_defer - j) * sizeof(pa->defer[0]));
}

/* Frames [a, b) leave the deferred set (they change state). */
static void defer_cut(struct page_alloc *pa, pfn_t a, pfn_t b)
{
    for (unsigned j = 0; j < pa->nr_defer; j++) {
        struct pa_defer *x = &pa->defer[j];

        if (x->end <= a || b <= x->start)
            continue;
        if (a <= x->start && x->end <= b) {
            defer_remove(pa, j--);
        } else if (a <= x->start) {
            x->start = b;
        } else if (x->end <= b) {
            x->end = a;
        } else {
            /* Split; range_check() made sure there is a slot. */
            memmove(&pa->defer[j + 1], &pa->defer[j], (pa->nr_defer - j) * sizeof(*x));
            pa->nr_defer++;
            pa->defer[j].end = a;
            pa->defer[j + 1].start = b;
            return;
        }
    }
}

/* Apply a checked transition: every frame of the range becomes `target`. */
static void range_apply(struct page_alloc *pa, int i, pfn_t start, uint64_t count,
                        unsigned target)
{
    const struct pa_range *r = &pa->range[i];
    pfn_t end = start + count, p = start;
    struct seg s;

    defer_cut(pa, start, end);
    while (p < end) {
        pfn_t a, b;

        /* An untouched unbacked chunk becomes explicit RELEASED blocks
         * first, so the part outside [start, end) keeps its state below. */
        if (r->unbacked)
            touch_chunk(pa, r, p);
        seg_at(pa, r, p, &s);
        a = MAX(s.start, start);
        b = MIN(s.end, end);
        if (s.block) {
            s.head->info = 0;   /* the block is dissolved, then rebuilt */
            switch (s.state) {
            case PA_FREE:
                list_del(pa->table, &pa->zone[pa_zone_of(s.start)], s.order,
                         (uint32_t)(s.head - pa->table));
                pa->zone[pa_zone_of(s.start)].nr_free -= 1ULL << s.order;
                /* What lies outside the range goes back (the free run is split). */
                free_range(pa, r, (uint32_t)i, s.start, a);
                free_range(pa, r, (uint32_t)i, b, s.end);
                break;
            case PA_RELEASED:
            case PA_SCRATCH:
                pa->count[s.state] -= b - a;
                emit_blocks(pa, r, (uint32_t)i, s.state, s.start, a);
                emit_blocks(pa, r, (uint32_t)i, s.state, b, s.end);
                break;
            default:            /* INUSE: whole blocks only (range_check) */
                pa->count[s.state] -= b - a;
                break;
            }
        }
        if (target == PA_FREE) {
            free_range(pa, r, (uint32_t)i, a, b);
        } else if (target != PA_UNINITIALISED) {
            emit_blocks(pa, r, (uint32_t)i, target, a, b);
            pa->count[target] += b - a;
        }
        p = b;
    }
}

static int range_op(struct page_alloc *pa, pfn_t start, uint64_t count,
                    unsigned allowed, unsigned target, unsigned opflags)
{
    int i, err = range_check(pa, start, count, allowed, target, opflags, &i);

    if (err)
        return err;
    range_apply(pa, i, start, count, target);
    return PA_OK;
}

int pa_init_range(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_UNINITIALISED), PA_FREE, 0);
}

int pa_take(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_FREE), PA_INUSE, 0);
}

int pa_release(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count,
                    BIT(PA_FREE) | BIT(PA_UNINITIALISED) | BIT(PA_INUSE), PA_RELEASED, 0);
}

int pa_release_check(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    int i;

    return range_check(pa, start, count,
                       BIT(PA_FREE) | BIT(PA_UNINITIALISED) | BIT(PA_INUSE), PA_RELEASED, 0, &i);
}

int pa_populate(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_RELEASED), PA_FREE, 0);
}

int pa_scratch(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_UNINITIALISED) | BIT(PA_RELEASED),
                    PA_SCRATCH, 0);
}

int pa_unscratch(struct page_alloc *pa, pfn_t start, uint64_t count, enum pa_state to)
{
    if (to != PA_RELEASED && to != PA_UNINITIALISED)
        return fail(pa, start, PA_E_INVAL);
    return range_op(pa, start, count, BIT(PA_SCRATCH), to, 0);
}

static int check_block(struct page_alloc *pa, pfn_t f, unsigned order)
{
    if (order > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    if (f & ((1ULL << order) - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    return PA_OK;
}

int pa_mark_inuse(struct page_alloc *pa, pfn_t f, unsigned order)
{
    int err = check_block(pa, f, order);

    return err ? err : range_op(pa, f, 1ULL << order, BIT(PA_UNINITIALISED), PA_INUSE, 0);
}

/* ---- lazy init -------------------------------------------------------------------- */

int pa_defer(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_UNINITIALISED), PA_FREE, OP_NOCUT, &i);
    pfn_t a = start, b = start + count;
    unsigned n = 0, touching = 0, j;

    if (err)
        return err;
    if (a == 0 && ++a == b)
        return PA_OK;           /* frame 0 never enters the heap */
    for (j = 0; j < pa->nr_defer; j++)
        if (pa->defer[j].rid == (uint32_t)i && pa->defer[j].end >= a && pa->defer[j].start <= b)
            touching++;
    if (!touching && pa->nr_defer == PA_MAX_DEFER)
        return fail(pa, start, PA_E_NOSPACE);
    /* Union with the overlapping or adjacent extents of the same range. */
    for (j = 0; j < pa->nr_defer; j++) {
        struct pa_defer x = pa->defer[j];

        if (x.rid == (uint32_t)i && x.end >= a && x.start <= b) {
            a = MIN(a, x.start);
            b = MAX(b, x.end);
        } else {
            pa->defer[n++] = x;
        }
    }
    for (j = n; j > 0 && pa->defer[j - 1].start > a; j--)
        pa->defer[j] = pa->defer[j - 1];
    pa->defer[j] = (struct pa_defer){ a, b, (uint32_t)i };
    pa->nr_defer = n + 1;
    return PA_OK;
}

/*
 * The heap ran short: initialise the next piece of deferred memory, the
 * lowest deferred frames up to the end of their chunk. Returns false if
 * there is none the caller can use.
 */
static bool grow(struct page_alloc *pa, unsigned flags)
{
    struct pa_defer *x = &pa->defer[0];
    pfn_t a, b;
    uint32_t rid;

    if (!pa->nr_defer || ((flags & PA_ALLOC_LOW) && x->start >= PA_LOW_LIMIT))
        return false;
    a = x->start;
    b = MIN(x->end, chunk_end(a));
    rid = x->rid;
    x->start = b;
    if (x->start == x->end)
        defer_remove(pa, 0);
    free_range(pa, &pa->range[rid], rid, a, b);
    return true;
}

uint64_t pa_init_all(struct page_alloc *pa)
{
    uint64_t n = 0;

    while (pa->nr_defer) {
        struct pa_defer x = pa->defer[0];

        defer_remove(pa, 0);
        free_range(pa, &pa->range[x.rid], x.rid, x.start, x.end);
        n += x.end - x.start;
    }
    return n;
}

/* ---- alloc and free: the hot paths -------------------------------------------------- */

/*
 * Take the first block of the non-empty list (zn, order) and return its
 * frame, INUSE.
 */
static inline __attribute__((always_inline))
pfn_t take_exact(struct page_alloc *pa, struct pa_zone *zn, unsigned order)
{
    struct pa_frame *t = pa->table;
    uint32_t idx = zn->head[order], nxt = t[idx].next;

    zn->head[order] = nxt;
    if (nxt != PA_NIL)
        t[nxt].prev = PA_NIL;
    else
        zn->avail &= ~BIT(order);
    /* Its info is PA_INFO(PA_FREE, order) (pa_check() verifies that of
     * every listed head): one add makes it INUSE. */
    t[idx].info += PA_INUSE - PA_FREE;
    zn->nr_free -= 1ULL << order;
    pa->count[PA_INUSE] += 1ULL << order;
    return idx + pa->delta[t[idx].rid];
}

/*
 * Take the first block of list (zn, j) and split it down to `order` < j:
 * the upper halves go on the lists order..j-1, the bottom becomes INUSE
 * and its frame is returned. j is the smallest non-empty order above
 * `order` (callers find it with one count-trailing-zeros), so those lists
 * are empty: each half becomes the only block of its list, with no head
 * to read or link. A half is written as two 8-byte words: the links, both
 * PA_NIL, and `tail`, its info and range index (info in the low half).
 */
_Static_assert(__builtin_offsetof(struct pa_frame, rid) ==
               __builtin_offsetof(struct pa_frame, info) + 4 &&
               __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "take_split(): info, rid as one word");

static __attribute__((noinline))
pfn_t take_split(struct page_alloc *pa, struct pa_zone *zn, unsigned j, unsigned order)
{
    uint32_t half = BIT(j), size = BIT(order);
    struct pa_frame *t = pa->table, *e;
    uint32_t *hp = &zn->head[j], idx = *hp, nxt;
    uint64_t tail;                          /* info | rid << 32: a half's second word */

    e = &t[idx];
    nxt = e->next;
    *hp = nxt;
    /* Bits order..j-1 of avail are clear and bit j is set: subtracting
     * BIT(order) sets the former and clears the latter. */
    zn->avail -= size;
    if (nxt != PA_NIL) {
        t[nxt].prev = PA_NIL;
        zn->avail |= half;                  /* list j still non-empty */
    }
    zn->nr_free -= size;
    pa->count[PA_INUSE] += size;
    memcpy(&tail, &e->info, sizeof(tail));  /* PA_INFO(PA_FREE, j), rid */
    do {
        static const uint64_t nil2 = ~0ULL; /* next = prev = PA_NIL */
        struct pa_frame *h;

        half >>= 1;
        tail -= 1U << PA_ORDER_SHIFT;
        h = e + half;
        memcpy(&h->next, &nil2, sizeof(nil2));
        memcpy(&h->info, &tail, sizeof(tail));
        *--hp = idx + half;
    } while (half != size);
    e->info = (uint32_t)tail + (PA_INUSE - PA_FREE);    /* tail: PA_INFO(PA_FREE, order) */
    return idx + pa->delta[tail >> 32];
}

/* The first block of list (zn, j), j >= order, split down to `order`. */
static __attribute__((noinline))
pfn_t take_block(struct page_alloc *pa, struct pa_zone *zn, unsigned j, unsigned order)
{
    return j == order ? take_exact(pa, zn, order) : take_split(pa, zn, j, order);
}

/*
 * No block in the preferred zone (order <= PA_MAX_ORDER; pa_alloc() has
 * seen that the LOW zone or lazy init may help): LOW if the caller allows
 * the fallback, else initialise deferred memory until a block turns up or
 * none is left.
 */
static __attribute__((noinline, cold))
pfn_t alloc_slow(struct page_alloc *pa, unsigned order, unsigned flags)
{
    uint32_t bits = pa->zone[PA_ZONE_LOW].avail >> order;

    if (!(flags & PA_ALLOC_LOW) && bits)
        return take_block(pa, &pa->zone[PA_ZONE_LOW], order + (unsigned)__builtin_ctz(bits),
                          order);
    while (grow(pa, flags)) {
        /* High memory first: keep what lies below 4 GiB for those who need it. */
        for (unsigned z = flags & PA_ALLOC_LOW; z < PA_NR_ZONES; z++) {
            bits = pa->zone[z].avail >> order;
            if (bits)
                return take_block(pa, &pa->zone[z], order + (unsigned)__builtin_ctz(bits),
                                  order);
        }
    }
    return PA_NO_FRAME;
}

pfn_t pa_alloc(struct page_alloc *pa, unsigned order, unsigned flags)
{
    struct pa_zone *zn = &pa->zone[flags & PA_ALLOC_LOW];  /* PA_ZONE_LOW or _HIGH */
    uint32_t bits;

    if (unlikely(order > PA_MAX_ORDER))
        return PA_NO_FRAME;
    bits = zn->avail >> order;
    if (likely(bits & 1))
        return take_exact(pa, zn, order);
    if (unlikely(!bits)) {
        /* Out of memory of this order: fail fast when neither the LOW zone
         * (the same lists when flags ask for it) nor lazy init can help. */
        if (!pa->nr_defer && !(pa->zone[PA_ZONE_LOW].avail >> order))
            return PA_NO_FRAME;
        return alloc_slow(pa, order, flags);
    }
    /* Only larger blocks: split the first of the smallest. */
    return take_split(pa, zn, order + (unsigned)__builtin_ctz(bits), order);
}

/* Free an INUSE block that holds offlining frames: they become OFFLINED. */
static void free_offlining(struct page_alloc *pa, int i, pfn_t f, unsigned k)
{
    const struct pa_range *r = &pa->range[i];
    struct pa_frame *e = ent(pa, r, f);
    pfn_t size = 1ULL << k, p, q;
    uint64_t noff = 0;

    for (p = 0; p < size; p++) {
        uint32_t x = e[p].info;
        bool off = p ? x != 0 : (x & PA_STATE_MASK) == PA_OFFLINING;

        e[p].info = 0;
        if (off) {
            e[p].info = PA_INFO(PA_OFFLINED, 0);
            e[p].rid = (uint32_t)i;
            noff++;
        }
    }
    pa->count[PA_OFFLINING] -= noff;
    pa->count[PA_OFFLINED] += noff;
    pa->count[PA_INUSE] -= size - noff;
    for (p = 0; p < size; p = q) {
        if (e[p].info) {
            q = p + 1;
            continue;
        }
        for (q = p; q < size && !e[q].info; q++)
            ;
        free_range(pa, r, (uint32_t)i, f + p, f + q);
    }
}

/* Everything but the common case: classify, or run the init path. */
static int free_slow(struct page_alloc *pa, int i, pfn_t f, unsigned k)
{
    const struct pa_range *r = &pa->range[i];
    pfn_t size = 1ULL << k;
    struct seg s;

    seg_at(pa, r, f, &s);
    switch (s.state) {
    case PA_UNINITIALISED:
        /* Pages that never went through init enter the heap now. */
        return range_op(pa, f, size, BIT(PA_UNINITIALISED), PA_FREE, OP_MIXED);
    case PA_FREE:
        return fail(pa, f, s.start <= f && f + size <= s.end ? PA_E_DOUBLE_FREE
                                                             : PA_E_FREE_FRAME);
    case PA_INUSE:
        if (s.start != f)
            return fail(pa, f, PA_E_INTERIOR);
        if (s.order != k)
            return fail(pa, f, PA_E_WRONG_ORDER);
        free_offlining(pa, i, f, k);
        return PA_OK;
    default:
        return fail(pa, f, state_err(s.state));
    }
}

/* The fast path's checks failed: redo them one by one and name the problem. */
static __attribute__((noinline, cold))
int free_checked(struct page_alloc *pa, pfn_t f, unsigned k)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    pa->last_range = (unsigned)i;
    pa->cur = pa->range[i];
    r = &pa->range[i];
    if (k > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    if (f & ((1ULL << k) - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    if (r->end - f < (1ULL << k))
        return fail(pa, r->end, PA_E_SPANS);
    if (touched(pa, r, f) && ent(pa, r, f)->info == PA_INFO(PA_INUSE, k)) {
        pa->count[PA_INUSE] -= 1ULL << k;
        free_insert(pa, r, f, k);
        return PA_OK;
    }
    return free_slow(pa, i, f, k);
}

/* pa_free() of a valid INUSE block in a chunk the range only partly
 * covers: buddies need their bounds checked. */
static __attribute__((noinline))
int free_edge(struct page_alloc *pa, pfn_t f, unsigned k)
{
    pa->count[PA_INUSE] -= 1ULL << k;
    free_insert(pa, &pa->cur, f, k);
    return PA_OK;
}

/*
 * pa_free() of the block at e, `size` frames at offset c in a chunk wholly
 * inside its range, whose buddy be is FREE: unlink buddies and climb
 * until one is not free or the block is the whole chunk. Every buddy met
 * lies in the chunk, whose entries are contiguous in the table: the loop
 * works on the offset in the chunk and finds a buddy's entry with one xor,
 * with no bounds to test.
 */
static __attribute__((noinline))
int free_merge_chunk(struct pa_frame *t, struct pa_zone *zn, pfn_t size, pfn_t c,
                     struct pa_frame *e, struct pa_frame *be)
{
    struct pa_frame *cb = e - c;            /* the chunk's first entry */
    uint32_t want = be->info;               /* PA_INFO(PA_FREE, k) */
    uint32_t idx, h;

    zn->nr_free += size;
    e->info = 0;                            /* the union's head is written below */
    for (;;) {
        /* Unlink the buddy (list_del(), open-coded). */
        uint32_t n = be->next, p = be->prev;

        be->info = 0;
        if (p != PA_NIL)
            t[p].next = n;
        else if ((zn->head[ORDER_OF(want)] = n) == PA_NIL)
            zn->avail ^= (uint32_t)size;    /* clears BIT(k): set, the list held be */
        if (n != PA_NIL)
            t[n].prev = p;
        c &= ~size;                         /* the union starts at the lower one */
        size <<= 1;
        want += 1U << PA_ORDER_SHIFT;
        if (size == PA_CHUNK_FRAMES)
            break;
        be = &cb[c ^ size];
        if (be->info != want)
            break;
    }
    /* list_push(), with BIT(k) at hand as size. */
    e = &cb[c];
    e->info = want;
    idx = (uint32_t)(e - t);
    h = zn->head[ORDER_OF(want)];
    e->next = h;
    e->prev = PA_NIL;
    if (h != PA_NIL)
        t[h].prev = idx;
    else
        zn->avail |= (uint32_t)size;        /* size < 2^32 here: it is BIT(k) */
    zn->head[ORDER_OF(want)] = idx;
    return PA_OK;
}

int pa_free(struct page_alloc *pa, pfn_t f, unsigned k)
{
    const struct pa_range *r = &pa->cur;
    struct pa_frame *t = pa->table, *e, *be;
    struct pa_zone *zn;
    pfn_t off = f - r->start, size;
    uint32_t want;

    /* In the cached range, chunk readable (an untouched chunk is not
     * zeroed yet: its entries mean nothing), order below the top one
     * (a top-order block has no buddy: the slow path frees it)... */
    if (unlikely(off >= r->len || (!r->all_touched && !touched(pa, r, f)) ||
                 k >= PA_MAX_ORDER))
        return free_checked(pa, f, k);
    e = &t[r->base + (uint32_t)off];
    /*
     * ...and one compare validates head, state INUSE, order, no offlining.
     * Alignment and span need no test of their own: a head entry of order
     * k only ever sits on a k-aligned frame with its whole block inside
     * the range (invariants pa_check() verifies), so a bad (f, k) cannot
     * match and takes the slow path, which names the error.
     */
    want = PA_INFO(PA_INUSE, k);
    if (unlikely(e->info != want))
        return free_checked(pa, f, k);
    if (unlikely(f - r->int_start >= r->int_len))
        return free_edge(pa, f, k);
    size = 1ULL << k;
    pa->count[PA_INUSE] -= size;
    zn = &pa->zone[pa_zone_of(f)];
    /* The buddy is in f's chunk, so in the range. */
    be = e + (int64_t)((f ^ size) - f);
    want -= PA_INUSE - PA_FREE;
    if (be->info == want)
        return free_merge_chunk(t, zn, size, f & (PA_CHUNK_FRAMES - 1), e, be);
    /* Common case: nothing to merge, just push. */
    zn->nr_free += size;
    e->info = want;
    list_push(t, zn, k, (uint32_t)(e - t));
    return PA_OK;
}

/* ---- offlining -------------------------------------------------------------------- */

static bool frame_offlining(const struct page_alloc *pa, const struct pa_range *r,
                            const struct seg *s, pfn_t f)
{
    const struct pa_frame *e = ent(pa, r, f);

    if (f == s->start)
        return (e->info & PA_STATE_MASK) == PA_OFFLINING;
    return e->info != 0;
}

int pa_offline(struct page_alloc *pa, pfn_t f, enum pa_state *newstate)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;
    struct pa_frame *e;
    struct seg s;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    seg_at(pa, r, f, &s);
    switch (s.state) {
    case PA_FREE:
        list_del(pa->table, &pa->zone[pa_zone_of(s.start)], s.order,
                 (uint32_t)(s.head - pa->table));
        pa->zone[pa_zone_of(s.start)].nr_free -= 1ULL << s.order;
        s.head->info = 0;
        e = ent(pa, r, f);
        e->info = PA_INFO(PA_OFFLINED, 0);
        e->rid = (uint32_t)i;
        pa->count[PA_OFFLINED]++;
        free_range(pa, r, (uint32_t)i, s.start, f);
        free_range(pa, r, (uint32_t)i, f + 1, s.end);
        *newstate = PA_OFFLINED;
        return PA_OK;
    case PA_INUSE:
        if (frame_offlining(pa, r, &s, f))
            return fail(pa, f, PA_E_OFFLINING);
        if (f == s.start)
            s.head->info = (s.head->info & ~PA_STATE_MASK) | PA_OFFLINING;
        else
            ent(pa, r, f)->info = PA_OFFLINING;     /* a mark, not a head */
        s.head->info |= PA_F_OFFL;
        pa->count[PA_INUSE]--;
        pa->count[PA_OFFLINING]++;
        *newstate = PA_OFFLINING;
        return PA_OK;
    default:
        return fail(pa, f, state_err(s.state));
    }
}

int pa_online(struct page_alloc *pa, pfn_t f, enum pa_state *newstate)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;
    struct pa_frame *e;
    struct seg s;
    bool any = false;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    seg_at(pa, r, f, &s);
    if (s.state == PA_OFFLINED) {
        s.head->info = 0;
        pa->count[PA_OFFLINED]--;
        free_range(pa, r, (uint32_t)i, f, f + 1);
        *newstate = PA_FREE;
        return PA_OK;
    }
    if (s.state != PA_INUSE || !frame_offlining(pa, r, &s, f))
        return fail(pa, f, s.state == PA_INUSE ? PA_E_INUSE : state_err(s.state));
    e = ent(pa, r, f);
    if (f == s.start)
        e->info = (e->info & ~PA_STATE_MASK) | PA_INUSE;
    else
        e->info = 0;
    pa->count[PA_OFFLINING]--;
    pa->count[PA_INUSE]++;
    /* Clear the block's flag once no frame in it is offlining any more. */
    e = s.head;
    any = (e->info & PA_STATE_MASK) == PA_OFFLINING;
    for (pfn_t p = 1; !any && p < (1ULL << s.order); p++)
        any = e[p].info != 0;
    if (!any)
        e->info &= ~PA_F_OFFL;
    *newstate = PA_INUSE;
    return PA_OK;
}

/* ---- queries ------------------------------------------------------------------------- */

enum pa_state pa_state(const struct page_alloc *pa, pfn_t f)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;
    struct seg s;

    if (i < 0)
        return PA_OUTSIDE;
    r = &pa->range[i];
    seg_at(pa, r, f, &s);
    if (s.state == PA_INUSE && frame_offlining(pa, r, &s, f))
        return PA_OFFLINING;
    return (enum pa_state)s.state;
}

void pa_states(const struct page_alloc *pa, pfn_t start, uint64_t count, uint8_t *out)
{
    pfn_t p = start, end = start + count;

    while (p < end) {
        int i = pa_range_of(pa, p);
        const struct pa_range *r;
        struct seg s;
        pfn_t b;

        if (i < 0) {
            out[p++ - start] = PA_OUTSIDE;
            continue;
        }
        r = &pa->range[i];
        seg_at(pa, r, p, &s);
        b = MIN(s.end, end);
        for (pfn_t q = p; q < b; q++)
            out[q - start] = (uint8_t)(s.offl && frame_offlining(pa, r, &s, q)
                                       ? PA_OFFLINING : s.state);
        p = b;
    }
}

uint64_t pa_nr_frames(const struct page_alloc *pa, enum pa_state st)
{
    uint64_t n = pa->used;

    switch (st) {
    case PA_FREE:
        return pa->zone[0].nr_free + pa->zone[1].nr_free;
    case PA_UNINITIALISED:
        n -= pa->zone[0].nr_free + pa->zone[1].nr_free;
        for (unsigned s = PA_INUSE; s < PA_NR_STATES; s++)
            n -= pa->count[s];
        return n;
    default:
        return st < PA_NR_STATES ? pa->count[st] : 0;
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast allocator's representation: the frame table, its lazily zeroed
 * chunks, the free lists, the one merge loop, and what covers a frame.
 *
 * The table holds one 16-byte entry per frame of the registered ranges, at
 * a compact 32-bit index (ranges laid out one after the other: gaps in the
 * map cost nothing). Only block heads carry information: a head says
 * "frames [f, f + 2^order) are one block in state S" (and, in use, whose).
 * Every other entry is zero, except an offlining mark on a frame inside an
 * in-use block. So a frame covered by no block is UNINITIALISED, or FREE if
 * it lies in a deferred extent (free RAM not yet put on a list), and the
 * all-zero table is the all-UNINITIALISED table.
 *
 * Lazy zeroing: a chunk (PA_CHUNK_FRAMES frames, aligned in frame space)
 * is read only once its bit in pa->touched is set, and is zeroed then
 * unless the storage was known zero (PA_TABLE_ZEROED). An untouched chunk
 * is wholly in its range's starting state. Init costs O(blocks), not
 * O(frames).
 */
#include "page_fast.h"
#include <pvhk/string.h>

/* ---- chunks -------------------------------------------------------------------- */

bool pa_chunk_touched(const struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    return touched(pa, r, f);
}

/*
 * Make f's chunk readable: zero its entries on first use. In an unbacked
 * range the untouched chunk stood for "all RELEASED", so that is written
 * down now as explicit blocks (maximal aligned pieces: O(log) heads) and
 * the caller changes them like any others. The counters already hold
 * these frames (pa_add_range_unbacked()), so none changes.
 */
void touch_chunk(struct page_alloc *pa, const struct pa_range *r, pfn_t f)
{
    uint32_t c = chunk_bit(r, f);
    struct pa_range *rw = &pa->range[r - pa->range];    /* r is in pa->range[] */

    if ((pa->touched[c / 64] >> (c % 64)) & 1)
        return;
    /* First: emit_blocks() touches. Atomic: a per-CPU cache reads the bit
     * without the heap's lock (mm/page_cpu.c). */
    __atomic_fetch_or(&pa->touched[c / 64], 1ULL << (c % 64), __ATOMIC_RELAXED);
    if (!(pa->flags & PA_TABLE_ZEROED) || r->unbacked) {
        pfn_t a = MAX(r->start, chunk_start(f)), b = MIN(r->end, chunk_end(f));

        if (!(pa->flags & PA_TABLE_ZEROED))
            memset(ent(pa, r, a), 0, (size_t)(b - a) * sizeof(struct pa_frame));
        if (r->unbacked)
            emit_blocks(pa, r, PA_INFO(PA_RELEASED, 0), a, b);
    }
    /* Once the last chunk of a range is touched, pa_free() skips the bit
     * test. Atomic: a per-CPU cache reads it without the heap's lock. */
    if (--rw->untouched)
        return;
    __atomic_store_n(&rw->all_touched, 1, __ATOMIC_RELAXED);
    if (rw == &pa->range[pa->last_range])
        pa->cur = *rw;
}

int pa_range_of(const struct page_alloc *pa, pfn_t f)
{
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (f - pa->range[i].start < pa->range[i].len)
            return (int)i;
    return -1;
}

/* ---- putting blocks on the free lists ------------------------------------------ */

/*
 * The free buddy of the block (f, k), or NULL: the block of order k at
 * f ^ 2^k, if it lies wholly inside the range and is a FREE head of order
 * k. f's chunk is touched, and an aligned block's buddy is in the same
 * chunk (k < PA_MAX_ORDER), so the entry is readable once in the range.
 */
static struct pa_frame *free_buddy(const struct page_alloc *pa, const struct pa_range *r,
                                   pfn_t f, unsigned k)
{
    pfn_t size = 1ULL << k, b = f ^ size;
    struct pa_frame *be;

    /* b >= start and b + size <= end, in one compare (len >= size). */
    if (b - r->start > r->len - size)
        return NULL;
    be = &pa->table[idx_of(r, b)];
    return info_load(be) == PA_INFO(PA_FREE, k) ? be : NULL;
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
 * The merge loop, the only one: put the block (f, k) on its free list,
 * coalesced with its free buddies; be is the first of them. Coalescing
 * never goes past a block of `stop` frames (a chunk, or merge_limit() at a
 * range's ends), so after the first buddy no bound is tested. f's entry
 * and every buddy's are heads carrying the range index; merging makes one
 * of two heads the union's head, so no range index is written.
 * r may be pa->cur (pa_free()): only its delta is read.
 */
int free_merge(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k,
               struct pa_frame *be, pfn_t stop)
{
    struct pa_frame *t = pa->table;
    struct pa_zone *zn = &pa->zone[pa_zone_of(f)];
    pfn_t size = 1ULL << k;
    uint32_t want = PA_INFO(PA_FREE, k);    /* a free buddy's info at this order */

    zn->nr_free += size;
    t[idx_of(r, f)].info = 0;               /* the union's head is written below */
    for (;;) {
        list_del(t, zn, k, be);
        be->info = 0;
        f &= ~size;                         /* the union starts at the lower one */
        size <<= 1;
        k++;
        want = INFO_ORDER_UP(want);
        if (size == stop)
            break;
        be = &t[idx_of(r, f ^ size)];
        if (info_load(be) != want)
            break;
    }
    t[idx_of(r, f)].info = want;
    list_push(t, zn, k, idx_of(r, f));
    return PA_OK;
}

/* Put the block (f, k), head entry holding its range index, on its free list. */
void free_insert(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k)
{
    struct pa_frame *be = k < PA_MAX_ORDER ? free_buddy(pa, r, f, k) : NULL;
    struct pa_zone *zn = &pa->zone[pa_zone_of(f)];
    uint32_t idx = idx_of(r, f);

    if (be) {
        pfn_t c = chunk_start(f);
        bool whole = c >= r->start && r->end - c >= PA_CHUNK_FRAMES;

        free_merge(pa, r, f, k, be, whole ? PA_CHUNK_FRAMES : merge_limit(r, f));
        return;
    }
    zn->nr_free += 1ULL << k;
    pa->table[idx].info = PA_INFO(PA_FREE, k);
    list_push(pa->table, zn, k, idx);
}

/* [a, b) of range r -> FREE in maximal aligned blocks, frame 0 left out. */
void free_range(struct page_alloc *pa, const struct pa_range *r, pfn_t a, pfn_t b)
{
    uint32_t rid = (uint32_t)(r - pa->range);

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

/* [a, b) -> blocks whose head info is `info` with their order added. */
void emit_blocks(struct page_alloc *pa, const struct pa_range *r, uint32_t info, pfn_t a,
                 pfn_t b)
{
    uint32_t rid = (uint32_t)(r - pa->range);

    while (a < b) {
        unsigned k = piece_order(a, b);
        struct pa_frame *e;

        touch_chunk(pa, r, a);
        e = ent(pa, r, a);
        e->info = info | (uint32_t)k << PA_ORDER_SHIFT;
        e->rid = rid;
        a += 1ULL << k;
    }
}

/* ---- per-CPU caches: the way back to the lists ---------------------------------------- */

/*
 * A cached block (mm/page_cpu.c) is FREE but off the lists, on its CPU's
 * stack. These put cached blocks on the lists, coalesced: the holder
 * changes, the state does not. They run with the heap's lists and the
 * CPU's cache both held (mm/page_smp.c).
 */

/* The cached block at table index idx, already off its CPU's stack -> the
 * lists: it leaves pa->count[PA_INUSE], which counted it while cached. */
void cache_unhold(struct page_alloc *pa, uint32_t idx, unsigned k)
{
    pa->count[PA_INUSE] -= 1ULL << k;
    free_insert(pa, &pa->range[pa->table[idx].rid], frame_of(pa, idx), k);
}

/* Every block CPU cpu holds in zone z -> the lists; how many frames. */
uint64_t cache_drain_zone(struct page_alloc *pa, unsigned cpu, unsigned z)
{
    struct pa_cpu *cc = &pa->cpu[cpu];
    uint64_t n = cpu_frames(cc, z);

    for (unsigned k = 0; k < PA_CACHE_ORDERS; k++)
        while (cc->st[k][z].nr)
            cache_unhold(pa, cc->st[k][z].idx[--cc->st[k][z].nr], k);
    return n;
}

uint64_t pa_drain(struct page_alloc *pa, unsigned cpu)
{
    uint64_t n = 0;

    for (unsigned c = 0; c < PA_MAX_CPUS; c++)
        if (cpu == PA_ALL_CPUS || cpu == c)
            for (unsigned z = 0; z < PA_NR_ZONES; z++)
                n += cache_drain_zone(pa, c, z);
    return n;
}

/*
 * An operation is about to change FREE frames of [a, b): every cached
 * block that meets it goes to the lists first (the operation acts on
 * listed blocks), as defer_settle() does for deferred memory.
 */
void cache_settle(struct page_alloc *pa, pfn_t a, pfn_t b)
{
    for (unsigned c = 0; c < PA_MAX_CPUS; c++) {
        struct pa_cpu *cc = &pa->cpu[c];

        for (unsigned z = 0; z < PA_NR_ZONES; z++) {
            if (!cpu_frames(cc, z))
                continue;
            for (unsigned k = 0; k < PA_CACHE_ORDERS; k++) {
                uint32_t *st = cc->st[k][z].idx;

                for (uint32_t j = 0; j < cc->st[k][z].nr;) {
                    uint32_t idx = st[j];
                    pfn_t f = frame_of(pa, idx);

                    if (f >= b || f + (1ULL << k) <= a) {
                        j++;
                        continue;
                    }
                    st[j] = st[--cc->st[k][z].nr];
                    cache_unhold(pa, idx, k);
                }
            }
        }
    }
}

/* ---- what covers a frame ----------------------------------------------------------- */

/* The deferred extent of range rid holding p, or the first one after p; -1 if none. */
int defer_find(const struct page_alloc *pa, uint32_t rid, pfn_t p)
{
    for (unsigned j = 0; j < pa->nr_defer; j++)
        if (pa->defer[j].rid == rid && pa->defer[j].end > p)
            return (int)j;          /* sorted and disjoint: the first such is it */
    return -1;
}

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
        if (INFO_IS_HEAD(he->info)) {
            /* Blocks are disjoint: the first head met is the only candidate. */
            if (p - h < (1ULL << INFO_ORDER(he->info))) {
                *hp = h;
                return he;
            }
            return NULL;
        }
    }
    return NULL;
}

/*
 * What covers p: its block, or the run of head-less frames from p (up to
 * the next head, the chunk's or the range's end, or a deferred extent's
 * edge). r is the range holding p (in pa->range[]).
 */
void seg_at(const struct page_alloc *pa, const struct pa_range *r, pfn_t p, struct seg *s)
{
    pfn_t h;
    struct pa_frame *he;
    int j;

    *s = (struct seg){ .start = p, .end = MIN(r->end, chunk_end(p)),
                       .state = PA_UNINITIALISED };
    if (!touched(pa, r, p)) {
        /* Nothing written in this chunk yet: all of it is in the range's
         * starting state. (Writers touch it first.) */
        if (r->unbacked) {
            s->state = PA_RELEASED;
            return;
        }
    } else if ((he = find_head(pa, r, p, &h))) {
        unsigned st = INFO_STATE(he->info);

        s->block = true;
        s->head = he;
        s->start = h;
        s->order = INFO_ORDER(he->info);
        s->end = h + (1ULL << s->order);
        s->offl = st == PA_OFFLINING || (he->info & PA_F_OFFL);
        s->state = st == PA_OFFLINING ? PA_INUSE : st;
        s->owner = s->state == PA_INUSE ? INFO_OWNER(he->info) : 0;
        return;
    } else {
        /* Head-less run: up to the next non-zero entry (always a head). */
        const struct pa_frame *e = ent(pa, r, p);
        pfn_t q = p + 1;

        while (q < s->end && e[q - p].info == 0)
            q++;
        s->end = q;
    }
    /* Head-less frames are UNINITIALISED, or FREE where deferred. */
    j = defer_find(pa, (uint32_t)(r - pa->range), p);
    if (j < 0)
        return;
    if (pa->defer[j].start <= p) {
        s->state = PA_FREE;
        s->deferred = true;
        s->end = MIN(s->end, pa->defer[j].end);
    } else {
        s->end = MIN(s->end, pa->defer[j].start);
    }
}

/* Is f, in the INUSE block s, offlining? */
bool frame_offlining(const struct page_alloc *pa, const struct pa_range *r, const struct seg *s,
                     pfn_t f)
{
    const struct pa_frame *e = ent(pa, r, f);

    if (f == s->start)
        return INFO_STATE(e->info) == PA_OFFLINING;
    return e->info != 0;
}

/* ---- set-up ---------------------------------------------------------------------- */

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
    pfn_t end = start + count, shared = PA_NO_FRAME;
    struct pa_range *r;
    uint32_t nch;

    if (!count || end < start)
        return fail(pa, start, PA_E_INVAL);
    /* err_frame: the lowest frame shared with any registered range. */
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (start < pa->range[i].end && pa->range[i].start < end)
            shared = MIN(shared, MAX(start, pa->range[i].start));
    if (shared != PA_NO_FRAME)
        return fail(pa, shared, PA_E_OVERLAP);
    nch = (uint32_t)(((end - 1) >> PA_MAX_ORDER) - (start >> PA_MAX_ORDER) + 1);
    if (pa->nr_ranges == PA_MAX_RANGES || count > pa->capacity - pa->used ||
        nch > PA_MAX_CHUNKS - pa->nr_chunks)
        return fail(pa, start, PA_E_NOSPACE);

    r = &pa->range[pa->nr_ranges++];
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
    pa->low_only = pa->nr_ranges == 1 ? end <= PA_LOW_LIMIT : pa->low_only && end <= PA_LOW_LIMIT;
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

/* ---- queries --------------------------------------------------------------------- */

enum pa_state pa_state(const struct page_alloc *pa, pfn_t f)
{
    int i = pa_range_of(pa, f);
    struct seg s;

    if (i < 0)
        return PA_OUTSIDE;
    seg_at(pa, &pa->range[i], f, &s);
    if (s.offl && frame_offlining(pa, &pa->range[i], &s, f))
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

unsigned pa_owner(const struct page_alloc *pa, pfn_t f)
{
    int i = pa_range_of(pa, f);
    struct seg s;

    if (i < 0)
        return 0;
    seg_at(pa, &pa->range[i], f, &s);
    return s.owner;
}

/* Cached frames are FREE, though pa->count[PA_INUSE] counts them (the
 * caches' fast paths touch no shared counter, mm/page_cpu.c). */
uint64_t pa_nr_frames(const struct page_alloc *pa, enum pa_state st)
{
    uint64_t cached = cache_frames_all(pa);
    uint64_t nfree = pa->zone[0].nr_free + pa->zone[1].nr_free + pa->nr_deferred + cached;
    uint64_t inuse = pa->count[PA_INUSE] - cached;
    uint64_t n = pa->used - nfree - inuse;

    switch (st) {
    case PA_FREE:
        return nfree;
    case PA_INUSE:
        return inuse;
    case PA_UNINITIALISED:
        for (unsigned s = PA_OFFLINING; s < PA_NR_STATES; s++)
            n -= pa->count[s];
        return n;
    default:
        return st < PA_NR_STATES ? pa->count[st] : 0;
    }
}

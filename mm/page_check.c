/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Invariant checker for the frame table and buddy allocator.
 *
 * Walks every touched chunk of every range and every free list, and
 * recounts everything the allocator keeps incrementally. O(frames): for
 * tests, the trace tool and kernel self-tests, never on a hot path. It
 * reads only (const), so it may run at any point between operations.
 *
 * What it proves, per docs/allocator.md "Invariants":
 *   - every head is a valid state, aligned to its order, inside its range,
 *     carries its range index, and frame 0 is in no block;
 *   - every entry inside a block is zero, except offlining marks inside an
 *     in-use block flagged PA_F_OFFL (and such a block has at least one);
 *   - OFFLINED blocks are single frames;
 *   - no FREE block has a FREE buddy of the same order in its range
 *     (coalescing is complete);
 *   - each free list holds exactly the FREE heads of its zone and order
 *     (none in an untouched chunk),
 *     with consistent back links and no cycle, and the avail bitmap agrees;
 *   - the per-state counters equal a recount (an untouched chunk of an
 *     unbacked range counts as RELEASED);
 *   - deferred extents are sorted, disjoint, inside their range, without
 *     frame 0, and wholly UNINITIALISED (never in an untouched chunk of an
 *     unbacked range: those frames are RELEASED);
 *   - an unbacked range does not hold frame 0;
 *   - pa_free()'s cached copy of the last range used equals that range.
 */
#include "page_fast.h"


static int bad(struct pa_violation *v, pfn_t f, const char *what)
{
    v->err = PA_E_CORRUPT;
    v->frame = f;
    v->what = what;
    return PA_E_CORRUPT;
}

static const struct pa_frame *entry(const struct page_alloc *pa,
                                    const struct pa_range *r, pfn_t f)
{
    return &pa->table[r->base + (f - r->start)];
}

/* Is table index idx on CPU c's stack for zone z, order k? */
static bool on_stack(const struct pa_cpu *cc, unsigned z, unsigned k, uint32_t idx)
{
    for (uint32_t j = 0; j < cc->st[k][z].nr; j++)
        if (cc->st[k][z].idx[j] == idx)
            return true;
    return false;
}

/* Check the block whose head is at p; add its frames to the recount. */
static int check_block(const struct page_alloc *pa, unsigned i, pfn_t p,
                       uint64_t *cnt, uint64_t *nfree, uint64_t (*nlist)[PA_NR_ORDERS],
                       uint64_t (*ncached)[PA_NR_ZONES], uint64_t *nheads,
                       struct pa_violation *v, pfn_t *next)
{
    const struct pa_range *r = &pa->range[i];
    const struct pa_frame *e = entry(pa, r, p);
    uint32_t x = e->info;
    unsigned st = x & PA_STATE_MASK, o = INFO_ORDER(x);
    pfn_t size, q;
    uint64_t noff = 0;
    bool inuse = st == PA_INUSE || st == PA_OFFLINING;

    if (!(x & PA_HEAD))
        return bad(v, p, "offlining mark outside an in-use block");
    if (st == PA_UNINITIALISED || st >= PA_NR_STATES)
        return bad(v, p, "head with an invalid state");
    if (o > PA_MAX_ORDER)
        return bad(v, p, "head with an order above the maximum");
    size = 1ULL << o;
    if (p & (size - 1))
        return bad(v, p, "block not aligned to its order");
    if (size > r->end - p)
        return bad(v, p, "block runs past the end of its range");
    if (p == 0)
        return bad(v, p, "frame 0 is in a block");
    if (e->rid != i)
        return bad(v, p, "head carries the wrong range index");
    if ((x & PA_F_OFFL) && !inuse)
        return bad(v, p, "offlining flag on a block that is not in use");
    if (st == PA_OFFLINING && !(x & PA_F_OFFL))
        return bad(v, p, "offlining head without the block flag");
    if ((x & PA_F_CACHED) && st != PA_FREE)
        return bad(v, p, "cached flag on a block that is not free");
    if (INFO_OWNER(x) && !inuse && !(x & PA_F_CACHED))
        return bad(v, p, "owner on a block that is not in use");
    if (x & ~(PA_STATE_MASK | PA_HEAD | PA_F_OFFL | PA_F_CACHED |
              (PA_ORDER_MASK << PA_ORDER_SHIFT) |
              (PA_MAX_OWNER << PA_OWNER_SHIFT)))
        return bad(v, p, "unknown bits in a head");
    if (st == PA_OFFLINED && o)
        return bad(v, p, "offlined block larger than one frame");

    for (q = 1; q < size; q++) {
        uint32_t y = entry(pa, r, p + q)->info;

        if (!y)
            continue;
        if (inuse && (x & PA_F_OFFL) && y == PA_OFFLINING) {
            noff++;
            continue;
        }
        return bad(v, p + q, "non-zero entry inside a block");
    }
    if (st == PA_OFFLINING)
        noff++;
    if ((x & PA_F_OFFL) && !noff)
        return bad(v, p, "offlining flag but no offlining frame");

    if (x & PA_F_CACHED) {
        unsigned c = INFO_OWNER(x), z = pa_zone_of(p);

        if (c >= PA_MAX_CPUS || o >= PA_CACHE_ORDERS ||
            !on_stack(&pa->cpu[c], z, o, r->base + (uint32_t)(p - r->start)))
            return bad(v, p, "cached block not on its CPU's stack");
        ncached[c][z] += size;
        nheads[c]++;
    } else if (st == PA_FREE) {
        unsigned z = pa_zone_of(p);
        pfn_t bf = p ^ size;

        nfree[z] += size;
        nlist[z][o]++;
        if (o < PA_MAX_ORDER && bf >= r->start && bf + size <= r->end &&
            entry(pa, r, bf)->info == PA_INFO(PA_FREE, o))
            return bad(v, p, "free buddies not coalesced");
    } else if (inuse) {
        cnt[PA_INUSE] += size - noff;
        cnt[PA_OFFLINING] += noff;
    } else {
        cnt[st] += size;
    }
    *next = p + size;
    return 0;
}

static int check_lists(const struct page_alloc *pa, uint64_t (*nlist)[PA_NR_ORDERS],
                       struct pa_violation *v)
{
    for (unsigned z = 0; z < PA_NR_ZONES; z++) {
        for (unsigned k = 0; k < PA_NR_ORDERS; k++) {
            uint32_t idx = pa->zone[z].head[k], prev = PA_NIL;
            uint64_t n = 0;

            if (((pa->zone[z].avail >> k) & 1) != (idx != PA_NIL))
                return bad(v, PA_NO_FRAME, "avail bitmap disagrees with a free list");
            for (; idx != PA_NIL; prev = idx, idx = pa->table[idx].next) {
                const struct pa_frame *e;
                const struct pa_range *r;
                pfn_t f;

                if (idx >= pa->used || ++n > nlist[z][k])
                    return bad(v, PA_NO_FRAME, "free list longer than its free blocks "
                                               "(stray entry or cycle)");
                e = &pa->table[idx];
                if (e->info != PA_INFO(PA_FREE, k) || e->rid >= pa->nr_ranges)
                    return bad(v, PA_NO_FRAME, "free list holds a non-free block");
                r = &pa->range[e->rid];
                if (idx < r->base || idx - r->base >= r->end - r->start)
                    return bad(v, PA_NO_FRAME, "free list entry outside its range");
                f = r->start + (idx - r->base);
                /* An untouched chunk's storage was never written: whatever
                 * it holds, no block lives there. */
                if (!pa_chunk_touched(pa, r, f))
                    return bad(v, f, "free list entry in an untouched chunk");
                if (pa_zone_of(f) != z)
                    return bad(v, f, "free block on the wrong zone's list");
                if (e->prev != prev)
                    return bad(v, f, "free list back link broken");
            }
            if (n != nlist[z][k])
                return bad(v, PA_NO_FRAME, "free block missing from its free list");
        }
    }
    return 0;
}

static int check_defer(const struct page_alloc *pa, struct pa_violation *v)
{
    uint64_t n = 0;

    for (unsigned j = 0; j < pa->nr_defer; j++) {
        const struct pa_defer *x = &pa->defer[j];
        const struct pa_range *r;

        if (x->rid >= pa->nr_ranges || x->start >= x->end)
            return bad(v, x->start, "malformed deferred extent");
        r = &pa->range[x->rid];
        if (x->start < r->start || x->end > r->end || x->start == 0)
            return bad(v, x->start, "deferred extent outside its range or holds frame 0");
        if (j && pa->defer[j - 1].end > x->start)
            return bad(v, x->start, "deferred extents unsorted or overlapping");
        if (j && pa->defer[j - 1].rid == x->rid && pa->defer[j - 1].end == x->start)
            return bad(v, x->start, "adjacent deferred extents not joined");
        n += x->end - x->start;
        for (pfn_t f = x->start; f < x->end;) {
            pfn_t lim = MIN(x->end, (f | (PA_CHUNK_FRAMES - 1)) + 1);

            if (pa_chunk_touched(pa, r, f)) {
                for (; f < lim; f++)
                    if (entry(pa, r, f)->info)
                        return bad(v, f, "deferred frame is initialised");
            } else if (r->unbacked) {
                return bad(v, f, "deferred frame is released (untouched unbacked chunk)");
            }
            f = lim;
        }
    }
    if (n != pa->nr_deferred)
        return bad(v, PA_NO_FRAME, "deferred-frame counter differs from the extents");
    return 0;
}

/* A cache's copy of its last range (len != 0) names a fully touched range. */
static bool range_copy_ok(const struct page_alloc *pa, const struct pa_cpu *cc)
{
    for (unsigned i = 0; i < pa->nr_ranges; i++) {
        const struct pa_range *r = &pa->range[i];

        if (r->start == cc->start && r->len == cc->len && r->delta == cc->delta)
            return r->all_touched;
    }
    return false;
}

/*
 * Every stack entry is a cached head of its CPU, zone and order; with
 * every cached head found on its stack (check_block()) and as many
 * entries as heads, the stacks hold exactly the cached blocks, once each.
 */
static int check_caches(const struct page_alloc *pa, uint64_t (*ncached)[PA_NR_ZONES],
                        const uint64_t *nheads, struct pa_violation *v)
{
    for (unsigned c = 0; c < PA_MAX_CPUS; c++) {
        const struct pa_cpu *cc = &pa->cpu[c];
        uint64_t n = 0;

        for (unsigned z = 0; z < PA_NR_ZONES; z++) {
            for (unsigned k = 0; k < PA_CACHE_ORDERS; k++) {
                if (cc->st[k][z].nr > PA_CACHE_SIZE || cc->st[k][z].cap > PA_CACHE_SIZE)
                    return bad(v, PA_NO_FRAME, "cache stack overflows");
                for (uint32_t j = 0; j < cc->st[k][z].nr; j++) {
                    uint32_t idx = cc->st[k][z].idx[j];
                    const struct pa_frame *e = &pa->table[idx];
                    pfn_t f;

                    if (idx >= pa->used || e->rid >= pa->nr_ranges ||
                        e->info != (PA_INFO(PA_FREE, k) | PA_F_CACHED | c << PA_OWNER_SHIFT))
                        return bad(v, PA_NO_FRAME, "cache holds a block that is not "
                                                   "cached there");
                    f = idx + pa->range[e->rid].delta;
                    if (pa_zone_of(f) != z)
                        return bad(v, f, "cached block on the wrong zone's stack");
                }
                n += cc->st[k][z].nr;
            }
            if (ncached[c][z] != cpu_frames(cc, z))
                return bad(v, PA_NO_FRAME, "cached frames differ from the stacks' blocks");
        }
        if (n != nheads[c])
            return bad(v, PA_NO_FRAME, "cache stack holds a block twice");
        if (cc->len && !range_copy_ok(pa, cc))
            return bad(v, PA_NO_FRAME, "a cache's copy of its range differs from the range");
    }
    return 0;
}

int pa_check(const struct page_alloc *pa, struct pa_violation *v)
{
    uint64_t cnt[PA_NR_STATES] = { 0 }, nfree[PA_NR_ZONES] = { 0 };
    uint64_t nlist[PA_NR_ZONES][PA_NR_ORDERS] = { { 0 } };
    uint64_t ncached[PA_MAX_CPUS][PA_NR_ZONES] = { { 0 } }, nheads[PA_MAX_CPUS] = { 0 };
    bool high = false;
    uint64_t total = 0, untouched;
    int err;

    v->err = 0;
    v->frame = PA_NO_FRAME;
    v->what = NULL;
    for (unsigned i = 0; i < pa->nr_ranges; i++) {
        const struct pa_range *r = &pa->range[i];
        pfn_t p = r->start;

        if (r->base != total)
            return bad(v, r->start, "range table index not contiguous");
        if (r->len != r->end - r->start || r->delta != r->start - r->base)
            return bad(v, r->start, "range length or index offset inconsistent");
        if (r->unbacked > 1 || (r->unbacked && r->start == 0))
            return bad(v, r->start, "unbacked flag invalid or on a range holding frame 0");
        if (r->int_start != ALIGN_UP(r->start, PA_CHUNK_FRAMES) ||
            r->int_len != (ALIGN_DOWN(r->end, PA_CHUNK_FRAMES) > r->int_start ?
                           ALIGN_DOWN(r->end, PA_CHUNK_FRAMES) - r->int_start : 0))
            return bad(v, r->start, "range's whole-chunk span inconsistent");
        total += r->end - r->start;
        high |= r->end > PA_LOW_LIMIT;
        untouched = 0;
        for (pfn_t c = ALIGN_DOWN(r->start, PA_CHUNK_FRAMES); c < r->end; c += PA_CHUNK_FRAMES)
            untouched += !pa_chunk_touched(pa, r, MAX(c, r->start));
        if (untouched != r->untouched || (!untouched && !r->all_touched))
            return bad(v, r->start, "range's untouched-chunk count differs from a recount");
        while (p < r->end) {
            pfn_t lim = MIN(r->end, (p | (PA_CHUNK_FRAMES - 1)) + 1);
            const struct pa_frame *e = entry(pa, r, p);

            if (!pa_chunk_touched(pa, r, p)) {
                /* Never written: all in the range's starting state. */
                if (r->unbacked)
                    cnt[PA_RELEASED] += lim - p;
                p = lim;
                continue;
            }
            /* Blocks never cross a chunk boundary: walk this chunk. */
            while (p < lim) {
                if (!e[0].info) {
                    p++;
                    e++;
                    continue;
                }
                err = check_block(pa, i, p, cnt, nfree, nlist, ncached, nheads, v, &p);
                if (err)
                    return err;
                e = entry(pa, r, p);
            }
        }
    }
    if (total != pa->used)
        return bad(v, PA_NO_FRAME, "table use differs from the sum of the ranges");
    /* pa_alloc() trusts its copy of every range's delta. */
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (pa->delta[i] != pa->range[i].delta)
            return bad(v, pa->range[i].start, "pa_alloc()'s copy of a range delta differs");
    /* pa_free() trusts its copy of the last range used (len 0: none yet). */
    if (pa->cur.len) {
        const struct pa_range *r = &pa->range[pa->last_range];

        if (pa->last_range >= pa->nr_ranges || pa->cur.start != r->start ||
            pa->cur.end != r->end || pa->cur.len != r->len || pa->cur.delta != r->delta ||
            pa->cur.base != r->base || pa->cur.chunk_adj != r->chunk_adj ||
            pa->cur.all_touched != r->all_touched || pa->cur.unbacked != r->unbacked ||
            pa->cur.int_start != r->int_start || pa->cur.int_len != r->int_len)
            return bad(v, PA_NO_FRAME, "pa_free()'s cached range differs from its range");
    }
    err = check_lists(pa, nlist, v);
    if (err)
        return err;
    for (unsigned z = 0; z < PA_NR_ZONES; z++)
        if (nfree[z] != pa->zone[z].nr_free)
            return bad(v, PA_NO_FRAME, "free-frame counter differs from a recount");
    if (cnt[PA_INUSE] + cache_frames_all(pa) != pa->count[PA_INUSE])
        return bad(v, PA_NO_FRAME, "state counter differs from a recount");
    for (unsigned s = PA_OFFLINING; s < PA_NR_STATES; s++)
        if (cnt[s] != pa->count[s])
            return bad(v, PA_NO_FRAME, "state counter differs from a recount");
    if (pa->nr_ranges && high == !!pa->low_only)
        return bad(v, PA_NO_FRAME, "low_only differs from the ranges");
    err = check_caches(pa, ncached, nheads, v);
    if (err)
        return err;
    return check_defer(pa, v);
}

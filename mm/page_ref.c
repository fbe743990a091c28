/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reference page allocator: docs/allocator.md written as plainly as it
 * can be. Read that contract's sections "Frames, ranges, zones, blocks",
 * "States", "Operations", "free, exactly" and "Allocation policy" next to
 * this file; mm/page_alloc*.c implements the same contract fast.
 *
 * Representation. One struct pr_frame per frame of every registered range,
 * the ranges laid out one after another in the caller's table. An entry
 * holds its frame's state and, for a frame of an in-use block (INUSE or
 * OFFLINING), the block's order and owner; the block is the frame aligned
 * down to that order, and every frame of it holds the same order and owner.
 * Every other entry has order 0 and owner 0. Nothing else has structure:
 *
 *   - a FREE frame is just FREE. Free blocks are implied: a block all of
 *     whose frames are FREE is free, so "coalescing is complete" holds by
 *     definition and freeing never merges anything;
 *   - deferred memory does not exist here: pr_defer() makes frames FREE at
 *     once (deferral is a cost of the fast allocator, not a state);
 *   - pr_alloc() looks at the frames for the lowest suitable block.
 *
 * Every operation makes all its checks first, in the order the contract
 * gives, and only then writes frames, so a refused operation changes
 * nothing but err_frame. Every frame written goes through set_frame(),
 * which keeps the counters (frames per state, FREE frames per range).
 *
 * Pure code: no globals, no allocation; the caller owns struct page_ref
 * and the table storage.
 */
#include <pvhk/page_ref.h>
#include <pvhk/string.h>

#define BIT(s)      (1U << (s))

/* ---- helpers ------------------------------------------------------------- */

static int fail(struct page_ref *pa, pfn_t f, int err)
{
    pa->err_frame = f;
    return err;
}

/* Index of the registered range holding f, or -1. */
static int range_index(const struct page_ref *pa, pfn_t f)
{
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (f >= pa->range[i].start && f < pa->range[i].end)
            return (int)i;
    return -1;
}

static struct pr_frame *frame(const struct page_ref *pa, const struct pr_range *r, pfn_t f)
{
    return &pa->table[r->base + (f - r->start)];
}

/* INUSE and OFFLINING frames belong to an in-use block (an offlining frame
 * stays in its block until the block is freed). */
static bool in_block(unsigned state)
{
    return state == PA_INUSE || state == PA_OFFLINING;
}

/* The first frame of the in-use block holding f, whose entry is e. */
static pfn_t block_head(const struct pr_frame *e, pfn_t f)
{
    return f & ~((1ULL << e->order) - 1);
}

/* The error an operation gets for a frame in a state it does not accept. */
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

/* The one place a frame changes: the counters follow it. */
static void set_frame(struct page_ref *pa, struct pr_range *r, pfn_t f, unsigned state,
                      unsigned order, unsigned owner)
{
    struct pr_frame *e = frame(pa, r, f);

    pa->count[e->state]--;
    r->nr_free -= e->state == PA_FREE;
    e->state = (uint8_t)state;
    e->order = (uint8_t)order;
    e->owner = (uint16_t)owner;
    pa->count[state]++;
    r->nr_free += state == PA_FREE;
}

/*
 * The order of the largest block that is aligned at p and ends by `end`,
 * at most PA_MAX_ORDER: one step of the contract's "maximal aligned blocks"
 * of a range (from its start, repeatedly the largest such block).
 */
static unsigned piece_order(pfn_t p, pfn_t end)
{
    unsigned k = 0;

    while (k < PA_MAX_ORDER && !(p & (1ULL << k)) && (2ULL << k) <= end - p)
        k++;
    return k;
}

/* ---- the three ways frames change ------------------------------------------- */

/* [a, b) -> INUSE blocks of `owner`: the maximal aligned blocks of [a, b). */
static void make_blocks(struct page_ref *pa, struct pr_range *r, pfn_t a, pfn_t b,
                        unsigned owner)
{
    while (a < b) {
        unsigned k = piece_order(a, b);

        for (pfn_t q = a; q < a + (1ULL << k); q++)
            set_frame(pa, r, q, PA_INUSE, k, owner);
        a += 1ULL << k;
    }
}

/*
 * [a, b) -> FREE: freeing a block, and the init path. An OFFLINING frame
 * becomes OFFLINED instead (it was waiting for its block to be freed), and
 * frame 0 stays UNINITIALISED: it never enters the heap, so no free block
 * can reach below frame 1 (Xen keeps MFN 0 out for the same reason).
 */
static void make_free(struct page_ref *pa, struct pr_range *r, pfn_t a, pfn_t b)
{
    for (pfn_t q = a; q < b; q++) {
        if (q == 0)
            continue;
        set_frame(pa, r, q, frame(pa, r, q)->state == PA_OFFLINING ? PA_OFFLINED : PA_FREE,
                  0, 0);
    }
}

/* [a, b) -> `state` (RELEASED, SCRATCH or UNINITIALISED), frame by frame. */
static void make_plain(struct page_ref *pa, struct pr_range *r, pfn_t a, pfn_t b,
                       unsigned state)
{
    for (pfn_t q = a; q < b; q++)
        set_frame(pa, r, q, state, 0, 0);
}

/* ---- set-up ---------------------------------------------------------------- */

void pr_setup(struct page_ref *pa, struct pr_frame *table, uint64_t capacity, unsigned flags)
{
    /* PA_TABLE_ZEROED does not matter: pr_add_range() writes every entry. */
    (void)flags;
    memset(pa, 0, sizeof(*pa));
    pa->table = table;
    pa->capacity = capacity;
    pa->err_frame = PA_NO_FRAME;
}

void pr_move_table(struct page_ref *pa, struct pr_frame *table, uint64_t capacity)
{
    /* The caller copied the first pa->used entries; entries hold no pointers. */
    pa->table = table;
    pa->capacity = capacity;
}

/* Register [start, start + count) with every frame in `state`. */
static int add_range(struct page_ref *pa, pfn_t start, uint64_t count, unsigned state)
{
    pfn_t end = start + count, shared = PA_NO_FRAME;
    struct pr_range *r;

    if (!count || end < start)
        return fail(pa, start, PA_E_INVAL);
    /* The error names the lowest frame the new range shares with any range. */
    for (unsigned i = 0; i < pa->nr_ranges; i++)
        if (start < pa->range[i].end && pa->range[i].start < end)
            shared = MIN(shared, MAX(start, pa->range[i].start));
    if (shared != PA_NO_FRAME)
        return fail(pa, shared, PA_E_OVERLAP);
    if (pa->nr_ranges == PA_MAX_RANGES || count > pa->capacity - pa->used)
        return fail(pa, start, PA_E_NOSPACE);
    r = &pa->range[pa->nr_ranges++];
    r->start = start;
    r->end = end;
    r->base = pa->used;
    r->nr_free = 0;
    pa->used += count;
    for (uint64_t j = 0; j < count; j++)
        pa->table[r->base + j] = (struct pr_frame){ .state = (uint8_t)state };
    pa->count[state] += count;
    return PA_OK;
}

int pr_add_range(struct page_ref *pa, pfn_t start, uint64_t count)
{
    return add_range(pa, start, count, PA_UNINITIALISED);
}

/* Memory that was never backed (dom0's extra memory) starts RELEASED. */
int pr_add_range_unbacked(struct page_ref *pa, pfn_t start, uint64_t count)
{
    if (start == 0 && count)
        return fail(pa, 0, PA_E_FRAME0);
    return add_range(pa, start, count, PA_RELEASED);
}

/* ---- range operations ------------------------------------------------------- */

/*
 * The checks of every range operation (docs/allocator.md, "Operations",
 * steps 1 to 4), in that order, changing nothing but err_frame. `allowed`
 * is the set of states the operation accepts, `target` the state it makes
 * (only a FREE target may start at frame 0: the init path skips frame 0).
 * On success *ri is the index of the range.
 *
 * Only release and unreserve accept in-use frames, and they take them
 * block by block: at the block's first frame in [start, end) the whole
 * block is judged, its OFFLINING frames included, and the scan goes on
 * after it. `owner` says whose blocks: 0 for release (the heap's own
 * blocks, with no OFFLINING frame), the caller's owner for unreserve.
 */
static int range_check(struct page_ref *pa, pfn_t start, uint64_t count, unsigned allowed,
                       unsigned target, unsigned owner, int *ri)
{
    const struct pr_range *r;
    pfn_t end, p;
    int i;

    if (!count)
        return fail(pa, start, PA_E_INVAL);
    i = range_index(pa, start);
    if (i < 0)
        return fail(pa, start, PA_E_OUTSIDE);
    r = &pa->range[i];
    if (count > r->end - start)
        return fail(pa, r->end, PA_E_SPANS);
    end = start + count;
    if (start == 0 && target != PA_FREE)
        return fail(pa, 0, PA_E_FRAME0);
    for (p = start; p < end;) {
        const struct pr_frame *e = frame(pa, r, p);
        pfn_t h, h_end;

        if (!in_block(e->state) || !(allowed & BIT(PA_INUSE))) {
            if (!(allowed & BIT(e->state)))
                return fail(pa, p, state_err(e->state));
            p++;
            continue;
        }
        h = block_head(e, p);
        h_end = h + (1ULL << e->order);
        if (owner == 0 && e->owner != 0)
            return fail(pa, h, PA_E_RESERVED);
        if (owner != 0 && e->owner != owner)
            return fail(pa, h, PA_E_OWNER);
        for (pfn_t q = h; owner == 0 && q < h_end; q++)
            if (frame(pa, r, q)->state == PA_OFFLINING)
                return fail(pa, h, PA_E_OFFLINING);
        if (h < start || h_end > end)
            return fail(pa, h, PA_E_PARTIAL);
        p = h_end;
    }
    *ri = i;
    return PA_OK;
}

int pr_init_range(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_UNINITIALISED), PA_FREE, 0, &i);

    if (err)
        return err;
    make_free(pa, &pa->range[i], start, start + count);
    return PA_OK;
}

/*
 * The reference defers nothing: deferred memory is FREE to every operation
 * and query, so pr_defer() is pr_init_range() and pr_init_all() has
 * nothing left to do.
 */
int pr_defer(struct page_ref *pa, pfn_t start, uint64_t count)
{
    return pr_init_range(pa, start, count);
}

uint64_t pr_init_all(struct page_ref *pa)
{
    (void)pa;
    return 0;
}

int pr_take(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_FREE), PA_INUSE, 0, &i);

    if (err)
        return err;
    make_blocks(pa, &pa->range[i], start, start + count, 0);
    return PA_OK;
}

#define RELEASE_ALLOWED (BIT(PA_FREE) | BIT(PA_UNINITIALISED) | BIT(PA_INUSE))

int pr_release(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, RELEASE_ALLOWED, PA_RELEASED, 0, &i);

    if (err)
        return err;
    make_plain(pa, &pa->range[i], start, start + count, PA_RELEASED);
    return PA_OK;
}

int pr_release_check(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i;

    return range_check(pa, start, count, RELEASE_ALLOWED, PA_RELEASED, 0, &i);
}

int pr_populate(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_RELEASED), PA_FREE, 0, &i);

    if (err)
        return err;
    make_free(pa, &pa->range[i], start, start + count);
    return PA_OK;
}

int pr_scratch(struct page_ref *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_UNINITIALISED) | BIT(PA_RELEASED),
                             PA_SCRATCH, 0, &i);

    if (err)
        return err;
    make_plain(pa, &pa->range[i], start, start + count, PA_SCRATCH);
    return PA_OK;
}

int pr_unscratch(struct page_ref *pa, pfn_t start, uint64_t count, enum pa_state to)
{
    int i, err;

    if (to != PA_RELEASED && to != PA_UNINITIALISED)
        return fail(pa, start, PA_E_INVAL);
    err = range_check(pa, start, count, BIT(PA_SCRATCH), to, 0, &i);
    if (err)
        return err;
    make_plain(pa, &pa->range[i], start, start + count, to);
    return PA_OK;
}

int pr_mark_inuse(struct page_ref *pa, pfn_t f, unsigned order)
{
    int i, err;

    if (order > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    if (f & ((1ULL << order) - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    err = range_check(pa, f, 1ULL << order, BIT(PA_UNINITIALISED), PA_INUSE, 0, &i);
    if (err)
        return err;
    make_blocks(pa, &pa->range[i], f, f + (1ULL << order), 0);    /* f aligned: one block */
    return PA_OK;
}

/* ---- boot ownership ---------------------------------------------------------- */

static bool owner_valid(unsigned owner)
{
    return owner != 0 && owner <= PA_MAX_OWNER;
}

int pr_reserve(struct page_ref *pa, pfn_t start, uint64_t count, unsigned owner)
{
    int i, err;

    if (!owner_valid(owner))
        return fail(pa, start, PA_E_INVAL);
    err = range_check(pa, start, count, BIT(PA_UNINITIALISED), PA_INUSE, 0, &i);
    if (err)
        return err;
    make_blocks(pa, &pa->range[i], start, start + count, owner);
    return PA_OK;
}

int pr_unreserve(struct page_ref *pa, pfn_t start, uint64_t count, unsigned owner)
{
    int i, err;

    if (!owner_valid(owner))
        return fail(pa, start, PA_E_INVAL);
    err = range_check(pa, start, count, BIT(PA_INUSE), PA_FREE, owner, &i);
    if (err)
        return err;
    make_free(pa, &pa->range[i], start, start + count);
    return PA_OK;
}

unsigned pr_owner(const struct page_ref *pa, pfn_t f)
{
    int i = range_index(pa, f);
    const struct pr_frame *e;

    if (i < 0)
        return 0;
    e = frame(pa, &pa->range[i], f);
    return in_block(e->state) ? e->owner : 0;
}

/* ---- alloc and free ------------------------------------------------------------ */

/*
 * The lowest block of 2^k frames in range r that lies in [lo, hi) and is
 * all FREE, or PA_NO_FRAME. Candidates are the k-aligned frames; a
 * candidate that meets a frame that is not FREE is abandoned and the
 * search goes on at the first aligned frame past it, or past its whole
 * block if it is in use (no candidate inside that block can be free).
 */
static pfn_t lowest_free_block(const struct page_ref *pa, const struct pr_range *r,
                               unsigned k, pfn_t lo, pfn_t hi)
{
    pfn_t size = 1ULL << k, a = MAX(r->start, lo), b = MIN(r->end, hi), h, q;

    if (r->nr_free < size || a >= b || b - a < size)
        return PA_NO_FRAME;
    for (h = ALIGN_UP(a, size); h <= b - size; h = ALIGN_UP(q, size)) {
        const struct pr_frame *e;

        for (q = h; q < h + size && frame(pa, r, q)->state == PA_FREE; q++)
            ;
        if (q == h + size)
            return h;
        e = frame(pa, r, q);
        q = in_block(e->state) ? block_head(e, q) + (1ULL << e->order) : q + 1;
        if (q > b - size)           /* also keeps ALIGN_UP(q) from wrapping */
            break;
    }
    return PA_NO_FRAME;
}

/* The lowest suitable block of order k lying in [lo, hi), over all ranges. */
static pfn_t lowest_suitable(const struct page_ref *pa, unsigned k, pfn_t lo, pfn_t hi)
{
    pfn_t best = PA_NO_FRAME;

    for (unsigned i = 0; i < pa->nr_ranges; i++) {
        const struct pr_range *r = &pa->range[i];
        pfn_t h;

        if (r->start >= best)
            continue;       /* ranges are disjoint: nothing in r lies lower */
        h = lowest_free_block(pa, r, k, lo, hi);
        best = MIN(best, h);
    }
    return best;
}

/*
 * "Allocation policy": a default request takes a suitable block at or
 * above 4 GiB if there is one, else one below; PA_ALLOC_LOW only below.
 * Which suitable block is implementation-defined; the reference takes the
 * lowest-addressed. A block never straddles the 4 GiB line (it is aligned
 * and at most 2^18 frames), so each search is over whole blocks.
 */
pfn_t pr_alloc(struct page_ref *pa, unsigned order, unsigned flags)
{
    pfn_t h = PA_NO_FRAME;

    if (order > PA_MAX_ORDER)
        return PA_NO_FRAME;
    if (!(flags & PA_ALLOC_LOW))
        h = lowest_suitable(pa, order, PA_LOW_LIMIT, PA_NO_FRAME);
    if (h == PA_NO_FRAME)
        h = lowest_suitable(pa, order, 0, PA_LOW_LIMIT);
    if (h == PA_NO_FRAME)
        return PA_NO_FRAME;
    make_blocks(pa, &pa->range[range_index(pa, h)], h, h + (1ULL << order), 0);
    return h;
}

/* docs/allocator.md, "free, exactly": the checks in that order. */
int pr_free(struct page_ref *pa, pfn_t f, unsigned order)
{
    int i = range_index(pa, f);
    struct pr_range *r;
    const struct pr_frame *e;
    pfn_t size, q;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    if (order > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    size = 1ULL << order;
    if (f & (size - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    if (r->end - f < size)
        return fail(pa, r->end, PA_E_SPANS);
    e = frame(pa, r, f);
    switch (e->state) {
    case PA_UNINITIALISED:
        /* Pages that entered circulation without heap init: init them now. */
        for (q = f; q < f + size; q++)
            if (frame(pa, r, q)->state != PA_UNINITIALISED)
                return fail(pa, q, PA_E_MIXED);
        make_free(pa, r, f, f + size);
        return PA_OK;
    case PA_FREE:
        /* Deferred frames are FREE too: freeing what nobody allocated. */
        for (q = f; q < f + size; q++)
            if (frame(pa, r, q)->state != PA_FREE)
                return fail(pa, f, PA_E_FREE_FRAME);
        return fail(pa, f, PA_E_DOUBLE_FREE);
    case PA_INUSE:
    case PA_OFFLINING:
        if (e->owner)
            return fail(pa, f, PA_E_RESERVED);     /* only pr_unreserve() frees it */
        if (block_head(e, f) != f)
            return fail(pa, f, PA_E_INTERIOR);
        if (e->order != order)
            return fail(pa, f, PA_E_WRONG_ORDER);
        make_free(pa, r, f, f + size);
        return PA_OK;
    default:
        return fail(pa, f, state_err(e->state));
    }
}

/* ---- offlining ------------------------------------------------------------------- */

int pr_offline(struct page_ref *pa, pfn_t f, enum pa_state *newstate)
{
    int i = range_index(pa, f);
    struct pr_range *r;
    const struct pr_frame *e;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    e = frame(pa, r, f);
    switch (e->state) {
    case PA_FREE:
        set_frame(pa, r, f, PA_OFFLINED, 0, 0);
        break;
    case PA_INUSE:
        /* Still in its block, with its owner, until the block is freed. */
        set_frame(pa, r, f, PA_OFFLINING, e->order, e->owner);
        break;
    default:
        return fail(pa, f, state_err(e->state));
    }
    *newstate = (enum pa_state)e->state;
    return PA_OK;
}

int pr_online(struct page_ref *pa, pfn_t f, enum pa_state *newstate)
{
    int i = range_index(pa, f);
    struct pr_range *r;
    const struct pr_frame *e;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    e = frame(pa, r, f);
    switch (e->state) {
    case PA_OFFLINED:
        set_frame(pa, r, f, PA_FREE, 0, 0);
        break;
    case PA_OFFLINING:
        set_frame(pa, r, f, PA_INUSE, e->order, e->owner);
        break;
    default:
        return fail(pa, f, state_err(e->state));
    }
    *newstate = (enum pa_state)e->state;
    return PA_OK;
}

/* ---- queries ------------------------------------------------------------------------ */

enum pa_state pr_state(const struct page_ref *pa, pfn_t f)
{
    int i = range_index(pa, f);

    return i < 0 ? PA_OUTSIDE : (enum pa_state)frame(pa, &pa->range[i], f)->state;
}

void pr_states(const struct page_ref *pa, pfn_t start, uint64_t count, uint8_t *out)
{
    for (uint64_t j = 0; j < count; j++)
        out[j] = (uint8_t)pr_state(pa, start + j);
}

uint64_t pr_nr_frames(const struct page_ref *pa, enum pa_state s)
{
    return (unsigned)s < PA_NR_STATES ? pa->count[s] : 0;
}

/* ---- invariants ---------------------------------------------------------------------- */

static int bad(struct pa_violation *v, pfn_t f, const char *what)
{
    v->err = PA_E_CORRUPT;
    v->frame = f;
    v->what = what;
    return PA_E_CORRUPT;
}

/*
 * Walk every frame of every range, and check: ranges are non-empty,
 * disjoint, laid out one after another and fit the table; every state is
 * valid; frame 0 is UNINITIALISED; every in-use frame lies in a block that
 * is aligned to its order, inside its range, and whose frames are all in
 * use with the same order and owner; other frames carry no order or
 * owner; the counters equal a recount. O(frames), read-only.
 */
int pr_check(const struct page_ref *pa, struct pa_violation *v)
{
    uint64_t cnt[PA_NR_STATES] = { 0 }, used = 0;

    v->err = 0;
    v->frame = PA_NO_FRAME;
    v->what = NULL;
    if (pa->nr_ranges > PA_MAX_RANGES)
        return bad(v, PA_NO_FRAME, "more ranges than range slots");
    for (unsigned i = 0; i < pa->nr_ranges; i++) {
        const struct pr_range *r = &pa->range[i];
        uint64_t nfree = 0;
        pfn_t p = r->start;

        if (r->end <= r->start)
            return bad(v, r->start, "range empty or wrapping");
        for (unsigned j = 0; j < i; j++)
            if (r->start < pa->range[j].end && pa->range[j].start < r->end)
                return bad(v, r->start, "two ranges overlap");
        if (r->base != used)
            return bad(v, r->start, "range's table index is not where the ranges before end");
        used += r->end - r->start;
        if (used > pa->capacity)
            return bad(v, r->start, "ranges hold more frames than the table's capacity");
        while (p < r->end) {
            const struct pr_frame *e = frame(pa, r, p);
            pfn_t size;

            if (e->state >= PA_NR_STATES)
                return bad(v, p, "frame in an invalid state");
            if (p == 0 && e->state != PA_UNINITIALISED)
                return bad(v, p, "frame 0 is not UNINITIALISED");
            if (!in_block(e->state)) {
                if (e->order || e->owner)
                    return bad(v, p, "order or owner on a frame that is not in use");
                cnt[e->state]++;
                nfree += e->state == PA_FREE;
                p++;
                continue;
            }
            /* Walking up from the range's start, the first frame met of a
             * well-formed in-use block is its first frame. */
            if (e->order > PA_MAX_ORDER)
                return bad(v, p, "in-use frame with an order above the maximum");
            size = 1ULL << e->order;
            if (block_head(e, p) != p)
                return bad(v, p, "in-use frame outside the block its order names "
                           "(block not aligned, or not inside its range)");
            if (size > r->end - p)
                return bad(v, p, "in-use block runs past the end of its range");
            for (pfn_t q = p; q < p + size; q++) {
                const struct pr_frame *x = frame(pa, r, q);

                if (!in_block(x->state) || x->order != e->order || x->owner != e->owner)
                    return bad(v, q, "frames of an in-use block disagree on state, order "
                               "or owner");
                cnt[x->state]++;
            }
            p += size;
        }
        if (nfree != r->nr_free)
            return bad(v, r->start, "range's free count differs from a recount");
    }
    if (used != pa->used)
        return bad(v, PA_NO_FRAME, "table use differs from the sum of the ranges");
    for (unsigned s = 0; s < PA_NR_STATES; s++)
        if (cnt[s] != pa->count[s])
            return bad(v, PA_NO_FRAME, "state counter differs from a recount");
    return PA_OK;
}

/* ---- per-CPU operations ---------------------------------------------------
 * The reference caches nothing: an operation on a CPU is the operation
 * itself, which the contract allows (which CPU's cache holds a FREE block,
 * if any, is the implementation's choice). An unknown CPU is refused.
 */
pfn_t pr_alloc_on(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags)
{
    return cpu < PA_MAX_CPUS ? pr_alloc(pa, order, flags) : PA_NO_FRAME;
}

int pr_free_on(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order)
{
    if (cpu >= PA_MAX_CPUS) {
        pa->err_frame = frame;
        return PA_E_INVAL;
    }
    return pr_free(pa, frame, order);
}

uint64_t pr_drain(struct page_ref *pa, unsigned cpu)
{
    (void)pa;
    (void)cpu;
    return 0;
}

int pr_cache_cpu(const struct page_ref *pa, pfn_t frame)
{
    (void)pa;
    (void)frame;
    return PA_NO_CPU;
}

pfn_t pr_cache_get(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags)
{
    (void)pa;
    (void)cpu;
    (void)order;
    (void)flags;
    return PA_NO_FRAME;
}

int pr_cache_put(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order)
{
    (void)pa;
    (void)cpu;
    (void)frame;
    (void)order;
    return PA_CACHE_MISS;
}

pfn_t pr_cache_fill(struct page_ref *pa, unsigned cpu, unsigned order, unsigned flags)
{
    return pr_alloc_on(pa, cpu, order, flags);
}

int pr_cache_free_heap(struct page_ref *pa, unsigned cpu, pfn_t frame, unsigned order)
{
    (void)pa;
    (void)cpu;
    (void)frame;
    (void)order;
    return PA_CACHE_MISS;
}

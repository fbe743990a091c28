/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast allocator's range operations, deferred memory, offlining, boot
 * ownership, and the checked side of pa_free(): everything but the hot
 * paths. Each operation checks first (range_check(): the contract's check
 * order, docs/allocator.md "Operations") and changes only once nothing can
 * refuse it.
 */
#include "page_fast.h"
#include <pvhk/string.h>

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

/* ---- deferred memory ----------------------------------------------------------------- */

static void defer_remove(struct page_alloc *pa, unsigned j)
{
    pa->nr_defer--;
    memmove(&pa->defer[j], &pa->defer[j + 1], (pa->nr_defer - j) * sizeof(pa->defer[0]));
}

/*
 * Put one chunk's piece of deferred extent j on the free lists: its top
 * piece (from the top of the extent) or its bottom one. The extent only
 * shrinks, so this never needs a slot.
 */
static void defer_take_piece(struct page_alloc *pa, unsigned j, bool top)
{
    struct pa_defer *x = &pa->defer[j];
    const struct pa_range *r = &pa->range[x->rid];
    pfn_t a, b;

    if (top) {
        b = x->end;
        a = MAX(x->start, chunk_start(b - 1));
        x->end = a;
    } else {
        a = x->start;
        b = MIN(x->end, chunk_end(a));
        x->start = b;
    }
    pa->nr_deferred -= b - a;
    if (x->start == x->end)
        defer_remove(pa, j);
    free_range(pa, r, a, b);
}

/*
 * The heap ran short: put a piece of deferred memory on the lists. A
 * PA_ALLOC_LOW request takes the lowest piece, if it lies below 4 GiB; a
 * default one the highest, so deferred memory above 4 GiB is used before
 * anything below it. False if there is none the request can use.
 */
bool grow(struct page_alloc *pa, unsigned flags)
{
    if (!pa->nr_defer)
        return false;
    if (flags & PA_ALLOC_LOW) {
        if (pa->defer[0].start >= PA_LOW_LIMIT)
            return false;
        defer_take_piece(pa, 0, false);
    } else {
        defer_take_piece(pa, pa->nr_defer - 1, true);
    }
    return true;
}

/*
 * No deferred frame may remain in [a, b) of range i: an operation is about
 * to change them, and changes act on listed blocks. Each extent that
 * meets the range is put on the lists from its nearer end, the top on a
 * tie (chunk pieces, so no extent is split and no slot is needed).
 */
static void defer_settle(struct page_alloc *pa, int i, pfn_t a, pfn_t b)
{
    for (;;) {
        int j = defer_find(pa, (uint32_t)i, a);
        struct pa_defer *x;

        if (j < 0 || pa->defer[j].start >= b)
            return;
        x = &pa->defer[j];
        /* Frames to put from the top down to a, or from the bottom up to b. */
        defer_take_piece(pa, (unsigned)j, x->end - a <= b - x->start);
    }
}

uint64_t pa_init_all(struct page_alloc *pa)
{
    uint64_t n = pa->nr_deferred;

    while (pa->nr_defer) {
        struct pa_defer x = pa->defer[0];

        defer_remove(pa, 0);
        pa->nr_deferred -= x.end - x.start;
        free_range(pa, &pa->range[x.rid], x.start, x.end);
    }
    return n;
}

/* ---- the range-operation engine -------------------------------------------------- */

#define OP_MIXED        0x1U    /* report PA_E_MIXED for any frame not allowed */
#define OP_UNRESERVE    0x2U    /* INUSE blocks must be reserved by `owner` */

/*
 * Check that every frame of [start, start + count) is in one of the
 * `allowed` states, in the contract's order; INUSE frames only as whole
 * blocks (owner 0 and no offlining frame, or, for OP_UNRESERVE, reserved
 * by `owner`). On success *rp is the range. Changes nothing but err_frame.
 */
static int range_check(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned allowed,
                       unsigned target, unsigned opflags, unsigned owner, int *rp)
{
    const struct pa_range *r;
    pfn_t end, p;
    struct seg s;
    int i;

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
        if (!(allowed & BIT(s.state))) {
            /* The error names the state of frame p itself. */
            unsigned st = s.offl && frame_offlining(pa, r, &s, p) ? PA_OFFLINING : s.state;

            return fail(pa, p, (opflags & OP_MIXED) ? PA_E_MIXED : state_err(st));
        }
        if (s.state != PA_INUSE)
            continue;
        if (opflags & OP_UNRESERVE) {
            if (s.owner != owner)
                return fail(pa, s.start, PA_E_OWNER);
        } else {
            if (s.owner)
                return fail(pa, s.start, PA_E_RESERVED);
            if (s.offl)
                return fail(pa, s.start, PA_E_OFFLINING);
        }
        if (s.start < start || s.end > end)
            return fail(pa, s.start, PA_E_PARTIAL);
    }
    *rp = i;
    return PA_OK;
}

/* Free an INUSE block (owner cleared) that holds offlining frames: they
 * become OFFLINED, the rest FREE. */
static void free_offlining(struct page_alloc *pa, const struct pa_range *r, pfn_t f, unsigned k)
{
    struct pa_frame *e = ent(pa, r, f);
    pfn_t size = 1ULL << k, p, q;
    uint64_t noff = 0;

    for (p = 0; p < size; p++) {
        bool off = p ? e[p].info != 0 : INFO_STATE(e[p].info) == PA_OFFLINING;

        e[p].info = 0;
        if (off) {
            e[p].info = PA_INFO(PA_OFFLINED, 0);
            e[p].rid = (uint32_t)(r - pa->range);
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
        free_range(pa, r, f + p, f + q);
    }
}

/* Free the INUSE block s of range r (checked by the caller). */
static void free_block(struct page_alloc *pa, const struct pa_range *r, const struct seg *s)
{
    s->head->info = INFO_WITHOUT_OWNER(s->head->info);
    if (s->offl) {
        free_offlining(pa, r, s->start, s->order);
        return;
    }
    pa->count[PA_INUSE] -= 1ULL << s->order;
    free_insert(pa, r, s->start, s->order);
}

/*
 * Apply a checked transition: every frame of the range becomes `target`
 * (INUSE blocks get `owner`). Deferred frames are put on the lists first,
 * so below every FREE frame is in a listed block.
 */
static void range_apply(struct page_alloc *pa, int i, pfn_t start, uint64_t count,
                        unsigned target, unsigned owner)
{
    const struct pa_range *r = &pa->range[i];
    pfn_t end = start + count, p = start;
    struct seg s;

    defer_settle(pa, i, start, end);
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
                list_del(pa->table, &pa->zone[pa_zone_of(s.start)], s.order, s.head);
                pa->zone[pa_zone_of(s.start)].nr_free -= 1ULL << s.order;
                /* What lies outside the range goes back (the free run is split). */
                free_range(pa, r, s.start, a);
                free_range(pa, r, b, s.end);
                break;
            case PA_RELEASED:
            case PA_SCRATCH:
                pa->count[s.state] -= b - a;
                emit_blocks(pa, r, PA_INFO(s.state, 0), s.start, a);
                emit_blocks(pa, r, PA_INFO(s.state, 0), b, s.end);
                break;
            default:            /* INUSE: whole blocks only (range_check) */
                pa->count[s.state] -= b - a;
                break;
            }
        }
        if (target == PA_FREE) {
            free_range(pa, r, a, b);
        } else if (target != PA_UNINITIALISED) {
            emit_blocks(pa, r, PA_INFO_OWNED(target, 0, owner), a, b);
            pa->count[target] += b - a;
        }
        p = b;
    }
}

static int range_op(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned allowed,
                    unsigned target, unsigned opflags, unsigned owner)
{
    int i, err = range_check(pa, start, count, allowed, target, opflags, owner, &i);

    if (err)
        return err;
    range_apply(pa, i, start, count, target, owner);
    return PA_OK;
}

int pa_init_range(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_UNINITIALISED), PA_FREE, 0, 0);
}

int pa_take(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_FREE), PA_INUSE, 0, 0);
}

#define RELEASABLE  (BIT(PA_FREE) | BIT(PA_UNINITIALISED) | BIT(PA_INUSE))

int pa_release(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, RELEASABLE, PA_RELEASED, 0, 0);
}

int pa_release_check(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    int i;

    return range_check(pa, start, count, RELEASABLE, PA_RELEASED, 0, 0, &i);
}

int pa_populate(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_RELEASED), PA_FREE, 0, 0);
}

int pa_scratch(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    return range_op(pa, start, count, BIT(PA_UNINITIALISED) | BIT(PA_RELEASED), PA_SCRATCH,
                    0, 0);
}

int pa_unscratch(struct page_alloc *pa, pfn_t start, uint64_t count, enum pa_state to)
{
    if (to != PA_RELEASED && to != PA_UNINITIALISED)
        return fail(pa, start, PA_E_INVAL);
    return range_op(pa, start, count, BIT(PA_SCRATCH), to, 0, 0);
}

int pa_mark_inuse(struct page_alloc *pa, pfn_t f, unsigned order)
{
    if (order > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    if (f & ((1ULL << order) - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    return range_op(pa, f, 1ULL << order, BIT(PA_UNINITIALISED), PA_INUSE, 0, 0);
}

/* ---- boot ownership ------------------------------------------------------------------ */

int pa_reserve(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned owner)
{
    if (!owner || owner > PA_MAX_OWNER)
        return fail(pa, start, PA_E_INVAL);
    return range_op(pa, start, count, BIT(PA_UNINITIALISED), PA_INUSE, 0, owner);
}

int pa_unreserve(struct page_alloc *pa, pfn_t start, uint64_t count, unsigned owner)
{
    const struct pa_range *r;
    pfn_t p, end = start + count;
    struct seg s;
    int i, err;

    if (!owner || owner > PA_MAX_OWNER)
        return fail(pa, start, PA_E_INVAL);
    err = range_check(pa, start, count, BIT(PA_INUSE), PA_FREE, OP_UNRESERVE, owner, &i);
    if (err)
        return err;
    /* Whole blocks, each freed like pa_free() would (it merges only with
     * FREE buddies, so the blocks still to come are untouched). */
    r = &pa->range[i];
    for (p = start; p < end; p = s.end) {
        seg_at(pa, r, p, &s);
        free_block(pa, r, &s);
    }
    return PA_OK;
}

/* ---- lazy init --------------------------------------------------------------------- */

int pa_defer(struct page_alloc *pa, pfn_t start, uint64_t count)
{
    int i, err = range_check(pa, start, count, BIT(PA_UNINITIALISED), PA_FREE, 0, 0, &i);
    pfn_t a = start, b = start + count;
    unsigned j, n = pa->nr_defer;

    if (err)
        return err;
    if (a == 0 && ++a == b)
        return PA_OK;           /* frame 0 never enters the heap */
    /* Extents never overlap (deferred frames are FREE, so refused above):
     * join an adjacent one of the same range, else take a slot. */
    for (j = 0; j < n; j++) {
        struct pa_defer *x = &pa->defer[j];

        if (x->rid != (uint32_t)i || (x->end != a && x->start != b))
            continue;
        if (x->end == a) {
            x->end = b;
            /* It may now touch the next one as well. */
            if (j + 1 < n && pa->defer[j + 1].rid == (uint32_t)i &&
                pa->defer[j + 1].start == b) {
                x->end = pa->defer[j + 1].end;
                defer_remove(pa, j + 1);
            }
        } else {
            x->start = a;
        }
        pa->nr_deferred += b - a;
        return PA_OK;
    }
    if (n == PA_MAX_DEFER) {
        /* No slot: initialise now. The state is FREE either way. */
        free_range(pa, &pa->range[i], a, b);
        return PA_OK;
    }
    for (j = n; j > 0 && pa->defer[j - 1].start > a; j--)
        pa->defer[j] = pa->defer[j - 1];
    pa->defer[j] = (struct pa_defer){ a, b, (uint32_t)i };
    pa->nr_defer = n + 1;
    pa->nr_deferred += b - a;
    return PA_OK;
}

/* ---- offlining ------------------------------------------------------------------------ */

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
    if (s.deferred) {
        defer_settle(pa, i, f, f + 1);
        seg_at(pa, r, f, &s);
    }
    switch (s.state) {
    case PA_FREE:
        list_del(pa->table, &pa->zone[pa_zone_of(s.start)], s.order, s.head);
        pa->zone[pa_zone_of(s.start)].nr_free -= 1ULL << s.order;
        s.head->info = 0;
        e = ent(pa, r, f);
        e->info = PA_INFO(PA_OFFLINED, 0);
        e->rid = (uint32_t)i;
        pa->count[PA_OFFLINED]++;
        free_range(pa, r, s.start, f);
        free_range(pa, r, f + 1, s.end);
        *newstate = PA_OFFLINED;
        return PA_OK;
    case PA_INUSE:
        if (frame_offlining(pa, r, &s, f))
            return fail(pa, f, PA_E_OFFLINING);
        if (f == s.start)
            s.head->info = INFO_WITH_STATE(s.head->info, PA_OFFLINING);
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
    bool any;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    r = &pa->range[i];
    seg_at(pa, r, f, &s);
    if (s.state == PA_OFFLINED) {
        s.head->info = 0;
        pa->count[PA_OFFLINED]--;
        free_range(pa, r, f, f + 1);
        *newstate = PA_FREE;
        return PA_OK;
    }
    if (s.state != PA_INUSE || !frame_offlining(pa, r, &s, f))
        return fail(pa, f, s.state == PA_INUSE ? PA_E_INUSE : state_err(s.state));
    e = ent(pa, r, f);
    if (f == s.start)
        e->info = INFO_WITH_STATE(e->info, PA_INUSE);
    else
        e->info = 0;
    pa->count[PA_OFFLINING]--;
    pa->count[PA_INUSE]++;
    /* Clear the block's flag once no frame in it is offlining any more. */
    e = s.head;
    any = INFO_STATE(e->info) == PA_OFFLINING;
    for (pfn_t p = 1; !any && p < (1ULL << s.order); p++)
        any = e[p].info != 0;
    if (!any)
        e->info &= ~PA_F_OFFL;
    *newstate = PA_INUSE;
    return PA_OK;
}

/* ---- pa_free(), checked ------------------------------------------------------------------ */

/* Is every frame of [a, b) of range r FREE (listed or deferred)? */
static bool all_free(const struct page_alloc *pa, const struct pa_range *r, pfn_t a, pfn_t b)
{
    struct seg s;

    for (; a < b; a = s.end) {
        seg_at(pa, r, a, &s);
        if (s.state != PA_FREE)
            return false;
    }
    return true;
}

/*
 * pa_free() when its one-compare test failed: check everything in the
 * contract's order ("free, exactly") and name the problem, or free a valid
 * block the fast path could not take (another range, an untouched chunk,
 * a top-order block, offlining frames), or run the init path.
 */
int free_checked(struct page_alloc *pa, pfn_t f, unsigned k)
{
    int i = pa_range_of(pa, f);
    const struct pa_range *r;
    pfn_t size = 1ULL << k;
    struct seg s;

    if (i < 0)
        return fail(pa, f, PA_E_OUTSIDE);
    pa->last_range = (unsigned)i;
    pa->cur = pa->range[i];
    r = &pa->range[i];
    if (k > PA_MAX_ORDER)
        return fail(pa, f, PA_E_ORDER);
    if (f & (size - 1))
        return fail(pa, f, PA_E_MISALIGNED);
    if (r->end - f < size)
        return fail(pa, r->end, PA_E_SPANS);
    if (touched(pa, r, f) && ent(pa, r, f)->info == PA_INFO(PA_INUSE, k)) {
        /* Valid after all: a frame of another range than the cached one,
         * or an edge or top-order block. */
        pa->count[PA_INUSE] -= size;
        free_insert(pa, r, f, k);
        return PA_OK;
    }
    seg_at(pa, r, f, &s);
    switch (s.state) {
    case PA_UNINITIALISED:
        /* Pages that never went through init enter the heap now. */
        return range_op(pa, f, size, BIT(PA_UNINITIALISED), PA_FREE, OP_MIXED, 0);
    case PA_FREE:
        return fail(pa, f, all_free(pa, r, f, f + size) ? PA_E_DOUBLE_FREE : PA_E_FREE_FRAME);
    case PA_INUSE:
        if (s.owner)
            return fail(pa, f, PA_E_RESERVED);
        if (s.start != f)
            return fail(pa, f, PA_E_INTERIOR);
        if (s.order != k)
            return fail(pa, f, PA_E_WRONG_ORDER);
        free_block(pa, r, &s);
        return PA_OK;
    default:
        return fail(pa, f, state_err(s.state));
    }
}

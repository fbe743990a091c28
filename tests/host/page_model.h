/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reference model of the page allocator contract (docs/allocator.md), for
 * the differential and exhaustive tests. Deliberately naive: one state byte
 * per frame, linear searches, no buddy structure at all. Free blocks are
 * not tracked: under complete coalescing the free block holding a frame is
 * the largest aligned all-free block around it, so the model derives it.
 *
 * Only small heaps (a few thousand frames in a handful of ranges).
 */
#ifndef PAGE_MODEL_H
#define PAGE_MODEL_H

#include <stdlib.h>
#include <string.h>
#include <pvhk/page_alloc.h>

#define PM_MAX_FRAMES 4096
#define PM_MAX_RANGES 8

struct pm {
    unsigned nr;
    pfn_t start[PM_MAX_RANGES], end[PM_MAX_RANGES];
    unsigned base[PM_MAX_RANGES];
    unsigned used;
    uint8_t st[PM_MAX_FRAMES];      /* enum pa_state */
    pfn_t head[PM_MAX_FRAMES];      /* INUSE/OFFLINING frames: their block's head */
    uint8_t order[PM_MAX_FRAMES];   /* at a head: the block's order */
    uint16_t owner[PM_MAX_FRAMES];  /* at a head: the block's owner */
    pfn_t err;                      /* frame named by the last refusal */
    /* Which CPU's cache holds a FREE frame (CPU + 1; 0: the heap's lists).
     * Not the model's own state: the implementation chooses it, and the
     * test copies it here before an allocation (pm_policy_allows_on()). */
    uint8_t hold[PM_MAX_FRAMES];
};

#define PM_FAIL(m, f, e) ((m)->err = (f), (e))

static inline int pm_rng(const struct pm *m, pfn_t f)
{
    for (unsigned i = 0; i < m->nr; i++)
        if (f >= m->start[i] && f < m->end[i])
            return (int)i;
    return -1;
}

static inline unsigned pm_ix(const struct pm *m, pfn_t f)
{
    int i = pm_rng(m, f);
    return m->base[i] + (unsigned)(f - m->start[i]);
}

static inline unsigned pm_st(const struct pm *m, pfn_t f)
{
    return pm_rng(m, f) < 0 ? PA_OUTSIDE : m->st[pm_ix(m, f)];
}

static inline void pm_set(struct pm *m, pfn_t f, unsigned s)
{
    m->st[pm_ix(m, f)] = (uint8_t)s;
}

static inline int pm_add_range(struct pm *m, pfn_t s, uint64_t n)
{
    if (m->nr == PM_MAX_RANGES || m->used + n > PM_MAX_FRAMES)
        abort();
    m->start[m->nr] = s;
    m->end[m->nr] = s + n;
    m->base[m->nr] = m->used;
    m->used += (unsigned)n;
    m->nr++;
    return 0;
}

/* A range whose frames start RELEASED (never backed); frame 0 refused. */
static inline int pm_add_range_unbacked(struct pm *m, pfn_t s, uint64_t n)
{
    if (s == 0)
        return PM_FAIL(m, 0, PA_E_FRAME0);
    pm_add_range(m, s, n);
    memset(&m->st[m->base[m->nr - 1]], PA_RELEASED, n);
    return 0;
}

/* Block state as an operation sees it: an offlining frame is in an in-use block. */
static inline unsigned pm_bst(const struct pm *m, pfn_t f)
{
    unsigned s = pm_st(m, f);
    return s == PA_OFFLINING ? PA_INUSE : s;
}

static inline int pm_state_err(unsigned s)
{
    switch (s) {
    case PA_UNINITIALISED: return PA_E_UNINIT;
    case PA_FREE: return PA_E_FREE_FRAME;
    case PA_INUSE: return PA_E_INUSE;
    case PA_OFFLINING: return PA_E_OFFLINING;
    case PA_OFFLINED: return PA_E_OFFLINED;
    case PA_RELEASED: return PA_E_RELEASED;
    default: return PA_E_SCRATCH;
    }
}

static inline unsigned pm_piece(pfn_t p, pfn_t end)
{
    unsigned k = 0;
    while (k < PA_MAX_ORDER && !(p & (1ULL << k)) && p + (2ULL << k) <= end)
        k++;
    return k;
}

static inline bool pm_all(const struct pm *m, pfn_t a, pfn_t b, unsigned s)
{
    for (pfn_t f = a; f < b; f++)
        if (pm_st(m, f) != s)
            return false;
    return true;
}

/*
 * The range operations, in the contract's check order: every frame of
 * [a, a+n) must be in an allowed state, in-use frames as whole blocks
 * (owner 0 and no offlining frame; for unreserve, reserved by `owner`);
 * they all become `to`. Frame 0 is skipped when `to` is FREE and refused
 * otherwise.
 */
#define PM_MIXED        0x1U
#define PM_UNRESERVE    0x2U

static inline int pm_range_check(struct pm *m, pfn_t a, uint64_t n, unsigned allowed,
                                 unsigned to, unsigned flags, unsigned owner)
{
    int i;
    pfn_t b = a + n;

    if (!n)
        return PM_FAIL(m, a, PA_E_INVAL);
    if ((i = pm_rng(m, a)) < 0)
        return PM_FAIL(m, a, PA_E_OUTSIDE);
    if (n > m->end[i] - a)
        return PM_FAIL(m, m->end[i], PA_E_SPANS);
    if (a == 0 && to != PA_FREE)
        return PM_FAIL(m, 0, PA_E_FRAME0);
    for (pfn_t f = a; f < b; f++) {
        unsigned s = pm_bst(m, f);
        if (!(allowed & (1U << s)))
            return PM_FAIL(m, f, (flags & PM_MIXED) ? PA_E_MIXED : pm_state_err(pm_st(m, f)));
        if (s == PA_INUSE) {
            pfn_t h = m->head[pm_ix(m, f)];
            pfn_t e = h + (1ULL << m->order[pm_ix(m, h)]);
            unsigned o = m->owner[pm_ix(m, h)];
            if (flags & PM_UNRESERVE) {
                if (o != owner)
                    return PM_FAIL(m, h, PA_E_OWNER);
            } else {
                if (o)
                    return PM_FAIL(m, h, PA_E_RESERVED);
                for (pfn_t q = h; q < e; q++)
                    if (pm_st(m, q) == PA_OFFLINING)
                        return PM_FAIL(m, h, PA_E_OFFLINING);
            }
            if (h < a || e > b)
                return PM_FAIL(m, h, PA_E_PARTIAL);
            f = e - 1;
        }
    }
    return 0;
}

/* [a, b) as INUSE blocks of `owner`, the range's maximal aligned pieces. */
static inline void pm_blocks(struct pm *m, pfn_t a, pfn_t b, unsigned owner)
{
    for (pfn_t p = a; p < b;) {
        unsigned k = pm_piece(p, b);
        for (pfn_t q = p; q < p + (1ULL << k); q++) {
            pm_set(m, q, PA_INUSE);
            m->head[pm_ix(m, q)] = p;
        }
        m->order[pm_ix(m, p)] = (uint8_t)k;
        m->owner[pm_ix(m, p)] = (uint16_t)owner;
        p += 1ULL << k;
    }
}

static inline int pm_range_op(struct pm *m, pfn_t a, uint64_t n, unsigned allowed,
                              unsigned to, unsigned flags, unsigned owner)
{
    int err = pm_range_check(m, a, n, allowed, to, flags, owner);

    if (err)
        return err;
    if (to == PA_INUSE) {
        pm_blocks(m, a, a + n, owner);
        return 0;
    }
    for (pfn_t f = a; f < a + n; f++)
        if (!(to == PA_FREE && f == 0))
            pm_set(m, f, to);
    return 0;
}

#define PM_BIT(s) (1U << (s))

static inline int pm_init(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_UNINITIALISED), PA_FREE, 0, 0);
}

/* Deferral is a cost, not a state: the model initialises at once. */
static inline int pm_defer(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_init(m, a, n);
}

static inline int pm_take(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_FREE), PA_INUSE, 0, 0);
}

static inline int pm_release(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_FREE) | PM_BIT(PA_UNINITIALISED) | PM_BIT(PA_INUSE),
                       PA_RELEASED, 0, 0);
}

static inline int pm_populate(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_RELEASED), PA_FREE, 0, 0);
}

static inline int pm_scratch(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_UNINITIALISED) | PM_BIT(PA_RELEASED), PA_SCRATCH,
                       0, 0);
}

static inline int pm_unscratch(struct pm *m, pfn_t a, uint64_t n, unsigned to)
{
    if (to != PA_RELEASED && to != PA_UNINITIALISED)
        return PM_FAIL(m, a, PA_E_INVAL);
    return pm_range_op(m, a, n, PM_BIT(PA_SCRATCH), to, 0, 0);
}

static inline int pm_mark_inuse(struct pm *m, pfn_t f, unsigned k)
{
    if (k > PA_MAX_ORDER)
        return PM_FAIL(m, f, PA_E_ORDER);
    if (f & ((1ULL << k) - 1))
        return PM_FAIL(m, f, PA_E_MISALIGNED);
    return pm_range_op(m, f, 1ULL << k, PM_BIT(PA_UNINITIALISED), PA_INUSE, 0, 0);
}

static inline int pm_reserve(struct pm *m, pfn_t a, uint64_t n, unsigned owner)
{
    if (!owner || owner > PA_MAX_OWNER)
        return PM_FAIL(m, a, PA_E_INVAL);
    return pm_range_op(m, a, n, PM_BIT(PA_UNINITIALISED), PA_INUSE, 0, owner);
}

/* Free the INUSE block at head h: offlining frames become OFFLINED. */
static inline void pm_free_block(struct pm *m, pfn_t h)
{
    pfn_t e = h + (1ULL << m->order[pm_ix(m, h)]);

    m->owner[pm_ix(m, h)] = 0;
    for (pfn_t q = h; q < e; q++)
        pm_set(m, q, pm_st(m, q) == PA_OFFLINING ? PA_OFFLINED : PA_FREE);
}

static inline int pm_unreserve(struct pm *m, pfn_t a, uint64_t n, unsigned owner)
{
    int err;

    if (!owner || owner > PA_MAX_OWNER)
        return PM_FAIL(m, a, PA_E_INVAL);
    err = pm_range_check(m, a, n, PM_BIT(PA_INUSE), PA_FREE, PM_UNRESERVE, owner);
    if (err)
        return err;
    for (pfn_t f = a; f < a + n; f += 1ULL << m->order[pm_ix(m, f)])
        pm_free_block(m, f);
    return 0;
}

static inline unsigned pm_owner(const struct pm *m, pfn_t f)
{
    unsigned s = pm_bst(m, f);
    return s == PA_INUSE ? m->owner[pm_ix(m, m->head[pm_ix(m, f)])] : 0;
}

/* The largest aligned all-free block in f's range holding f (f is FREE). */
static inline unsigned pm_free_order(const struct pm *m, pfn_t f)
{
    int i = pm_rng(m, f);
    unsigned k = 0;

    while (k < PA_MAX_ORDER) {
        pfn_t h = f & ~((2ULL << k) - 1);
        if (h < m->start[i] || h + (2ULL << k) > m->end[i] ||
            !pm_all(m, h, h + (2ULL << k), PA_FREE))
            break;
        k++;
    }
    return k;
}

static inline int pm_free(struct pm *m, pfn_t f, unsigned k)
{
    int i = pm_rng(m, f);
    unsigned s;

    if (i < 0)
        return PM_FAIL(m, f, PA_E_OUTSIDE);
    if (k > PA_MAX_ORDER)
        return PM_FAIL(m, f, PA_E_ORDER);
    if (f & ((1ULL << k) - 1))
        return PM_FAIL(m, f, PA_E_MISALIGNED);
    if (m->end[i] - f < (1ULL << k))
        return PM_FAIL(m, m->end[i], PA_E_SPANS);
    s = pm_bst(m, f);
    switch (s) {
    case PA_UNINITIALISED:
        return pm_range_op(m, f, 1ULL << k, PM_BIT(PA_UNINITIALISED), PA_FREE, PM_MIXED, 0);
    case PA_FREE:
        return PM_FAIL(m, f, pm_all(m, f, f + (1ULL << k), PA_FREE) ? PA_E_DOUBLE_FREE
                                                                  : PA_E_FREE_FRAME);
    case PA_INUSE: {
        pfn_t h = m->head[pm_ix(m, f)];
        if (m->owner[pm_ix(m, h)])
            return PM_FAIL(m, f, PA_E_RESERVED);
        if (h != f)
            return PM_FAIL(m, f, PA_E_INTERIOR);
        if (m->order[pm_ix(m, f)] != k)
            return PM_FAIL(m, f, PA_E_WRONG_ORDER);
        pm_free_block(m, f);
        return 0;
    }
    default:
        return PM_FAIL(m, f, pm_state_err(s));
    }
}

static inline int pm_offline(struct pm *m, pfn_t f, unsigned *ns)
{
    unsigned s = pm_st(m, f);

    if (s == PA_OUTSIDE)
        return PM_FAIL(m, f, PA_E_OUTSIDE);
    if (s == PA_FREE)
        *ns = PA_OFFLINED;
    else if (s == PA_INUSE)
        *ns = PA_OFFLINING;
    else
        return PM_FAIL(m, f, pm_state_err(s));
    pm_set(m, f, *ns);
    return 0;
}

static inline int pm_online(struct pm *m, pfn_t f, unsigned *ns)
{
    unsigned s = pm_st(m, f);

    if (s == PA_OUTSIDE)
        return PM_FAIL(m, f, PA_E_OUTSIDE);
    if (s == PA_OFFLINED)
        *ns = PA_FREE;
    else if (s == PA_OFFLINING)
        *ns = PA_INUSE;
    else
        return PM_FAIL(m, f, pm_state_err(s));
    pm_set(m, f, *ns);
    return 0;
}

/* A suitable block: aligned, inside one range, every frame FREE. */
static inline bool pm_suitable(const struct pm *m, pfn_t h, unsigned k)
{
    int i = pm_rng(m, h);

    return i >= 0 && k <= PA_MAX_ORDER && !(h & ((1ULL << k) - 1)) &&
           h + (1ULL << k) <= m->end[i] && pm_all(m, h, h + (1ULL << k), PA_FREE);
}

/* Is there a suitable block in zone z? */
static inline bool pm_zone_has(const struct pm *m, unsigned k, unsigned z)
{
    for (unsigned i = 0; i < m->nr; i++)
        for (pfn_t h = ALIGN_UP(m->start[i], 1ULL << k); h + (1ULL << k) <= m->end[i];
             h += 1ULL << k)
            if (pa_zone_of(h) == z && pm_suitable(m, h, k))
                return true;
    return false;
}

/*
 * The allocation policy as a predicate (docs/allocator.md, "Allocation
 * policy"), stated over the whole heap before the call: may pa_alloc(k,
 * flags) return f? Written without the allocators' zone logic: the zone
 * to serve from is the highest one that can.
 */
static inline bool pm_policy_allows(const struct pm *m, unsigned k, unsigned flags, pfn_t f)
{
    bool high, low;

    if (k > PA_MAX_ORDER)
        return f == PA_NO_FRAME;
    low = pm_zone_has(m, k, PA_ZONE_LOW);
    high = !(flags & PA_ALLOC_LOW) && pm_zone_has(m, k, PA_ZONE_HIGH);
    if (f == PA_NO_FRAME)
        return !high && !low;
    if (!pm_suitable(m, f, k))
        return false;
    return high ? f >= PA_LOW_LIMIT : f < PA_LOW_LIMIT;
}

/*
 * The policy for an allocation on a CPU (docs/allocator.md, "Per-CPU
 * caches"): stated as above, over the frames on the heap's lists and in
 * that CPU's cache (cpu1 = CPU + 1; 0 for pa_alloc(), on no CPU). When
 * those hold no suitable block, every cache is drained first: the
 * predicate over the whole heap decides, failure included.
 */
static inline bool pm_usable(const struct pm *m, pfn_t h, unsigned k, unsigned cpu1)
{
    if (!pm_suitable(m, h, k))
        return false;
    for (pfn_t f = h; f < h + (1ULL << k); f++)
        if (m->hold[pm_ix(m, f)] && m->hold[pm_ix(m, f)] != cpu1)
            return false;
    return true;
}

static inline bool pm_zone_has_on(const struct pm *m, unsigned k, unsigned z, unsigned cpu1)
{
    for (unsigned i = 0; i < m->nr; i++)
        for (pfn_t h = ALIGN_UP(m->start[i], 1ULL << k); h + (1ULL << k) <= m->end[i];
             h += 1ULL << k)
            if (pa_zone_of(h) == z && pm_usable(m, h, k, cpu1))
                return true;
    return false;
}

static inline bool pm_policy_allows_on(const struct pm *m, unsigned k, unsigned flags,
                                       pfn_t f, unsigned cpu1)
{
    bool high, low;

    if (k > PA_MAX_ORDER)
        return f == PA_NO_FRAME;
    low = pm_zone_has_on(m, k, PA_ZONE_LOW, cpu1);
    high = !(flags & PA_ALLOC_LOW) && pm_zone_has_on(m, k, PA_ZONE_HIGH, cpu1);
    if (!high && !low)
        return pm_policy_allows(m, k, flags, f);
    if (f == PA_NO_FRAME || !pm_usable(m, f, k, cpu1))
        return false;
    return high ? f >= PA_LOW_LIMIT : f < PA_LOW_LIMIT;
}

/* Record an allocation (after checking it against the policy). */
static inline void pm_alloc_at(struct pm *m, pfn_t h, unsigned k)
{
    pm_blocks(m, h, h + (1ULL << k), 0);
}

/* Frames in state s. */
static inline uint64_t pm_count(const struct pm *m, unsigned s)
{
    uint64_t n = 0;
    for (unsigned j = 0; j < m->used; j++)
        n += m->st[j] == s;
    return n;
}

#endif

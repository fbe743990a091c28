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
    uint8_t def[PM_MAX_FRAMES];     /* deferred */
    pfn_t head[PM_MAX_FRAMES];      /* INUSE/OFFLINING frames: their block's head */
    uint8_t order[PM_MAX_FRAMES];   /* at a head: the block's order */
};

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
        return PA_E_FRAME0;
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

/* Lowest deferred frame, or PA_NO_FRAME. */
static inline pfn_t pm_low_def(const struct pm *m)
{
    pfn_t best = PA_NO_FRAME;
    for (unsigned i = 0; i < m->nr; i++)
        for (pfn_t f = m->start[i]; f < m->end[i]; f++)
            if (m->def[m->base[i] + (f - m->start[i])] && f < best) {
                best = f;
                break;
            }
    return best;
}

static inline void pm_undefer(struct pm *m, pfn_t a, pfn_t b)
{
    for (pfn_t f = a; f < b; f++)
        m->def[pm_ix(m, f)] = 0;
}

/* Number of maximal runs of deferred frames (= the allocator's extents). */
static inline unsigned pm_runs(const struct pm *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->nr; i++)
        for (unsigned j = 0; j < m->end[i] - m->start[i]; j++)
            n += m->def[m->base[i] + j] && (j == 0 || !m->def[m->base[i] + j - 1]);
    return n;
}

/*
 * The range operations: every frame of [a, a+n) must be in an allowed state
 * (in-use frames only as whole blocks with no offlining frame); they all
 * become `to`. Frame 0 is skipped when `to` is FREE and refused otherwise.
 */
static inline int pm_range_op(struct pm *m, pfn_t a, uint64_t n, unsigned allowed,
                              unsigned to, bool mixed)
{
    int i;
    pfn_t b = a + n;

    if (!n)
        return PA_E_INVAL;
    if ((i = pm_rng(m, a)) < 0)
        return PA_E_OUTSIDE;
    if (n > m->end[i] - a)
        return PA_E_SPANS;
    if (a == 0 && to != PA_FREE)
        return PA_E_FRAME0;
    for (pfn_t f = a; f < b; f++) {
        unsigned s = pm_bst(m, f);
        if (!(allowed & (1U << s)))
            return mixed ? PA_E_MIXED : pm_state_err(s);
        if (s == PA_INUSE) {
            pfn_t h = m->head[pm_ix(m, f)];
            pfn_t e = h + (1ULL << m->order[pm_ix(m, h)]);
            for (pfn_t q = h; q < e; q++)
                if (pm_st(m, q) == PA_OFFLINING)
                    return PA_E_OFFLINING;
            if (h < a || e > b)
                return PA_E_PARTIAL;
            f = e - 1;
        }
    }
    if ((allowed & 1) && pm_runs(m) == PA_MAX_DEFER && a > m->start[i] && b < m->end[i] &&
        m->def[pm_ix(m, a - 1)] && m->def[pm_ix(m, b)]) {
        bool all = true;
        for (pfn_t f = a; f < b; f++)
            all &= m->def[pm_ix(m, f)] != 0;
        if (all)
            return PA_E_NOSPACE;
    }
    pm_undefer(m, a, b);
    for (pfn_t f = a; f < b; f++)
        if (!(to == PA_FREE && f == 0))
            pm_set(m, f, to);
    if (to == PA_INUSE) {
        for (pfn_t p = a; p < b;) {
            unsigned k = pm_piece(p, b);
            for (pfn_t q = p; q < p + (1ULL << k); q++)
                m->head[pm_ix(m, q)] = p;
            m->order[pm_ix(m, p)] = (uint8_t)k;
            p += 1ULL << k;
        }
    }
    return 0;
}

#define PM_BIT(s) (1U << (s))

static inline int pm_init(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_UNINITIALISED), PA_FREE, false);
}

static inline int pm_take(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_FREE), PA_INUSE, false);
}

static inline int pm_release(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_FREE) | PM_BIT(PA_UNINITIALISED) | PM_BIT(PA_INUSE),
                       PA_RELEASED, false);
}

static inline int pm_populate(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_RELEASED), PA_FREE, false);
}

static inline int pm_scratch(struct pm *m, pfn_t a, uint64_t n)
{
    return pm_range_op(m, a, n, PM_BIT(PA_UNINITIALISED) | PM_BIT(PA_RELEASED), PA_SCRATCH,
                       false);
}

static inline int pm_unscratch(struct pm *m, pfn_t a, uint64_t n, unsigned to)
{
    if (to != PA_RELEASED && to != PA_UNINITIALISED)
        return PA_E_INVAL;
    return pm_range_op(m, a, n, PM_BIT(PA_SCRATCH), to, false);
}

static inline int pm_mark_inuse(struct pm *m, pfn_t f, unsigned k)
{
    if (k > PA_MAX_ORDER)
        return PA_E_ORDER;
    if (f & ((1ULL << k) - 1))
        return PA_E_MISALIGNED;
    return pm_range_op(m, f, 1ULL << k, PM_BIT(PA_UNINITIALISED), PA_INUSE, false);
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
        return PA_E_OUTSIDE;
    if (k > PA_MAX_ORDER)
        return PA_E_ORDER;
    if (f & ((1ULL << k) - 1))
        return PA_E_MISALIGNED;
    if (m->end[i] - f < (1ULL << k))
        return PA_E_SPANS;
    s = pm_bst(m, f);
    switch (s) {
    case PA_UNINITIALISED:
        return pm_range_op(m, f, 1ULL << k, PM_BIT(PA_UNINITIALISED), PA_FREE, true);
    case PA_FREE:
        return pm_free_order(m, f) >= k ? PA_E_DOUBLE_FREE : PA_E_FREE_FRAME;
    case PA_INUSE: {
        pfn_t h = m->head[pm_ix(m, f)];
        if (h != f)
            return PA_E_INTERIOR;
        if (m->order[pm_ix(m, f)] != k)
            return PA_E_WRONG_ORDER;
        for (pfn_t q = f; q < f + (1ULL << k); q++)
            pm_set(m, q, pm_st(m, q) == PA_OFFLINING ? PA_OFFLINED : PA_FREE);
        return 0;
    }
    default:
        return pm_state_err(s);
    }
}

static inline int pm_offline(struct pm *m, pfn_t f, unsigned *ns)
{
    unsigned s = pm_st(m, f);

    if (s == PA_OUTSIDE)
        return PA_E_OUTSIDE;
    if (s == PA_FREE)
        *ns = PA_OFFLINED;
    else if (s == PA_INUSE)
        *ns = PA_OFFLINING;
    else
        return pm_state_err(s);
    pm_set(m, f, *ns);
    return 0;
}

static inline int pm_online(struct pm *m, pfn_t f, unsigned *ns)
{
    unsigned s = pm_st(m, f);

    if (s == PA_OUTSIDE)
        return PA_E_OUTSIDE;
    if (s == PA_OFFLINED)
        *ns = PA_FREE;
    else if (s == PA_OFFLINING)
        *ns = PA_INUSE;
    else
        return pm_state_err(s);
    pm_set(m, f, *ns);
    return 0;
}

static inline int pm_defer(struct pm *m, pfn_t a, uint64_t n)
{
    int i;
    pfn_t b = a + n;
    bool touching = false;

    if (!n)
        return PA_E_INVAL;
    if ((i = pm_rng(m, a)) < 0)
        return PA_E_OUTSIDE;
    if (n > m->end[i] - a)
        return PA_E_SPANS;
    for (pfn_t f = a; f < b; f++)
        if (pm_st(m, f) != PA_UNINITIALISED)
            return pm_state_err(pm_bst(m, f));
    if (a == 0 && ++a == b)
        return 0;
    for (pfn_t f = (a > m->start[i] ? a - 1 : a); f < b + 1 && f < m->end[i]; f++)
        touching |= m->def[pm_ix(m, f)] != 0;
    if (!touching && pm_runs(m) == PA_MAX_DEFER)
        return PA_E_NOSPACE;
    for (pfn_t f = a; f < b; f++)
        m->def[pm_ix(m, f)] = 1;
    return 0;
}

/* The heap ran short: init the lowest deferred run, up to its chunk's end. */
static inline bool pm_grow(struct pm *m, bool low)
{
    pfn_t f = pm_low_def(m), e;
    int i;

    if (f == PA_NO_FRAME || (low && f >= PA_LOW_LIMIT))
        return false;
    i = pm_rng(m, f);
    e = (f | (PA_CHUNK_FRAMES - 1)) + 1;
    for (pfn_t q = f; q < e && q < m->end[i] && m->def[pm_ix(m, q)]; q++) {
        m->def[pm_ix(m, q)] = 0;
        pm_set(m, q, PA_FREE);
    }
    return true;
}

static inline uint64_t pm_init_all(struct pm *m)
{
    uint64_t n = 0;
    for (unsigned j = 0; j < m->used; j++)
        if (m->def[j]) {
            m->def[j] = 0;
            m->st[j] = PA_FREE;
            n++;
        }
    return n;
}

/* Is there a suitable block: aligned, all FREE, inside one range, zone ok? */
static inline bool pm_suitable(const struct pm *m, pfn_t h, unsigned k, bool low)
{
    int i = pm_rng(m, h);
    pfn_t e = h + (1ULL << k);

    return i >= 0 && k <= PA_MAX_ORDER && !(h & ((1ULL << k) - 1)) && e <= m->end[i] &&
           (!low || e <= PA_LOW_LIMIT) && pm_all(m, h, e, PA_FREE);
}

static inline bool pm_any_suitable(const struct pm *m, unsigned k, bool low)
{
    for (unsigned i = 0; i < m->nr; i++)
        for (pfn_t h = ALIGN_UP(m->start[i], 1ULL << k); h + (1ULL << k) <= m->end[i];
             h += 1ULL << k)
            if (pm_suitable(m, h, k, low))
                return true;
    return false;
}

/* Record an allocation the real allocator made (after checking it). */
static inline void pm_alloc_at(struct pm *m, pfn_t h, unsigned k)
{
    for (pfn_t q = h; q < h + (1ULL << k); q++) {
        pm_set(m, q, PA_INUSE);
        m->head[pm_ix(m, q)] = h;
    }
    m->order[pm_ix(m, h)] = (uint8_t)k;
}

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast allocator's hot paths: pa_alloc() and pa_free().
 *
 * What they are equivalent to. pa_alloc(order, flags) returns a suitable
 * block as docs/allocator.md ("Allocation policy") defines it, exactly as
 * the reference pr_alloc() would except for which suitable block: here the
 * first block of the smallest non-empty free list of the preferred zone
 * that fits, split in halves down to `order` (the upper halves go on the
 * lists). pa_free(f, order) does exactly what pr_free() does: the one
 * compare below accepts only the head of an INUSE block of that order with
 * owner 0 and no offlining frame; everything else goes to free_checked()
 * (mm/page_range.c), which checks in the contract's order and names the
 * error. The differential tests run both against the reference.
 *
 * Written for few instructions on the common paths (exact fit; free
 * without merge): splitting, merging and everything unusual are in
 * separate functions, tail-called. docs/allocator.md ("Performance") says
 * what each path costs.
 */
#include "page_fast.h"
#include <pvhk/string.h>

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
    /* A listed head's info is PA_INFO(PA_FREE, order) (pa_check() verifies it). */
    t[idx].info = INFO_ALLOCATED(t[idx].info);
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
        tail = INFO_ORDER_DOWN(tail);       /* the info half; rid unchanged */
        h = e + half;
        memcpy(&h->next, &nil2, sizeof(nil2));
        memcpy(&h->info, &tail, sizeof(tail));
        *--hp = idx + half;
    } while (half != size);
    e->info = INFO_ALLOCATED((uint32_t)tail);   /* tail: PA_INFO(PA_FREE, order) */
    return idx + pa->delta[tail >> 32];
}

/* The first block of list (zn, j), j >= order, split down to `order`
 * (zone z's lists hold one: avail >> order != 0). */
pfn_t take_block(struct page_alloc *pa, unsigned z, unsigned order)
{
    struct pa_zone *zn = &pa->zone[z];
    unsigned j = order + (unsigned)__builtin_ctz(zn->avail >> order);

    return j == order ? take_exact(pa, zn, order) : take_split(pa, zn, j, order);
}

static inline bool zone_can(const struct page_alloc *pa, unsigned z, unsigned order)
{
    return (pa->zone[z].avail >> order) != 0;
}

/*
 * Nothing suitable on the heap: what per-CPU caches hold goes back to the
 * lists (mm/page_cpu.c), and the request is served from there if it can
 * be. An allocation fails only when no suitable block exists anywhere.
 */
static __attribute__((noinline, cold))
pfn_t alloc_drained(struct page_alloc *pa, unsigned order, unsigned flags)
{
    if (!pa_drain(pa, PA_ALL_CPUS))
        return PA_NO_FRAME;
    return heap_alloc(pa, order, flags);
}

/*
 * The preferred zone's lists have no block of `order` or larger: apply the
 * policy with deferred memory counted. A default request uses deferred
 * memory above 4 GiB (grow() takes it from the top) before the LOW lists,
 * then LOW deferred memory; a PA_ALLOC_LOW request grows from the bottom
 * while what is left lies below 4 GiB. `drain`: pa_alloc(), which drains
 * the caches before failing; heap_alloc() does not.
 */
static __attribute__((noinline, cold))
pfn_t alloc_slow(struct page_alloc *pa, unsigned order, unsigned flags, bool drain)
{
    if (!(flags & PA_ALLOC_LOW)) {
        while (pa->nr_defer && pa->defer[pa->nr_defer - 1].end > PA_LOW_LIMIT) {
            grow(pa, 0);
            if (zone_can(pa, PA_ZONE_HIGH, order))
                return take_block(pa, PA_ZONE_HIGH, order);
        }
    }
    for (;;) {
        if (zone_can(pa, PA_ZONE_LOW, order))
            return take_block(pa, PA_ZONE_LOW, order);
        if (!grow(pa, flags))
            return drain ? alloc_drained(pa, order, flags) : PA_NO_FRAME;
    }
}

static inline __attribute__((always_inline))
pfn_t alloc(struct page_alloc *pa, unsigned order, unsigned flags, bool drain)
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
        if (!pa->nr_defer && !zone_can(pa, PA_ZONE_LOW, order))
            return drain ? alloc_drained(pa, order, flags) : PA_NO_FRAME;
        return alloc_slow(pa, order, flags, drain);
    }
    /* Only larger blocks: split the first of the smallest. */
    return take_split(pa, zn, order + (unsigned)__builtin_ctz(bits), order);
}

pfn_t pa_alloc(struct page_alloc *pa, unsigned order, unsigned flags)
{
    return alloc(pa, order, flags, true);
}

pfn_t heap_alloc(struct page_alloc *pa, unsigned order, unsigned flags)
{
    return alloc(pa, order, flags, false);
}

/* pa_free() of a valid block in a chunk the range only partly covers:
 * buddies need their bounds checked (free_insert()). */
static __attribute__((noinline))
int free_edge(struct page_alloc *pa, pfn_t f, unsigned k)
{
    pa->count[PA_INUSE] -= 1ULL << k;
    free_insert(pa, &pa->range[pa->last_range], f, k);
    return PA_OK;
}

int pa_free(struct page_alloc *pa, pfn_t f, unsigned k)
{
    const struct pa_range *r = &pa->cur;
    struct pa_frame *e, *be;
    struct pa_zone *zn;
    pfn_t off = f - r->start, size;

    /* In the cached range, chunk readable (an untouched chunk is not
     * zeroed yet: its entries mean nothing), order below the top one
     * (a top-order block has no buddy: the checked path frees it)... */
    if (unlikely(off >= r->len || (!r->all_touched && !touched(pa, r, f)) ||
                 k >= PA_MAX_ORDER))
        return free_checked(pa, f, k);
    e = &pa->table[r->base + (uint32_t)off];
    /*
     * ...and one compare validates head, state INUSE, order, owner 0, no
     * offlining frame. Alignment and span need no test of their own: a
     * head of order k only ever sits on a k-aligned frame with its whole
     * block inside the range (invariants pa_check() verifies), so a bad
     * (f, k) cannot match and takes the checked path, which names the error.
     */
    if (unlikely(e->info != PA_INFO(PA_INUSE, k)))
        return free_checked(pa, f, k);
    if (unlikely(f - r->int_start >= r->int_len))
        return free_edge(pa, f, k);
    size = 1ULL << k;
    pa->count[PA_INUSE] -= size;
    /* In a chunk wholly inside the range, the buddy is too. */
    be = e + (int64_t)((f ^ size) - f);
    if (info_load(be) == PA_INFO(PA_FREE, k))
        return free_merge(pa, r, f, k, be, PA_CHUNK_FRAMES);
    /* Common case: nothing to merge, just push. */
    zn = &pa->zone[pa_zone_of(f)];
    zn->nr_free += size;
    e->info = PA_INFO(PA_FREE, k);
    list_push(pa->table, zn, k, (uint32_t)(e - pa->table));
    return PA_OK;
}

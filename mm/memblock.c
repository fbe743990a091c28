/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Early boot allocator: free RAM is the map's RAM minus a sorted, disjoint
 * table of labelled reservations.  Everything is page-granular and below
 * MEMBLOCK_ADDR_LIMIT, so base + size never overflows.  The tables are
 * small (at most 128 records each) and boot makes few calls, so plain
 * linear scans keep it obviously right.  See include/pvhk/memblock.h.
 */
#include <pvhk/memblock.h>
#include <pvhk/string.h>

static inline paddr_t region_end(const struct memblock_region *r)
{
    return r->base + r->size;
}

static bool label_eq(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

/*
 * Widen [base, base + size) to pages in [*b, *e); size 0 means the page
 * holding base.  False if any of it lies at or above MEMBLOCK_ADDR_LIMIT.
 */
static bool page_range(paddr_t base, uint64_t size, paddr_t *b, paddr_t *e)
{
    if (base >= MEMBLOCK_ADDR_LIMIT || size > MEMBLOCK_ADDR_LIMIT - base)
        return false;
    *b = ALIGN_DOWN(base, PAGE_SIZE);
    *e = ALIGN_UP(base + MAX(size, 1), PAGE_SIZE);
    return *e <= MEMBLOCK_ADDR_LIMIT;
}

int memblock_init(struct memblock *mb, const struct e820_map *map)
{
    if (e820_validate(map, NULL))
        return MEMBLOCK_EINVAL;

    memset(mb, 0, sizeof(*mb));
    for (uint32_t i = 0; i < map->nr; i++) {
        const struct e820_entry *e = &map->entries[i];
        uint64_t pages = e820_pages(e), usable;

        if (e->type != E820_RAM)
            continue;
        usable = e->addr >= MEMBLOCK_ADDR_LIMIT ? 0 :
                 MIN(pages, PFN_DOWN(MEMBLOCK_ADDR_LIMIT - e->addr));
        mb->ignored_pages += pages - usable;
        if (!usable)
            continue;
        mb->memory[mb->nr_memory++] = (struct memblock_region){
            .base = e->addr, .size = PFN_PHYS(usable), .label = "RAM",
        };
    }
    /* A physical address of 0 reads as "none" everywhere: never hand it out. */
    return memblock_reserve(mb, 0, PAGE_SIZE, "page 0");
}

/* ---- reservations ---------------------------------------------------- */

/*
 * The first stretch of [from, e) that no reservation covers, as [*gs, *ge),
 * and the index where a record for it would be inserted.
 */
static bool next_gap(const struct memblock *mb, paddr_t from, paddr_t e,
                     paddr_t *gs, paddr_t *ge, uint32_t *idx)
{
    uint32_t i;

    for (i = 0; i < mb->nr_reserved && from < e; i++) {
        const struct memblock_region *r = &mb->reserved[i];

        if (region_end(r) <= from)
            continue;
        if (r->base > from)
            break;
        from = region_end(r);   /* from lies inside r: skip it */
    }
    if (from >= e)
        return false;
    *gs = from;
    *ge = i < mb->nr_reserved ? MIN(e, mb->reserved[i].base) : e;
    *idx = i;
    return true;
}

/* Does the gap [gs, ge) at insertion index idx merge backwards / forwards? */
static bool joins_prev(const struct memblock *mb, uint32_t idx, paddr_t gs,
                       const char *label)
{
    return idx > 0 && region_end(&mb->reserved[idx - 1]) == gs &&
           label_eq(mb->reserved[idx - 1].label, label);
}

static bool joins_next(const struct memblock *mb, uint32_t idx, paddr_t ge,
                       const char *label)
{
    return idx < mb->nr_reserved && mb->reserved[idx].base == ge &&
           label_eq(mb->reserved[idx].label, label);
}

/* Fill the gaps of [b, e) that join a record (joins) or the others (!joins). */
static void fill_gaps(struct memblock *mb, paddr_t b, paddr_t e,
                      const char *label, bool joins)
{
    struct memblock_region *r = mb->reserved;
    paddr_t from, gs, ge;
    uint32_t idx;

    for (from = b; next_gap(mb, from, e, &gs, &ge, &idx); from = ge) {
        bool p = joins_prev(mb, idx, gs, label);
        bool n = joins_next(mb, idx, ge, label);

        if ((p || n) != joins)
            continue;
        if (p && n) {
            r[idx - 1].size = region_end(&r[idx]) - r[idx - 1].base;
            memmove(&r[idx], &r[idx + 1],
                    (mb->nr_reserved - idx - 1) * sizeof(*r));
            mb->nr_reserved--;
        } else if (p) {
            r[idx - 1].size += ge - gs;
        } else if (n) {
            r[idx].size += r[idx].base - gs;
            r[idx].base = gs;
        } else {
            memmove(&r[idx + 1], &r[idx], (mb->nr_reserved - idx) * sizeof(*r));
            r[idx] = (struct memblock_region){ gs, ge - gs, label };
            mb->nr_reserved++;
        }
    }
}

int memblock_reserve(struct memblock *mb, paddr_t base, uint64_t size,
                     const char *label)
{
    paddr_t b, e, from, gs, ge;
    uint32_t idx, count;

    if (mb->closed)
        return MEMBLOCK_ECLOSED;

    if (!label)
        label = "?";
    if (!size)
        return 0;
    if (!page_range(base, size, &b, &e))
        return MEMBLOCK_EINVAL;

    /*
     * Each uncovered stretch ("gap") of [b, e) either joins a neighbouring
     * record of the same label (touching one, or bridging two) or needs a
     * record of its own.  Which it is does not change as other gaps are
     * filled, so the final record count is known before anything is
     * written: all or nothing.
     */
    count = mb->nr_reserved;
    for (from = b; next_gap(mb, from, e, &gs, &ge, &idx); from = ge) {
        bool p = joins_prev(mb, idx, gs, label);
        bool n = joins_next(mb, idx, ge, label);

        if (p && n)
            count--;
        else if (!p && !n)
            count++;
    }
    if (count > MEMBLOCK_MAX_RESERVED)
        return MEMBLOCK_ENOSPC;

    /* Joins first, so the table never holds more than count records. */
    fill_gaps(mb, b, e, label, true);
    fill_gaps(mb, b, e, label, false);
    return 0;
}

void memblock_close(struct memblock *mb)
{
    mb->closed = true;
}

const struct memblock_region *memblock_reserved_region(const struct memblock *mb,
                                                       uint32_t i)
{
    return i < mb->nr_reserved ? &mb->reserved[i] : NULL;
}

/* ---- free ranges ------------------------------------------------------ */

bool memblock_next_free(const struct memblock *mb, paddr_t *cursor,
                        paddr_t *base, uint64_t *size)
{
    for (uint32_t m = 0; m < mb->nr_memory; m++) {
        const struct memblock_region *ram = &mb->memory[m];
        paddr_t s = MAX(ram->base, *cursor), f = region_end(ram);

        /* Step over reservations until s is free or the region ends. */
        for (uint32_t i = 0; i < mb->nr_reserved && s < f; i++) {
            const struct memblock_region *r = &mb->reserved[i];

            if (region_end(r) <= s)
                continue;
            if (r->base <= s) {
                s = region_end(r);
                continue;
            }
            f = MIN(f, r->base);    /* the next reservation ends the range */
            break;
        }
        if (s < f) {
            *base = s;
            *size = f - s;
            *cursor = f;
            return true;
        }
    }
    return false;
}

uint64_t memblock_free_pages(const struct memblock *mb)
{
    paddr_t cur = 0, base;
    uint64_t size, pages = 0;

    while (memblock_next_free(mb, &cur, &base, &size))
        pages += PFN_DOWN(size);
    return pages;
}

paddr_t memblock_alloc(struct memblock *mb, uint64_t size, uint64_t align,
                       paddr_t limit, const char *label)
{
    paddr_t cur = 0, base, best = 0;
    uint64_t len;

    if (mb->closed || !size || size > MEMBLOCK_ADDR_LIMIT || (align & (align - 1)) ||
        align > MEMBLOCK_ADDR_LIMIT)
        return 0;
    size = ALIGN_UP(size, PAGE_SIZE);
    align = MAX(align, PAGE_SIZE);
    limit = ALIGN_DOWN(MIN(limit, MEMBLOCK_ADDR_LIMIT), PAGE_SIZE);

    /* Ranges come in address order: the last one that fits is the highest. */
    while (memblock_next_free(mb, &cur, &base, &len)) {
        paddr_t top = MIN(base + len, limit), cand;

        if (top < base + size)
            continue;
        cand = ALIGN_DOWN(top - size, align);
        if (cand >= base && cand)
            best = cand;
    }
    if (!best || memblock_reserve(mb, best, size, label))
        return 0;
    return best;
}

/* ---- queries ---------------------------------------------------------- */

/* Is [b, e) wholly covered by the sorted, disjoint regions r[0..n)? */
static bool covered(const struct memblock_region *r, uint32_t n, paddr_t b,
                    paddr_t e)
{
    for (uint32_t i = 0; i < n && b < e; i++) {
        if (region_end(&r[i]) <= b)
            continue;
        if (r[i].base > b)
            return false;
        b = region_end(&r[i]);
    }
    return b >= e;
}

static bool overlaps(const struct memblock_region *r, uint32_t n, paddr_t b,
                     paddr_t e)
{
    for (uint32_t i = 0; i < n; i++)
        if (r[i].base < e && region_end(&r[i]) > b)
            return true;
    return false;
}

bool memblock_is_ram(const struct memblock *mb, paddr_t base, uint64_t size)
{
    paddr_t b, e;

    return page_range(base, size, &b, &e) &&
           covered(mb->memory, mb->nr_memory, b, e);
}

bool memblock_is_free(const struct memblock *mb, paddr_t base, uint64_t size)
{
    paddr_t b, e;

    return page_range(base, size, &b, &e) &&
           covered(mb->memory, mb->nr_memory, b, e) &&
           !overlaps(mb->reserved, mb->nr_reserved, b, e);
}

bool memblock_is_reserved(const struct memblock *mb, paddr_t base,
                          uint64_t size)
{
    paddr_t b, e;

    return page_range(base, size, &b, &e) &&
           covered(mb->reserved, mb->nr_reserved, b, e);
}

int memblock_reserve_exclusive(struct memblock *mb, paddr_t base, uint64_t size,
                               const char *label, const struct memblock_region **clash)
{
    paddr_t b, e;

    if (clash)
        *clash = NULL;
    if (mb->closed)
        return MEMBLOCK_ECLOSED;
    if (!size)
        return 0;
    if (!page_range(base, size, &b, &e))
        return MEMBLOCK_EINVAL;
    /* Records are sorted: the first that ends above b is the only one
     * that can be the lowest overlap. */
    for (uint32_t i = 0; i < mb->nr_reserved; i++) {
        const struct memblock_region *r = &mb->reserved[i];
        if (r->base + r->size <= b)
            continue;
        if (r->base < e) {
            if (clash)
                *clash = r;
            return MEMBLOCK_EBUSY;
        }
        break;
    }
    return memblock_reserve(mb, base, size, label);
}

const char *memblock_strerror(int err)
{
    switch (err) {
    case 0:                 return "ok";
    case MEMBLOCK_EINVAL:   return "range beyond the addressable limit";
    case MEMBLOCK_ENOSPC:   return "reservation table full";
    case MEMBLOCK_ECLOSED:  return "closed: the heap took over";
    case MEMBLOCK_EBUSY:    return "overlaps an existing reservation";
    default:                return "unknown error";
    }
}

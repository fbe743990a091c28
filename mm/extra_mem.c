/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Extra memory regions: the table of unbacked guest-physical ranges the
 * kernel may balloon into or hand to the scratch pool. See
 * include/pvhk/extra_mem.h and docs/p2m.md.
 */
#include <pvhk/extra_mem.h>
#include <pvhk/string.h>

void extra_mem_init(struct extra_mem *em)
{
    memset(em, 0, sizeof(*em));
}

/* Index of the first region whose end is above pfn (nr_regions if none). */
static unsigned int first_ending_above(const struct extra_mem *em, uint64_t pfn)
{
    unsigned int lo = 0, hi = em->nr_regions;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        const struct extra_mem_region *r = &em->region[mid];

        if (r->start_pfn + r->nr_pfns <= pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int extra_mem_add(struct extra_mem *em, uint64_t start, uint64_t nr,
                  enum extra_mem_origin origin)
{
    struct extra_mem_region *prev, *next;
    uint64_t end = start + nr;
    unsigned int i;

    if (nr == 0 || end < start ||
        (origin != EXTRA_MEM_UNUSABLE && origin != EXTRA_MEM_RELEASED_RAM))
        return -XEN_EINVAL;

    /* i: where the new range goes; region[i] (if any) ends above start. */
    i = first_ending_above(em, start);
    if (i < em->nr_regions && em->region[i].start_pfn < end)
        return -XEN_EEXIST;

    /*
     * Merge only with a neighbour of the same origin: released RAM must stay
     * distinguishable, it was backed once and is accounted differently.
     */
    prev = i > 0 ? &em->region[i - 1] : NULL;
    next = i < em->nr_regions ? &em->region[i] : NULL;
    if (prev && (prev->origin != origin ||
                 prev->start_pfn + prev->nr_pfns != start))
        prev = NULL;
    if (next && (next->origin != origin || next->start_pfn != end))
        next = NULL;

    if (prev && next) {
        /* The new range bridges two regions: fold next into prev. */
        prev->nr_pfns += nr + next->nr_pfns;
        memmove(next, next + 1,
                (em->nr_regions - i - 1) * sizeof(*next));
        em->nr_regions--;
    } else if (prev) {
        prev->nr_pfns += nr;
    } else if (next) {
        next->start_pfn = start;
        next->nr_pfns += nr;
    } else {
        if (em->nr_regions == EXTRA_MEM_MAX_REGIONS)
            return -XEN_ENOSPC;
        memmove(&em->region[i + 1], &em->region[i],
                (em->nr_regions - i) * sizeof(em->region[0]));
        em->region[i].start_pfn = start;
        em->region[i].nr_pfns = nr;
        em->region[i].origin = origin;
        em->nr_regions++;
    }
    em->nr_pfns += nr;
    return 0;
}

const struct extra_mem_region *extra_mem_find(const struct extra_mem *em,
                                              uint64_t pfn)
{
    unsigned int i = first_ending_above(em, pfn);

    if (i < em->nr_regions && em->region[i].start_pfn <= pfn)
        return &em->region[i];
    return NULL;
}

bool extra_mem_contains(const struct extra_mem *em, uint64_t start,
                        uint64_t nr)
{
    const struct extra_mem_region *r = extra_mem_find(em, start);

    if (!r || nr == 0 || start + nr < start)
        return false;
    return start + nr <= r->start_pfn + r->nr_pfns;
}

int extra_mem_from_ranges(struct extra_mem *em,
                          const struct extra_mem_range *map, unsigned int nr,
                          unsigned int ratio, struct extra_mem_report *rep)
{
    uint64_t left;
    unsigned int i;
    int rc = 0;

    memset(rep, 0, sizeof(*rep));
    for (i = 0; i < nr; i++) {
        if (i > 0 && map[i].start_pfn <
                     map[i - 1].start_pfn + map[i - 1].nr_pfns)
            return -XEN_EINVAL;
        if (map[i].type == EXTRA_MEM_E820_RAM)
            rep->ram_pfns += map[i].nr_pfns;
        else if (map[i].type == EXTRA_MEM_E820_UNUSABLE)
            rep->unusable_pfns += map[i].nr_pfns;
    }

    /* ratio x RAM, saturating: a huge ratio means "no limit", not a wrap. */
    if (ratio && rep->ram_pfns > UINT64_MAX / ratio)
        rep->limit_pfns = UINT64_MAX;
    else
        rep->limit_pfns = rep->ram_pfns * ratio;

    left = rep->limit_pfns;
    for (i = 0; i < nr; i++) {
        uint64_t take;
        int err;

        if (map[i].type != EXTRA_MEM_E820_UNUSABLE || map[i].nr_pfns == 0)
            continue;
        take = MIN(left, map[i].nr_pfns);
        rep->over_limit_pfns += map[i].nr_pfns - take;
        if (take == 0)
            continue;
        if (rc) {
            /* The table filled up earlier: count, do not register. */
            rep->dropped_pfns += take;
            left -= take;
            continue;
        }
        err = extra_mem_add(em, map[i].start_pfn, take, EXTRA_MEM_UNUSABLE);
        if (err == -XEN_ENOSPC) {
            rc = err;
            rep->dropped_pfns += take;
            left -= take;
            continue;
        }
        if (err)
            return err;     /* overlaps something registered by hand */
        if (take < map[i].nr_pfns)
            rep->split++;
        rep->registered_pfns += take;
        left -= take;
    }
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An independent, deliberately simple model of the e820 sanitising rules
 * (docs/memory-map.md), shared by the host tests (tests/host/test_e820.c)
 * and the fuzzer (tests/fuzz/fuzz_e820.c).  Host-only: uses libc.
 *
 * It shares no code with mm/e820.c.  Instead of a sweep it answers "what
 * type is this byte / this page" straight from the rules:
 *
 *   byte type: the highest (known or RESERVED-substituted) type among the
 *     entries with addr <= byte < addr + size, in exact arithmetic, so
 *     clipping at 2^64 needs no code at all;
 *   page type: a page's bytes change type only at entry edges, so the
 *     bytes at the page start and at every edge inside the page are all
 *     the types the page has; rule 3 is applied to that list.
 *
 * Real maps span 2^52 pages, so the model evaluates pages only where the
 * answer can change: each entry's first and last page, the pages either
 * side, and the first and last page of the address space.  Between two
 * consecutive such pages no page holds an edge, so every page there has
 * the type of the page before it; that gives the model's whole map as
 * runs, which must equal the sanitiser's output entry for entry.
 */
#ifndef E820_MODEL_H
#define E820_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <pvhk/e820.h>

#define MODEL_MAX_PFN   ((1ULL << (64 - PAGE_SHIFT)) - 1)

static inline uint32_t model_effective_type(uint32_t type)
{
    return type >= 1 && type <= 7 ? type : E820_RESERVED;
}

/* Does entry e cover byte a?  Exact: a - addr < size cannot overflow. */
static inline bool model_covers(const struct e820_entry *e, uint64_t a)
{
    return e->size && a >= e->addr && a - e->addr < e->size;
}

static inline uint32_t model_byte_type(const struct e820_entry *in, size_t n,
                                       uint64_t a)
{
    uint32_t best = 0;

    for (size_t i = 0; i < n; i++)
        if (model_covers(&in[i], a) && model_effective_type(in[i].type) > best)
            best = model_effective_type(in[i].type);
    return best;
}

/* Rule 3 on the list of byte types found in one page. */
static inline uint32_t model_rule3(const uint32_t *types, size_t k)
{
    uint32_t best_outward = 0;
    bool all_ram = true, all_unusable = true;

    for (size_t i = 0; i < k; i++) {
        uint32_t t = types[i];

        if (t != 0 && t != E820_RAM && t != E820_UNUSABLE && t > best_outward)
            best_outward = t;
        if (t != E820_RAM)
            all_ram = false;
        if (t != E820_UNUSABLE)
            all_unusable = false;
    }
    if (best_outward)
        return best_outward;
    if (all_ram)
        return E820_RAM;
    if (all_unusable)
        return E820_UNUSABLE;
    return 0;
}

static inline uint32_t model_page_type(const struct e820_entry *in, size_t n,
                                       uint64_t pfn)
{
    uint64_t base = pfn << PAGE_SHIFT, top = base + (PAGE_SIZE - 1);
    uint32_t stack_types[64], *types = stack_types;
    size_t k = 0, cap = 64;

    /* The page start, then every entry edge strictly inside the page. */
    types[k++] = model_byte_type(in, n, base);
    for (size_t i = 0; i < n; i++) {
        const struct e820_entry *e = &in[i];
        uint64_t edges[2];
        int ne = 0;

        if (!e->size)
            continue;
        edges[ne++] = e->addr;
        /* The first byte after the entry, unless that is 2^64 or beyond. */
        if (e->size <= UINT64_MAX - e->addr)
            edges[ne++] = e->addr + e->size;
        for (int j = 0; j < ne; j++) {
            if (edges[j] <= base || edges[j] > top)
                continue;
            if (k == cap) {
                uint32_t *bigger = malloc(2 * cap * sizeof(*bigger));

                memcpy(bigger, types, k * sizeof(*types));
                if (types != stack_types)
                    free(types);
                types = bigger;
                cap *= 2;
            }
            types[k++] = model_byte_type(in, n, edges[j]);
        }
    }
    uint32_t t = model_rule3(types, k);

    if (types != stack_types)
        free(types);
    return t;
}

/* The sanitised map's type for a page, by plain search. */
static inline uint32_t model_map_type(const struct e820_map *m, uint64_t pfn)
{
    for (uint32_t i = 0; i < m->nr; i++) {
        const struct e820_entry *e = &m->entries[i];
        uint64_t first = e->addr >> PAGE_SHIFT;
        uint64_t pages = e->size ? e->size >> PAGE_SHIFT : MODEL_MAX_PFN + 1;

        if (pfn >= first && pfn - first < pages)
            return e->type;
    }
    return 0;
}

static int model_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

struct model_run {
    uint64_t pfn, count;    /* count may be 2^52 */
    uint32_t type;
};

/*
 * Build the model's map as runs.  Returns the number of runs; *runs is
 * malloc()ed (caller frees).
 */
static inline size_t model_runs(const struct e820_entry *in, size_t n,
                                struct model_run **runs)
{
    uint64_t *pages = malloc((6 * n + 4) * sizeof(*pages));
    struct model_run *r = malloc((6 * n + 4) * sizeof(*r));
    size_t np = 0, nr = 0;

    pages[np++] = 0;
    pages[np++] = 1;
    pages[np++] = MODEL_MAX_PFN;
    for (size_t i = 0; i < n; i++) {
        const struct e820_entry *e = &in[i];
        uint64_t first, last;

        if (!e->size)
            continue;
        first = e->addr >> PAGE_SHIFT;
        /* Last byte, clipped at 2^64 - 1 when addr + size overflows. */
        last = (e->size - 1 > UINT64_MAX - e->addr ? UINT64_MAX
                                                   : e->addr + e->size - 1)
               >> PAGE_SHIFT;
        uint64_t c[6] = { first - 1, first, first + 1, last - 1, last, last + 1 };
        for (int j = 0; j < 6; j++)
            if (c[j] <= MODEL_MAX_PFN)  /* drops the -1 and +1 wraps */
                pages[np++] = c[j];
    }
    qsort(pages, np, sizeof(*pages), model_cmp_u64);
    {
        size_t u = 1;

        for (size_t i = 1; i < np; i++)
            if (pages[i] != pages[u - 1])
                pages[u++] = pages[i];
        np = u;
    }

    for (size_t i = 0; i < np; i++) {
        /* Pages up to the next candidate have pages[i]'s type. */
        uint64_t end = i + 1 < np ? pages[i + 1] : MODEL_MAX_PFN + 1;
        uint32_t t = model_page_type(in, n, pages[i]);

        if (t == 0)
            continue;
        if (nr && r[nr - 1].type == t &&
            r[nr - 1].pfn + r[nr - 1].count == pages[i])
            r[nr - 1].count += end - pages[i];
        else
            r[nr++] = (struct model_run){ pages[i], end - pages[i], t };
    }
    free(pages);
    *runs = r;
    return nr;
}

/*
 * Check one sanitiser run against the model and the structural
 * invariants.  rc/out/rep are what e820_sanitise() returned for in[0..n).
 * seed drives extra random page probes.  Returns true if all is well,
 * else false with a description in msg.
 */
static inline bool model_check(const struct e820_entry *in, size_t n, int rc,
                               const struct e820_map *out,
                               const struct e820_report *rep, uint64_t seed,
                               char *msg, size_t msglen)
{
    struct model_run *runs;
    size_t nruns, zero = 0, clipped = 0, unknown = 0;
    bool ok = false;

#define FAIL(...) do { snprintf(msg, msglen, __VA_ARGS__); goto out; } while (0)
    runs = NULL;
    if (n > E820_MAX_INPUT) {
        if (rc != E820_ETOOMANY)
            FAIL("%zu entries: rc %d, want E820_ETOOMANY", n, rc);
        if (rep->nr_in != n || out->nr != 0)
            FAIL("too many: nr_in %u, out->nr %u", rep->nr_in, out->nr);
        return true;
    }

    /* Report counters, recomputed. */
    for (size_t i = 0; i < n; i++) {
        if (!in[i].size) {
            zero++;
            continue;
        }
        if (in[i].type < 1 || in[i].type > 7)
            unknown++;
        if (in[i].addr && in[i].size > -in[i].addr)
            clipped++;
    }
    if (rep->nr_in != n || rep->nr_zero != zero || rep->nr_clipped != clipped ||
        rep->nr_unknown != unknown)
        FAIL("report: in %u/%zu zero %u/%zu clipped %u/%zu unknown %u/%zu",
             rep->nr_in, n, rep->nr_zero, zero, rep->nr_clipped, clipped,
             rep->nr_unknown, unknown);

    /* Structure: sorted, disjoint, aligned, non-empty, merged, in capacity. */
    if (out->nr > E820_MAX_ENTRIES)
        FAIL("out->nr %u over capacity", out->nr);
    for (uint32_t i = 0; i < out->nr; i++) {
        const struct e820_entry *e = &out->entries[i];

        if (e->type < 1 || e->type > 7)
            FAIL("entry %u: type %u", i, e->type);
        if ((e->addr | e->size) & (PAGE_SIZE - 1))
            FAIL("entry %u: unaligned %#lx %#lx", i, e->addr, e->size);
        if (e->size == 0 && (e->addr != 0 || out->nr != 1))
            FAIL("entry %u: size 0 (2^64) at %#lx", i, e->addr);
        if (e->size && e->size - 1 > UINT64_MAX - e->addr)
            FAIL("entry %u: runs past 2^64", i);
        if (i) {
            const struct e820_entry *p = e - 1;
            uint64_t plast = p->addr + p->size - 1;

            if (plast == UINT64_MAX || e->addr <= plast)
                FAIL("entry %u: not sorted/disjoint", i);
            if (e->addr == plast + 1 && e->type == p->type)
                FAIL("entry %u: not merged with previous", i);
        }
    }
    /* What was stored, even a prefix cut by the capacity, is valid. */
    if (e820_validate(out, NULL) != NULL)
        FAIL("e820_validate: %s", e820_validate(out, NULL));

    /* The whole map, against the model's runs. */
    nruns = model_runs(in, n, &runs);
    if (rep->nr_needed != nruns)
        FAIL("nr_needed %u, model has %zu runs", rep->nr_needed, nruns);
    if (nruns > E820_MAX_ENTRIES) {
        if (rc != E820_ENOSPC || out->nr != E820_MAX_ENTRIES)
            FAIL("%zu runs: rc %d out->nr %u, want ENOSPC", nruns, rc, out->nr);
    } else if (rc != E820_OK || out->nr != nruns) {
        FAIL("%zu runs: rc %d out->nr %u", nruns, rc, out->nr);
    }
    for (uint32_t i = 0; i < out->nr; i++) {
        const struct e820_entry *e = &out->entries[i];
        uint64_t pages = e->size ? e->size >> PAGE_SHIFT : MODEL_MAX_PFN + 1;

        if (e->addr >> PAGE_SHIFT != runs[i].pfn || pages != runs[i].count ||
            e->type != runs[i].type)
            FAIL("entry %u: %#lx +%#lx pages type %u, model %#lx +%#lx type %u",
                 i, e->addr >> PAGE_SHIFT, pages, e->type, runs[i].pfn,
                 runs[i].count, runs[i].type);
    }

    /* Random probes: the map answers like the page model everywhere. */
    if (rc == E820_OK) {
        for (int k = 0; k < 16; k++) {
            uint64_t pfn;

            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            pfn = (seed >> 12);
            if (k & 1)  /* half near an entry, half anywhere */
                pfn = n ? (in[(seed >> 7) % n].addr >> PAGE_SHIFT) +
                          (seed & 7) - 3 : pfn;
            pfn &= MODEL_MAX_PFN;
            if (model_map_type(out, pfn) != model_page_type(in, n, pfn))
                FAIL("page %#lx: map %u, model %u", pfn,
                     model_map_type(out, pfn), model_page_type(in, n, pfn));
        }
    }
    ok = true;
out:
    free(runs);
    return ok;
#undef FAIL
}

#endif

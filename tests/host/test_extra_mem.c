/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests for the extra-memory region table (mm/extra_mem.c). */
#include <stdlib.h>
#include <string.h>
#include <pvhk/extra_mem.h>
#include "harness.h"

static struct extra_mem em;

HOST_TEST(extra_mem_add_merges_adjacent)
{
    extra_mem_init(&em);
    CHECK(extra_mem_add(&em, 100, 10, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(extra_mem_add(&em, 110, 5, EXTRA_MEM_UNUSABLE) == 0);  /* append */
    CHECK(extra_mem_add(&em, 90, 10, EXTRA_MEM_UNUSABLE) == 0);   /* prepend */
    REQUIRE(em.nr_regions == 1);
    CHECK(em.region[0].start_pfn == 90 && em.region[0].nr_pfns == 25);
    /* A gap, then the range that bridges it: two regions fold into one. */
    CHECK(extra_mem_add(&em, 120, 10, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(em.nr_regions == 2);
    CHECK(extra_mem_add(&em, 115, 5, EXTRA_MEM_UNUSABLE) == 0);
    REQUIRE(em.nr_regions == 1);
    CHECK(em.region[0].start_pfn == 90 && em.region[0].nr_pfns == 40);
    CHECK(em.nr_pfns == 40);
    /* Different origins never merge. */
    CHECK(extra_mem_add(&em, 130, 4, EXTRA_MEM_RELEASED_RAM) == 0);
    CHECK(em.nr_regions == 2);
    CHECK(extra_mem_find(&em, 131)->origin == EXTRA_MEM_RELEASED_RAM);
    CHECK(extra_mem_find(&em, 129)->origin == EXTRA_MEM_UNUSABLE);
}

HOST_TEST(extra_mem_add_rejects)
{
    extra_mem_init(&em);
    CHECK(extra_mem_add(&em, 100, 0, EXTRA_MEM_UNUSABLE) == -XEN_EINVAL);
    CHECK(extra_mem_add(&em, UINT64_MAX - 1, 4, EXTRA_MEM_UNUSABLE) == -XEN_EINVAL);
    CHECK(extra_mem_add(&em, 100, 1, 7) == -XEN_EINVAL);
    CHECK(extra_mem_add(&em, 100, 10, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(extra_mem_add(&em, 109, 2, EXTRA_MEM_UNUSABLE) == -XEN_EEXIST);
    CHECK(extra_mem_add(&em, 95, 6, EXTRA_MEM_UNUSABLE) == -XEN_EEXIST);
    CHECK(extra_mem_add(&em, 50, 200, EXTRA_MEM_UNUSABLE) == -XEN_EEXIST);
    CHECK(em.nr_regions == 1 && em.nr_pfns == 10);
}

HOST_TEST(extra_mem_full_table_reports)
{
    extra_mem_init(&em);
    for (unsigned i = 0; i < EXTRA_MEM_MAX_REGIONS; i++)
        REQUIRE(extra_mem_add(&em, i * 10, 5, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(extra_mem_add(&em, 5000, 5, EXTRA_MEM_UNUSABLE) == -XEN_ENOSPC);
    /* Appending needs no slot: still fine when full. */
    CHECK(extra_mem_add(&em, 5, 2, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(em.nr_regions == EXTRA_MEM_MAX_REGIONS);
    CHECK(em.nr_pfns == EXTRA_MEM_MAX_REGIONS * 5 + 2);
}

HOST_TEST(extra_mem_find_contains)
{
    extra_mem_init(&em);
    CHECK(extra_mem_find(&em, 0) == NULL);
    extra_mem_add(&em, 100, 10, EXTRA_MEM_UNUSABLE);
    extra_mem_add(&em, 200, 10, EXTRA_MEM_UNUSABLE);
    CHECK(extra_mem_find(&em, 99) == NULL);
    CHECK(extra_mem_find(&em, 100) == &em.region[0]);
    CHECK(extra_mem_find(&em, 109) == &em.region[0]);
    CHECK(extra_mem_find(&em, 110) == NULL);
    CHECK(extra_mem_find(&em, 205) == &em.region[1]);
    CHECK(extra_mem_contains(&em, 100, 10));
    CHECK(!extra_mem_contains(&em, 100, 11));
    CHECK(!extra_mem_contains(&em, 105, 100));     /* spans a gap */
    CHECK(!extra_mem_contains(&em, 100, 0));
}

/* A dom0_mem=256M,max:512M-like map on a 1 GiB machine. */
HOST_TEST(extra_mem_from_dom0_map)
{
    const struct extra_mem_range map[] = {
        { 0x0, 0x9f, EXTRA_MEM_E820_RAM },
        { 0x9f, 0x61, 2 },
        { 0x100, 0xff00, EXTRA_MEM_E820_RAM },          /* to 256 MiB */
        { 0x10000, 0x2fee0, EXTRA_MEM_E820_UNUSABLE },   /* withheld RAM */
        { 0x3fee0, 0x120, 2 },
        { 0xfeff8, 0x8, EXTRA_MEM_E820_UNUSABLE },
    };
    struct extra_mem_report rep;

    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, ARRAY_SIZE(map), 10, &rep) == 0);
    CHECK(rep.ram_pfns == 0x9f + 0xff00);
    CHECK(rep.registered_pfns == 0x2fee0 + 8);
    CHECK(rep.split == 0 && rep.over_limit_pfns == 0 && rep.dropped_pfns == 0);
    CHECK(em.nr_regions == 2);

    /* Ratio 1: only RAM-many pages, the first UNUSABLE range is split. */
    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, ARRAY_SIZE(map), 1, &rep) == 0);
    CHECK(rep.registered_pfns == rep.ram_pfns);
    CHECK(rep.split == 1);
    CHECK(rep.over_limit_pfns == 0x2fee0 + 8 - rep.ram_pfns);
    REQUIRE(em.nr_regions == 1);
    CHECK(em.region[0].start_pfn == 0x10000 && em.region[0].nr_pfns == rep.ram_pfns);

    /* Ratio 0: nothing. */
    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, ARRAY_SIZE(map), 0, &rep) == 0);
    CHECK(em.nr_regions == 0 && rep.registered_pfns == 0);

    /* Unsorted map. */
    const struct extra_mem_range bad[] = {
        { 0x100, 0x10, EXTRA_MEM_E820_RAM }, { 0x50, 0x10, EXTRA_MEM_E820_UNUSABLE },
    };
    CHECK(extra_mem_from_ranges(&em, bad, 2, 10, &rep) == -XEN_EINVAL);
}

HOST_TEST(extra_mem_from_map_table_full)
{
    static struct extra_mem_range map[2 * EXTRA_MEM_MAX_REGIONS + 20];
    struct extra_mem_report rep;
    unsigned n = 0;

    map[n++] = (struct extra_mem_range){ 0, 1 << 20, EXTRA_MEM_E820_RAM };
    for (unsigned i = 0; i < EXTRA_MEM_MAX_REGIONS + 10; i++)
        map[n++] = (struct extra_mem_range){ (1 << 20) + i * 4, 2,
                                             EXTRA_MEM_E820_UNUSABLE };
    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, n, 10, &rep) == -XEN_ENOSPC);
    CHECK(em.nr_regions == EXTRA_MEM_MAX_REGIONS);
    CHECK(rep.registered_pfns == EXTRA_MEM_MAX_REGIONS * 2);
    CHECK(rep.dropped_pfns == 20);
}

/* Random adds against a per-frame model. */
HOST_TEST(extra_mem_random_vs_model)
{
    enum { SPAN = 4096 };
    static int8_t model[SPAN];       /* -1 none, else origin */
    unsigned rounds = host_soak ? 2000 : 200;

    srand(6);
    for (unsigned r = 0; r < rounds; r++) {
        extra_mem_init(&em);
        memset(model, -1, sizeof(model));
        for (unsigned k = 0; k < 100; k++) {
            uint64_t s = rand() % SPAN, n = 1 + rand() % 64;
            int o = rand() % 2, rc, overlap = 0;

            if (s + n > SPAN)
                n = SPAN - s;
            for (uint64_t p = s; p < s + n; p++)
                overlap |= model[p] >= 0;
            rc = extra_mem_add(&em, s, n, o);
            if (overlap) {
                CHECK(rc == -XEN_EEXIST);
            } else if (rc == 0) {
                for (uint64_t p = s; p < s + n; p++)
                    model[p] = o;
            } else {
                CHECK(rc == -XEN_ENOSPC);
            }
        }
        /* The table equals the model, regions sorted, maximal per origin. */
        uint64_t total = 0;
        for (unsigned i = 0; i < em.nr_regions; i++) {
            const struct extra_mem_region *g = &em.region[i];
            total += g->nr_pfns;
            if (i) {
                const struct extra_mem_region *p = &em.region[i - 1];
                CHECK(p->start_pfn + p->nr_pfns <= g->start_pfn);
                CHECK(!(p->start_pfn + p->nr_pfns == g->start_pfn &&
                        p->origin == g->origin));
            }
        }
        CHECK(total == em.nr_pfns);
        for (uint64_t p = 0; p < SPAN; p++) {
            const struct extra_mem_region *g = extra_mem_find(&em, p);
            int got = g ? (int)g->origin : -1;

            if (got != model[p]) {
                CHECKF(got == model[p], "round %u pfn %lu", r, (unsigned long)p);
                return;
            }
        }
    }
}

/* ---- boundaries ----------------------------------------------------------- */

/* A range that wraps past 2^64 is inside no region, however it wraps. */
HOST_TEST(extra_mem_contains_wrapping_range)
{
    extra_mem_init(&em);
    REQUIRE(extra_mem_add(&em, 100, 10, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(!extra_mem_contains(&em, 105, UINT64_MAX - 50));  /* wraps to 54 */
    CHECK(!extra_mem_contains(&em, 105, UINT64_MAX));
    CHECK(extra_mem_contains(&em, 109, 1));
    CHECK(!extra_mem_contains(&em, 109, 2));                /* one frame over */
    CHECK(!extra_mem_contains(&em, 99, 2));                 /* one frame under */
    CHECK(extra_mem_add(&em, UINT64_MAX - 4, 5, EXTRA_MEM_UNUSABLE) == -XEN_EINVAL);
    CHECK(extra_mem_add(&em, UINT64_MAX - 5, 5, EXTRA_MEM_UNUSABLE) == 0);
}

/*
 * A full table (on the heap, exactly one struct: nothing past it may be
 * read) still folds two regions when a range bridges them.
 */
HOST_TEST(extra_mem_fold_in_a_full_table)
{
    struct extra_mem *t = malloc(sizeof(*t));

    extra_mem_init(t);
    for (unsigned i = 0; i < EXTRA_MEM_MAX_REGIONS; i++)
        REQUIRE(extra_mem_add(t, i * 10, 5, EXTRA_MEM_UNUSABLE) == 0);
    /* Bridge the last two regions, then the first two. */
    CHECK(extra_mem_add(t, (EXTRA_MEM_MAX_REGIONS - 2) * 10 + 5, 5,
                        EXTRA_MEM_UNUSABLE) == 0);
    CHECK(t->nr_regions == EXTRA_MEM_MAX_REGIONS - 1);
    CHECK(t->region[EXTRA_MEM_MAX_REGIONS - 2].nr_pfns == 15);
    CHECK(extra_mem_add(t, 5, 5, EXTRA_MEM_UNUSABLE) == 0);
    CHECK(t->nr_regions == EXTRA_MEM_MAX_REGIONS - 2);
    CHECK(t->region[0].start_pfn == 0 && t->region[0].nr_pfns == 15);
    CHECK(t->region[1].start_pfn == 20 && t->region[1].nr_pfns == 5);
    CHECK(t->nr_pfns == EXTRA_MEM_MAX_REGIONS * 5 + 10);
    free(t);
}

/* Every map entry counts, the first and the one-page ones included. */
HOST_TEST(extra_mem_from_ranges_edges)
{
    const struct extra_mem_range map[] = {
        { 0x10, 0x1, EXTRA_MEM_E820_UNUSABLE },     /* first, one page */
        { 0x20, 0x100, EXTRA_MEM_E820_RAM },
        { 0x200, 0x0, EXTRA_MEM_E820_UNUSABLE },    /* empty */
        { 0x300, 0x1, EXTRA_MEM_E820_UNUSABLE },
        { 0x400, 0x8, 4 },                          /* ACPI NVS: neither */
    };
    struct extra_mem_report rep;

    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, ARRAY_SIZE(map), 10, &rep) == 0);
    CHECK(rep.ram_pfns == 0x100 && rep.unusable_pfns == 2 && rep.limit_pfns == 0xa00);
    CHECK(rep.registered_pfns == 2 && em.nr_regions == 2);
    CHECK(extra_mem_find(&em, 0x10) && extra_mem_find(&em, 0x300));
    CHECK(rep.split == 0 && rep.over_limit_pfns == 0);

    /* An UNUSABLE range that overlaps one registered by hand: the error. */
    extra_mem_init(&em);
    REQUIRE(extra_mem_add(&em, 0x300, 1, EXTRA_MEM_RELEASED_RAM) == 0);
    CHECK(extra_mem_from_ranges(&em, map, ARRAY_SIZE(map), 10, &rep) == -XEN_EEXIST);
}

/* ratio x RAM saturates at 2^64 - 1, and is exact just below that. */
HOST_TEST(extra_mem_ratio_limit_saturates)
{
    struct extra_mem_range map[] = {
        { 0, UINT64_MAX / 10, EXTRA_MEM_E820_RAM },
    };
    struct extra_mem_report rep;

    extra_mem_init(&em);
    CHECK(extra_mem_from_ranges(&em, map, 1, 10, &rep) == 0);
    CHECK(rep.limit_pfns == UINT64_MAX / 10 * 10);          /* ...610 */
    map[0].nr_pfns = UINT64_MAX / 10 + 1;
    CHECK(extra_mem_from_ranges(&em, map, 1, 10, &rep) == 0);
    CHECK(rep.limit_pfns == UINT64_MAX);
    CHECK(extra_mem_from_ranges(&em, map, 1, 0, &rep) == 0 && rep.limit_pfns == 0);
}

/*
 * Once the table is full, the rest of the map is dropped, even a range
 * that could extend a region registered earlier by hand without a slot.
 */
HOST_TEST(extra_mem_from_ranges_stops_when_full)
{
    static struct extra_mem_range map[EXTRA_MEM_MAX_REGIONS + 3];
    const uint64_t base = 1 << 20, hand = 1 << 24;
    struct extra_mem_report rep;
    unsigned n = 0;

    extra_mem_init(&em);
    REQUIRE(extra_mem_add(&em, hand, 10, EXTRA_MEM_UNUSABLE) == 0);
    map[n++] = (struct extra_mem_range){ 0, 1 << 20, EXTRA_MEM_E820_RAM };
    /* 127 ranges fill the table, the 128th finds it full... */
    for (unsigned i = 0; i < EXTRA_MEM_MAX_REGIONS; i++)
        map[n++] = (struct extra_mem_range){ base + i * 4, 2,
                                             EXTRA_MEM_E820_UNUSABLE };
    /* ...and this one would only extend the region registered by hand. */
    map[n++] = (struct extra_mem_range){ hand + 10, 3, EXTRA_MEM_E820_UNUSABLE };
    CHECK(extra_mem_from_ranges(&em, map, n, 10, &rep) == -XEN_ENOSPC);
    CHECK(em.nr_regions == EXTRA_MEM_MAX_REGIONS);
    CHECK(rep.registered_pfns == (EXTRA_MEM_MAX_REGIONS - 1) * 2);
    CHECK(rep.dropped_pfns == 2 + 3);
    CHECK(!extra_mem_find(&em, hand + 10) && extra_mem_find(&em, hand + 9));
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host tests for the early boot allocator (mm/memblock.c): reservations
 * and their labels, overlap and merge rules, allocation limits and
 * exhaustion, free-range iteration, and a randomized run against a
 * page-by-page model.
 */
#include <stdlib.h>
#include "harness.h"
#include <pvhk/memblock.h>
#include <pvhk/string.h>

#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

/* QEMU's bare PVH map, -m 512 pc, already sanitised. */
static const struct e820_map qemu_512 = { .nr = 6, .entries = {
    { 0x0, 0x9f000, E820_RAM },
    { 0x9f000, 0x1000, E820_RESERVED },
    { 0xf0000, 0x10000, E820_RESERVED },
    { 0x100000, 0x1fee0000, E820_RAM },
    { 0x1ffe0000, 0x20000, E820_RESERVED },
    { 0xfffc0000, 0x40000, E820_RESERVED },
} };

/* dom0 -m 4096, dom0_mem=256M: RAM only low, UNUSABLE high. */
static const struct e820_map dom0_256m = { .nr = 6, .entries = {
    { 0x0, 0x9f000, E820_RAM },
    { 0x9f000, 0x1000, E820_RESERVED },
    { 0x100000, 0xff60000, E820_RAM },
    { 0x10060000, 0x1000, E820_ACPI },
    { 0x10061000, 0xaff7f000, E820_UNUSABLE },
    { 0x100000000, 0x40000000, E820_UNUSABLE },
} };

static struct memblock mb;

struct range { paddr_t base; uint64_t size; };

/* Collect the free ranges; returns how many. */
static size_t free_ranges(const struct memblock *m, struct range *out, size_t max)
{
    paddr_t cur = 0, base;
    uint64_t size;
    size_t n = 0;

    while (memblock_next_free(m, &cur, &base, &size)) {
        if (n < max)
            out[n] = (struct range){ base, size };
        n++;
    }
    return n;
}

static bool reserved_is(const struct memblock *m, uint32_t i, paddr_t base,
                        uint64_t size, const char *label)
{
    const struct memblock_region *r = memblock_reserved_region(m, i);

    if (r && r->base == base && r->size == size && !strcmp(r->label, label))
        return true;
    if (r)
        fprintf(stderr, "    reservation %u: %#lx +%#lx \"%s\"\n", i, r->base,
                r->size, r->label);
    else
        fprintf(stderr, "    reservation %u: none\n", i);
    return false;
}

HOST_TEST(memblock_init_from_map)
{
    struct range fr[8];

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    CHECK(mb.nr_memory == 2);
    CHECK(mb.nr_reserved == 1);
    CHECK(reserved_is(&mb, 0, 0, PAGE_SIZE, "page 0"));
    CHECK(memblock_reserved_region(&mb, 1) == NULL);

    REQUIRE(free_ranges(&mb, fr, 8) == 2);
    CHECK(fr[0].base == 0x1000 && fr[0].size == 0x9e000);
    CHECK(fr[1].base == 0x100000 && fr[1].size == 0x1fee0000);
    CHECK(memblock_free_pages(&mb) == 0x9e + 0x1fee0);

    CHECK(memblock_is_ram(&mb, 0, PAGE_SIZE));
    CHECK(!memblock_is_free(&mb, 0, PAGE_SIZE));
    CHECK(memblock_is_reserved(&mb, 0, 1));
    CHECK(!memblock_is_ram(&mb, 0x9f000, 1));           /* reserved type */
    CHECK(!memblock_is_ram(&mb, 0x9e000, 0x2000));      /* straddles */
    CHECK(memblock_is_free(&mb, 0x9e000, 0x1000));
    CHECK(memblock_is_free(&mb, 0x100000, 0x1fee0000));
    CHECK(!memblock_is_free(&mb, 0x100000, 0x1fee0001));
    CHECK(!memblock_is_ram(&mb, 0xfffc0000, 1));
    /* size 0 asks about one page, even at a page boundary. */
    CHECK(!memblock_is_ram(&mb, 0x9f000, 0));
    CHECK(!memblock_is_reserved(&mb, 0x2000, 0));
    CHECK(memblock_is_free(&mb, 0x2000, 0));
}

HOST_TEST(memblock_init_rejects_unsanitised_map)
{
    struct e820_map bad = { .nr = 2, .entries = {
        { 0x100000, 0x1000, E820_RAM }, { 0x0, 0x1000, E820_RAM } } };

    CHECK(memblock_init(&mb, &bad) == MEMBLOCK_EINVAL);
    bad.entries[1] = (struct e820_entry){ 0x200800, 0x1000, E820_RAM };
    CHECK(memblock_init(&mb, &bad) == MEMBLOCK_EINVAL);
}

HOST_TEST(memblock_ram_above_52_bits_ignored)
{
    const struct e820_map m = { .nr = 2, .entries = {
        { 0x0, 0x10000, E820_RAM },
        { (1ULL << 52) - 0x4000, 0x10000, E820_RAM },
    } };
    const struct e820_map all = { .nr = 1, .entries = { { 0, 0, E820_RAM } } };
    struct range fr[4];

    REQUIRE(memblock_init(&mb, &m) == 0);
    CHECK(mb.ignored_pages == 12);
    REQUIRE(free_ranges(&mb, fr, 4) == 2);
    CHECK(fr[1].base == (1ULL << 52) - 0x4000 && fr[1].size == 0x4000);
    CHECK(memblock_reserve(&mb, (1ULL << 52) - 0x1000, 0x1000, "top") == 0);
    CHECK(memblock_reserve(&mb, (1ULL << 52) - 0x1000, 0x1001, "x") == MEMBLOCK_EINVAL);
    CHECK(memblock_reserve(&mb, UINT64_MAX, 2, "x") == MEMBLOCK_EINVAL);
    CHECK(!memblock_is_ram(&mb, 1ULL << 52, 1));

    /* The whole address space as RAM (size 0 means 2^64). */
    REQUIRE(memblock_init(&mb, &all) == 0);
    CHECK(mb.nr_memory == 1 && mb.memory[0].size == 1ULL << 52);
    CHECK(mb.ignored_pages == (1ULL << 52) - (1ULL << 40));
    CHECK(memblock_alloc(&mb, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE, "hi") ==
          (1ULL << 52) - PAGE_SIZE);
}

HOST_TEST(memblock_reserve_widens_to_pages_and_sorts)
{
    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    CHECK(memblock_reserve(&mb, 0x200800, 0x10, "start_info") == 0);
    CHECK(memblock_reserve(&mb, 0x100000, 0x23456, "kernel") == 0);
    CHECK(memblock_reserve(&mb, 0x300fff, 2, "cmdline") == 0);
    CHECK(memblock_reserve(&mb, 0x5000, 0, "nothing") == 0);
    CHECK(mb.nr_reserved == 4);
    CHECK(reserved_is(&mb, 0, 0, 0x1000, "page 0"));
    CHECK(reserved_is(&mb, 1, 0x100000, 0x24000, "kernel"));
    CHECK(reserved_is(&mb, 2, 0x200000, 0x1000, "start_info"));
    CHECK(reserved_is(&mb, 3, 0x300000, 0x2000, "cmdline"));
    CHECK(memblock_is_reserved(&mb, 0x123456, 0));
    CHECK(memblock_is_reserved(&mb, 0x100000, 0x24000));
    CHECK(!memblock_is_reserved(&mb, 0x100000, 0x24001));
    CHECK(!memblock_is_free(&mb, 0x123fff, 0x1001));
    CHECK(memblock_is_free(&mb, 0x124000, 0x1000));
    /* Reservations may cover non-RAM: never free, but recorded. */
    CHECK(memblock_reserve(&mb, 0xfee00000, 0x1000, "lapic") == 0);
    CHECK(memblock_is_reserved(&mb, 0xfee00000, 1));
    CHECK(!memblock_is_ram(&mb, 0xfee00000, 1));
}

HOST_TEST(memblock_overlap_first_label_keeps_pages)
{
    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, 0x200000, 0x100000, "A") == 0);
    REQUIRE(memblock_reserve(&mb, 0x280000, 0x10000, "C") == 0); /* inside A */
    CHECK(mb.nr_reserved == 2);
    REQUIRE(memblock_reserve(&mb, 0x180000, 0x200000, "B") == 0);
    CHECK(mb.nr_reserved == 4);
    CHECK(reserved_is(&mb, 1, 0x180000, 0x80000, "B"));
    CHECK(reserved_is(&mb, 2, 0x200000, 0x100000, "A"));
    CHECK(reserved_is(&mb, 3, 0x300000, 0x80000, "B"));
}

/* An exclusive reservation that meets an existing one is refused whole,
 * naming the lowest record it meets; one that only touches is taken. */
HOST_TEST(memblock_exclusive_refuses_overlap)
{
    const struct memblock_region *clash = (const void *)1;

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, 0x200000, 0x100000, "image") == 0);
    REQUIRE(memblock_reserve(&mb, 0x400000, 0x1000, "module") == 0);
    uint32_t before = mb.nr_reserved;

    /* The last byte of the range is in "image": refused, nothing recorded. */
    CHECK(memblock_reserve_exclusive(&mb, 0x100000, 0x100001, "trim", &clash) ==
          MEMBLOCK_EBUSY);
    REQUIRE(clash != NULL);
    CHECK(clash->base == 0x200000 && !strcmp(clash->label, "image"));
    CHECK(mb.nr_reserved == before && memblock_is_free(&mb, 0x100000, 0x100000));
    /* Spanning both: the lower is named. */
    CHECK(memblock_reserve_exclusive(&mb, 0x2ff000, 0x200000, "trim", &clash) ==
          MEMBLOCK_EBUSY);
    CHECK(clash && !strcmp(clash->label, "image"));
    CHECK(memblock_reserve_exclusive(&mb, 0x3ff000, 0x2000, "trim", &clash) ==
          MEMBLOCK_EBUSY);
    CHECK(clash && !strcmp(clash->label, "module"));
    /* Touching on both sides is no overlap. */
    CHECK(memblock_reserve_exclusive(&mb, 0x300000, 0x100000, "trim", &clash) == 0);
    CHECK(clash == NULL);
    CHECK(reserved_is(&mb, 2, 0x300000, 0x100000, "trim"));
    CHECK(memblock_reserve_exclusive(&mb, 0x500000, 0, "trim", NULL) == 0);
    memblock_close(&mb);
    CHECK(memblock_reserve_exclusive(&mb, 0x600000, 0x1000, "trim", NULL) == MEMBLOCK_ECLOSED);
}

HOST_TEST(memblock_same_label_merges)
{
    static char dyn[] = "boot";     /* equal text, other pointer */

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, 0x200000, 0x1000, "boot") == 0);
    REQUIRE(memblock_reserve(&mb, 0x201000, 0x1000, dyn) == 0);     /* touch */
    CHECK(mb.nr_reserved == 2);
    CHECK(reserved_is(&mb, 1, 0x200000, 0x2000, "boot"));
    REQUIRE(memblock_reserve(&mb, 0x1ff800, 0x1000, "boot") == 0);  /* overlap */
    CHECK(reserved_is(&mb, 1, 0x1ff000, 0x3000, "boot"));
    REQUIRE(memblock_reserve(&mb, 0x208000, 0x1000, "boot") == 0);
    REQUIRE(memblock_reserve(&mb, 0x204000, 0x1000, "other") == 0);
    CHECK(mb.nr_reserved == 4);
    /* Bridges both "boot" records around "other": one record remains. */
    REQUIRE(memblock_reserve(&mb, 0x200000, 0x9000, "boot") == 0);
    CHECK(mb.nr_reserved == 4);
    CHECK(reserved_is(&mb, 1, 0x1ff000, 0x5000, "boot"));
    CHECK(reserved_is(&mb, 2, 0x204000, 0x1000, "other"));
    CHECK(reserved_is(&mb, 3, 0x205000, 0x4000, "boot"));
    /* Touching, other label: no merge. */
    REQUIRE(memblock_reserve(&mb, 0x209000, 0x1000, "late") == 0);
    CHECK(reserved_is(&mb, 4, 0x209000, 0x1000, "late"));
}

HOST_TEST(memblock_table_full_is_all_or_nothing)
{
    struct memblock before;
    uint32_t i;

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    /* Pages 2, 4, ..., 254 past 2 MiB, labels alternating: 128 records. */
    for (i = 1; i < MEMBLOCK_MAX_RESERVED; i++)
        REQUIRE(memblock_reserve(&mb, MiB(2) + PFN_PHYS(2 * i), PAGE_SIZE,
                                 i % 2 ? "odd" : "even") == 0);
    REQUIRE(mb.nr_reserved == MEMBLOCK_MAX_RESERVED);

    before = mb;
    CHECK(memblock_reserve(&mb, MiB(100), PAGE_SIZE, "new") == MEMBLOCK_ENOSPC);
    /* Every gap up to page 255 joins an "even" record; the tail would not. */
    CHECK(memblock_reserve(&mb, MiB(2) + PFN_PHYS(3), PFN_PHYS(300),
                           "even") == MEMBLOCK_ENOSPC);
    CHECK(memcmp(&before, &mb, sizeof(mb)) == 0);
    CHECK(memblock_alloc(&mb, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE, "x") == 0);
    CHECK(memcmp(&before, &mb, sizeof(mb)) == 0);

    /* Growing records in place needs no new one. */
    CHECK(memblock_reserve(&mb, MiB(2) + PFN_PHYS(3), PAGE_SIZE, "odd") == 0);
    CHECK(memblock_reserve(&mb, MiB(2) + PFN_PHYS(5), PAGE_SIZE, "odd") == 0);
    CHECK(mb.nr_reserved == MEMBLOCK_MAX_RESERVED);
    CHECK(reserved_is(&mb, 1, MiB(2) + PFN_PHYS(2), PFN_PHYS(2), "odd"));
    CHECK(reserved_is(&mb, 3, MiB(2) + PFN_PHYS(5), PFN_PHYS(2), "odd"));
    CHECK(strcmp(memblock_strerror(MEMBLOCK_ENOSPC), "reservation table full") == 0);
}

/*
 * With the table full, a reservation whose first gap needs a new record
 * but whose second bridges two records fits: it ends with as many records
 * as it started with, so it must not fail, nor overrun the table midway.
 */
HOST_TEST(memblock_full_table_bridge_makes_room)
{
    const paddr_t B = MiB(4);
    uint32_t i;

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, B + PFN_PHYS(10), PAGE_SIZE, "Y") == 0);
    REQUIRE(memblock_reserve(&mb, B + PFN_PHYS(13), PAGE_SIZE, "Z") == 0);
    REQUIRE(memblock_reserve(&mb, B + PFN_PHYS(14), PAGE_SIZE, "X") == 0);
    REQUIRE(memblock_reserve(&mb, B + PFN_PHYS(16), PAGE_SIZE, "X") == 0);
    for (i = mb.nr_reserved; i < MEMBLOCK_MAX_RESERVED; i++)
        REQUIRE(memblock_reserve(&mb, MiB(8) + PFN_PHYS(2 * i), PAGE_SIZE,
                                 "fill") == 0);
    REQUIRE(mb.nr_reserved == MEMBLOCK_MAX_RESERVED);

    /* Gap 11-12: new record.  Gap 15: bridges X@14 and X@16. */
    CHECK(memblock_reserve(&mb, B + PFN_PHYS(11), PFN_PHYS(6), "X") == 0);
    CHECK(mb.nr_reserved == MEMBLOCK_MAX_RESERVED);
    CHECK(reserved_is(&mb, 1, B + PFN_PHYS(10), PAGE_SIZE, "Y"));
    CHECK(reserved_is(&mb, 2, B + PFN_PHYS(11), PFN_PHYS(2), "X"));
    CHECK(reserved_is(&mb, 3, B + PFN_PHYS(13), PAGE_SIZE, "Z"));
    CHECK(reserved_is(&mb, 4, B + PFN_PHYS(14), PFN_PHYS(3), "X"));
}

HOST_TEST(memblock_alloc_top_down_limit_align)
{
    paddr_t a, b, c, d;

    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, 0x100000, 0x200000, "kernel") == 0);

    a = memblock_alloc(&mb, 0x1800, 0, MEMBLOCK_ALLOC_ANYWHERE, "a");
    CHECK(a == 0x1ffe0000 - 0x2000);
    CHECK(reserved_is(&mb, 2, a, 0x2000, "a"));

    b = memblock_alloc(&mb, PAGE_SIZE, MiB(2), MEMBLOCK_ALLOC_ANYWHERE, "b");
    CHECK(b == 0x1fe00000);

    c = memblock_alloc(&mb, 0x3000, 0, MiB(1), "low");      /* below 1 MiB */
    CHECK(c == 0x9f000 - 0x3000);

    d = memblock_alloc(&mb, PAGE_SIZE, 0, 0x9c800, "lower"); /* limit unaligned */
    CHECK(d == 0x9b000);

    /* Nothing fits: clean failure, nothing recorded. */
    CHECK(memblock_alloc(&mb, MiB(600), 0, MEMBLOCK_ALLOC_ANYWHERE, "big") == 0);
    CHECK(memblock_alloc(&mb, PAGE_SIZE, 0, PAGE_SIZE, "page0") == 0);
    CHECK(memblock_alloc(&mb, 0, 0, MEMBLOCK_ALLOC_ANYWHERE, "zero") == 0);
    CHECK(memblock_alloc(&mb, PAGE_SIZE, 3 * PAGE_SIZE, MEMBLOCK_ALLOC_ANYWHERE, "npot") == 0);
    CHECK(mb.nr_reserved == 6);
}

HOST_TEST(memblock_alloc_below_4g_on_dom0)
{
    paddr_t p;

    REQUIRE(memblock_init(&mb, &dom0_256m) == 0);
    /* UNUSABLE is never RAM here, however much of it there is. */
    CHECK(!memblock_is_ram(&mb, 0x10061000, 1));
    p = memblock_alloc(&mb, MiB(1), MiB(1), GiB(4), "p2m");
    CHECK(p == 0xff00000);      /* highest 1 MiB-aligned MiB of RAM */
    CHECK(memblock_is_reserved(&mb, p, MiB(1)));
}

HOST_TEST(memblock_exhaustion_then_every_page_handed_out_once)
{
    static const struct e820_map small = { .nr = 2, .entries = {
        { 0x0, 0x10000, E820_RAM }, { 0x20000, 0x8000, E820_RAM } } };
    static bool seen[0x28];
    unsigned got = 0;
    paddr_t p;

    REQUIRE(memblock_init(&mb, &small) == 0);
    memset(seen, 0, sizeof(seen));
    while ((p = memblock_alloc(&mb, PAGE_SIZE, 0, MEMBLOCK_ALLOC_ANYWHERE,
                               "page")) != 0) {
        REQUIRE(p < 0x28000 && !seen[PFN_DOWN(p)]);
        CHECK(p != 0);
        CHECK((p >= 0x1000 && p < 0x10000) || (p >= 0x20000 && p < 0x28000));
        seen[PFN_DOWN(p)] = true;
        got++;
    }
    CHECK(got == 15 + 8);
    CHECK(memblock_free_pages(&mb) == 0);
    /* Same label throughout: the pages merged into one record per region. */
    CHECK(mb.nr_reserved == 3);
    CHECK(reserved_is(&mb, 1, 0x1000, 0xf000, "page"));
    CHECK(reserved_is(&mb, 2, 0x20000, 0x8000, "page"));
}

/* ---- randomized, against a page-by-page model ------------------------- */

#define MODEL_PAGES 512

static uint64_t rng = 0x2545f4914f6cdd1d;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

HOST_TEST(memblock_random_against_page_model)
{
    unsigned rounds = host_soak ? 20000 : 1500;
    static const char *const labels[] = { "a", "b", "c" };

    for (unsigned r = 0; r < rounds; r++) {
        /* Reservations may reach a few pages past the RAM window. */
        bool ram[MODEL_PAGES + 16] = { false };
        const char *owner[MODEL_PAGES + 16] = { NULL };
        struct e820_map map = { 0 };
        uint64_t pfn = rnd() % 4;

        /* A random sanitised map: RAM runs separated by holes/reserved. */
        while (pfn < MODEL_PAGES && map.nr < 20) {
            uint64_t len = 1 + rnd() % 60;
            uint32_t type = map.nr % 2 ? E820_RESERVED : E820_RAM;

            len = MIN(len, MODEL_PAGES - pfn);
            map.entries[map.nr++] = (struct e820_entry){ PFN_PHYS(pfn),
                                                          PFN_PHYS(len), type };
            for (uint64_t i = 0; i < len; i++)
                ram[pfn + i] = type == E820_RAM;
            pfn += len + rnd() % 3;     /* sometimes a hole between */
        }
        REQUIRE(memblock_init(&mb, &map) == 0);
        owner[0] = "page 0";

        for (unsigned op = 0; op < 40; op++) {
            const char *label = labels[rnd() % 3];

            if (rnd() % 2) {
                uint64_t base = rnd() % PFN_PHYS(MODEL_PAGES);
                uint64_t size = rnd() % PFN_PHYS(8);
                int rc = memblock_reserve(&mb, base, size, label);

                if (rc == MEMBLOCK_ENOSPC)
                    continue;
                REQUIRE(rc == 0);
                if (size)
                    for (uint64_t p = PFN_DOWN(base); p < PFN_UP(base + size); p++)
                        if (!owner[p])
                            owner[p] = label;
            } else {
                uint64_t pages = 1 + rnd() % 6, align = PAGE_SIZE << (rnd() % 4);
                uint64_t limit = rnd() % 4 ? PFN_PHYS(rnd() % MODEL_PAGES)
                                           : MEMBLOCK_ALLOC_ANYWHERE;
                paddr_t p = memblock_alloc(&mb, PFN_PHYS(pages), align, limit, label);
                paddr_t want = 0;

                /* The model's answer: the highest aligned free run. */
                for (uint64_t s = MODEL_PAGES - pages + 1; s-- > 1; ) {
                    bool fits = PFN_PHYS(s + pages) <= limit &&
                                IS_ALIGNED(PFN_PHYS(s), align);

                    for (uint64_t i = 0; fits && i < pages; i++)
                        fits = ram[s + i] && !owner[s + i];
                    if (fits) {
                        want = PFN_PHYS(s);
                        break;
                    }
                }
                REQUIRE(p == want);
                for (uint64_t i = 0; p && i < pages; i++)
                    owner[PFN_DOWN(p) + i] = label;
            }

            /* Reservations are exactly the owner map, sorted and merged. */
            uint32_t idx = 0;
            for (uint64_t p = 0; p < MODEL_PAGES + 16; ) {
                uint64_t q = p;

                if (!owner[p]) {
                    p++;
                    continue;
                }
                while (q < MODEL_PAGES + 16 && owner[q] && !strcmp(owner[q], owner[p]))
                    q++;
                REQUIRE(reserved_is(&mb, idx, PFN_PHYS(p), PFN_PHYS(q - p), owner[p]));
                idx++;
                p = q;
            }
            REQUIRE(memblock_reserved_region(&mb, idx) == NULL);

            /* Free ranges are exactly RAM minus reservations. */
            {
                struct range fr[MODEL_PAGES];
                size_t n = free_ranges(&mb, fr, MODEL_PAGES), k = 0;

                for (uint64_t p = 0; p < MODEL_PAGES; ) {
                    uint64_t q = p;

                    if (!ram[p] || owner[p]) {
                        p++;
                        continue;
                    }
                    while (q < MODEL_PAGES && ram[q] && !owner[q])
                        q++;
                    /* A range may split where two RAM entries touch: none do here. */
                    REQUIRE(k < n && fr[k].base == PFN_PHYS(p) &&
                            fr[k].size == PFN_PHYS(q - p));
                    k++;
                    p = q;
                }
                REQUIRE(k == n);
            }

            /* Point queries. */
            for (int t = 0; t < 8; t++) {
                uint64_t p = rnd() % MODEL_PAGES;

                CHECK(memblock_is_ram(&mb, PFN_PHYS(p), 1) == ram[p]);
                CHECK(memblock_is_reserved(&mb, PFN_PHYS(p), 1) == (owner[p] != NULL));
                CHECK(memblock_is_free(&mb, PFN_PHYS(p), PAGE_SIZE) ==
                      (ram[p] && !owner[p]));
            }
        }
    }
}

/* ---- boundaries ------------------------------------------------------- */

/* Sizes that would wrap past 2^64 are refused, not read as small ranges. */
HOST_TEST(memblock_wrapping_sizes_refused)
{
    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    CHECK(!memblock_is_ram(&mb, 0x1000, UINT64_MAX - 0x800));
    CHECK(!memblock_is_free(&mb, 0x1000, UINT64_MAX - 0x800));
    CHECK(!memblock_is_reserved(&mb, 0, UINT64_MAX));
    CHECK(memblock_reserve(&mb, 0x1000, UINT64_MAX - 0x800, "x") == MEMBLOCK_EINVAL);
    CHECK(mb.nr_reserved == 1);
    CHECK(memblock_alloc(&mb, UINT64_MAX - 100, 0, MEMBLOCK_ALLOC_ANYWHERE, "x") == 0);
    CHECK(memblock_alloc(&mb, (1ULL << 52) + 1, 0, MEMBLOCK_ALLOC_ANYWHERE, "x") == 0);
    CHECK(mb.nr_reserved == 1);
}

/* Size 0 and 1 mean the page holding base, even at a page's last byte. */
HOST_TEST(memblock_last_byte_of_a_page)
{
    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    REQUIRE(memblock_reserve(&mb, 0x3000, 0x1000, "next") == 0);
    CHECK(memblock_is_free(&mb, 0x2fff, 0));
    CHECK(memblock_is_free(&mb, 0x2fff, 1));
    CHECK(!memblock_is_free(&mb, 0x2fff, 2));
    CHECK(memblock_reserve(&mb, 0x1fff, 1, "one") == 0);
    CHECK(reserved_is(&mb, 1, 0x1000, 0x1000, "one"));
    CHECK(reserved_is(&mb, 2, 0x3000, 0x1000, "next"));
}

/* RAM at exactly 2^52 is beyond the limit: ignored, no empty region. */
HOST_TEST(memblock_ram_at_the_limit)
{
    const struct e820_map m = { .nr = 2, .entries = {
        { 0x0, 0x10000, E820_RAM },
        { 1ULL << 52, 0x4000, E820_RAM },
    } };

    REQUIRE(memblock_init(&mb, &m) == 0);
    CHECK(mb.nr_memory == 1 && mb.ignored_pages == 4);
    CHECK(memblock_free_pages(&mb) == 15);
    CHECK(!memblock_is_ram(&mb, (1ULL << 52) - 1, 1));
}

/* A label equal to the first record's merges with it; NULL reads "?". */
HOST_TEST(memblock_labels_at_the_edges)
{
    REQUIRE(memblock_init(&mb, &qemu_512) == 0);
    CHECK(memblock_reserve(&mb, 0x1000, 0x1000, "page 0") == 0);
    CHECK(mb.nr_reserved == 1 && reserved_is(&mb, 0, 0, 0x2000, "page 0"));
    CHECK(memblock_reserve(&mb, 0x5000, 0x1000, NULL) == 0);
    CHECK(reserved_is(&mb, 1, 0x5000, 0x1000, "?"));
    CHECK(memblock_reserve(&mb, 0x6000, 0x1000, NULL) == 0);
    CHECK(mb.nr_reserved == 2 && reserved_is(&mb, 1, 0x5000, 0x2000, "?"));
    CHECK(strcmp(memblock_strerror(0), "ok") == 0);
    CHECK(strcmp(memblock_strerror(MEMBLOCK_EINVAL),
                 "range beyond the addressable limit") == 0);
    CHECK(strcmp(memblock_strerror(-2), "unknown error") == 0);
    /* Alignment 1 is a page; any power of two is taken. */
    CHECK(memblock_alloc(&mb, 1, 1, MiB(1), "a1") == 0x9e000);
    CHECK(memblock_alloc(&mb, 1, 2, MiB(1), "a2") == 0x9d000);
}

/*
 * A map of 128 entries and a table of 128 records, each in a heap block of
 * exactly its struct's size: no query reads past either.
 */
HOST_TEST(memblock_full_tables_on_the_heap)
{
    struct e820_map *m = malloc(sizeof(*m));
    struct memblock *b = malloc(sizeof(*b));
    uint32_t i;

    m->nr = E820_MAX_ENTRIES;
    for (i = 0; i < E820_MAX_ENTRIES; i++)
        m->entries[i] = (struct e820_entry){ PFN_PHYS(2 * i + 1), PAGE_SIZE,
                                             E820_RAM };
    REQUIRE(memblock_init(b, m) == 0);
    CHECK(b->nr_memory == E820_MAX_ENTRIES);
    CHECK(memblock_free_pages(b) == E820_MAX_ENTRIES);
    for (i = 1; b->nr_reserved < MEMBLOCK_MAX_RESERVED; i++)
        REQUIRE(memblock_reserve(b, PFN_PHYS(2 * i + 1), PAGE_SIZE,
                                 i % 2 ? "odd" : "even") == 0);
    CHECK(b->nr_reserved == MEMBLOCK_MAX_RESERVED);
    CHECK(!memblock_is_reserved(b, PFN_PHYS(1000), PAGE_SIZE));
    CHECK(!memblock_is_free(b, PFN_PHYS(1000), PAGE_SIZE));
    CHECK(memblock_is_free(b, PFN_PHYS(1), PAGE_SIZE) && memblock_free_pages(b) == 1);
    CHECK(!memblock_is_ram(b, PFN_PHYS(2 * E820_MAX_ENTRIES), PAGE_SIZE));
    CHECK(memblock_is_reserved(b, PFN_PHYS(2 * 127 + 1), PAGE_SIZE));
    free(m);
    free(b);
}

/* Once the heap took over, memblock refuses every new reservation and
 * allocation, and keeps its records readable. */
HOST_TEST(memblock_closed_refuses_everything)
{
    static struct memblock mb;
    static struct e820_map map;
    const struct memblock_region *r;

    map.nr = 1;
    map.entries[0] = (struct e820_entry){ 0, 16 << 20, E820_RAM };
    REQUIRE(memblock_init(&mb, &map) == 0);
    REQUIRE(memblock_reserve(&mb, 0x100000, 0x2000, "image") == 0);
    memblock_close(&mb);
    CHECK(memblock_reserve(&mb, 0x200000, 0x1000, "late") == MEMBLOCK_ECLOSED);
    CHECK(memblock_alloc(&mb, 0x1000, 0x1000, MEMBLOCK_ALLOC_ANYWHERE, "late") == 0);
    CHECK(memblock_is_free(&mb, 0x200000, 0x1000));
    r = memblock_reserved_region(&mb, 1);
    CHECK(r && r->base == 0x100000 && r->size == 0x2000);
    CHECK(memblock_strerror(MEMBLOCK_ECLOSED)[0] == 'c');
}

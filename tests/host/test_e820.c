/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host tests for the e820 sanitiser (mm/e820.c): each rule of
 * docs/memory-map.md with worked examples, the maps measured on real
 * machines, and randomized maps against the independent model in
 * e820_model.h.
 */
#include <stdlib.h>
#include "harness.h"
#include "e820_model.h"

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define RAM  E820_RAM
#define RES  E820_RESERVED
#define ACPI E820_ACPI
#define NVS  E820_NVS
#define UNU  E820_UNUSABLE
#define DIS  E820_DISABLED
#define PMEM E820_PMEM

static struct e820_scratch scratch;

static int sanitise(const struct e820_entry *in, size_t n,
                    struct e820_map *out, struct e820_report *rep)
{
    return e820_sanitise(in, n, out, &scratch, rep);
}

/* Does the map equal exp[] exactly?  Prints both on mismatch. */
static bool map_is(const struct e820_map *m, const struct e820_entry *exp,
                   size_t n)
{
    bool same = m->nr == n;

    for (size_t i = 0; same && i < n; i++)
        same = m->entries[i].addr == exp[i].addr &&
               m->entries[i].size == exp[i].size &&
               m->entries[i].type == exp[i].type;
    if (!same) {
        fprintf(stderr, "    got %u entries:\n", m->nr);
        for (uint32_t i = 0; i < m->nr; i++)
            fprintf(stderr, "      %#lx %#lx %u\n", m->entries[i].addr,
                    m->entries[i].size, m->entries[i].type);
        fprintf(stderr, "    want %zu entries:\n", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "      %#lx %#lx %u\n", exp[i].addr, exp[i].size,
                    exp[i].type);
    }
    return same;
}

/* Sanitise in[], expect success and exactly exp[], and agree with the model. */
#define EXPECT_MAP(in, ...) do {                                            \
    static const struct e820_entry exp_[] = { __VA_ARGS__ };                \
    struct e820_map out_;                                                   \
    struct e820_report rep_;                                                \
    char msg_[256];                                                         \
    int rc_ = sanitise(in, ARRAY_SIZE(in), &out_, &rep_);                   \
    CHECKF(rc_ == E820_OK, "rc %d", rc_);                                   \
    CHECK(map_is(&out_, exp_, ARRAY_SIZE(exp_)));                           \
    CHECKF(model_check(in, ARRAY_SIZE(in), rc_, &out_, &rep_, 1, msg_,      \
                       sizeof(msg_)), "%s", msg_);                          \
} while (0)

/* ---- rule 1: types, zero sizes, clipping ----------------------------- */

HOST_TEST(e820_rule1_unknown_types_become_reserved)
{
    const struct e820_entry in[] = {
        { 0, 0x10000, RAM },
        { 0x2000, 0x1000, 9 },
        { 0x4000, 0x1000, 0 },
        { 0x6000, 0x1000, 9 },
        { 0x8000, 0x1000, 0xffffffff },
        { 0xa000, 0x1000, 8 },
        { 0xc000, 0x1000, 12 },
        { 0xe000, 0x1000, 13 },
    };
    struct e820_map out;
    struct e820_report rep;

    EXPECT_MAP(in,
        { 0, 0x2000, RAM }, { 0x2000, 0x1000, RES }, { 0x3000, 0x1000, RAM },
        { 0x4000, 0x1000, RES }, { 0x5000, 0x1000, RAM },
        { 0x6000, 0x1000, RES }, { 0x7000, 0x1000, RAM },
        { 0x8000, 0x1000, RES }, { 0x9000, 0x1000, RAM },
        { 0xa000, 0x1000, RES }, { 0xb000, 0x1000, RAM },
        { 0xc000, 0x1000, RES }, { 0xd000, 0x1000, RAM },
        { 0xe000, 0x1000, RES }, { 0xf000, 0x1000, RAM });

    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    CHECK(rep.nr_in == 8);
    CHECK(rep.nr_unknown == 7);
    /* The first four distinct values, in input order. */
    CHECK(rep.nr_unknown_types == 4);
    CHECK(rep.unknown_types[0] == 9 && rep.unknown_types[1] == 0 &&
          rep.unknown_types[2] == 0xffffffff && rep.unknown_types[3] == 8);
    CHECK(rep.nr_zero == 0 && rep.nr_clipped == 0);
}

HOST_TEST(e820_rule1_unknown_type_is_reserved_for_overlaps)
{
    /* Type 9 counts as 2: it loses to ACPI (3), where type 9 > 3 would win. */
    const struct e820_entry in[] = {
        { 0x1000, 0x2000, 9 },
        { 0x2000, 0x2000, ACPI },
    };

    EXPECT_MAP(in, { 0x1000, 0x1000, RES }, { 0x2000, 0x2000, ACPI });
}

HOST_TEST(e820_rule1_zero_sized_ignored)
{
    const struct e820_entry in[] = {
        { 0, 0x4000, RAM },
        { 0x1000, 0, RES },     /* would split the RAM */
        { 0x2800, 0, 77 },      /* not counted as unknown either */
        { 0, 0, RAM },
    };
    struct e820_map out;
    struct e820_report rep;

    EXPECT_MAP(in, { 0, 0x4000, RAM });
    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    CHECK(rep.nr_zero == 3);
    CHECK(rep.nr_unknown == 0);
}

HOST_TEST(e820_rule1_clipped_at_2_64)
{
    const struct e820_entry in[] = {
        { 0xfffffffffff00000, 0x200000, RAM },      /* runs 1 MiB past */
        { 0xffffffff00000000, 0x100000000, RES },   /* ends at 2^64: fine */
        { 0xfffffffe00000000, UINT64_MAX, UNU },    /* way past */
    };
    struct e820_map out;
    struct e820_report rep;

    /* RESERVED (2) loses to UNUSABLE (5) byte by byte; RAM (1) to both. */
    EXPECT_MAP(in, { 0xfffffffe00000000, 0x200000000, UNU });
    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    CHECK(rep.nr_clipped == 2);
    CHECK(e820_last(&out.entries[0]) == UINT64_MAX);
}

HOST_TEST(e820_rule1_clip_keeps_the_last_page)
{
    const struct e820_entry in[] = {
        { 0xffffffffffffe000, 0x2000, RES },        /* exactly to 2^64 */
        { 0xfffffffffffff800, 0x1000, RAM },        /* clipped, half page */
    };
    const struct e820_entry in2[] = {
        { 0xfffffffffffff000, 0x2000, RAM },        /* clipped to one page */
    };
    struct e820_map out;
    struct e820_report rep;

    EXPECT_MAP(in, { 0xffffffffffffe000, 0x2000, RES });
    EXPECT_MAP(in2, { 0xfffffffffffff000, 0x1000, RAM });
    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    CHECK(rep.nr_clipped == 1);
}

HOST_TEST(e820_whole_address_space_is_size_0)
{
    const struct e820_entry halves[] = {
        { 1ULL << 63, 1ULL << 63, RAM },
        { 0, 1ULL << 63, RAM },
    };
    const struct e820_entry all_but_a_byte[] = {
        { 0, UINT64_MAX, RAM },     /* last page part hole: not RAM */
    };
    const struct e820_entry reserved_all[] = {
        { 0, UINT64_MAX, RES },     /* last page part reserved: reserved */
    };
    struct e820_map out;
    struct e820_report rep;
    struct e820_totals t;

    EXPECT_MAP(halves, { 0, 0, RAM });
    REQUIRE(sanitise(halves, 2, &out, &rep) == E820_OK);
    CHECK(e820_pages(&out.entries[0]) == 1ULL << 52);
    CHECK(e820_last(&out.entries[0]) == UINT64_MAX);
    CHECK(e820_validate(&out, NULL) == NULL);
    e820_totals(&out, &t);
    CHECK(t.pages[RAM] == 1ULL << 52);
    CHECK(e820_type_at(&out, UINT64_MAX) == RAM);

    EXPECT_MAP(all_but_a_byte, { 0, 0xfffffffffffff000, RAM });
    EXPECT_MAP(reserved_all, { 0, 0, RES });
}

/* ---- rule 2: the highest type wins each byte ------------------------- */

HOST_TEST(e820_rule2_highest_type_wins)
{
    const struct e820_entry in[] = {
        { 0, 0x10000, RAM },
        { 0x4000, 0x4000, RES },
        { 0x6000, 0x4000, UNU },        /* beats RESERVED where they meet */
        { 0xc000, 0x2000, NVS },
        { 0xc000, 0x1000, ACPI },       /* loses to NVS */
        { 0xe000, 0x1000, PMEM },
        { 0xe000, 0x1000, DIS },        /* loses to PMEM */
    };

    EXPECT_MAP(in,
        { 0, 0x4000, RAM }, { 0x4000, 0x2000, RES }, { 0x6000, 0x4000, UNU },
        { 0xa000, 0x2000, RAM }, { 0xc000, 0x2000, NVS },
        { 0xe000, 0x1000, PMEM }, { 0xf000, 0x1000, RAM });
}

HOST_TEST(e820_rule2_order_does_not_matter)
{
    struct e820_entry in[] = {
        { 0, 0x100000, RAM },
        { 0x9fc00, 0x400, RES },
        { 0x50000, 0x20000, UNU },
        { 0x60000, 0x1000, ACPI },
        { 0xf0000, 0x10000, RES },
        { 0x80000, 0x800, NVS },
    };
    struct e820_map first, out;
    struct e820_report rep;
    uint64_t seed = 42;

    REQUIRE(sanitise(in, ARRAY_SIZE(in), &first, &rep) == E820_OK);
    for (int round = 0; round < 200; round++) {
        for (size_t i = ARRAY_SIZE(in) - 1; i > 0; i--) {
            size_t j;
            struct e820_entry tmp;

            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            j = (seed >> 33) % (i + 1);
            tmp = in[i];
            in[i] = in[j];
            in[j] = tmp;
        }
        REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
        CHECK(map_is(&out, first.entries, first.nr));
    }
}

/* ---- rule 3: whole pages ---------------------------------------------- */

HOST_TEST(e820_rule3_partial_inward_page_is_a_hole)
{
    const struct e820_entry in[] = {
        { 0x0, 0x1800, RAM },           /* second page half RAM, half hole */
        { 0x10800, 0x1800, UNU },       /* first page half hole */
    };

    EXPECT_MAP(in, { 0, 0x1000, RAM }, { 0x11000, 0x1000, UNU });
}

HOST_TEST(e820_rule3_mixed_ram_and_unusable_page_is_a_hole)
{
    const struct e820_entry in[] = {
        { 0x0, 0x2800, RAM },
        { 0x2800, 0x2800, UNU },        /* page 2 is RAM and UNUSABLE */
        { 0x7000, 0x2000, RAM },
        { 0x8123, 0x1, UNU },           /* one byte spoils page 8 */
    };

    EXPECT_MAP(in, { 0, 0x2000, RAM }, { 0x3000, 0x2000, UNU },
               { 0x7000, 0x1000, RAM });
}

HOST_TEST(e820_rule3_any_outward_byte_claims_the_page)
{
    const struct e820_entry in[] = {
        { 0x0, 0x10000, RAM },
        { 0x1fff, 1, ACPI },            /* one byte at a page end */
        { 0x4000, 1, RES },             /* one byte at a page start */
        { 0x6000, 0x100, RES },         /* several outward types: highest */
        { 0x6200, 0x100, NVS },
        { 0x6400, 0x100, ACPI },
        { 0x20800, 0x100, RES },        /* outward amid a hole */
    };

    EXPECT_MAP(in,
        { 0, 0x1000, RAM }, { 0x1000, 0x1000, ACPI }, { 0x2000, 0x2000, RAM },
        { 0x4000, 0x1000, RES }, { 0x5000, 0x1000, RAM },
        { 0x6000, 0x1000, NVS }, { 0x7000, 0x9000, RAM },
        { 0x20000, 0x1000, RES });
}

HOST_TEST(e820_rule3_outward_page_across_entries)
{
    /* Reserved pieces that each cover part of a page claim it together. */
    const struct e820_entry in[] = {
        { 0x1800, 0x1000, RES },        /* pages 1 and 2, partially */
        { 0x3000, 0x1000, RAM },
    };

    EXPECT_MAP(in, { 0x1000, 0x2000, RES }, { 0x3000, 0x1000, RAM });
}

/* ---- rule 4: runs, merging, capacity ---------------------------------- */

HOST_TEST(e820_rule4_runs_merge)
{
    const struct e820_entry in[] = {
        { 0x3000, 0x2000, RAM },
        { 0x0, 0x2000, RAM },
        { 0x1800, 0x1800, RAM },        /* overlaps and bridges both */
        { 0x8000, 0x1000, RES },
        { 0x9000, 0x1000, RES },        /* adjacent same type: one entry */
        { 0xa000, 0x1000, ACPI },       /* adjacent other type: its own */
        { 0xc000, 0x1000, ACPI },       /* a hole page between: its own */
    };

    EXPECT_MAP(in, { 0, 0x5000, RAM }, { 0x8000, 0x2000, RES },
               { 0xa000, 0x1000, ACPI }, { 0xc000, 0x1000, ACPI });
}

HOST_TEST(e820_rule4_capacity)
{
    static struct e820_entry in[300];
    struct e820_map out;
    struct e820_report rep;
    char msg[256];
    int rc;

    /* Alternating RAM / RESERVED pages: n entries in, n out. */
    for (size_t i = 0; i < ARRAY_SIZE(in); i++)
        in[i] = (struct e820_entry){ PFN_PHYS(i), PAGE_SIZE, i % 2 ? RES : RAM };

    rc = sanitise(in, E820_MAX_ENTRIES, &out, &rep);
    CHECK(rc == E820_OK);
    CHECK(out.nr == E820_MAX_ENTRIES && rep.nr_needed == E820_MAX_ENTRIES);

    rc = sanitise(in, E820_MAX_ENTRIES + 1, &out, &rep);
    CHECK(rc == E820_ENOSPC);
    CHECK(rep.nr_needed == E820_MAX_ENTRIES + 1);

    rc = sanitise(in, 300, &out, &rep);
    CHECK(rc == E820_ENOSPC);
    CHECKF(rep.nr_needed == 300, "needed %u", rep.nr_needed);
    /* What fits is still a correct prefix, for diagnostics. */
    CHECK(out.nr == E820_MAX_ENTRIES);
    CHECK(map_is(&out, in, E820_MAX_ENTRIES));
    CHECK(e820_validate(&out, NULL) == NULL);
    CHECKF(model_check(in, 300, rc, &out, &rep, 7, msg, sizeof(msg)), "%s", msg);
}

HOST_TEST(e820_too_many_raw_entries)
{
    static struct e820_entry in[E820_MAX_INPUT + 1];
    struct e820_map out;
    struct e820_report rep;

    /* 1024 overlapping RAM entries: accepted, one entry out. */
    for (size_t i = 0; i < ARRAY_SIZE(in); i++)
        in[i] = (struct e820_entry){ PFN_PHYS(i), MiB(1), RAM };
    CHECK(sanitise(in, E820_MAX_INPUT, &out, &rep) == E820_OK);
    CHECK(out.nr == 1 && out.entries[0].size == PFN_PHYS(E820_MAX_INPUT - 1) + MiB(1));

    CHECK(sanitise(in, E820_MAX_INPUT + 1, &out, &rep) == E820_ETOOMANY);
    CHECK(rep.nr_in == E820_MAX_INPUT + 1);
    CHECK(out.nr == 0);
}

HOST_TEST(e820_bad_arguments)
{
    struct e820_map out;
    struct e820_report rep;
    const struct e820_entry one = { 0, PAGE_SIZE, RAM };

    CHECK(e820_sanitise_raw(&one, 16, 1, &out, &scratch, &rep) == E820_EINVAL);
    CHECK(e820_sanitise(NULL, 1, &out, &scratch, &rep) == E820_EINVAL);
    CHECK(e820_sanitise(&one, 1, &out, NULL, &rep) == E820_EINVAL);
    /* No entries at all: an empty map, not an error. */
    CHECK(e820_sanitise(NULL, 0, &out, &scratch, &rep) == E820_OK);
    CHECK(out.nr == 0);
    CHECK(strcmp(e820_strerror(E820_ENOSPC), "sanitised map exceeds its capacity") == 0);
}

/* The hypervisor's own layouts, passed through untouched. */
HOST_TEST(e820_raw_strides)
{
    struct __attribute__((packed)) xen_e820 { uint64_t addr, size; uint32_t type; };
    struct hvm_memmap { uint64_t addr, size; uint32_t type, reserved; };
    static const struct xen_e820 packed[] = {
        { 0xfeff8000, 0x8000, RES }, { 0, 0x2000000, RAM },
        { 0xfc000000, 0x8040, ACPI },
    };
    static const struct hvm_memmap v1[] = {
        { 0xfeff8000, 0x8000, RES, 0xdead }, { 0, 0x2000000, RAM, 0 },
        { 0xfc000000, 0x8040, ACPI, 0 },
    };
    static const struct e820_entry exp[] = {
        { 0, 0x2000000, RAM }, { 0xfc000000, 0x9000, ACPI },
        { 0xfeff8000, 0x8000, RES },
    };
    struct e820_map out;
    struct e820_report rep;

    REQUIRE(sizeof(packed[0]) == 20 && sizeof(v1[0]) == 24);
    CHECK(e820_sanitise_raw(packed, sizeof(packed[0]), 3, &out, &scratch, &rep) == 0);
    CHECK(map_is(&out, exp, 3));
    CHECK(e820_sanitise_raw(v1, sizeof(v1[0]), 3, &out, &scratch, &rep) == 0);
    CHECK(map_is(&out, exp, 3));
}

/* ---- the maps measured on real machines ------------------------------- */

HOST_TEST(e820_real_dom0_512m)
{
    /* PVH dom0 under Xen in QEMU -m 512, no dom0_mem. */
    const struct e820_entry in[] = {
        { 0x0, 0x9f000, RAM },
        { 0x9fc00, 0x400, RES },
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0x1d20ff2e, RAM },      /* ends at ...ff2d */
        { 0x1d30ff2e, 0x7a, ACPI },         /* Xen's 122 bytes of tables */
        { 0x1d310000, 0x2cd0000, UNU },
        { 0xfeffc000, 0x4000, RES },
        { 0xfffc0000, 0x40000, RES },
    };
    struct e820_map out;
    struct e820_report rep;
    struct e820_totals t;

    EXPECT_MAP(in,
        { 0x0, 0x9f000, RAM },
        { 0x9f000, 0x1000, RES },           /* hole + reserved */
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0x1d20f000, RAM },
        { 0x1d30f000, 0x1000, ACPI },       /* RAM + ACPI + hole */
        { 0x1d310000, 0x2cd0000, UNU },
        { 0xfeffc000, 0x4000, RES },
        { 0xfffc0000, 0x40000, RES });

    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    e820_totals(&out, &t);
    CHECK(t.pages[RAM] == 0x9f + 0x1d20f);
    CHECK(t.pages[RES] == 1 + 0x10 + 4 + 0x40);
    CHECK(t.pages[ACPI] == 1);
    CHECK(t.pages[UNU] == 0x2cd0);
    CHECK(t.pages[NVS] == 0 && t.pages[PMEM] == 0);
    CHECK(rep.nr_zero == 0 && rep.nr_clipped == 0 && rep.nr_unknown == 0);
}

HOST_TEST(e820_real_dom0_4g_dom0_mem_256m)
{
    /* -m 4096, dom0_mem=256M: the withheld RAM comes back as UNUSABLE. */
    const struct e820_entry in[] = {
        { 0x0, 0x9f000, RAM },
        { 0x9fc00, 0x400, RES },
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0xff60f2e, RAM },
        { 0x10060f2e, 0x7a, ACPI },
        { 0x10061000, 0xaff7f000, UNU },
        { 0xbffe0000, 0x20000, RES },
        { 0xfeffc000, 0x4000, RES },
        { 0xfffc0000, 0x40000, RES },
        { 0x100000000, 0x40000000, UNU },
    };
    struct e820_map out;
    struct e820_report rep;
    struct e820_totals t;

    EXPECT_MAP(in,
        { 0x0, 0x9f000, RAM },
        { 0x9f000, 0x1000, RES },
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0xff60000, RAM },
        { 0x10060000, 0x1000, ACPI },
        { 0x10061000, 0xaff7f000, UNU },
        { 0xbffe0000, 0x20000, RES },
        { 0xfeffc000, 0x4000, RES },
        { 0xfffc0000, 0x40000, RES },
        { 0x100000000, 0x40000000, UNU });

    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    e820_totals(&out, &t);
    CHECK(PFN_PHYS(t.pages[RAM]) == 0x9f000 + 0xff60000);
    CHECK(PFN_PHYS(t.pages[UNU]) == 0xaff7f000 + GiB(1));
}

HOST_TEST(e820_real_domu_32m)
{
    /* xl memory=32, in libxl's order: RESERVED before the ACPI below it. */
    const struct e820_entry in[] = {
        { 0x0, 0x2000000, RAM },
        { 0xfeff8000, 0x8000, RES },
        { 0xfc000000, 0x8040, ACPI },
    };

    EXPECT_MAP(in,
        { 0x0, 0x2000000, RAM },
        { 0xfc000000, 0x9000, ACPI },       /* tail page: ACPI + hole */
        { 0xfeff8000, 0x8000, RES });
}

HOST_TEST(e820_real_qemu_bare_512m)
{
    /* QEMU's own PVH loader, -m 512, pc. */
    const struct e820_entry in[] = {
        { 0x0, 0x9fc00, RAM },
        { 0x9fc00, 0x400, RES },
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0x1fee0000, RAM },
        { 0x1ffe0000, 0x20000, RES },
        { 0xfffc0000, 0x40000, RES },
    };
    struct e820_map out;
    struct e820_report rep;
    char line[E820_FORMAT_LEN];

    EXPECT_MAP(in,
        { 0x0, 0x9f000, RAM },              /* RAM + RESERVED page */
        { 0x9f000, 0x1000, RES },
        { 0xf0000, 0x10000, RES },
        { 0x100000, 0x1fee0000, RAM },
        { 0x1ffe0000, 0x20000, RES },
        { 0xfffc0000, 0x40000, RES });

    REQUIRE(sanitise(in, ARRAY_SIZE(in), &out, &rep) == E820_OK);
    e820_format(&out.entries[3], line, sizeof(line));
    CHECK(strcmp(line, "[mem 0x0000000000100000-0x000000001ffdffff] usable") == 0);
}

/* ---- helpers ----------------------------------------------------------- */

HOST_TEST(e820_format_and_names)
{
    const struct e820_entry acpi = { 0x1d30f000, 0x1000, ACPI };
    const struct e820_entry top = { 0xfffffffffffff000, 0x1000, RES };
    const struct e820_entry all = { 0, 0, NVS };
    char buf[E820_FORMAT_LEN], tiny[8];
    size_t n;

    n = e820_format(&acpi, buf, sizeof(buf));
    CHECK(strcmp(buf, "[mem 0x000000001d30f000-0x000000001d30ffff] ACPI data") == 0);
    CHECK(n == strlen(buf));
    e820_format(&top, buf, sizeof(buf));
    CHECK(strcmp(buf, "[mem 0xfffffffffffff000-0xffffffffffffffff] reserved") == 0);
    e820_format(&all, buf, sizeof(buf));
    CHECK(strcmp(buf, "[mem 0x0000000000000000-0xffffffffffffffff] ACPI NVS") == 0);

    /* Truncated, terminated, and still says what it needed. */
    memset(tiny, 'x', sizeof(tiny));
    n = e820_format(&acpi, tiny, sizeof(tiny));
    CHECK(strcmp(tiny, "[mem 0x") == 0);
    CHECK(n == strlen(buf) - strlen("ACPI NVS") + strlen("ACPI data"));
    CHECK(n < E820_FORMAT_LEN);

    CHECK(strcmp(e820_type_name(RAM), "usable") == 0);
    CHECK(strcmp(e820_type_name(UNU), "unusable") == 0);
    CHECK(strcmp(e820_type_name(PMEM), "persistent") == 0);
    CHECK(strcmp(e820_type_name(0), "unknown") == 0);
    CHECK(strcmp(e820_type_name(8), "unknown") == 0);
}

HOST_TEST(e820_type_at_and_validate)
{
    struct e820_map m = { .nr = 3, .entries = {
        { 0x0, 0x9f000, RAM }, { 0x9f000, 0x1000, RES },
        { 0x100000, 0x1000, RAM } } };
    uint32_t bad = 99;

    CHECK(e820_validate(&m, NULL) == NULL);
    CHECK(e820_type_at(&m, 0x9efff) == RAM);
    CHECK(e820_type_at(&m, 0x9f000) == RES);
    CHECK(e820_type_at(&m, 0xa0000) == E820_HOLE);
    CHECK(e820_type_at(&m, 0x100fff) == RAM);
    CHECK(e820_type_at(&m, 0x101000) == E820_HOLE);

    m.entries[1].type = RAM;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 1);     /* not merged */
    m.entries[1].type = 8;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 1);     /* bad type */
    m.entries[1].type = RES;
    m.entries[2].addr = 0x9f000;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 2);     /* overlap */
    m.entries[2].addr = 0x100800;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 2);     /* unaligned */
    m.entries[2].addr = 0xfffffffffffff000;
    m.entries[2].size = 0x2000;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 2);     /* past 2^64 */
    m.entries[2].size = 0;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 2);     /* bad size 0 */
    m.entries[2].size = 0x1000;
    CHECK(e820_validate(&m, NULL) == NULL);
}

/* ---- randomized, against the model ------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15;

static uint64_t rnd(void)
{
    /* xorshift64*: fixed seed, so failures reproduce. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* An address near one of a few bases, often page-aligned. */
static uint64_t rnd_addr(uint64_t base)
{
    uint64_t a = base + rnd() % (24 * PAGE_SIZE);

    switch (rnd() % 4) {
    case 0: return ALIGN_DOWN(a, PAGE_SIZE);
    case 1: return ALIGN_DOWN(a, 0x400);
    default: return a;
    }
}

static void random_map(struct e820_entry *in, size_t n)
{
    /* Small windows at 0 and just below 2^64, so ends get clipped too. */
    static const uint64_t bases[] = { 0, GiB(4) - 8 * PAGE_SIZE,
                                      0 - 16 * PAGE_SIZE };

    for (size_t i = 0; i < n; i++) {
        uint64_t base = bases[rnd() % ARRAY_SIZE(bases)];
        uint64_t a = rnd_addr(base), b = rnd_addr(base);

        in[i].addr = MIN(a, b);
        in[i].size = rnd() % 8 == 0 ? 0 : MAX(a, b) - MIN(a, b) + rnd() % 3;
        if (rnd() % 16 == 0)
            in[i].size = UINT64_MAX - rnd() % 3;
        in[i].type = rnd() % 12 == 0 ? (uint32_t)rnd() : 1 + rnd() % 8;
        /* Lots of RAM and UNUSABLE, as on real maps. */
        if (rnd() % 3 == 0)
            in[i].type = rnd() % 2 ? RAM : UNU;
    }
}

HOST_TEST(e820_random_maps_match_model)
{
    unsigned rounds = host_soak ? 200000 : 20000;
    struct e820_entry in[24];
    struct e820_map out;
    struct e820_report rep;
    char msg[256];
    unsigned failures = 0;

    for (unsigned r = 0; r < rounds && failures < 3; r++) {
        size_t n = rnd() % (ARRAY_SIZE(in) + 1);
        int rc;

        random_map(in, n);
        rc = sanitise(in, n, &out, &rep);
        if (!model_check(in, n, rc, &out, &rep, rnd(), msg, sizeof(msg))) {
            failures++;
            CHECKF(false, "round %u: %s", r, msg);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "      in %#lx %#lx %u\n", in[i].addr,
                        in[i].size, in[i].type);
        }
    }
}

/*
 * The model itself, against the rules read literally: every byte of the
 * first pages examined one by one.
 */
HOST_TEST(e820_model_matches_byte_by_byte)
{
    unsigned rounds = host_soak ? 3000 : 300;
    struct e820_entry in[10];
    struct e820_map out;
    struct e820_report rep;

    for (unsigned r = 0; r < rounds; r++) {
        size_t n = 1 + rnd() % ARRAY_SIZE(in);

        random_map(in, n);
        for (size_t i = 0; i < n; i++)      /* keep them in the low window */
            if (in[i].addr >= GiB(4) - 8 * PAGE_SIZE)
                in[i].addr %= 24 * PAGE_SIZE;
        REQUIRE(sanitise(in, n, &out, &rep) == E820_OK);
        for (uint64_t pfn = 0; pfn < 26; pfn++) {
            uint32_t types[PAGE_SIZE];
            uint32_t want;

            for (uint64_t b = 0; b < PAGE_SIZE; b++)
                types[b] = model_byte_type(in, n, PFN_PHYS(pfn) + b);
            want = model_rule3(types, PAGE_SIZE);
            CHECKF(model_page_type(in, n, pfn) == want, "round %u pfn %lu", r, pfn);
            CHECKF(e820_type_at(&out, PFN_PHYS(pfn)) == want,
                   "round %u pfn %lu: map %u want %u", r, pfn,
                   e820_type_at(&out, PFN_PHYS(pfn)), want);
            if (e820_type_at(&out, PFN_PHYS(pfn)) != want)
                return;
        }
    }
}

HOST_TEST(e820_sanitising_is_idempotent)
{
    struct e820_entry in[24];
    struct e820_map once, twice;
    struct e820_report rep;

    for (unsigned r = 0; r < 2000; r++) {
        size_t n = rnd() % (ARRAY_SIZE(in) + 1);

        random_map(in, n);
        REQUIRE(sanitise(in, n, &once, &rep) == E820_OK);
        REQUIRE(sanitise(once.entries, once.nr, &twice, &rep) == E820_OK);
        /* size 0 (2^64) would be a zero-sized input: absent here. */
        CHECK(rep.nr_zero == 0 || (once.nr == 1 && once.entries[0].size == 0));
        if (rep.nr_zero == 0)
            CHECK(map_is(&twice, once.entries, once.nr));
    }
}

/* ---- boundaries ------------------------------------------------------- */

HOST_TEST(e820_null_out_or_report_refused)
{
    const struct e820_entry one = { 0, PAGE_SIZE, RAM };
    struct e820_map out = { .nr = 5 };
    struct e820_report rep;

    CHECK(e820_sanitise(&one, 1, NULL, &scratch, &rep) == E820_EINVAL);
    CHECK(e820_sanitise(&one, 1, &out, &scratch, NULL) == E820_EINVAL);
    CHECK(out.nr == 5);                 /* untouched on refusal */
    CHECK(e820_sanitise_raw(&one, E820_RAW_MIN_STRIDE, 1, &out, &scratch,
                            &rep) == E820_OK && out.nr == 1);
    CHECK(strcmp(e820_strerror(E820_EINVAL), "invalid arguments") == 0);
    CHECK(strcmp(e820_strerror(E820_ETOOMANY), "too many raw entries") == 0);
    CHECK(strcmp(e820_strerror(E820_OK), "ok") == 0);
    CHECK(strcmp(e820_strerror(-99), "unknown error") == 0);
}

/* Every check of e820_validate(), each at the entry that breaks it. */
HOST_TEST(e820_validate_every_rule)
{
    static struct e820_map m;
    uint32_t bad = 99;

    /* More entries than the array holds: refused before reading them. */
    m.nr = E820_MAX_ENTRIES + 1;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 0);
    CHECK(!strcmp(e820_validate(&m, NULL), "more entries than the capacity"));
    /* The first entry is checked like the others. */
    m.nr = 2;
    m.entries[0] = (struct e820_entry){ 0, 0x1000, 9 };
    m.entries[1] = (struct e820_entry){ 0x2000, 0x1000, RAM };
    bad = 99;
    CHECK(e820_validate(&m, &bad) != NULL && bad == 0);
    m.entries[0].type = RES;
    m.entries[0].size = 0x1800;             /* size not page-aligned */
    CHECK(!strcmp(e820_validate(&m, &bad), "not page-aligned") && bad == 0);
    m.entries[0].size = 0x1000;
    /* A valid map leaves *bad alone. */
    bad = 99;
    CHECK(e820_validate(&m, &bad) == NULL && bad == 99);
    /* Touching a RAM entry of another type is fine; of the same, not. */
    m.entries[1].addr = 0x1000;
    CHECK(e820_validate(&m, NULL) == NULL);
    m.entries[1].type = RES;
    CHECK(!strcmp(e820_validate(&m, &bad), "adjacent entries of one type not merged") &&
          bad == 1);
    /* An entry after one that reaches 2^64. */
    m.entries[0] = (struct e820_entry){ 0xfffffffffffff000, 0x1000, RAM };
    m.entries[1] = (struct e820_entry){ 0xfffffffffffff000, 0x1000, RES };
    CHECK(!strcmp(e820_validate(&m, &bad), "not sorted or overlapping") && bad == 1);
}

/*
 * Output buffers of every size around the line's length (on the heap: a
 * byte written past one is an ASan report).
 */
HOST_TEST(e820_format_every_buffer_size)
{
    const struct e820_entry e = { 0x100000, 0x1000, RAM };
    const char *full = "[mem 0x0000000000100000-0x0000000000100fff] usable";
    size_t need = strlen(full);

    CHECK(e820_format(&e, NULL, 0) == need);
    for (size_t len = 1; len <= need + 2; len++) {
        char *b = malloc(len);

        memset(b, '#', len);
        CHECKF(e820_format(&e, b, len) == need, "len %zu", len);
        size_t kept = MIN(len - 1, need);
        CHECKF(strlen(b) == kept && !memcmp(b, full, kept), "len %zu: %s", len, b);
        free(b);
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the e820 sanitiser (mm/e820.c).
 *
 * The input is decoded into raw entries, biased towards what breaks
 * sanitisers: small, overlapping, unaligned values, ends near or past
 * 2^64, RAM/UNUSABLE and small or unknown type numbers.  Each entry is
 *
 *   ctl          bits 0-1 address form, 2-3 size form, 4-5 type form,
 *                bit 6 unaligned size, bit 7 unaligned address
 *   operands     as the forms need them (missing bytes read as 0)
 *
 * The result must pass every check of the independent model in
 * tests/host/e820_model.h (structure, report counters, the whole map run
 * by run, random page probes), sanitising it again must change nothing,
 * and Xen's packed 20-byte layout must give the same result.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include "../host/e820_model.h"

struct reader {
    const uint8_t *p;
    size_t left;
};

static uint64_t get(struct reader *r, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes && r->left; i++, r->left--)
        v |= (uint64_t)*r->p++ << (8 * i);
    return v;
}

static void decode(struct reader *r, struct e820_entry *e)
{
    uint8_t c = get(r, 1);
    uint64_t jitter;

    switch (c & 3) {
    case 0: e->addr = get(r, 1) << 10; break;               /* < 256 KiB */
    case 1: e->addr = get(r, 2) << PAGE_SHIFT; break;       /* < 256 MiB */
    case 2: e->addr = 0 - (get(r, 2) << 10); break;         /* near 2^64 */
    default: e->addr = get(r, 8); break;
    }
    if (c & 0x80) {
        jitter = get(r, 1);
        e->addr += jitter - 128;
    }

    switch ((c >> 2) & 3) {
    case 0: e->size = get(r, 1) << 10; break;
    case 1: e->size = get(r, 2) << PAGE_SHIFT; break;
    case 2: e->size = 0 - (get(r, 2) << 10); break;         /* clips */
    default: e->size = get(r, 8); break;
    }
    if (c & 0x40)
        e->size += get(r, 1);

    switch ((c >> 4) & 3) {
    case 0: e->type = E820_RAM; break;
    case 1: e->type = E820_UNUSABLE; break;
    case 2: e->type = get(r, 1) % 10; break;                /* 0..9 */
    default: e->type = get(r, 4); break;
    }
}

static struct e820_scratch scratch;
static struct e820_entry in[E820_MAX_INPUT + 8];

static bool same_map(const struct e820_map *a, const struct e820_map *b)
{
    if (a->nr != b->nr)
        return false;
    for (uint32_t i = 0; i < a->nr; i++)
        if (a->entries[i].addr != b->entries[i].addr ||
            a->entries[i].size != b->entries[i].size ||
            a->entries[i].type != b->entries[i].type)
            return false;
    return true;
}

static void fail(const char *what, const struct e820_entry *e, size_t n)
{
    fprintf(stderr, "fuzz_e820: %s\n", what);
    for (size_t i = 0; i < n && i < 64; i++)
        fprintf(stderr, "  0x%016lx 0x%016lx %u\n", e[i].addr, e[i].size,
                e[i].type);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct e820_map out, again;
    static uint8_t packed[(E820_MAX_INPUT + 8) * 20];
    struct reader r = { data, size };
    struct e820_report rep, rep2;
    char msg[256];
    size_t n = 0;
    int rc;

    while (r.left && n < ARRAY_SIZE(in))
        decode(&r, &in[n++]);

    rc = e820_sanitise(in, n, &out, &scratch, &rep);
    if (!model_check(in, n, rc, &out, &rep, n * 0x9e3779b97f4a7c15ULL + size,
                     msg, sizeof(msg)))
        fail(msg, in, n);

    /* The same entries in Xen's packed layout. */
    for (size_t i = 0; i < n; i++) {
        memcpy(packed + 20 * i, &in[i].addr, 8);
        memcpy(packed + 20 * i + 8, &in[i].size, 8);
        memcpy(packed + 20 * i + 16, &in[i].type, 4);
    }
    if (e820_sanitise_raw(packed, 20, n, &again, &scratch, &rep2) != rc ||
        !same_map(&again, &out))
        fail("packed layout differs", in, n);

    /* Idempotent (a whole-space entry's size 0 would read as empty). */
    if (rc == E820_OK && !(out.nr == 1 && out.entries[0].size == 0)) {
        if (e820_sanitise(out.entries, out.nr, &again, &scratch, &rep2) != 0 ||
            !same_map(&again, &out))
            fail("not idempotent", in, n);
    }
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests of the MADT parser (boot/madt.c): the processors it keeps. */
#include <stdio.h>
#include <string.h>
#include <pvhk/madt.h>
#include "harness.h"

struct tbl { uint8_t b[1024]; size_t len; };

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void begin(struct tbl *t)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, "APIC", 4);
    put32(t->b + 36, 0xfee00000);
    t->len = 44;
}

static void lapic(struct tbl *t, uint8_t id, uint32_t flags)
{
    uint8_t *e = t->b + t->len;
    e[0] = 0; e[1] = 8; e[2] = id; e[3] = id;
    put32(e + 4, flags);
    t->len += 8;
}

static void x2apic(struct tbl *t, uint32_t id, uint32_t flags)
{
    uint8_t *e = t->b + t->len;
    e[0] = 9; e[1] = 16;
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, id);
    t->len += 16;
}

/* Other entry types (an I/O APIC, 12 bytes) are skipped. */
static void ioapic(struct tbl *t)
{
    uint8_t *e = t->b + t->len;
    e[0] = 1; e[1] = 12;
    t->len += 12;
}

static void finish(struct tbl *t)
{
    uint8_t sum = 0;

    put32(t->b + 4, (uint32_t)t->len);
    t->b[9] = 0;
    for (size_t i = 0; i < t->len; i++)
        sum = (uint8_t)(sum + t->b[i]);
    t->b[9] = (uint8_t)(0 - sum);
}

HOST_TEST(madt_enabled_processors_in_order)
{
    struct tbl t;
    struct madt_cpus m;

    begin(&t);
    lapic(&t, 0, 1);
    ioapic(&t);
    lapic(&t, 2, 1);
    lapic(&t, 4, 0);            /* disabled, not online-capable */
    lapic(&t, 6, 2);            /* online-capable only: not started */
    x2apic(&t, 300, 1);
    x2apic(&t, 2, 1);           /* the same CPU listed again */
    finish(&t);
    REQUIRE(madt_parse(t.b, t.len, &m) == MADT_OK);
    CHECK(m.n == 3 && m.listed == 3);
    CHECK(m.apic_id[0] == 0 && m.apic_id[1] == 2 && m.apic_id[2] == 300);
    CHECK(m.disabled == 1);
    CHECK(m.lapic_addr == 0xfee00000);
}

HOST_TEST(madt_refuses_bad_tables)
{
    struct tbl t;
    struct madt_cpus m;

    begin(&t);
    lapic(&t, 0, 1);
    finish(&t);
    CHECK(madt_parse(t.b, 43, &m) == MADT_ESHORT);
    CHECK(madt_parse(t.b, t.len - 1, &m) == MADT_ESHORT);
    t.b[20] ^= 1;
    CHECK(madt_parse(t.b, t.len, &m) == MADT_ESUM);
    t.b[20] ^= 1;
    CHECK(madt_parse(t.b, t.len, &m) == MADT_OK);
    memcpy(t.b, "APIX", 4);
    CHECK(madt_parse(t.b, t.len, &m) == MADT_ESIG);

    /* An entry of length 0 would loop forever; one running past the end
     * would be read out of bounds. */
    begin(&t);
    lapic(&t, 0, 1);
    t.b[t.len - 7] = 0;
    finish(&t);
    CHECK(madt_parse(t.b, t.len, &m) == MADT_EENTRY);
    begin(&t);
    lapic(&t, 0, 1);
    t.b[t.len - 7] = 9;
    finish(&t);
    CHECK(madt_parse(t.b, t.len, &m) == MADT_EENTRY);
    CHECK(strcmp(madt_strerror(MADT_ESUM), "checksum does not sum to 0") == 0);
}

HOST_TEST(madt_keeps_at_most_its_capacity)
{
    static struct tbl t;
    struct madt_cpus m;

    begin(&t);
    for (unsigned i = 0; i < 60; i++)
        x2apic(&t, i, 1);
    finish(&t);
    REQUIRE(madt_parse(t.b, t.len, &m) == MADT_OK);
    CHECK(m.n == 60 && m.listed == 60);
    CHECK(MADT_MAX_CPUS >= 60);
}

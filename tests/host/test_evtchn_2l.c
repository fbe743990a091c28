/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 2-level event channel scan against plain arrays standing in for
 * shared_info and vcpu_info. raise() plays Xen's part of posting an event.
 */
#include <string.h>
#include "harness.h"
#include <pvhk/types.h>
#include <pvhk/evtchn.h>

struct fake {
    uint64_t pending[EVTCHN_2L_WORDS], mask[EVTCHN_2L_WORDS], sel;
    uint8_t upcall;
    struct evtchn_2l v;
    unsigned order[256], n;
    unsigned storm_port;                /* re-raised by its own handler */
    unsigned hits[EVTCHN_2L_NR_PORTS];
};

/* What Xen does to post port p (2-level ABI). */
static void raise_port(struct fake *f, unsigned p)
{
    f->pending[p / 64] |= 1ull << (p % 64);
    if (f->mask[p / 64] & (1ull << (p % 64)))
        return;
    f->sel |= 1ull << (p / 64);
    f->upcall = 1;
}

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->v = (struct evtchn_2l){ f->pending, f->mask, &f->sel, &f->upcall, NULL };
    f->storm_port = ~0u;
}

static void on_port(void *arg, unsigned port)
{
    struct fake *f = arg;

    if (f->n < ARRAY_SIZE(f->order))
        f->order[f->n++] = port;
    f->hits[port]++;
    if (port == f->storm_port)
        raise_port(f, port);
}

HOST_TEST(evtchn_scan_order_and_resume)
{
    static struct fake f;
    struct evtchn_scan s = { 0 };
    unsigned ports[] = { 3, 64, 100, 4095, 2000 };

    fake_init(&f);
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
        raise_port(&f, ports[i]);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 5);
    /* Starting after port 0: ascending. */
    CHECK(f.n == 5 && f.order[0] == 3 && f.order[1] == 64 &&
          f.order[2] == 100 && f.order[3] == 2000 && f.order[4] == 4095);
    CHECK(s.last_port == 4095);
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        CHECK(f.pending[w] == 0);
    CHECK(f.sel == 0 && f.upcall == 0);

    /* Resume after port 101: 130 and 4000 come before 5 and 101. */
    s.last_port = 101;
    f.n = 0;
    raise_port(&f, 5);
    raise_port(&f, 101);
    raise_port(&f, 130);
    raise_port(&f, 4000);
    raise_port(&f, 102);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 5);
    CHECK(f.order[0] == 102 && f.order[1] == 130 && f.order[2] == 4000 &&
          f.order[3] == 5 && f.order[4] == 101);

    /* Nothing posted: nothing done, even with selector junk. */
    f.n = 0;
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 0 && f.n == 0);
}

HOST_TEST(evtchn_scan_storm_does_not_starve)
{
    static struct fake f;
    struct evtchn_scan s = { 0 };

    fake_init(&f);
    f.storm_port = 5;
    raise_port(&f, 5);
    raise_port(&f, 6);
    raise_port(&f, 70);
    raise_port(&f, 4000);
    unsigned n = evtchn_scan_2l(&s, &f.v, on_port, &f, 8);
    /* Each quiet port exactly once; the storm once per round, bounded. */
    CHECK(f.hits[6] == 1 && f.hits[70] == 1 && f.hits[4000] == 1);
    CHECK(f.hits[5] == 8 && n == 11);
    CHECK(f.order[0] == 5 && f.order[1] == 6 && f.order[2] == 70 &&
          f.order[3] == 4000 && f.order[4] == 5);
    /* Still coming: the flag is left for the caller. */
    CHECK(f.upcall == 1);
    /* A port raised later, below the storm, goes first next time: the
     * scan resumes after the storm port, which was served last. */
    raise_port(&f, 1);
    f.n = 0;
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 1) == 2);
    CHECK(f.order[0] == 1 && f.order[1] == 5);
}

HOST_TEST(evtchn_scan_mask_unmask)
{
    static struct fake f;
    struct evtchn_scan s = { 0 };

    fake_init(&f);
    evtchn_mask_2l(&f.v, 77);
    raise_port(&f, 77);
    CHECK(f.upcall == 0 && f.sel == 0);         /* Xen posts nothing more */
    /* Even if the upcall runs for another port, 77 stays pending. */
    raise_port(&f, 78);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 1 && f.hits[78] == 1);
    CHECK(f.hits[77] == 0 && (f.pending[1] & (1ull << 13)));
    /* Unmask delivers it. */
    CHECK(evtchn_unmask_2l(&f.v, 77));
    CHECK(f.upcall == 1 && (f.sel & 2));
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 1 && f.hits[77] == 1);
    /* Unmasking a quiet port asks for nothing. */
    evtchn_mask_2l(&f.v, 77);
    CHECK(!evtchn_unmask_2l(&f.v, 77) && f.upcall == 0);
}

/* Random posts against a count model: every post is handled exactly once
 * (posts to an already-pending port merge, as in Xen). */
HOST_TEST(evtchn_scan_random)
{
    static struct fake f;
    struct evtchn_scan s = { 0 };
    static bool outstanding[EVTCHN_2L_NR_PORTS];
    static unsigned expect[EVTCHN_2L_NR_PORTS];
    uint32_t seed = 7;
    unsigned iters = host_soak ? 200000 : 20000;

    fake_init(&f);
    memset(outstanding, 0, sizeof(outstanding));
    memset(expect, 0, sizeof(expect));
    for (unsigned it = 0; it < iters; it++) {
        seed = seed * 1664525u + 1013904223u;
        unsigned p = (seed >> 8) % EVTCHN_2L_NR_PORTS;

        if (!outstanding[p]) {
            outstanding[p] = true;
            expect[p]++;
        }
        raise_port(&f, p);
        if ((seed >> 28) == 0) {
            evtchn_scan_2l(&s, &f.v, on_port, &f, 64);
            memset(outstanding, 0, sizeof(outstanding));
        }
    }
    evtchn_scan_2l(&s, &f.v, on_port, &f, 64);
    for (unsigned p = 0; p < EVTCHN_2L_NR_PORTS; p++)
        CHECKF(f.hits[p] == expect[p], "port %u: %u vs %u", p, f.hits[p],
               expect[p]);
}

/*
 * Resume points in the top words, and the resume word's bit 0: the lower
 * part of the resume word is visited last and must include its first port.
 */
HOST_TEST(evtchn_scan_resume_boundaries)
{
    static struct fake f;
    struct evtchn_scan s = { .last_port = 4000 };

    fake_init(&f);
    raise_port(&f, 3990);       /* word 62, below the resume point */
    raise_port(&f, 4001);       /* the resume point itself */
    raise_port(&f, 4010);
    raise_port(&f, 4095);       /* the last port there is */
    raise_port(&f, 5);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 5);
    CHECK(f.order[0] == 4001 && f.order[1] == 4010 && f.order[2] == 4095 &&
          f.order[3] == 5 && f.order[4] == 3990);
    CHECK(s.last_port == 3990);

    /* Resume at port 102 (word 1, bit 38): port 64 is word 1's bit 0. */
    f.n = 0;
    s.last_port = 101;
    raise_port(&f, 64);
    raise_port(&f, 101);
    raise_port(&f, 130);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 3);
    CHECK(f.n == 3 && f.order[0] == 130 && f.order[1] == 64 && f.order[2] == 101);

    /* After the last port, the scan starts over at port 0. */
    f.n = 0;
    s.last_port = 4095;
    raise_port(&f, 4095);
    raise_port(&f, 0);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 2);
    CHECK(f.order[0] == 0 && f.order[1] == 4095);
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        CHECK(f.pending[w] == 0);
}

/* Mask and unmask reach the port's own word and bit, high ports too. */
HOST_TEST(evtchn_mask_unmask_high_ports)
{
    static struct fake f;
    struct evtchn_scan s = { 0 };

    fake_init(&f);
    evtchn_mask_2l(&f.v, 4000);
    CHECK(f.mask[62] == 1ull << 32);
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        CHECK(w == 62 || f.mask[w] == 0);
    raise_port(&f, 4000);
    CHECK(f.upcall == 0 && f.sel == 0);
    CHECK(evtchn_unmask_2l(&f.v, 4000));
    CHECK(f.mask[62] == 0 && f.sel == 1ull << 62 && f.upcall == 1);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 1 && f.hits[4000] == 1);
    /* Port 4095: the last bit of the last word. */
    evtchn_mask_2l(&f.v, 4095);
    CHECK(f.mask[63] == 1ull << 63);
    CHECK(!evtchn_unmask_2l(&f.v, 4095) && f.mask[63] == 0 && f.upcall == 0);
}

/*
 * Two vCPUs share the pending words: a scan with a binding mask handles only
 * the ports bound to its vCPU and leaves the others pending for theirs.
 */
HOST_TEST(evtchn_scan_only_bound_ports)
{
    static struct fake f;
    static uint64_t mine[EVTCHN_2L_WORDS];
    struct evtchn_scan s = { EVTCHN_2L_NR_PORTS - 1 };

    fake_init(&f);
    memset(mine, 0, sizeof(mine));
    mine[1] = 1ull << 3;                        /* port 67 is ours */
    f.v.bound = mine;
    raise_port(&f, 66);                         /* another vCPU's, same word */
    raise_port(&f, 67);
    raise_port(&f, 200);
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 1);
    CHECK(f.n == 1 && f.order[0] == 67);
    CHECK(f.pending[1] == 1ull << 2);           /* 66 still pending */
    CHECK(f.pending[200 / 64] == 1ull << (200 % 64));
    /* Bound to us later (EVTCHNOP_bind_vcpu), it is handled on our next scan. */
    mine[1] |= 1ull << 2;
    f.sel |= 1ull << 1;
    f.upcall = 1;
    CHECK(evtchn_scan_2l(&s, &f.v, on_port, &f, 4) == 1);
    CHECK(f.n == 2 && f.order[1] == 66);
}

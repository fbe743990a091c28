// SPDX-License-Identifier: BSD-2-Clause
/*
 * Self-tests against Linux: pvhk as an xl domU meets the rig's Linux dom0,
 * which runs tests/domu/linux_peer.c, in xenstore. Linux's gntalloc,
 * gntdev and evtchn drivers are the other end, code nobody here wrote.
 * Each test is opted in by its command-line word (peer.map=1, ...), which
 * the rig's configs/pvhk-linux-*.cfg set; the rig starts the Linux side
 * with this guest's domid. The protocol, page counts and data are in
 * tests/domu/peer_proto.h; docs/domu-rig.md tells the scenarios.
 */
#include <pvhk/evtchn.h>
#include <pvhk/grant.h>
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <pvhk/xenstore.h>

#include "../domu/peer_proto.h"
#include "gnt_util.h"

#define LINUX           ((domid_t)0)    /* the peer runs in dom0 */
#define WAIT_NS         ((uint64_t)PEER_WAIT_S * 1000 * 1000 * 1000)

static char dir[64];

static void fill(void *va, unsigned tag)
{
    volatile uint64_t *p = va;
    for (unsigned w = 0; w < PEER_WORDS; w++)
        p[w] = peer_word(tag, w);
}

static bool holds(const void *va, unsigned tag)
{
    const volatile uint64_t *p = va;
    for (unsigned w = 0; w < PEER_WORDS; w++)
        if (p[w] != peer_word(tag, w))
            return false;
    return true;
}

static void *va_of(uint64_t pfn) { return (void *)(uintptr_t)PFN_PHYS(pfn); }

static int put(const char *key, const char *val)
{
    return meet_put(dir, key, val);
}

static int wait_for(const char *key, const char *want, char *buf, size_t bufsz)
{
    return meet_wait(dir, key, want, buf, bufsz, WAIT_NS);
}

static unsigned parse_refs(const char *s, grant_ref_t *refs, unsigned max)
{
    unsigned n = 0;
    while (*s && n < max) {
        uint32_t v = 0;
        const char *p = s;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint32_t)(*p++ - '0');
        if (p == s)
            break;
        refs[n++] = v;
        while (*p == ' ')
            p++;
        s = p;
    }
    return n;
}

/* A domU with xenstore and a grant table; opens DIR, says "waiting". */
static bool peer_ready(struct ktest_ctx *t)
{
    if (platform != PLATFORM_XEN_DOMU) {
        t->skip_reason = "the Linux peer runs in the rig's dom0: a domU only";
        return false;
    }
    if (!xenbus()) {
        ktest_fail(t, __FILE__, __LINE__, "xenbus() != NULL");
        return false;
    }
    int rc = gnt_init();
    if (rc) {
        ktest_note(t, "gnt_init: %d", rc);
        ktest_fail(t, __FILE__, __LINE__, "gnt_init() == 0");
        return false;
    }
    snprintf(dir, sizeof(dir), PEER_DIR_FMT, xenbus_info.domid);
    rc = xs_mkdir(xenbus(), 0, dir);
    if (rc == 0)
        rc = put("state", "waiting");
    if (rc) {
        ktest_note(t, "%s: %d", dir, rc);
        ktest_fail(t, __FILE__, __LINE__, "xenstore directory opened");
        return false;
    }
    return true;
}

static void poke(void *p) { *(volatile uint64_t *)p = 0; }

static struct gnttab_copy_end local(const void *va)
{
    return (struct gnttab_copy_end){ .ref_or_gfn = PFN_DOWN((uintptr_t)va) };
}

static struct gnttab_copy_end linux_ref(grant_ref_t r)
{
    return (struct gnttab_copy_end){ .is_gref = true, .domid = LINUX, .ref_or_gfn = r };
}

/*
 * Linux grants PEER_MAP_N pages (the last two read-only); pvhk maps the
 * five it answers through and the two read-only ones in one batch, checks
 * every word, writes its answer, finds the read-only ones read-only, and
 * fills page 5 by grant copy; Linux checks all of it.
 */
KTEST_OPTIN(peer, linux_grants_pvhk_maps, "peer.map")
{
    static struct gnt_map m[PEER_MAP_N];
    grant_ref_t refs[PEER_MAP_N], batch[PEER_MAP_N];
    struct gnttab_report rep;
    struct caught_trap ti;
    char buf[160];

    if (!peer_ready(t))
        return;
    uint64_t avail = gnt_pool_level();
    KT_ASSERT(t, wait_for("lstate", "granted", buf, sizeof(buf)) == 0);
    KT_ASSERT(t, wait_for("refs", NULL, buf, sizeof(buf)) == 0);
    KT_ASSERT(t, parse_refs(buf, refs, PEER_MAP_N) == PEER_MAP_N);
    ktest_note(t, "Linux granted refs %s", buf);

    /* A read-only grant mapped writable: refused by name, nothing kept. */
    struct gnt_map bad;
    KT_EXPECT(t, gnt_map_refs(LINUX, &refs[PEER_MAP_RO_FIRST], 1, 0, &bad, &rep) == -XEN_EIO);
    KT_EXPECT(t, bad.status == GNTST_general_error);
    ktest_note(t, "read-only grant mapped writable: %s", gnttab_status_name(bad.status));
    KT_EXPECT(t, gnt_pool_level() == avail);

    /* One batch, one hypercall: pages 0..4 writable, 6..7 read-only. */
    unsigned n = 0;
    for (unsigned k = 0; k < PEER_MAP_N; k++) {
        if (k == PEER_MAP_COPY_DST)
            continue;
        batch[n] = refs[k];
        m[n].readonly = k >= PEER_MAP_RO_FIRST;
        n++;
    }
    uint64_t h0 = gnt_st.hypercalls;
    KT_ASSERT(t, gnt_map_refs(LINUX, batch, n, GNT_MAP_PER_OP, m, &rep) == 0);
    KT_EXPECT(t, gnt_st.hypercalls - h0 == 1);
    unsigned good = 0, scratch_frames = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned k = i < PEER_MAP_COPY_DST ? i : i + 1;
        good += holds(va_of(m[i].pfn), PEER_TAG_MAP + k);
        scratch_frames += pa_state(&heap, m[i].pfn) == PA_SCRATCH;
    }
    KT_EXPECT(t, good == n);
    KT_EXPECT(t, scratch_frames == n);
    for (unsigned i = 0; i < PEER_MAP_COPY_DST; i++)
        fill(va_of(m[i].pfn), PEER_ANSWER(PEER_TAG_MAP + i));
    /* Writes through a read-only map must not land (Xen drops them). */
    unsigned kept = 0;
    for (unsigned i = PEER_MAP_COPY_DST; i < n; i++) {
        int trapped = trap_try(poke, va_of(m[i].pfn), &ti);
        if (trapped)
            ktest_note(t, "write through a read-only map trapped: %s",
                       exception_name(ti.vector));
        kept += holds(va_of(m[i].pfn), PEER_TAG_MAP + i + 1);
    }
    KT_EXPECT(t, kept == n - PEER_MAP_COPY_DST);
    KT_EXPECT(t, gnt_unmap(m, n, 0, &rep) == 0 && rep.ok == n);
    KT_EXPECT(t, gnt_pool_level() == avail);

    /*
     * Grant copy, one call: our answer into page 5, page 7 (read-only)
     * into a local frame, and our answer into read-only page 6, which Xen
     * must refuse by name and leave as it was.
     */
    uint8_t *ans = alloc_pages(0, 0), *got = alloc_pages(0, 0);
    KT_ASSERT(t, ans && got);
    fill(ans, PEER_ANSWER(PEER_TAG_MAP + PEER_MAP_COPY_DST));
    memset(got, 0, PAGE_SIZE);
    struct gnttab_copy ops[3];
    struct gnttab_copy_end s = local(ans), d = linux_ref(refs[PEER_MAP_COPY_DST]);
    KT_ASSERT(t, gnttab_build_copy(&ops[0], &s, &d, PAGE_SIZE) == 0);
    s = linux_ref(refs[PEER_MAP_N - 1]);
    d = local(got);
    KT_ASSERT(t, gnttab_build_copy(&ops[1], &s, &d, PAGE_SIZE) == 0);
    s = local(ans);
    d = linux_ref(refs[PEER_MAP_RO_FIRST]);
    KT_ASSERT(t, gnttab_build_copy(&ops[2], &s, &d, PAGE_SIZE) == 0);
    gnt_copy(ops, 3, &rep);
    KT_EXPECT(t, ops[0].status == GNTST_okay && ops[1].status == GNTST_okay);
    KT_EXPECT(t, ops[2].status == GNTST_general_error);
    ktest_note(t, "copies: into page 5 %s, from read-only page 7 %s, into read-only page 6 %s",
               gnttab_status_name(ops[0].status), gnttab_status_name(ops[1].status),
               gnttab_status_name(ops[2].status));
    KT_EXPECT(t, holds(got, PEER_TAG_MAP + PEER_MAP_N - 1));
    free_pages(ans, 0);
    free_pages(got, 0);

    KT_EXPECT(t, gnt_st.leaked == 0 && gnt_st.unmap_failed == 0);
    KT_EXPECT(t, gnt_account_matches(t));
    KT_EXPECT(t, put("state", "done") == 0);
}

/*
 * pvhk grants PEER_GRANT_N pages to Linux (the last read-only); Linux maps
 * them through gntdev, checks them and answers in the writable ones. While
 * Linux maps them, ending any grant is refused as busy; once it unmaps,
 * every grant ends (gntdev may unmap a little after munmap returns, so
 * each end is retried for a bounded time).
 */
KTEST_OPTIN(peer, pvhk_grants_linux_maps, "peer.grant")
{
    static void *f[PEER_GRANT_N];
    grant_ref_t refs[PEER_GRANT_N];
    char buf[160];
    int len = 0;

    if (!peer_ready(t))
        return;
    for (unsigned k = 0; k < PEER_GRANT_N; k++) {
        f[k] = alloc_pages(0, PA_ALLOC_LOW);
        KT_ASSERT(t, f[k] != NULL);
        fill(f[k], PEER_TAG_GRANT + k);
        KT_ASSERT(t, gnt_grant(LINUX, PFN_DOWN((uintptr_t)f[k]), k >= PEER_GRANT_RW,
                               &refs[k]) == 0);
        len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%u", k ? " " : "", refs[k]);
    }
    KT_ASSERT(t, put("refs", buf) == 0 && put("state", "granted") == 0);

    KT_ASSERT(t, wait_for("lstate", "mapped", buf, sizeof(buf)) == 0);
    unsigned answered = 0, busy = 0;
    for (unsigned k = 0; k < PEER_GRANT_RW; k++)
        answered += holds(f[k], PEER_ANSWER(PEER_TAG_GRANT + k));
    KT_EXPECT(t, answered == PEER_GRANT_RW);
    KT_EXPECT(t, holds(f[PEER_GRANT_RW], PEER_TAG_GRANT + PEER_GRANT_RW));
    for (unsigned k = 0; k < PEER_GRANT_N; k++)
        busy += gnt_end(refs[k]) == -XEN_EBUSY;
    KT_EXPECT(t, busy == PEER_GRANT_N);
    KT_ASSERT(t, put("state", "busy-checked") == 0);

    KT_ASSERT(t, wait_for("lstate", "unmapped", buf, sizeof(buf)) == 0);
    unsigned ended = 0, retries = 0;
    uint64_t t0 = now_ns();
    for (unsigned k = 0; k < PEER_GRANT_N; k++) {
        int rc;
        while ((rc = gnt_end(refs[k])) == -XEN_EBUSY && now_ns() - t0 < WAIT_NS) {
            retries++;
            xsleep_ns(1000ull * 1000);
        }
        ended += rc == 0;
    }
    KT_EXPECT(t, ended == PEER_GRANT_N);
    ktest_note(t, "every grant busy while Linux mapped it; all ended after its unmap "
               "(%u retries, %llu us)", retries, (unsigned long long)((now_ns() - t0) / 1000));
    for (unsigned k = 0; k < PEER_GRANT_N; k++)
        free_pages(f[k], 0);
    KT_EXPECT(t, gnt_account_matches(t));
    KT_EXPECT(t, put("state", "done") == 0);
}

/*
 * An interdomain event channel to Linux's /dev/xen/evtchn: Linux pings
 * PEER_EVTCHN_ROUNDS times and pvhk answers each, then the other way
 * round. A pending bit carries no count, so each notification is answered
 * before the next is sent: every one must arrive, none may be extra.
 */
static volatile unsigned peer_events;

static void on_peer_event(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    peer_events++;
}

static unsigned wanted_events;
static bool events_reached(void *arg)
{
    (void)arg;
    return peer_events >= wanted_events;
}

KTEST_OPTIN(peer, evtchn_both_ways, "peer.evtchn")
{
    evtchn_port_t port;
    char buf[32];

    if (!peer_ready(t))
        return;
    KT_ASSERT(t, evtchn_alloc_unbound(LINUX, &port) == 0);
    peer_events = 0;
    KT_ASSERT(t, evtchn_bind_handler(port, on_peer_event, NULL) == 0);
    snprintf(buf, sizeof(buf), "%u", port);
    KT_ASSERT(t, put("port", buf) == 0 && put("state", "waiting") == 0);
    KT_ASSERT(t, wait_for("lstate", "bound", buf, sizeof(buf)) == 0);

    uint64_t t0 = now_ns();
    unsigned sent = 0;
    for (unsigned i = 0; i < PEER_EVTCHN_ROUNDS; i++) {
        wanted_events = i + 1;
        if (!xwait_timeout(events_reached, NULL, WAIT_NS))
            break;
        sent += evtchn_send(port) == 0;
    }
    KT_EXPECT(t, peer_events == PEER_EVTCHN_ROUNDS && sent == PEER_EVTCHN_ROUNDS);
    uint64_t t1 = now_ns();
    /* Linux has counted our last answer before we ping (else the two could
     * meet in one pending bit). */
    KT_ASSERT(t, wait_for("lstate", "pinged", buf, sizeof(buf)) == 0);
    unsigned answered = 0;
    for (unsigned i = 0; i < PEER_EVTCHN_ROUNDS; i++) {
        if (evtchn_send(port))
            break;
        sent++;
        wanted_events = PEER_EVTCHN_ROUNDS + i + 1;
        if (!xwait_timeout(events_reached, NULL, WAIT_NS))
            break;
        answered++;
    }
    KT_EXPECT(t, answered == PEER_EVTCHN_ROUNDS);
    KT_EXPECT(t, peer_events == 2 * PEER_EVTCHN_ROUNDS);
    ktest_note(t, "%u pings from Linux answered in %llu ms, %u of ours answered in %llu ms",
               PEER_EVTCHN_ROUNDS, (unsigned long long)((t1 - t0) / 1000000), answered,
               (unsigned long long)((now_ns() - t1) / 1000000));
    snprintf(buf, sizeof(buf), "%u", peer_events);
    KT_EXPECT(t, put("received", buf) == 0);
    KT_EXPECT(t, put("state", "done") == 0);
    /* Nothing more arrives once the exchange is over. */
    xsleep_ns(100ull * 1000 * 1000);
    KT_EXPECT(t, peer_events == 2 * PEER_EVTCHN_ROUNDS);
    KT_EXPECT(t, evtchn_close(port) == 0);
}

/*
 * Linux grants pages from a process that exits while pvhk maps them (the
 * kernel cannot take back a mapped page: it defers the free); pvhk's
 * unmap afterwards gets a named status and everything comes back. Then a
 * stale ref (granted and ended) and one beyond any table: each map is
 * refused by name, and nothing leaks.
 */
KTEST_OPTIN(peer, linux_goes_away_and_bad_refs, "peer.fault")
{
    static struct gnt_map m[PEER_FAULT_N];
    grant_ref_t refs[PEER_FAULT_N], ref;
    struct gnttab_report rep;
    char buf[96];

    if (!peer_ready(t))
        return;
    uint64_t avail = gnt_pool_level();
    KT_ASSERT(t, wait_for("lstate", "granted", buf, sizeof(buf)) == 0);
    KT_ASSERT(t, wait_for("refs", NULL, buf, sizeof(buf)) == 0);
    KT_ASSERT(t, parse_refs(buf, refs, PEER_FAULT_N) == PEER_FAULT_N);
    KT_ASSERT(t, gnt_map_refs(LINUX, refs, PEER_FAULT_N, 0, m, &rep) == 0);
    KT_ASSERT(t, put("state", "mapped") == 0);
    KT_ASSERT(t, wait_for("lstate", "exited", buf, sizeof(buf)) == 0);

    /* The granter is gone; its pages are still ours to read and write. */
    unsigned intact = 0;
    for (unsigned k = 0; k < PEER_FAULT_N; k++) {
        intact += holds(va_of(m[k].pfn), PEER_TAG_FAULT + k);
        fill(va_of(m[k].pfn), PEER_ANSWER(PEER_TAG_FAULT + k));
    }
    KT_EXPECT(t, intact == PEER_FAULT_N);
    int rc = gnt_unmap(m, PEER_FAULT_N, 0, &rep);
    ktest_note(t, "unmap after the granting process exited: %s, %s",
               gnttab_status_name(m[0].status), gnttab_status_name(m[1].status));
    KT_EXPECT(t, rc == 0 && rep.ok == PEER_FAULT_N);
    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_ASSERT(t, put("state", "unmapped") == 0);

    KT_ASSERT(t, wait_for("lstate", "bad-refs", buf, sizeof(buf)) == 0);
    struct gnt_map one;
    KT_ASSERT(t, wait_for("stale", NULL, buf, sizeof(buf)) == 0);
    KT_ASSERT(t, parse_refs(buf, &ref, 1) == 1);
    KT_EXPECT(t, gnt_map_refs(LINUX, &ref, 1, 0, &one, &rep) == -XEN_EIO);
    KT_EXPECT(t, one.status == GNTST_general_error);
    ktest_note(t, "stale ref %u: %s", ref, gnttab_status_name(one.status));
    KT_ASSERT(t, wait_for("bad", NULL, buf, sizeof(buf)) == 0);
    KT_ASSERT(t, parse_refs(buf, &ref, 1) == 1);
    rc = gnt_map_refs(LINUX, &ref, 1, 0, &one, &rep);
    KT_EXPECT(t, rc != 0 && one.status == GNTST_bad_gntref);
    ktest_note(t, "ref %u beyond Linux's table: %s", ref, gnttab_status_name(one.status));

    KT_EXPECT(t, gnt_pool_level() == avail);
    KT_EXPECT(t, gnt_st.leaked == 0 && gnt_st.unmap_failed == 0);
    KT_EXPECT(t, gnt_account_matches(t));
    KT_EXPECT(t, put("state", "done") == 0);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Linux side of pvhk's peer scenarios. Runs in the domU rig's dom0
 * (Linux, PV) next to one pvhk guest and meets it in xenstore, using
 * Linux's own grant and event-channel drivers the way Linux programs do:
 * gntalloc (share pages), gntdev (map a guest's grants) and evtchn,
 * through Xen's libxengnttab / libxenevtchn / libxenstore.
 *
 *   linux-peer SCENARIO DOMID      SCENARIO: map, grant, evtchn or fault
 *
 * Prints what it does and, last, "verdict: PASS" or "verdict: FAIL (n
 * checks failed)"; every failed check has its own "FAIL: ..." line. Exit
 * status 0 only on PASS. The protocol, page counts and data pattern are in
 * peer_proto.h; docs/domu-rig.md describes the scenarios.
 *
 * Built statically by scripts/domu-rig.sh, so it needs nothing from the
 * dom0 image but the kernel's xen-gntalloc, xen-gntdev and xen-evtchn
 * modules and a running xenstored.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "peer_proto.h"

static struct xs_handle *xs;
static char dir[64];
static unsigned domid;
static unsigned failures;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

#define CHECK(cond, ...) do {                                               \
    if (!(cond)) {                                                          \
        failures++;                                                         \
        printf("FAIL: %s: ", #cond);                                        \
        say(__VA_ARGS__);                                                   \
    }                                                                       \
} while (0)

/* A step that the rest of the scenario needs: stop here if it failed. */
#define REQUIRE(cond, ...) do {                                             \
    if (!(cond)) {                                                          \
        CHECK(cond, __VA_ARGS__);                                           \
        return;                                                             \
    }                                                                       \
} while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool put(const char *key, const char *val)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (xs_write(xs, XBT_NULL, path, val, strlen(val)))
        return true;
    say("xenstore write %s = %s: %s", path, val, strerror(errno));
    return false;
}

/*
 * Wait until DIR/key exists (want NULL) or reads want; the value goes to
 * buf. pvhk creates DIR itself, so at first it may not be there.
 */
static bool wait_for(const char *key, const char *want, char *buf, size_t bufsz)
{
    char path[128];
    double t0 = now_s();

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    while (now_s() - t0 < PEER_WAIT_S) {
        unsigned len;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        if (v) {
            bool hit = !want || strcmp(v, want) == 0;
            if (hit && buf)
                snprintf(buf, bufsz, "%s", v);
            free(v);
            if (hit)
                return true;
        }
        usleep(20000);
    }
    say("no %s%s%s from pvhk within %d s", path, want ? " = " : "", want ? want : "",
        PEER_WAIT_S);
    return false;
}

static void fill(void *page, unsigned tag)
{
    uint64_t *p = page;
    for (unsigned w = 0; w < PEER_WORDS; w++)
        p[w] = peer_word(tag, w);
}

/* The first word that differs from tag's pattern, or -1. */
static int differs(const void *page, unsigned tag)
{
    const volatile uint64_t *p = page;
    for (unsigned w = 0; w < PEER_WORDS; w++)
        if (p[w] != peer_word(tag, w))
            return (int)w;
    return -1;
}

static void *page_of(void *base, unsigned k) { return (char *)base + 4096ul * k; }

static int refs_list(char *buf, size_t n, const uint32_t *refs, unsigned count)
{
    int len = 0;
    for (unsigned i = 0; i < count; i++)
        len += snprintf(buf + len, n - (size_t)len, "%s%u", i ? " " : "", refs[i]);
    return len;
}

static unsigned parse_refs(const char *s, uint32_t *refs, unsigned max)
{
    unsigned n = 0;
    while (*s && n < max) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s)
            break;
        refs[n++] = (uint32_t)v;
        s = end;
    }
    return n;
}

/* ---- map: Linux grants, pvhk maps --------------------------------------- */

static void scenario_map(void)
{
    xengntshr_handle *shr = xengntshr_open(NULL, 0);
    uint32_t refs[PEER_MAP_N];
    char buf[256];

    REQUIRE(shr != NULL, "xengntshr_open (/dev/xen/gntalloc): %s", strerror(errno));
    REQUIRE(wait_for("state", "waiting", NULL, 0), "pvhk never opened %s", dir);
    /* Pages 0..5 writable (0..4 pvhk maps, 5 it fills by grant copy),
     * 6..7 read-only: gntalloc shares a whole call one way. */
    void *rw = xengntshr_share_pages(shr, domid, PEER_MAP_RO_FIRST, refs, 1);
    REQUIRE(rw != NULL, "share %d writable pages: %s", PEER_MAP_RO_FIRST, strerror(errno));
    void *ro = xengntshr_share_pages(shr, domid, PEER_MAP_N - PEER_MAP_RO_FIRST,
                                     refs + PEER_MAP_RO_FIRST, 0);
    REQUIRE(ro != NULL, "share read-only pages: %s", strerror(errno));
    for (unsigned k = 0; k < PEER_MAP_N; k++)
        fill(k < PEER_MAP_RO_FIRST ? page_of(rw, k) : page_of(ro, k - PEER_MAP_RO_FIRST),
             PEER_TAG_MAP + k);
    refs_list(buf, sizeof(buf), refs, PEER_MAP_N);
    say("granted %u pages to d%u (refs %s; the last %u read-only)", PEER_MAP_N, domid, buf,
        PEER_MAP_N - PEER_MAP_RO_FIRST);
    REQUIRE(put("refs", buf) && put("lstate", "granted"), "publish the refs");

    REQUIRE(wait_for("state", "done", NULL, 0), "pvhk did not finish");
    for (unsigned k = 0; k < PEER_MAP_N; k++) {
        void *p = k < PEER_MAP_RO_FIRST ? page_of(rw, k) : page_of(ro, k - PEER_MAP_RO_FIRST);
        unsigned want = k < PEER_MAP_RO_FIRST ? PEER_ANSWER(PEER_TAG_MAP + k) : PEER_TAG_MAP + k;
        int w = differs(p, want);
        CHECK(w < 0, "page %u (ref %u) word %d is %#llx, want %#llx (%s)", k, refs[k], w,
              (unsigned long long)((uint64_t *)p)[w < 0 ? 0 : w],
              peer_word(want, (unsigned)(w < 0 ? 0 : w)),
              k < PEER_MAP_COPY_DST ? "pvhk's answer through its mapping" :
              k == PEER_MAP_COPY_DST ? "pvhk's answer by grant copy" : "read-only: unchanged");
    }
    say("checked pvhk's answers in %u pages and the %u read-only pages unchanged",
        PEER_MAP_RO_FIRST, PEER_MAP_N - PEER_MAP_RO_FIRST);
    /* pvhk has unmapped everything: the grants end at once. */
    CHECK(xengntshr_unshare(shr, rw, PEER_MAP_RO_FIRST) == 0, "unshare: %s", strerror(errno));
    CHECK(xengntshr_unshare(shr, ro, PEER_MAP_N - PEER_MAP_RO_FIRST) == 0, "unshare: %s",
          strerror(errno));
    xengntshr_close(shr);
}

/* ---- grant: pvhk grants, Linux maps ------------------------------------- */

static void scenario_grant(void)
{
    /* The library logs a refused map as an error; we report our own. */
    xentoollog_logger *quiet = (xentoollog_logger *)
        xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
    xengnttab_handle *gt = xengnttab_open(quiet, 0);
    uint32_t refs[PEER_GRANT_N];
    char buf[256];

    REQUIRE(gt != NULL, "xengnttab_open (/dev/xen/gntdev): %s", strerror(errno));
    REQUIRE(wait_for("state", "granted", NULL, 0) && wait_for("refs", NULL, buf, sizeof(buf)),
            "pvhk never granted");
    REQUIRE(parse_refs(buf, refs, PEER_GRANT_N) == PEER_GRANT_N, "refs \"%s\"", buf);
    say("pvhk d%u granted refs %s (the last read-only)", domid, buf);

    void *rw = xengnttab_map_domain_grant_refs(gt, PEER_GRANT_RW, domid, refs,
                                               PROT_READ | PROT_WRITE);
    REQUIRE(rw != NULL, "map %u writable grants: %s", PEER_GRANT_RW, strerror(errno));
    /* The read-only grant: writable is refused, read-only works. */
    void *bad = xengnttab_map_domain_grant_refs(gt, 1, domid, refs + PEER_GRANT_RW,
                                                PROT_READ | PROT_WRITE);
    CHECK(bad == NULL, "a read-only grant mapped writable");
    if (bad)
        xengnttab_unmap(gt, bad, 1);
    else
        say("read-only grant %u mapped writable: refused (%s)", refs[PEER_GRANT_RW],
            strerror(errno));
    void *ro = xengnttab_map_domain_grant_refs(gt, 1, domid, refs + PEER_GRANT_RW, PROT_READ);
    REQUIRE(ro != NULL, "map the read-only grant read-only: %s", strerror(errno));

    for (unsigned k = 0; k < PEER_GRANT_N; k++) {
        void *p = k < PEER_GRANT_RW ? page_of(rw, k) : ro;
        int w = differs(p, PEER_TAG_GRANT + k);
        CHECK(w < 0, "pvhk's page %u (ref %u) differs from its pattern at word %d", k,
              refs[k], w);
    }
    for (unsigned k = 0; k < PEER_GRANT_RW; k++)
        fill(page_of(rw, k), PEER_ANSWER(PEER_TAG_GRANT + k));
    say("mapped %u grants through gntdev, checked them, answered in %u", PEER_GRANT_N,
        PEER_GRANT_RW);
    REQUIRE(put("lstate", "mapped"), "publish");

    /* pvhk now finds every grant busy; then we let go. */
    REQUIRE(wait_for("state", "busy-checked", NULL, 0), "pvhk did not check its grants busy");
    CHECK(xengnttab_unmap(gt, rw, PEER_GRANT_RW) == 0, "unmap: %s", strerror(errno));
    CHECK(xengnttab_unmap(gt, ro, 1) == 0, "unmap: %s", strerror(errno));
    REQUIRE(put("lstate", "unmapped"), "publish");
    REQUIRE(wait_for("state", "done", NULL, 0), "pvhk did not end its grants");
    say("pvhk ended its grants after the unmap");
    xengnttab_close(gt);
    xtl_logger_destroy(quiet);
}

/* ---- evtchn: notifications both ways ------------------------------------ */

/* The next event on our port, within PEER_WAIT_S; unmasks it again. */
static bool next_event(xenevtchn_handle *ev, evtchn_port_t port)
{
    struct pollfd pfd = { .fd = xenevtchn_fd(ev), .events = POLLIN };
    int rc = poll(&pfd, 1, PEER_WAIT_S * 1000);
    if (rc <= 0)
        return false;
    xenevtchn_port_or_error_t p = xenevtchn_pending(ev);
    if (p < 0 || (evtchn_port_t)p != port)
        return false;
    return xenevtchn_unmask(ev, port) == 0;
}

static void scenario_evtchn(void)
{
    xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
    char buf[64];
    unsigned got = 0, sent = 0;

    REQUIRE(ev != NULL, "xenevtchn_open (/dev/xen/evtchn): %s", strerror(errno));
    REQUIRE(wait_for("state", "waiting", NULL, 0) && wait_for("port", NULL, buf, sizeof(buf)),
            "pvhk never offered a port");
    unsigned long remote = strtoul(buf, NULL, 10);
    xenevtchn_port_or_error_t lp = xenevtchn_bind_interdomain(ev, domid, (uint32_t)remote);
    REQUIRE(lp >= 0, "bind to d%u port %lu: %s", domid, remote, strerror(errno));
    evtchn_port_t port = (evtchn_port_t)lp;
    /*
     * Xen marks the binder's new port pending once, in case the other end
     * notified while it was unbound (evtchn_bind_interdomain in Xen's
     * common/event_channel.c). Take that event now: counted as an answer,
     * it would let our next ping meet an unanswered one in pvhk's pending
     * bit.
     */
    struct pollfd pfd = { .fd = xenevtchn_fd(ev), .events = POLLIN };
    bool bind_event = poll(&pfd, 1, 2000) == 1 && next_event(ev, port);
    say("bound local port %u to d%u port %lu (%s)", port, domid, remote,
        bind_event ? "Xen's event for the new binding taken" : "no event for the new binding");
    REQUIRE(put("lstate", "bound"), "publish");

    /* Our pings: each answered by pvhk before the next. */
    double t0 = now_s();
    for (unsigned i = 0; i < PEER_EVTCHN_ROUNDS; i++) {
        REQUIRE(xenevtchn_notify(ev, port) == 0, "notify: %s", strerror(errno));
        sent++;
        REQUIRE(next_event(ev, port), "no answer to ping %u of %u", i + 1, PEER_EVTCHN_ROUNDS);
        got++;
    }
    double t1 = now_s();
    say("%u pings answered in %.2f s", PEER_EVTCHN_ROUNDS, t1 - t0);
    REQUIRE(put("lstate", "pinged"), "publish");
    /* pvhk's pings: answer each. */
    for (unsigned i = 0; i < PEER_EVTCHN_ROUNDS; i++) {
        REQUIRE(next_event(ev, port), "pvhk's ping %u of %u never came", i + 1,
                PEER_EVTCHN_ROUNDS);
        got++;
        REQUIRE(xenevtchn_notify(ev, port) == 0, "notify: %s", strerror(errno));
        sent++;
    }
    say("answered %u pings from pvhk in %.2f s", PEER_EVTCHN_ROUNDS, now_s() - t1);
    REQUIRE(wait_for("state", "done", NULL, 0) && wait_for("received", NULL, buf, sizeof(buf)),
            "pvhk did not finish");
    unsigned long theirs = strtoul(buf, NULL, 10);
    CHECK(got == 2 * PEER_EVTCHN_ROUNDS, "received %u, want %u", got, 2 * PEER_EVTCHN_ROUNDS);
    CHECK(theirs == sent, "pvhk received %lu of the %u sent", theirs, sent);
    say("sent %u, received %u; pvhk received %lu", sent, got, theirs);
    /* No stray event after the last answer. */
    CHECK(poll(&pfd, 1, 100) == 0, "an event after the exchange ended");
    xenevtchn_unbind(ev, port);
    xenevtchn_close(ev);
}

/* ---- fault: Linux goes away while pvhk maps; bad and stale refs ------- */

/* A child process shares pages, and exits while pvhk has them mapped. */
static void fault_child(void)
{
    xengntshr_handle *shr = xengntshr_open(NULL, 0);
    uint32_t refs[PEER_FAULT_N];
    char buf[64];

    if (!shr)
        _exit(2);
    void *p = xengntshr_share_pages(shr, domid, PEER_FAULT_N, refs, 1);
    if (!p)
        _exit(3);
    for (unsigned k = 0; k < PEER_FAULT_N; k++)
        fill(page_of(p, k), PEER_TAG_FAULT + k);
    refs_list(buf, sizeof(buf), refs, PEER_FAULT_N);
    say("child %d granted refs %s", (int)getpid(), buf);
    if (!put("refs", buf) || !put("lstate", "granted"))
        _exit(4);
    if (!wait_for("state", "mapped", NULL, 0))
        _exit(5);
    /* Exit with the pages shared and mapped by pvhk: the kernel closes
     * /dev/xen/gntalloc for us and must cope with grants still in use. */
    _exit(0);
}

static void scenario_fault(void)
{
    xengntshr_handle *shr;
    uint32_t ref;
    char buf[64];
    int status;

    REQUIRE(wait_for("state", "waiting", NULL, 0), "pvhk never opened %s", dir);
    fflush(stdout);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        xs_close(xs);           /* the child opens its own connection */
        xs = xs_open(0);
        if (!xs)
            _exit(1);
        fault_child();
    }
    REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %#x)",
            status);
    say("the granting process exited while pvhk maps its pages");
    REQUIRE(put("lstate", "exited"), "publish");
    REQUIRE(wait_for("state", "unmapped", NULL, 0), "pvhk did not unmap");

    /* A stale ref (shared, then ended at once) and one beyond any table. */
    shr = xengntshr_open(NULL, 0);
    REQUIRE(shr != NULL, "xengntshr_open: %s", strerror(errno));
    void *p = xengntshr_share_pages(shr, domid, 1, &ref, 1);
    REQUIRE(p != NULL, "share: %s", strerror(errno));
    REQUIRE(xengntshr_unshare(shr, p, 1) == 0, "unshare: %s", strerror(errno));
    snprintf(buf, sizeof(buf), "%u", ref);
    REQUIRE(put("stale", buf) && put("bad", "268435455") && put("lstate", "bad-refs"),
            "publish");
    say("offered stale ref %u and bad ref 268435455", ref);
    REQUIRE(wait_for("state", "done", NULL, 0), "pvhk did not finish");
    xengntshr_close(shr);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } scenarios[] = {
        { "map", scenario_map }, { "grant", scenario_grant },
        { "evtchn", scenario_evtchn }, { "fault", scenario_fault },
    };
    char *end;

    if (argc != 3) {
        fprintf(stderr, "usage: %s map|grant|evtchn|fault DOMID\n", argv[0]);
        return 2;
    }
    unsigned long d = strtoul(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end || d == 0 || d >= 0x7ff0) {
        fprintf(stderr, "%s: bad domid '%s'\n", argv[0], argv[2]);
        return 2;
    }
    domid = (unsigned)d;
    snprintf(dir, sizeof(dir), PEER_DIR_FMT, domid);
    for (unsigned i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        if (strcmp(argv[1], scenarios[i].name))
            continue;
        xs = xs_open(0);
        if (!xs) {
            say("xs_open: %s", strerror(errno));
            failures++;
        } else {
            say("scenario %s with d%u in %s", argv[1], domid, dir);
            scenarios[i].fn();
        }
        if (failures)
            say("verdict: FAIL (%u checks failed)", failures);
        else
            say("verdict: PASS");
        return failures ? 1 : 0;
    }
    fprintf(stderr, "%s: unknown scenario '%s'\n", argv[0], argv[1]);
    return 2;
}

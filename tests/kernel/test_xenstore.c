/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-tests of the domU toolstack services: xenstore requests and watches
 * against the real xenstored, the PV console ring, and what the balloon and
 * shutdown drivers set up. On dom0 and bare metal there is no xenstore and
 * every test skips with the reason; on a domU a connection that failed to
 * come up is a failure.
 *
 * The control phase (xenbus.wait=SECONDS), where pvhk stays up servicing
 * `xl mem-set` and `xl shutdown` for the domU rig, is a suite of its own,
 * xenstore_control: suites run in section-name order and it sorts after
 * every other one, so the phase comes after all other self-tests. (Within
 * a suite the order is the compiler's, not the file's.)
 *
 * Keys are written under data/pvhk-selftest/, in the domain's own data/
 * tree (libxl makes data/ writable by the guest).
 */
#include <pvhk/cmdline.h>
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/smp.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <xen/sched.h>

#define MS  1000000ull
#define DIR "data/pvhk-selftest"

static struct xs_conn *need_xenbus(struct ktest_ctx *t)
{
    struct xs_conn *c = xenbus();

    if (c)
        return c;
    if (platform != PLATFORM_XEN_DOMU) {
        t->skip_reason = xenbus_error;
        return NULL;
    }
    ktest_note(t, "no xenstore connection: %s (%d)", xenbus_error ? xenbus_error : "?",
               xenbus_errno);
    ktest_fail(t, __FILE__, __LINE__, "xenbus() != NULL");
    return NULL;
}

#define NEED_XENBUS(t, c) struct xs_conn *c = need_xenbus(t); if (!c) return

/* An operation must succeed; otherwise say which error and fail. */
#define XS_OK(t, call) ({                                                   \
    int rc_ = (call);                                                       \
    if (rc_) {                                                              \
        ktest_note((t), "%s: %s (%d)", #call, xs_errno_name(rc_), rc_);     \
        ktest_fail((t), __FILE__, __LINE__, #call " == 0");                 \
    }                                                                       \
    rc_ == 0;                                                               \
})

KTEST(xenstore, read_name_and_domid)
{
    char buf[64], path[64], want[64];
    uint32_t len, domid;

    NEED_XENBUS(t, c);
    KT_ASSERT(t, XS_OK(t, xs_read(c, 0, "domid", buf, sizeof(buf), &len)));
    KT_ASSERT(t, xs_parse_u32(buf, len, &domid) == 0);
    KT_EXPECT(t, domid != 0);
    KT_EXPECT(t, domid == xenbus_info.domid);
    KT_ASSERT(t, XS_OK(t, xs_read(c, 0, "name", buf, sizeof(buf), &len)));
    KT_EXPECT(t, len > 0 && strlen(buf) == len);
    /* The rig's domains are named after their configs: pvhk-... */
    KT_EXPECT(t, !strncmp(buf, "pvhk", 4));
    /* Relative paths are relative to the path GET_DOMAIN_PATH gives. */
    KT_ASSERT(t, XS_OK(t, xs_get_domain_path(c, domid, path, sizeof(path))));
    snprintf(want, sizeof(want), "/local/domain/%u", domid);
    KT_EXPECT(t, !strcmp(path, want));
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    char abs[64];
    KT_ASSERT(t, XS_OK(t, xs_read(c, 0, path, abs, sizeof(abs), &len)));
    KT_EXPECT(t, !strcmp(abs, buf));
    ktest_note(t, "domain %u is \"%s\"", domid, buf);
}

KTEST(xenstore, write_and_read_back_own_tree)
{
    static const char bin[] = { 'a', 0, 'b', (char)0xff };
    char buf[128], val[64];
    uint32_t len;

    NEED_XENBUS(t, c);
    snprintf(val, sizeof(val), "pvhk at %llu ns", (unsigned long long)xen_clock_ns());
    KT_ASSERT(t, XS_OK(t, xs_write_str(c, 0, DIR "/value", val)));
    KT_ASSERT(t, XS_OK(t, xs_read(c, 0, DIR "/value", buf, sizeof(buf), &len)));
    KT_EXPECT(t, len == strlen(val) && !strcmp(buf, val));
    /* Values are bytes: an embedded NUL and 0xff survive. */
    KT_ASSERT(t, XS_OK(t, xs_write(c, 0, DIR "/binary", bin, sizeof(bin))));
    KT_ASSERT(t, XS_OK(t, xs_read(c, 0, DIR "/binary", buf, sizeof(buf), &len)));
    KT_EXPECT(t, len == sizeof(bin) && !memcmp(buf, bin, sizeof(bin)));
    /* A buffer too small for the value is refused, not truncated. */
    KT_EXPECT(t, xs_read(c, 0, DIR "/value", buf, 4, &len) == -XEN_ENOBUFS);
    XS_OK(t, xs_rm(c, 0, DIR "/binary"));
}

KTEST(xenstore, mkdir_directory_rm)
{
    struct xs_msg m;
    const char *s;
    uint32_t pos = 0, slen, len;
    bool seen_a = false, seen_b = false;
    char buf[16];

    NEED_XENBUS(t, c);
    KT_ASSERT(t, XS_OK(t, xs_mkdir(c, 0, DIR "/dir")));
    KT_ASSERT(t, XS_OK(t, xs_directory(c, 0, DIR "/dir", &m)));
    KT_EXPECT(t, xs_strings_count(m.body, m.len) == 0);
    KT_ASSERT(t, XS_OK(t, xs_write_str(c, 0, DIR "/dir/a", "1")));
    KT_ASSERT(t, XS_OK(t, xs_write_str(c, 0, DIR "/dir/b", "2")));
    KT_ASSERT(t, XS_OK(t, xs_directory(c, 0, DIR "/dir", &m)));
    KT_EXPECT(t, xs_strings_count(m.body, m.len) == 2);
    while (xs_strings_next(m.body, m.len, &pos, &s, &slen) == 1) {
        seen_a |= slen == 1 && s[0] == 'a';
        seen_b |= slen == 1 && s[0] == 'b';
    }
    KT_EXPECT(t, seen_a && seen_b);
    /* rm takes the subtree with it. */
    KT_ASSERT(t, XS_OK(t, xs_rm(c, 0, DIR "/dir")));
    KT_EXPECT(t, xs_read(c, 0, DIR "/dir/a", buf, sizeof(buf), &len) == -XEN_ENOENT);
    KT_EXPECT(t, xs_directory(c, 0, DIR "/dir", &m) == -XEN_ENOENT);
}

KTEST(xenstore, errors_are_codes)
{
    char buf[16];
    uint32_t len;

    NEED_XENBUS(t, c);
    KT_EXPECT(t, xs_read(c, 0, DIR "/no-such-key", buf, sizeof(buf), &len) == -XEN_ENOENT);
    KT_EXPECT(t, !strcmp(c->last_error, "ENOENT"));
    /* The domain's name is the toolstack's: read-only to us. */
    KT_EXPECT(t, xs_write_str(c, 0, "name", "mine") == -XEN_EACCES);
    /* So is another domain's tree (dom0's). */
    KT_EXPECT(t, xs_write_str(c, 0, "/local/domain/0/data/pvhk", "x") == -XEN_EACCES);
    /* The connection survives daemon errors. */
    KT_EXPECT(t, c->dead == 0);
    KT_EXPECT(t, xs_read(c, 0, "domid", buf, sizeof(buf), &len) == 0);
}

static struct {
    unsigned fired;
    char last[64];
} watch_seen;

static void on_watch(void *arg, const char *path, const char *token)
{
    (void)arg;
    (void)token;
    watch_seen.fired++;
    snprintf(watch_seen.last, sizeof(watch_seen.last), "%s", path);
}

/* Service watch events until `fired` exceeds n, at most 2 s. */
static bool watch_wait(unsigned n)
{
    uint64_t end = xen_clock_ns() + 2000 * MS;

    while (watch_seen.fired <= n && xen_clock_ns() < end) {
        xenbus_service();
        if (watch_seen.fired > n)
            break;
        xsleep_ns(1 * MS);
    }
    return watch_seen.fired > n;
}

KTEST(xenstore, watch_fires_on_write)
{
    NEED_XENBUS(t, c);
    memset(&watch_seen, 0, sizeof(watch_seen));
    KT_ASSERT(t, XS_OK(t, xs_write_str(c, 0, DIR "/watched", "0")));
    int slot = xs_watch(c, DIR "/watched", on_watch, NULL);
    KT_ASSERT(t, slot >= 0);
    /* xenstored fires a new watch once, straight away. */
    KT_EXPECT(t, watch_wait(0));
    unsigned before = watch_seen.fired;
    KT_EXPECT(t, XS_OK(t, xs_write_str(c, 0, DIR "/watched", "1")));
    KT_EXPECT(t, watch_wait(before));
    KT_EXPECT(t, !strcmp(watch_seen.last, DIR "/watched"));
    /* A write below the watched node fires it too. */
    before = watch_seen.fired;
    KT_EXPECT(t, XS_OK(t, xs_write_str(c, 0, DIR "/watched/child", "2")));
    KT_EXPECT(t, watch_wait(before));
    KT_EXPECT(t, !strcmp(watch_seen.last, DIR "/watched/child"));
    KT_EXPECT(t, XS_OK(t, xs_unwatch(c, slot)));
    /* After the unwatch a write fires nothing. */
    xenbus_service();
    before = watch_seen.fired;
    KT_EXPECT(t, XS_OK(t, xs_write_str(c, 0, DIR "/watched", "3")));
    xsleep_ns(20 * MS);
    xenbus_service();
    KT_EXPECT(t, watch_seen.fired == before);
    XS_OK(t, xs_rm(c, 0, DIR "/watched"));
}

struct tx_arg {
    int fail_with;
    unsigned calls;
};

static int tx_body(struct xs_conn *c, uint32_t tx, void *arg)
{
    struct tx_arg *a = arg;
    int rc;

    a->calls++;
    rc = xs_write_str(c, tx, DIR "/tx/one", "1");
    if (!rc)
        rc = xs_write_str(c, tx, DIR "/tx/two", "2");
    return rc ? rc : a->fail_with;
}

KTEST(xenstore, transaction_commits_and_aborts)
{
    struct tx_arg a = { 0, 0 };
    char buf[8];
    uint32_t len;
    unsigned tries = 0;

    NEED_XENBUS(t, c);
    xs_rm(c, 0, DIR "/tx");
    KT_ASSERT(t, XS_OK(t, xs_transaction_run(c, tx_body, &a, 4, &tries)));
    KT_EXPECT(t, tries >= 1 && a.calls == tries);
    KT_EXPECT(t, XS_OK(t, xs_read(c, 0, DIR "/tx/one", buf, sizeof(buf), &len)));
    KT_EXPECT(t, XS_OK(t, xs_read(c, 0, DIR "/tx/two", buf, sizeof(buf), &len)));
    KT_ASSERT(t, XS_OK(t, xs_rm(c, 0, DIR "/tx")));
    /* A body error aborts: none of its writes land. */
    a = (struct tx_arg){ -XEN_EINVAL, 0 };
    KT_EXPECT(t, xs_transaction_run(c, tx_body, &a, 4, &tries) == -XEN_EINVAL);
    KT_EXPECT(t, xs_read(c, 0, DIR "/tx/one", buf, sizeof(buf), &len) == -XEN_ENOENT);
    /* Inside a transaction, its own writes are visible to it only. */
    uint32_t tx;
    KT_ASSERT(t, XS_OK(t, xs_transaction_start(c, &tx)));
    KT_EXPECT(t, XS_OK(t, xs_write_str(c, tx, DIR "/tx/one", "t")));
    KT_EXPECT(t, XS_OK(t, xs_read(c, tx, DIR "/tx/one", buf, sizeof(buf), &len)));
    KT_EXPECT(t, xs_read(c, 0, DIR "/tx/one", buf, sizeof(buf), &len) == -XEN_ENOENT);
    KT_EXPECT(t, XS_OK(t, xs_transaction_end(c, tx, true)));
    KT_EXPECT(t, XS_OK(t, xs_read(c, 0, DIR "/tx/one", buf, sizeof(buf), &len)));
    XS_OK(t, xs_rm(c, 0, DIR));
}

KTEST(xenstore, pv_console_ring_advances)
{
    struct xencons_interface *r = pvcons_ring();

    if (!r) {
        if (platform != PLATFORM_XEN_DOMU)
            KT_SKIP(t, xenbus_error);
        KT_ASSERT(t, r != NULL);
    }
    XENCONS_RING_IDX prod = r->out_prod, cons = r->out_cons;
    KT_EXPECT(t, prod - cons <= sizeof(r->out));
    KT_EXPECT(t, r->in_prod - r->in_cons <= sizeof(r->in));
    uint64_t written = pvcons_stats.written;
    printk("pvhk: pv console: this line goes to the ring too\n");
    /* Every byte plus the '\r' before the newline. */
    size_t n = strlen("pvhk: pv console: this line goes to the ring too\n") + 1;
    KT_EXPECT(t, (XENCONS_RING_IDX)(r->out_prod - prod) == n ||
                 pvcons_stats.dropped != 0);
    KT_EXPECT(t, pvcons_stats.written - written == n || pvcons_stats.dropped != 0);
    /* xenconsoled reads it: give it a moment. */
    for (int i = 0; i < 100 && r->out_cons != r->out_prod; i++)
        xsleep_ns(2 * MS);
    KT_EXPECT(t, r->out_cons == r->out_prod);
    KT_EXPECT(t, r->out_prod - r->out_cons <= sizeof(r->out));
    ktest_note(t, "%llu bytes written, %llu dropped in %llu stalls, %llu kicks, %llu input",
               (unsigned long long)pvcons_stats.written, (unsigned long long)pvcons_stats.dropped,
               (unsigned long long)pvcons_stats.stalls, (unsigned long long)pvcons_stats.kicks,
               (unsigned long long)pvcons_stats.input);
}

/*
 * Nobody reading must not hang the kernel: on a ring of our own with no
 * reader, a write waits PVCONS_STALL_NS, drops the rest and counts it;
 * the next write drops at once; reader progress ends the stall. Indices
 * start just below 2^32 so the writes cross the wrap.
 */
KTEST(xenstore, pv_console_drops_when_nobody_reads)
{
    static char junk[300];
    struct xencons_interface *fake, *real;
    uint64_t t0, t1, t2, d0, w0, s0;

    if (!pvcons_ring()) {
        if (platform != PLATFORM_XEN_DOMU)
            KT_SKIP(t, xenbus_error);
        KT_ASSERT(t, pvcons_ring() != NULL);
    }
    fake = alloc_pages(0, 0);
    KT_ASSERT(t, fake != NULL);
    memset(fake, 0, PAGE_SIZE);
    memset(junk, 'x', sizeof(junk));
    fake->out_cons = 0xfffffff0u;
    fake->out_prod = fake->out_cons + sizeof(fake->out) - 10;   /* room for 10 */
    d0 = pvcons_stats.dropped;
    w0 = pvcons_stats.written;
    s0 = pvcons_stats.stalls;

    /* No printk from here until the real ring is back. */
    real = pvcons_swap_ring(fake);
    t0 = xen_clock_ns();
    pvcons_write(junk, 100);
    t1 = xen_clock_ns();
    pvcons_write(junk, 100);
    t2 = xen_clock_ns();
    XENCONS_RING_IDX full = fake->out_prod;
    fake->out_cons += 60;                                   /* the reader is back */
    pvcons_write(junk, 50);
    XENCONS_RING_IDX after = fake->out_prod;
    /* A reader that moved out_cons past out_prod: drop, never wait. */
    fake->out_cons = fake->out_prod + 1;
    uint64_t t3 = xen_clock_ns();
    pvcons_write(junk, 10);
    uint64_t t4 = xen_clock_ns();
    pvcons_swap_ring(real);

    KT_EXPECT(t, full == (XENCONS_RING_IDX)(0xfffffff0u + sizeof(fake->out)));
    KT_EXPECT(t, t1 - t0 >= PVCONS_STALL_NS && t1 - t0 < 1000 * MS);
    KT_EXPECT(t, t2 - t1 < PVCONS_STALL_NS / 2);
    KT_EXPECT(t, after == full + 50);
    KT_EXPECT(t, t4 - t3 < PVCONS_STALL_NS / 2);
    KT_EXPECT(t, pvcons_stats.stalls - s0 == 1);
    KT_EXPECT(t, pvcons_stats.written - w0 == 60);
    KT_EXPECT(t, pvcons_stats.dropped - d0 == 90 + 100 + 10);
    free_pages(fake, 0);
    ktest_note(t, "stalled write returned after %llu us, the next one after %llu us",
               (unsigned long long)((t1 - t0) / 1000), (unsigned long long)((t2 - t1) / 1000));
}

KTEST(xenstore, control_features_advertised)
{
    char buf[8];
    uint32_t len;

    NEED_XENBUS(t, c);
    KT_EXPECT(t, shutdown_ctl.active);
    KT_EXPECT(t, XS_OK(t, xs_read(c, 0, "control/feature-poweroff", buf, sizeof(buf), &len)) &&
                 !strcmp(buf, "1"));
    KT_EXPECT(t, XS_OK(t, xs_read(c, 0, "control/feature-reboot", buf, sizeof(buf), &len)) &&
                 !strcmp(buf, "1"));
    /* The balloon acted on the initial watch event, and the boot trim had
     * already put us at the toolstack's target: nothing failed. */
    KT_EXPECT(t, balloon.active);
    KT_EXPECT(t, balloon.events >= 1);
    KT_EXPECT(t, balloon.failures == 0);
    KT_EXPECT(t, balloon.reached == balloon.wanted);
    ktest_note(t, "memory/target %llu KiB: %llu pages backed, %llu in the scratch pool, "
               "reservation %ld", (unsigned long long)balloon.target_kib,
               (unsigned long long)balloon.reached, (unsigned long long)balloon.pool_pages,
               balloon.reservation);
}

/*
 * The control phase, last of all: with xenbus.wait=SECONDS, stay up that
 * long servicing toolstack requests (memory/target, control/shutdown), or
 * until a shutdown request. The balloon must have reached every target.
 */
static void count_answer(void *arg)
{
    __atomic_fetch_add((unsigned *)arg, 1, __ATOMIC_RELAXED);
}

KTEST(xenstore_control, phase)
{
    NEED_XENBUS(t, c);
    (void)c;
    uint64_t secs = cmdline_u64(boot_cmdline, "xenbus.wait", 0);
    if (!secs) {
        xenbus_service();
        KT_SKIP(t, "no xenbus.wait=SECONDS on the command line");
    }
    uint64_t events = balloon.events, failures = balloon.failures;
    printk("pvhk: control: waiting up to %llu s for toolstack requests (memory/target, "
           "control/shutdown)\n", (unsigned long long)secs);
    uint64_t t0 = xen_clock_ns();
    bool stop = xenbus_control_phase(secs * 1000 * MS);
    uint64_t ms = (xen_clock_ns() - t0) / MS;
    printk("pvhk: control: %s after %llu ms; %llu balloon target(s), %llu failed\n",
           stop ? "shutdown requested" : "wait over", (unsigned long long)ms,
           (unsigned long long)(balloon.events - events),
           (unsigned long long)(balloon.failures - failures));
    KT_EXPECT(t, balloon.failures == failures);
    KT_EXPECT(t, c->dead == 0);
    /* vCPUs parked and restarted by `xl vcpu-set` meanwhile: every CPU
     * online now answers a cross-call. */
    unsigned answered = 0;
    unsigned ran = smp_call_function_others(count_answer, &answered);
    printk("pvhk: control: %u vCPU(s) parked and %u restarted by the toolstack; %u online, "
           "%u answered a cross-call\n", vcpu_hotplug.parked, vcpu_hotplug.restarted,
           num_online_cpus(), answered + 1);
    KT_EXPECT(t, ran == num_online_cpus() - 1 && answered == ran);
    if (stop)
        KT_EXPECT(t, shutdown_ctl.requested == SHUTDOWN_poweroff ||
                     shutdown_ctl.requested == SHUTDOWN_reboot);
}

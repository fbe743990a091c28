/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel side of the xenstore client: the ring page and event channel
 * Xen gives a domU, the kick and wait callbacks of struct xs_conn, and the
 * service loop that runs watch callbacks. The protocol itself is the pure
 * client of xen/xs_*.c (<pvhk/xenstore.h>, docs/xenstore.md).
 *
 * Threading rule: one connection, one request in flight. pvhk is single
 * threaded and event handlers never touch the connection (the store port's
 * handler only sets a flag), so the rule holds without a lock: requests are
 * issued from normal context only, and watch callbacks run from
 * xenbus_service(), also normal context.
 */
#include <pvhk/cmdline.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <xen/hvm/params.h>

static struct xs_conn conn;             /* ~12 KiB: two message buffers */
static uint8_t event_buf[2048];         /* queued watch events */
static struct xs_watch watches[8];
static bool conn_up;
static volatile bool store_fired;       /* the store port fired since the last wait */

const char *xenbus_error = "not started";
int xenbus_errno;
struct xenbus_info xenbus_info;
struct xenbus_stats xenbus_stats;

struct xs_conn *xenbus(void)
{
    return conn_up ? &conn : NULL;
}

static void store_event(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    xenbus_stats.events++;
    store_fired = true;
}

static void store_kick(void *ctx)
{
    (void)ctx;
    evtchn_send(xenbus_info.port);
}

static bool fired(void *arg)
{
    (void)arg;
    return store_fired;
}

/*
 * xs_request()'s wait: until the port fired since the previous call. The
 * flag is cleared on the way out, with interrupts off (handlers run only
 * inside waits), so an event that arrives after the caller looked at the
 * ring sets it again and the next wait returns at once: nothing is lost.
 */
static int store_wait(void *ctx)
{
    (void)ctx;
    xenbus_stats.waits++;
    bool ok = xwait_timeout(fired, NULL, XENBUS_WAIT_NS);
    store_fired = false;
    if (!ok) {
        xenbus_stats.timeouts++;
        return -XEN_ETIMEDOUT;
    }
    return 0;
}

static int fail(const char *what, int rc)
{
    xenbus_error = what;
    xenbus_errno = rc;
    printk("pvhk: xenstore: unavailable: %s (%d)\n", what, rc);
    return rc ? rc : -XEN_EINVAL;
}

int xenbus_init(void)
{
    uint64_t pfn = 0, port = 0;
    int rc;

    rc = xen_hvm_param_get(HVM_PARAM_STORE_PFN, &pfn);
    if (rc)
        return fail("HVMOP_get_param(STORE_PFN)", rc);
    rc = xen_hvm_param_get(HVM_PARAM_STORE_EVTCHN, &port);
    if (rc)
        return fail("HVMOP_get_param(STORE_EVTCHN)", rc);
    struct xenstore_domain_interface *intf = xen_ring_page(pfn);
    if (!intf)
        return fail("the store ring page is not mapped writable", -XEN_EFAULT);
    xenbus_info.ring_pfn = pfn;
    xenbus_info.port = (uint32_t)port;

    xs_conn_init(&conn, intf, store_kick, store_wait, NULL, event_buf, sizeof(event_buf),
                 watches, sizeof(watches) / sizeof(watches[0]));
    rc = evtchn_bind_handler(xenbus_info.port, store_event, NULL);
    if (rc)
        return fail("binding the store event channel", rc);
    conn_up = true;

    /* Relative paths resolve under /local/domain/<our domid>. */
    char val[64];
    uint32_t len;
    rc = xs_read(&conn, 0, "domid", val, sizeof(val), &len);
    if (!rc)
        rc = xs_parse_u32(val, len, &xenbus_info.domid);
    if (rc) {
        conn_up = false;
        evtchn_bind_handler(xenbus_info.port, NULL, NULL);
        return fail("reading our domid", rc);
    }
    if (xs_read(&conn, 0, "name", xenbus_info.name, sizeof(xenbus_info.name), &len))
        snprintf(xenbus_info.name, sizeof(xenbus_info.name), "?");
    xenbus_error = NULL;
    printk("pvhk: xenstore: ring at pfn 0x%llx, port %u: domain %u \"%s\"\n",
           (unsigned long long)pfn, xenbus_info.port, xenbus_info.domid, xenbus_info.name);
    return 0;
}

int xenbus_service(void)
{
    int total = 0, n;

    if (!conn_up)
        return -XEN_ENODEV;
    /*
     * xs_conn_dispatch() drains the ring once, then runs the callbacks. A
     * callback's own request can leave an event behind its reply, so go
     * round again until a pass runs nothing.
     */
    while ((n = xs_conn_dispatch(&conn)) > 0)
        total += n;
    xenbus_stats.callbacks += total;
    return n < 0 ? n : total;
}

struct until {
    bool (*stop)(void *);
    void *arg;
};

/* Data from the daemon is waiting, the port fired, or the caller is done. */
static bool store_has_work(void *arg)
{
    const struct until *u = arg;
    struct xenstore_domain_interface *intf = conn.intf;

    return store_fired ||
           __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE) != intf->rsp_cons ||
           u->stop(u->arg);
}

int xenbus_service_until(bool (*stop)(void *), void *arg, uint64_t ns)
{
    uint64_t end = xen_clock_ns() + ns;
    struct until u = { stop, arg };

    if (!conn_up)
        return -XEN_ENODEV;
    for (;;) {
        store_fired = false;
        int rc = xenbus_service();
        if (rc < 0)
            return rc;
        if (stop(arg))
            return 1;
        uint64_t now = xen_clock_ns();
        if (now >= end)
            return 0;
        xwait_timeout(store_has_work, &u, end - now);
    }
}

/*
 * The kernel side of the xenstore client: the ring page and event channel
 * Xen gives a domU, the kick and wait callbacks of struct xs_conn, and the
 * service loop that runs watch callbacks. The protocol itself is the pure
 * xen/xs_wire.c (docs/xenstore.md).
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
#include <pvhk/paging.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <pvhk/xtime.h>
#include <xen/hvm/hvm_op.h>
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

/* Shared with xen/pvconsole.c: both rings are found the same way. */
int xen_hvm_param_get(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = xen_hvm_op(HVMOP_get_param, &p);

    if (rc)
        return (int)rc;
    *value = p.value;
    return 0;
}

/*
 * A ring page Xen set up for us: libxl places the store and console pages in
 * the RESERVED range just below 0xff000000 (0xfeff8000.. on Xen 4.17). They
 * are ordinary guest RAM, already populated, and the identity map covers the
 * low 4 GiB, so they are used where they are. Check rather than assume.
 */
void *xen_ring_page(uint64_t pfn)
{
    uint64_t pa = PFN_PHYS(pfn);

    if (!pfn || pa >= paging_map_end)
        return NULL;
    uint64_t pte = paging_lookup(pa, NULL);
    if (!(pte & PTE_P) || !(pte & PTE_W))
        return NULL;
    return (void *)(uintptr_t)pa;
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

static int xenbus_init(void)
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

/* Data from the daemon is waiting, or the port fired. */
static bool store_has_work(void *arg)
{
    struct xenstore_domain_interface *intf = conn.intf;

    (void)arg;
    return store_fired ||
           __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE) != intf->rsp_cons ||
           shutdown_ctl.requested >= 0;
}

bool xenbus_control_phase(uint64_t ns)
{
    uint64_t end = xen_clock_ns() + ns;

    if (!conn_up)
        return false;
    for (;;) {
        store_fired = false;
        int rc = xenbus_service();
        if (rc < 0) {
            printk("pvhk: control: xenstore connection lost (%d)\n", rc);
            return false;
        }
        if (shutdown_ctl.requested >= 0)
            return true;
        uint64_t now = xen_clock_ns();
        if (now >= end)
            return false;
        xwait_timeout(store_has_work, NULL, end - now);
    }
}

void xen_domu_services_init(void)
{
    int rc;

    if (platform != PLATFORM_XEN_DOMU) {
        xenbus_error = platform == PLATFORM_XEN_DOM0 ?
            "dom0: pvhk's dom0 runs have no xenstored" : "not running on Xen";
        return;
    }
    if (!xen_services_up()) {
        xenbus_error = "Xen services (event channels, timers) are down";
        return;
    }
    /* The console first, so that what follows shows on `xl console` too. */
    rc = pvcons_init();
    if (rc)
        printk("pvhk: pv console: unavailable (%d)\n", rc);
    if (xenbus_init())
        return;
    rc = balloon_init();
    if (rc)
        printk("pvhk: balloon: not started (%d)\n", rc);
    rc = shutdown_init();
    if (rc)
        printk("pvhk: shutdown: control not advertised (%d)\n", rc);
    /* xenstored fires each new watch once: act on the initial values now. */
    xenbus_service();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PV console of a domU: the ring page libxl sets up
 * (HVM_PARAM_CONSOLE_PFN, struct xencons_interface in <xen/io/console.h>)
 * and its event channel (HVM_PARAM_CONSOLE_EVTCHN). xenconsoled in dom0
 * reads `out` and writes `in`; `xl console` shows what it reads.
 *
 * Registered as a console sink, so every printk line from then on goes
 * here as well as to port 0xE9. Lines before it are not replayed.
 *
 * Output must never hang the kernel when nobody reads: printk can come
 * from anywhere, including event handlers and trap reports, so a full
 * ring is waited for only with SCHEDOP_yield (no interrupts enabled, no
 * upcall nesting) and only for PVCONS_STALL_NS; then the rest of that
 * write is dropped and counted, and later writes drop without waiting
 * until the reader has moved again.
 *
 * '\n' goes out as "\r\n": xenconsole puts the terminal in raw mode, and
 * Linux's hvc layer does the same translation (the tty's ONLCR).
 */
#include <pvhk/console.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <xen/hvm/params.h>
#include <xen/sched.h>

static struct xencons_interface *ring;
static bool stalled;
static XENCONS_RING_IDX stalled_at;     /* out_cons when we gave up */
static bool in_write;

struct pvcons_stats pvcons_stats;

struct xencons_interface *pvcons_ring(void)
{
    return ring;
}

struct xencons_interface *pvcons_swap_ring(struct xencons_interface *r)
{
    struct xencons_interface *old = ring;

    ring = r;
    stalled = false;
    return old;
}

static void kick(void)
{
    pvcons_stats.kicks++;
    evtchn_send(pvcons_stats.port);
}

/* Free bytes in `out`; a peer that moved out_cons past out_prod is broken. */
static long out_room(XENCONS_RING_IDX prod)
{
    XENCONS_RING_IDX cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);

    if (prod - cons > sizeof(ring->out))
        return -1;
    if (stalled && cons != stalled_at)
        stalled = false;                /* the reader is back */
    return sizeof(ring->out) - (prod - cons);
}

/* Let xenconsoled run until `need` bytes are free, within the bound. */
static bool wait_room(XENCONS_RING_IDX prod, long need)
{
    uint64_t end;
    long room;

    if (stalled)
        return false;
    end = xen_clock_ns() + PVCONS_STALL_NS;
    kick();
    for (;;) {
        room = out_room(prod);
        if (room < 0)
            return false;
        if (room >= need)
            return true;
        if (xen_clock_ns() >= end)
            break;
        xen_sched_op(SCHEDOP_yield, NULL);
    }
    stalled = true;
    stalled_at = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
    pvcons_stats.stalls++;
    return false;
}

void pvcons_write(const char *s, size_t len)
{
    XENCONS_RING_IDX prod;
    size_t i;

    if (!ring || in_write)
        return;
    in_write = true;
    prod = ring->out_prod;              /* ours: nobody else writes it */
    for (i = 0; i < len; i++) {
        long need = s[i] == '\n' ? 2 : 1;
        long room = out_room(prod);

        if (room >= 0 && room < need) {
            /* Publish what we have so the reader can take it, then wait. */
            __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
            if (wait_room(prod, need))
                room = need;
        }
        if (room < need)
            break;
        if (s[i] == '\n')
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = '\r';
        ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = s[i];
        pvcons_stats.written += need;
    }
    pvcons_stats.dropped += len - i;
    /* The bytes are in place before the index that announces them. */
    __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
    kick();
    in_write = false;
}

/*
 * Input is polled: the port stays masked (no handler), so xenconsoled's
 * notifications, one after each batch of output it reads, do not wake us
 * from SCHEDOP_block for nothing. Nothing in pvhk waits for input.
 */
size_t pvcons_read(char *buf, size_t n)
{
    XENCONS_RING_IDX cons, prod;
    size_t i = 0;

    if (!ring)
        return 0;
    cons = ring->in_cons;
    prod = __atomic_load_n(&ring->in_prod, __ATOMIC_ACQUIRE);
    if (prod - cons > sizeof(ring->in))
        return 0;                       /* broken indices: leave them be */
    for (; i < n && cons != prod; i++, cons++)
        buf[i] = ring->in[MASK_XENCONS_IDX(cons, ring->in)];
    if (!i)
        return 0;
    pvcons_stats.input += i;
    /* Done with those bytes before the backend may reuse them. */
    __atomic_store_n(&ring->in_cons, cons, __ATOMIC_RELEASE);
    kick();
    return i;
}

static struct console con_pv = { "xen-pv-console", pvcons_write, NULL };

int pvcons_init(void)
{
    uint64_t pfn = 0, port = 0;
    int rc = xen_hvm_param_get(HVM_PARAM_CONSOLE_PFN, &pfn);
    if (!rc)
        rc = xen_hvm_param_get(HVM_PARAM_CONSOLE_EVTCHN, &port);
    if (rc)
        return rc;
    struct xencons_interface *r = xen_ring_page(pfn);
    if (!r)
        return -XEN_EFAULT;
    if (r->out_prod - r->out_cons > sizeof(r->out) || r->in_prod - r->in_cons > sizeof(r->in))
        return -XEN_EIO;
    pvcons_stats.ring_pfn = pfn;
    pvcons_stats.port = (uint32_t)port;
    ring = r;
    console_register(&con_pv);
    printk("pvhk: pv console: ring at pfn 0x%llx, port %u (boot lines before this one went "
           "to port 0xE9 only)\n", (unsigned long long)pfn, pvcons_stats.port);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The order the Xen services start in, in one place. kmain calls
 * xen_services_init() on Xen, then xen_domu_services_init():
 *
 *   1. the shared info page, mapped into a scratch frame (xen/shared_info.c);
 *   2. event channel upcalls (xen/evtchn.c), which read its pending bits;
 *   3. the timer (xen/timer.c): VIRQ_TIMER on an event channel, time from
 *      the shared info's vcpu_time_info (xen/pvclock.c);
 *   domU only, with 1-3 up:
 *   4. the PV console (xen/pvconsole.c), so what follows shows on xl console;
 *   5. xenstore (xen/xenbus.c): ring, port, our domid;
 *   6. the balloon (xen/balloon.c) and shutdown control (xen/shutdown.c),
 *      both watches on xenstore.
 *
 * Each service depends only on those before it; none calls back in here.
 */
#include <pvhk/evtchn.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <xen/errno.h>

const char *xen_services_error;
int xen_services_errno;
static bool services_up;

bool xen_services_up(void)
{
    return services_up;
}

static int fail(const char *what, int rc)
{
    xen_services_error = what;
    xen_services_errno = rc;
    printk("pvhk: xen: services unavailable: %s (%d)\n", what, rc);
    return rc ? rc : -XEN_EINVAL;
}

int xen_services_init(void)
{
    uint64_t pfn;
    int rc = scratch_frames_get(1, 1, &pfn);

    if (rc)
        return fail("no scratch frame for the shared info", rc);
    rc = xen_shared_info_map(pfn);
    if (rc) {
        scratch_frames_put(pfn, 1);
        return fail("XENMEM_add_to_physmap(shared_info)", rc);
    }
    if (xen_shared_info_resv_before != xen_shared_info_resv_after)
        printk("pvhk: xen: WARNING: reservation changed from %ld to %ld pages "
               "when mapping the shared info\n",
               xen_shared_info_resv_before, xen_shared_info_resv_after);
    rc = evtchn_init();
    if (rc)
        return fail("event channel upcall (HVM_PARAM_CALLBACK_IRQ vector)", rc);
    rc = xtimer_init();
    if (rc)
        return fail("timer (VIRQ_TIMER)", rc);
    services_up = true;
    printk("pvhk: xen: shared info at pfn 0x%llx, upcall vector 0x%x, "
           "VIRQ_TIMER port %u\n", (unsigned long long)pfn, EVTCHN_UPCALL_VECTOR,
           xtimer_virq_port);
    return 0;
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

int xen_services_cpu_prepare(unsigned cpu)
{
    struct percpu *p = per_cpu(cpu);

    p->vcpu_id = cpu;
    if (xen_shared_info && cpu < XEN_LEGACY_MAX_VCPUS)
        p->vcpu_info = &xen_shared_info->vcpu_info[cpu];
    return 0;
}

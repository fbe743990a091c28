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

static int ipi_init(unsigned cpu);

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
    rc = xen_vcpu_info_register(0);
    if (rc)
        printk("pvhk: xen: VCPUOP_register_vcpu_info failed (%d); vCPU 0 keeps its "
               "shared_info slot\n", rc);
    rc = evtchn_init();
    if (rc)
        return fail("event channel upcall (HVM_PARAM_CALLBACK_IRQ vector)", rc);
    rc = xtimer_init();
    if (rc)
        return fail("timer (VIRQ_TIMER)", rc);
    services_up = true;
    rc = ipi_init(0);
    if (rc)
        printk("pvhk: xen: no IPI event channel (%d): IPIs stay on the local APIC\n", rc);
    printk("pvhk: xen: shared info at pfn 0x%llx, vcpu_info %s, upcall vector 0x%x (%s), "
           "VIRQ_TIMER port %u, IPI port %u\n", (unsigned long long)pfn,
           xen_vcpu_info_registered(0) ? "registered in pvhk's memory" : "in shared info",
           EVTCHN_UPCALL_VECTOR, evtchn_percpu_vector ? "per vCPU, local APIC" :
           "domain-wide callback", xtimer_virq_port, xen_ipi_port(0));
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
    rc = vcpu_hotplug_init();
    if (rc)
        printk("pvhk: hotplug: no watch on cpu/ (%d)\n", rc);
    /* xenstored fires each new watch once: act on the initial values now. */
    xenbus_service();
}

/* ---- per vCPU ------------------------------------------------------------ */

static evtchn_port_t ipi_port[NR_CPUS];

static void ipi_event(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    smp_ipi_handle();
}

static void evtchn_ipi_send(unsigned cpu)
{
    evtchn_send(ipi_port[cpu]);
}

uint32_t xen_ipi_port(unsigned cpu)
{
    return cpu < NR_CPUS ? ipi_port[cpu] : 0;
}

/* An IPI port bound to vCPU cpu; after CPU 0's, IPIs travel as events. */
static int ipi_init(unsigned cpu)
{
    int rc = evtchn_bind_ipi(cpu, &ipi_port[cpu]);

    if (rc)
        return rc;
    rc = evtchn_bind_handler(ipi_port[cpu], ipi_event, NULL);
    if (rc)
        return rc;
    if (!cpu)
        smp_set_ipi_sender(evtchn_ipi_send, "event channel (EVTCHNOP_bind_ipi)");
    return 0;
}

/*
 * vCPU cpu's Xen services, set up from the boot CPU (Xen allows each of
 * these for another vCPU of the domain): its vcpu_info in our memory, its
 * event-channel bitmaps and upcall vector, an IPI port bound to it, its
 * VIRQ_TIMER. Once CPU 0's IPI port exists, IPIs travel as events.
 */
int xen_services_cpu_prepare(unsigned cpu)
{
    struct percpu *p = per_cpu(cpu);
    int rc;

    p->vcpu_id = cpu;
    if (!xen_shared_info)
        return -XEN_ENODEV;
    rc = xen_vcpu_info_register(cpu);
    if (rc && !p->vcpu_info)
        return rc;
    if (rc)
        printk("pvhk: xen: vCPU %u: VCPUOP_register_vcpu_info failed (%d); "
               "using its shared_info slot\n", cpu, rc);
    if (!services_up)
        return -XEN_ENODEV;
    rc = evtchn_cpu_init(cpu);
    if (rc)
        return rc;
    rc = xtimer_cpu_init(cpu);
    if (rc)
        return rc;
    return xen_ipi_port(0) ? ipi_init(cpu) : 0;
}

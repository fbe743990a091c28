/*
 * The shared info page, and bringing up the services that depend on it.
 */
#include <pvhk/e820.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/heap.h>
#include <pvhk/mm.h>
#include <pvhk/xenmem.h>
#include <pvhk/paging.h>
#include <pvhk/printk.h>
#include <pvhk/xen.h>
#include <pvhk/xtime.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/version.h>

struct shared_info *xen_shared_info;
pfn_t xen_shared_info_pfn;
long xen_shared_info_resv_before = -1, xen_shared_info_resv_after = -1;

const char *xen_services_error;
int xen_services_errno;
static bool services_up;

int xen_shared_info_map(pfn_t gpfn)
{
    uint64_t pa = PFN_PHYS(gpfn);

    /*
     * Only scratch space will do: a frame the scratch pool handed out
     * (UNUSABLE on dom0, released RAM on a domU). Over backed RAM, Xen
     * would free our page to make room (the reservation drops by one and
     * we lose whatever was there); in a hole, it may be claimed later by a
     * PCI BAR or another mapping.
     */
    if (pa_state(&heap, gpfn) != PA_SCRATCH)
        return -XEN_EINVAL;
    uint64_t pte = paging_lookup(pa, NULL);
    if (!(pte & PTE_P) || !(pte & PTE_W))
        return -XEN_EINVAL;

    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = gpfn,
    };
    xen_shared_info_resv_before = xen_current_reservation();
    long rc = xen_memory_op(XENMEM_add_to_physmap, &xatp);
    xen_shared_info_resv_after = xen_current_reservation();
    if (rc)
        return (int)rc;
    xen_shared_info_pfn = gpfn;
    xen_shared_info = (struct shared_info *)(uintptr_t)pa;
    return 0;
}

bool xen_feature(unsigned nr)
{
    struct xen_feature_info fi = { .submap_idx = nr / 32 };

    if (xen_version(XENVER_get_features, &fi))
        return false;
    return fi.submap & (1u << (nr % 32));
}

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

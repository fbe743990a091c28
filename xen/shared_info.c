/*
 * The shared info page, and bringing up the services that depend on it.
 */
#include <pvhk/e820.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/mm.h>
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

static long current_reservation(void)
{
    domid_t self = DOMID_SELF;

    return xen_memory_op(XENMEM_current_reservation, &self);
}

int xen_shared_info_map(pfn_t gpfn)
{
    uint64_t pa = PFN_PHYS(gpfn);
    uint32_t type = e820_type_at(&e820, pa);

    /*
     * Only scratch space will do, and scratch space is UNUSABLE in our map.
     * RAM: Xen would free our page to make room (the reservation drops by
     * one and we lose whatever was there). A hole: it may be claimed later
     * by a PCI BAR or another mapping.
     */
    if (type != E820_UNUSABLE)
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
    xen_shared_info_resv_before = current_reservation();
    long rc = xen_memory_op(XENMEM_add_to_physmap, &xatp);
    xen_shared_info_resv_after = current_reservation();
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

/*
 * TODO(scratch): take the frame from the scratch pool (mm/scratch.c) once it
 * is wired into the kernel. Until then: the first page of the first UNUSABLE
 * range, which on PVH dom0 is RAM that dom0_mem withholds, i.e. guest-physical
 * space with nothing of ours behind it. Returns 0 if there is none.
 */
static pfn_t pick_shared_info_frame(void)
{
    for (uint32_t i = 0; i < e820.nr; i++)
        if (e820.entries[i].type == E820_UNUSABLE)
            return PFN_DOWN(e820.entries[i].addr);
    return 0;
}

int xen_services_init(void)
{
    pfn_t pfn = pick_shared_info_frame();   /* TODO(scratch): scratch pool */
    int rc;

    if (!pfn)
        return fail("no scratch frame for the shared info (no UNUSABLE range)", 0);
    rc = xen_shared_info_map(pfn);
    if (rc)
        return fail("XENMEM_add_to_physmap(shared_info)", rc);
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

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared info page: mapping it into scratch space. The services that
 * live on it start from xen/services.c.
 */
#include <pvhk/e820.h>
#include <pvhk/hypercall.h>
#include <pvhk/mm.h>
#include <pvhk/paging.h>
#include <pvhk/smp.h>
#include <pvhk/xen.h>
#include <xen/errno.h>
#include <xen/memory.h>

struct shared_info *xen_shared_info;
pfn_t xen_shared_info_pfn;
long xen_shared_info_resv_before = -1, xen_shared_info_resv_after = -1;


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
    this_cpu()->vcpu_info = &xen_shared_info->vcpu_info[0];
    return 0;
}

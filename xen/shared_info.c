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
#include <xen/vcpu.h>

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
    pas_lock_all(&heap_smp);
    enum pa_state st = pa_state(&heap, gpfn);
    pas_unlock_all(&heap_smp);
    if (st != PA_SCRATCH)
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

/*
 * Each vCPU's vcpu_info in pvhk's own memory (the image's bss: RAM of ours,
 * never released). shared_info has slots for only XEN_LEGACY_MAX_VCPUS (32)
 * vCPUs; VCPUOP_register_vcpu_info moves a vCPU's record anywhere, for any
 * number of vCPUs. Xen requires the record not to cross a page (64 bytes,
 * 64-aligned: it cannot), maps the page for good, copies the old record
 * into the new one and marks every selector bit pending so nothing posted
 * meanwhile is lost (map_vcpu_info() in xen/common/domain.c). It can be done
 * once per vCPU, for any vCPU of the domain, running or not.
 */
static struct vcpu_info vcpu_info_area[NR_CPUS] __aligned(64);
_Static_assert(sizeof(struct vcpu_info) == 64, "one record per 64-byte line");

int xen_vcpu_info_register(unsigned cpu)
{
    struct vcpu_info *vi = &vcpu_info_area[cpu];
    uint64_t pa = (uint64_t)(uintptr_t)vi;
    struct vcpu_register_vcpu_info r = {
        .mfn = PFN_DOWN(pa),
        .offset = (uint32_t)(pa & (PAGE_SIZE - 1)),
    };
    long rc = xen_vcpu_op(VCPUOP_register_vcpu_info, cpu, &r);

    if (!rc)
        per_cpu(cpu)->vcpu_info = vi;
    else if (cpu < XEN_LEGACY_MAX_VCPUS && xen_shared_info)
        per_cpu(cpu)->vcpu_info = &xen_shared_info->vcpu_info[cpu];
    return (int)rc;
}

bool xen_vcpu_info_registered(unsigned cpu)
{
    return per_cpu(cpu)->vcpu_info == &vcpu_info_area[cpu];
}

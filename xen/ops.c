/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One-call helpers around hypercall sub-ops, each asking Xen one question
 * about this domain (or setting one HVM parameter), and the check every ring
 * page Xen hands over goes through. They hold no state, so any service may
 * use them and none of them depends on a service.
 */
#include <pvhk/hypercall.h>
#include <pvhk/paging.h>
#include <pvhk/xen.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/version.h>

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

int xen_hvm_param_set(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };

    return (int)xen_hvm_op(HVMOP_set_param, &p);
}

long xen_current_reservation(void)
{
    domid_t self = DOMID_SELF;
    return xen_memory_op(XENMEM_current_reservation, &self);
}

long xen_maximum_reservation(void)
{
    domid_t self = DOMID_SELF;
    return xen_memory_op(XENMEM_maximum_reservation, &self);
}

bool xen_feature(unsigned nr)
{
    struct xen_feature_info fi = { .submap_idx = nr / 32 };

    if (xen_version(XENVER_get_features, &fi))
        return false;
    return fi.submap & (1u << (nr % 32));
}

/*
 * The type of one of our frames in Xen's P2M: how xen/memory.c learns what Xen
 * backs behind the map's non-RAM ranges.
 *
 * HVMOP_get_mem_type is the non-destructive query a PVH (HVM) guest has for
 * its own frames. Xen 4.17, xen/arch/x86/hvm/hvm.c, hvmop_get_mem_type():
 * the domain may ask about itself (XSM_TARGET), only an HVM/PVH domain may
 * be asked about (else -EINVAL), and the gfn is looked up with a query that
 * neither allocates nor unshares (a populate-on-demand entry stays PoD).
 * The p2m type is then folded into the public HVMMEM_* values:
 *   HVMMEM_ram_rw   RAM (p2m_ram_*), a PoD entry, or a grant mapping;
 *   HVMMEM_ram_ro   read-only RAM;
 *   HVMMEM_ioreq_server  a page claimed by an ioreq server;
 *   HVMMEM_mmio_dm  MMIO (passed through or emulated) *and* any gfn with no
 *                   entry at all (p2m_invalid falls into the final else).
 * So ram_rw/ram_ro means "a page is there"; mmio_dm means "no RAM here",
 * whether it is a device window or nothing. Reading the frame instead would
 * be no test: an access to a gfn with no entry is emulated as MMIO (reads
 * 0xff) or, for a PoD domain past its cache, crashes the domain.
 */
long xen_gfn_mem_type(uint64_t pfn, unsigned int *type)
{
    struct xen_hvm_get_mem_type a = { .domid = DOMID_SELF, .pfn = pfn };
    long rc = xen_hvm_op(HVMOP_get_mem_type, &a);

    if (!rc)
        *type = a.mem_type;
    return rc;
}

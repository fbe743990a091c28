/*
 * Xen's shared info page and the services that live on it: event channels
 * (<pvhk/evtchn.h>) and time (<pvhk/xtime.h>).
 *
 * A PVH guest has no shared info until it asks for one: it names a guest
 * frame and XENMEM_add_to_physmap(XENMAPSPACE_shared_info) puts Xen's page
 * there. That frame must be guest-physical space with nothing of ours behind
 * it (scratch space): if it were backed RAM, Xen would free the RAM page to
 * make room and the domain would silently lose a page of its reservation.
 * See docs/xen-services.md.
 */
#ifndef PVHK_XEN_H
#define PVHK_XEN_H

#include <pvhk/types.h>
#include <xen/xen.h>

/* The mapped page (identity mapped), or NULL before xen_shared_info_map(). */
extern struct shared_info *xen_shared_info;
extern pfn_t xen_shared_info_pfn;

/*
 * What xen_shared_info_map() saw: the domain's XENMEM_current_reservation
 * (pages, or a negative Xen error) just before and just after the mapping.
 * Equal values show the frame was not backed by our RAM.
 */
extern long xen_shared_info_resv_before, xen_shared_info_resv_after;

/*
 * Ask Xen to place the shared info page at guest frame gpfn, which must be
 * scratch space: not RAM, not a hole, inside the kernel's identity map.
 * Returns 0 or a negative Xen error (-XEN_EINVAL if gpfn is unsuitable).
 */
int xen_shared_info_map(pfn_t gpfn);

static inline struct vcpu_info *xen_vcpu_info(void)
{
    return &xen_shared_info->vcpu_info[0];      /* pvhk runs on vCPU 0 only */
}

/* XENVER_get_features bit nr (XENFEAT_*). */
bool xen_feature(unsigned nr);

/*
 * Map shared info, start event channel upcalls and the timer. Called once
 * from kmain on Xen; never panics. On failure the services stay down and
 * xen_services_error says why (the self-tests report it).
 */
int xen_services_init(void);
bool xen_services_up(void);
extern const char *xen_services_error;  /* NULL when up or not tried */
extern int xen_services_errno;          /* the failing call's return value */

#endif

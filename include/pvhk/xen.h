/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Xen's shared info page, the order the services start in, the one-call
 * helpers every service may use, and the kernel side of the P2M and the
 * scratch pool (xen/memory.c). The services themselves: event channels
 * (<pvhk/evtchn.h>), time (<pvhk/time.h>), xenstore, PV console, balloon
 * and shutdown control (<pvhk/xenbus.h>), grant tables (<pvhk/grant.h>).
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

#include <pvhk/smp.h>
#include <pvhk/types.h>
#include <pvhk/extra_mem.h>
#include <pvhk/p2m.h>
#include <pvhk/scratch.h>
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

/*
 * VCPUOP_register_vcpu_info: vCPU cpu's vcpu_info moves into pvhk's memory
 * (xen/shared_info.c). 0, or Xen's error (the vCPU then keeps its
 * shared_info slot if it has one, cpu < 32).
 */
int xen_vcpu_info_register(unsigned cpu);
bool xen_vcpu_info_registered(unsigned cpu);

/* This vCPU's vcpu_info (per-CPU: see xen_services_cpu_prepare()). */
static inline struct vcpu_info *xen_vcpu_info(void)
{
    return this_cpu()->vcpu_info;
}

/* ---- start-up order (xen/services.c) ----------------------------------- */

/*
 * Map shared info, start event channel upcalls and the timer. Called once
 * from kmain on Xen; never panics. On failure the services stay down and
 * xen_services_error says why (the self-tests report it).
 */
int xen_services_init(void);
bool xen_services_up(void);
/* Before vCPU cpu starts (the boot CPU calls it for each AP): its
 * vcpu_info and per-vCPU event channels. 0 or Xen's error. */
int xen_services_cpu_prepare(unsigned cpu);
/* vCPU cpu's IPI event channel (0: none; IPIs then use the local APIC). */
uint32_t xen_ipi_port(unsigned cpu);
extern const char *xen_services_error;  /* NULL when up or not tried */
extern int xen_services_errno;          /* the failing call's return value */

/*
 * Called once from kmain after xen_services_init(). On a domU with the
 * services up: PV console, xenstore, then the balloon and shutdown watches.
 * Never panics; what failed is printed and kept for the self-tests.
 */
void xen_domu_services_init(void);

/* ---- one-call helpers (xen/ops.c) --------------------------------------- */

/* HVMOP_get_param / HVMOP_set_param on DOMID_SELF: 0 or Xen's error. */
int xen_hvm_param_get(uint32_t index, uint64_t *value);
int xen_hvm_param_set(uint32_t index, uint64_t value);
/* A ring page Xen populated for us (store, console), checked to be mapped
 * writable in the identity map; NULL if not. */
void *xen_ring_page(uint64_t pfn);
/* XENMEM_current_reservation / XENMEM_maximum_reservation on DOMID_SELF:
 * pages, or a negative Xen error. */
long xen_current_reservation(void);
long xen_maximum_reservation(void);
/* XENVER_get_features bit nr (XENFEAT_*). */
bool xen_feature(unsigned nr);
/* HVMOP_get_mem_type on one of our own frames (HVMMEM_* in *type). */
long xen_gfn_mem_type(uint64_t pfn, unsigned int *type);

/* ---- the kernel's P2M, extra memory and scratch pool (xen/memory.c) ----- */

extern struct p2m p2m;
extern struct extra_mem extra_mem;
extern struct extra_mem_report extra_mem_rep;
extern struct scratch_pool scratch;
extern bool p2m_ready, scratch_ready;
extern const char *scratch_source;      /* for the log and the tests */

/* The P2M core's hypercall backend: one XENMEM_* call per op. */
extern const struct p2m_ops p2m_xen_ops;

/* Guest frames for Xen to map things at (shared info, grant frames):
 * from the scratch pool, panicking only if the pool cannot exist. */
int scratch_frames_get(uint64_t count, uint64_t align, uint64_t *pfn);
int scratch_frames_put(uint64_t pfn, uint64_t count);
/* scratch_frames_put() of a run that may be refused as a whole (it then
 * changes nothing and says nothing): non-zero on refusal. */
int scratch_frames_put_run(uint64_t pfn, uint64_t count);

/*
 * The P2M account and the scratch pool: one lock for both, taken by every
 * kernel path that changes either (balloon, scratch get/put, the grant
 * self-map restore) from any CPU. Lock order: gnt_lock (the grant
 * mapper's, which takes scratch frames under it), then p2m_lock, then the
 * heap's locks (the frame-table calls inside take those: mm/heap.c), never
 * the other way (docs/p2m.md "Locking").
 */
struct spinlock;
extern struct spinlock p2m_lock;

void p2m_print_result(const char *what, int rc, const struct p2m_result *res);

#endif

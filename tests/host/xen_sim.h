/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A simulated hypervisor for the P2M core: the guest's second-stage
 * translation reduced to what XENMEM_populate_physmap and
 * XENMEM_decrease_reservation change, with Xen's accounting and its
 * failure behaviour (docs/p2m.md, "Xen facts"):
 *
 *  - per-frame: backed, populate-on-demand, "guest data in it" (dirty);
 *  - reservation (tot_pages), maximum reservation, a host free pool;
 *  - decrease removes an extent page by page and stops at the first page
 *    it cannot remove, leaving the earlier pages of that extent removed;
 *    a fault may also remove the whole extent and report it failed;
 *  - populate allocates whole extents and stops at the first it cannot;
 *    an extent of order > max_order is refused (0 done);
 *  - populate over a backed frame succeeds, as on Xen, but the old page
 *    stays counted: the sim records it as a violation;
 *  - releasing a frame with guest data in it (not scrubbed) is recorded;
 *  - populate-on-demand: PoD frames are backed from a cache on first
 *    touch; a touch with the cache empty crashes the domain (recorded);
 *    decreasing a PoD frame drops the entry without changing tot_pages.
 *
 * Faults are injected per call: a short count at a chosen extent (and,
 * for decrease, a chosen page inside it), a whole-call error, a count
 * larger than the extents done, or a random schedule.
 */
#ifndef XEN_SIM_H
#define XEN_SIM_H

#include <stdint.h>
#include <stdbool.h>
#include <pvhk/p2m.h>

#define SIM_BACKED  0x1
#define SIM_POD     0x2
#define SIM_DIRTY   0x4     /* guest wrote data since the last scrub */

struct xen_sim_fault {
    uint64_t at_call;       /* hypercall number (1-based); 0 = none */
    unsigned int extent;    /* extents done before the failure */
    unsigned int page;      /* decrease: pages of the failing extent removed;
                               all of them (the extent's size or more): the
                               whole extent goes, reported failed all the same */
    long call_error;        /* if non-zero, the whole call fails with it */
    long over;              /* added to the count returned (more than done) */
};

struct xen_sim {
    uint64_t nr_frames;
    uint8_t *f;                 /* SIM_* per frame */
    uint64_t reservation;       /* tot_pages */
    uint64_t max_reservation;
    uint64_t host_free;         /* host pages Xen can still allocate */
    uint64_t host_free_large;   /* 2 MiB blocks among them (for order 9) */
    uint64_t pod_cache;         /* pages in the PoD cache */
    uint64_t pod_entries;
    unsigned int max_order;     /* populate/decrease extent order limit */

    uint64_t calls;             /* decrease + populate */
    uint64_t calls_at_order[16];    /* of them, per extent order */
    struct xen_sim_fault fault; /* one scheduled fault */
    long over_now;              /* fault.over, during the faulted call */
    long query_error;           /* if non-zero, reservation queries fail so */
    /* Random schedule: each call fails with probability 1/rand_one_in. */
    unsigned int rand_one_in;
    uint64_t rng;

    /* Violations: each must stay 0 in a correct run. */
    uint64_t v_populate_over_backed;
    uint64_t v_released_dirty;
    uint64_t v_scrub_unbacked;
    uint64_t v_touch_unbacked;
    uint64_t v_pod_crash;
    uint64_t v_bad_gpfn;
    uint64_t leaked;            /* pages leaked by populate over backed */
};

void xen_sim_init(struct xen_sim *s, uint64_t nr_frames, uint64_t max_res,
                  uint64_t host_free);
void xen_sim_free(struct xen_sim *s);
/* Back [pfn, pfn + n) as Xen's domain builder does (counted). */
void xen_sim_back(struct xen_sim *s, uint64_t pfn, uint64_t n);
/* Make [pfn, pfn + n) PoD entries; cache pages are counted. */
void xen_sim_pod(struct xen_sim *s, uint64_t pfn, uint64_t n, uint64_t cache);
/* Pages Xen counts outside the guest's frames (special pages). */
void xen_sim_special(struct xen_sim *s, uint64_t n);

/* The guest writes data into a frame (touching it). */
void xen_sim_write(struct xen_sim *s, uint64_t pfn);

static inline bool xen_sim_backed(const struct xen_sim *s, uint64_t pfn)
{
    return pfn < s->nr_frames && (s->f[pfn] & SIM_BACKED);
}
uint64_t xen_sim_violations(const struct xen_sim *s);
void xen_sim_print_violations(const struct xen_sim *s);

/* The p2m_ops for this sim (ctx = s). */
void xen_sim_ops(struct xen_sim *s, struct p2m_ops *ops);

#endif

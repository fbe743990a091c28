/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated hypervisor: see xen_sim.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xen_sim.h"

void xen_sim_init(struct xen_sim *s, uint64_t nr_frames, uint64_t max_res,
                  uint64_t host_free)
{
    memset(s, 0, sizeof(*s));
    s->nr_frames = nr_frames;
    s->f = calloc(nr_frames, 1);
    s->max_reservation = max_res;
    s->host_free = host_free;
    s->host_free_large = host_free / 512;
    s->max_order = 9;
    s->rng = 0x9e3779b97f4a7c15ULL;
}

void xen_sim_free(struct xen_sim *s)
{
    free(s->f);
    s->f = NULL;
}

void xen_sim_back(struct xen_sim *s, uint64_t pfn, uint64_t n)
{
    for (uint64_t i = pfn; i < pfn + n; i++) {
        if (!(s->f[i] & SIM_BACKED))
            s->reservation++;
        s->f[i] = (s->f[i] & ~SIM_POD) | SIM_BACKED;
    }
}

void xen_sim_pod(struct xen_sim *s, uint64_t pfn, uint64_t n, uint64_t cache)
{
    for (uint64_t i = pfn; i < pfn + n; i++) {
        s->f[i] = SIM_POD;
        s->pod_entries++;
    }
    s->pod_cache += cache;
    s->reservation += cache;
}

void xen_sim_special(struct xen_sim *s, uint64_t n)
{
    s->reservation += n;
}

/* A PoD frame is touched: back it from the cache, or crash the domain. */
static bool pod_fault_in(struct xen_sim *s, uint64_t pfn)
{
    if (!(s->f[pfn] & SIM_POD))
        return false;
    if (s->pod_cache == 0) {
        s->v_pod_crash++;
        return false;
    }
    s->pod_cache--;
    s->pod_entries--;
    s->f[pfn] = SIM_BACKED;     /* cache pages are already counted */
    return true;
}

void xen_sim_write(struct xen_sim *s, uint64_t pfn)
{
    if (pfn >= s->nr_frames) {
        s->v_bad_gpfn++;
        return;
    }
    if (!(s->f[pfn] & SIM_BACKED) && !pod_fault_in(s, pfn)) {
        if (!(s->f[pfn] & SIM_POD))
            s->v_touch_unbacked++;
        return;
    }
    s->f[pfn] |= SIM_DIRTY;
}

uint64_t xen_sim_violations(const struct xen_sim *s)
{
    return s->v_populate_over_backed + s->v_released_dirty +
           s->v_scrub_unbacked + s->v_touch_unbacked + s->v_pod_crash +
           s->v_bad_gpfn;
}

void xen_sim_print_violations(const struct xen_sim *s)
{
    fprintf(stderr, "    sim: populate-over-backed %lu, released-dirty %lu, "
            "scrub-unbacked %lu, touch-unbacked %lu, pod-crash %lu, "
            "bad-gpfn %lu\n",
            (unsigned long)s->v_populate_over_backed,
            (unsigned long)s->v_released_dirty,
            (unsigned long)s->v_scrub_unbacked,
            (unsigned long)s->v_touch_unbacked,
            (unsigned long)s->v_pod_crash, (unsigned long)s->v_bad_gpfn);
}

static uint64_t sim_rand(struct xen_sim *s)
{
    /* splitmix64 */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * The fault for this call, if any: *stop_extent / *stop_page where the
 * call stops, or a whole-call error as the return value.
 */
static long pick_fault(struct xen_sim *s, unsigned int nr, unsigned int order,
                       unsigned int *stop_extent, unsigned int *stop_page)
{
    *stop_extent = nr;
    *stop_page = 0;
    s->calls++;
    s->calls_at_order[order < 16 ? order : 15]++;
    s->over_now = 0;
    if (s->fault.at_call == s->calls) {
        s->over_now = s->fault.over;
        if (s->fault.call_error)
            return s->fault.call_error;
        *stop_extent = s->fault.extent < nr ? s->fault.extent : nr;
        *stop_page = s->fault.page;
    } else if (s->rand_one_in && sim_rand(s) % s->rand_one_in == 0) {
        uint64_t r = sim_rand(s);

        if (r % 16 == 0)
            return -22;     /* -EINVAL: nothing done */
        *stop_extent = (unsigned int)((r >> 8) % (nr + 1));
        *stop_page = (unsigned int)((r >> 24) % (1U << order));
    }
    return 0;
}

static long do_decrease(void *ctx, const uint64_t *gpfns, unsigned int nr,
                        unsigned int order)
{
    struct xen_sim *s = ctx;
    unsigned int stop, stop_page, i;
    uint64_t size = 1ULL << order;
    long err = pick_fault(s, nr, order, &stop, &stop_page);

    if (err)
        return err;
    if (order > s->max_order)
        return 0;
    for (i = 0; i < nr; i++) {
        uint64_t g = gpfns[i];

        if (g % size || g + size > s->nr_frames) {
            s->v_bad_gpfn++;
            return i;
        }
        for (uint64_t j = 0; j < size; j++) {
            uint8_t *f = &s->f[g + j];

            /* The injected failure: this page cannot be removed. */
            if (i == stop && j == stop_page)
                return i;
            if (*f & SIM_POD) {
                /* Drop the entry; tot_pages changes only if the cache
                 * now exceeds the entries left (Xen frees the excess). */
                *f = 0;
                s->pod_entries--;
                if (s->pod_cache > s->pod_entries) {
                    s->reservation -= s->pod_cache - s->pod_entries;
                    s->host_free += s->pod_cache - s->pod_entries;
                    s->pod_cache = s->pod_entries;
                }
                continue;
            }
            if (!(*f & SIM_BACKED))
                return i;       /* guest_remove_page() fails: not ours */
            if (*f & SIM_DIRTY)
                s->v_released_dirty++;
            *f = 0;
            s->reservation--;
            s->host_free++;
        }
        /* The injected failure after the whole extent went. */
        if (i == stop && stop_page >= size)
            return i;
    }
    return nr;
}

static long do_populate(void *ctx, const uint64_t *gpfns, unsigned int nr,
                        unsigned int order)
{
    struct xen_sim *s = ctx;
    unsigned int stop, stop_page, i;
    uint64_t size = 1ULL << order;
    long err = pick_fault(s, nr, order, &stop, &stop_page);

    if (err)
        return err;
    if (order > s->max_order)
        return 0;
    for (i = 0; i < nr; i++) {
        uint64_t g = gpfns[i];

        if (i == stop)
            return i;
        if (g % size || g + size > s->nr_frames) {
            s->v_bad_gpfn++;
            return i;
        }
        if (s->reservation + size > s->max_reservation || s->host_free < size)
            return i;
        if (order >= 9) {
            if (s->host_free_large == 0)
                return i;
            s->host_free_large--;
        }
        s->host_free -= size;
        if (s->host_free / 512 < s->host_free_large)
            s->host_free_large = s->host_free / 512;
        s->reservation += size;
        for (uint64_t j = 0; j < size; j++) {
            uint8_t *f = &s->f[g + j];

            if (*f & SIM_BACKED) {
                /* Xen replaces the mapping; the old page stays ours. */
                s->v_populate_over_backed++;
                s->leaked++;
            }
            if (*f & SIM_POD)
                s->pod_entries--;
            *f = SIM_BACKED;    /* a fresh page: no guest data in it */
        }
    }
    return nr;
}

/* The count returned, plus the fault's excess during a faulted call. */
static long sim_decrease(void *ctx, const uint64_t *gpfns, unsigned int nr,
                         unsigned int order)
{
    struct xen_sim *s = ctx;
    long rc = do_decrease(ctx, gpfns, nr, order);

    return rc < 0 ? rc : rc + s->over_now;
}

static long sim_populate(void *ctx, const uint64_t *gpfns, unsigned int nr,
                         unsigned int order)
{
    struct xen_sim *s = ctx;
    long rc = do_populate(ctx, gpfns, nr, order);

    return rc < 0 ? rc : rc + s->over_now;
}

static long sim_current(void *ctx)
{
    struct xen_sim *s = ctx;

    return s->query_error ? s->query_error : (long)s->reservation;
}

static long sim_maximum(void *ctx)
{
    return (long)((struct xen_sim *)ctx)->max_reservation;
}

static void sim_scrub(void *ctx, uint64_t pfn, uint64_t count)
{
    struct xen_sim *s = ctx;

    for (uint64_t i = pfn; i < pfn + count; i++) {
        if (i >= s->nr_frames) {
            s->v_bad_gpfn++;
            continue;
        }
        if (!(s->f[i] & SIM_BACKED) && !pod_fault_in(s, i)) {
            s->v_scrub_unbacked++;
            continue;
        }
        s->f[i] &= ~SIM_DIRTY;
    }
}

void xen_sim_ops(struct xen_sim *s, struct p2m_ops *ops)
{
    ops->decrease_reservation = sim_decrease;
    ops->populate_physmap = sim_populate;
    ops->current_reservation = sim_current;
    ops->maximum_reservation = sim_maximum;
    ops->scrub = sim_scrub;
    ops->ctx = s;
}

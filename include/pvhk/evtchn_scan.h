/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels, 2-level ABI: the pure scan of the pending/mask bitmaps.
 *
 * Xen marks port p pending by setting bit p of shared_info's
 * evtchn_pending[]; if the port is not masked it also sets bit p / 64 of the
 * vCPU's evtchn_pending_sel and its evtchn_upcall_pending byte, then raises
 * the upcall vector. The handler consumes the selector word first, then the
 * port words it names. The kernel glue points a struct evtchn_2l at the real
 * shared_info / vcpu_info fields; host tests point it at plain arrays.
 */
#ifndef PVHK_EVTCHN_SCAN_H
#define PVHK_EVTCHN_SCAN_H

#include <pvhk/types.h>

#define EVTCHN_2L_WORDS         64      /* bits in the selector */
#define EVTCHN_2L_NR_PORTS      (EVTCHN_2L_WORDS * 64)

struct evtchn_2l {
    uint64_t *pending;                  /* [EVTCHN_2L_WORDS], shared_info */
    uint64_t *mask;                     /* [EVTCHN_2L_WORDS], shared_info */
    uint64_t *sel;                      /* vcpu_info evtchn_pending_sel */
    uint8_t *upcall_pending;            /* vcpu_info evtchn_upcall_pending */
};

/*
 * Where the previous scan stopped. Scanning resumes just after the last
 * port handled, so a port that fires continuously cannot starve the ports
 * above it: each gets its turn before the busy one comes round again.
 */
struct evtchn_scan {
    unsigned last_port;
};

typedef void (*evtchn_port_fn)(void *arg, unsigned port);

/*
 * Handle pending, unmasked ports: each one's pending bit is cleared (atomic)
 * before fn runs, so an event arriving during fn is not lost. Repeats while
 * Xen sets upcall_pending again, at most max_rounds times; if events are still
 * coming after that, *upcall_pending is left set so the caller can come back
 * (the glue re-enters or lets the vector fire again). Returns ports handled.
 */
unsigned evtchn_scan_2l(struct evtchn_scan *s, const struct evtchn_2l *v,
                        evtchn_port_fn fn, void *arg, unsigned max_rounds);

/* Mask a port (atomic set of its mask bit). */
void evtchn_mask_2l(const struct evtchn_2l *v, unsigned port);

/*
 * Unmask a port. An event that arrived while it was masked left only its
 * pending bit (Xen does not set the selector for masked ports), so if that
 * bit is set this re-creates the selector bit and upcall_pending and returns
 * true: the caller must then run the scan (or raise the upcall vector).
 */
bool evtchn_unmask_2l(const struct evtchn_2l *v, unsigned port);

#endif

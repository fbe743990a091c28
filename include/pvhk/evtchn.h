/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels, 2-level ABI.
 *
 * Xen marks port p pending by setting bit p of shared_info's
 * evtchn_pending[]; if the port is not masked it also sets bit p / 64 of the
 * vCPU's evtchn_pending_sel and its evtchn_upcall_pending byte and (for a
 * PVH/HVM guest using the callback vector) injects EVTCHN_UPCALL_VECTOR
 * whenever upcall_pending is set and RFLAGS.IF allows. The upcall handler
 * consumes the selector word first, then the port words it names, and calls
 * each pending port's handler.
 *
 * The first part is pure (xen/evtchn_2l.c): the scan of the pending and mask
 * bitmaps through a struct evtchn_2l, which the kernel points at the real
 * shared_info / vcpu_info fields and the host tests at plain arrays. The
 * rest is the kernel's (xen/evtchn.c): handlers, hypercalls, blocking.
 *
 * Handlers run with interrupts disabled and must not block
 * (<pvhk/irqflags.h>).
 */
#ifndef PVHK_EVTCHN_H
#define PVHK_EVTCHN_H

#include <pvhk/irqflags.h>
#include <pvhk/types.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

/* ---- the 2-level ABI, pure (xen/evtchn_2l.c) ------------------------- */

#define EVTCHN_2L_WORDS         64      /* bits in the selector */
#define EVTCHN_2L_NR_PORTS      (EVTCHN_2L_WORDS * 64)

struct evtchn_2l {
    uint64_t *pending;                  /* [EVTCHN_2L_WORDS], shared_info */
    uint64_t *mask;                     /* [EVTCHN_2L_WORDS], shared_info */
    uint64_t *sel;                      /* vcpu_info evtchn_pending_sel */
    uint8_t *upcall_pending;            /* vcpu_info evtchn_upcall_pending */
    /*
     * [EVTCHN_2L_WORDS]: the ports bound to this vCPU, or NULL for all.
     * Xen sets the selector bit of the vCPU a port is bound to, but the
     * word it names holds ports of every vCPU; each scans only its own,
     * as Linux's cpu_evtchn_mask does.
     */
    const uint64_t *bound;
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

/* ---- event channels (xen/evtchn.c) ----------------------------------- */

/*
 * The IDT vector of the upcall, on every vCPU. Any free vector >= 32 works.
 * Set per vCPU (HVMOP_set_evtchn_upcall_vector) it comes through the local
 * APIC and is acknowledged with an EOI; as the domain-wide callback vector
 * it bypasses the local APIC and needs none (xen/evtchn.c).
 */
#define EVTCHN_UPCALL_VECTOR    0xf3

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);

/* Route upcalls to EVTCHN_UPCALL_VECTOR, every port masked. Needs shared info. */
int evtchn_init(void);

/*
 * Install fn(port, data) for port and unmask it (delivering an event that
 * was already pending). fn == NULL masks the port and removes the handler.
 * Returns 0 or -XEN_EINVAL for a port beyond the 2-level ABI (4096 ports).
 */
int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *data);

/*
 * The hypercalls. Each returns 0 or Xen's negative error, with the new port
 * in *port on success. Binding does not install a handler: a port stays
 * masked until evtchn_bind_handler().
 */
int evtchn_bind_virq(uint32_t virq, evtchn_port_t *port);     /* to vCPU 0 */
/* A VIRQ on vCPU cpu (per-vCPU VIRQs such as VIRQ_TIMER are bound per vCPU). */
int evtchn_bind_virq_cpu(uint32_t virq, unsigned cpu, evtchn_port_t *port);
/* An IPI port: an EVTCHNOP_send on it notifies vCPU cpu. */
int evtchn_bind_ipi(unsigned cpu, evtchn_port_t *port);
/* EVTCHNOP_bind_vcpu: port's events go to vCPU cpu from now on (an
 * interdomain, unbound or global-VIRQ port; Xen refuses the others). */
int evtchn_bind_vcpu(evtchn_port_t port, unsigned cpu);
/* The vCPU port notifies, as pvhk last bound it. */
unsigned evtchn_port_cpu(evtchn_port_t port);
/* vCPU cpu's bitmaps and upcall vector (its vcpu_info set first). */
int evtchn_cpu_init(unsigned cpu);
/* Upcalls come per vCPU through the local APIC (HVMOP_set_evtchn_upcall_vector),
 * else on the domain-wide callback vector. */
extern bool evtchn_percpu_vector;
/* A port in our domain that domain `remote` may bind to (DOMID_SELF: us). */
int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                            evtchn_port_t *port);
int evtchn_send(evtchn_port_t port);
/* Masks the port, drops its handler and pending bit, then closes it. */
int evtchn_close(evtchn_port_t port);
int evtchn_status(evtchn_port_t port, struct evtchn_status *st);

void evtchn_mask(evtchn_port_t port);
/* Clear the mask. An event that arrived while masked is delivered before
 * this returns: its handler runs here, with interrupts disabled. */
void evtchn_unmask(evtchn_port_t port);
bool evtchn_is_pending(evtchn_port_t port);
bool evtchn_is_masked(evtchn_port_t port);

struct evtchn_stats {
    uint64_t upcalls;       /* times the vector was taken */
    uint64_t dispatched;    /* handler calls */
    uint64_t unhandled;     /* pending ports without a handler (dropped) */
    uint64_t blocks;        /* SCHEDOP_block issued by xen_block_until() */
    uint64_t block_skips;   /* ...skipped: an upcall landed just before it */
};
extern struct evtchn_stats evtchn_stats;

/*
 * Wait until cond(arg) is true, sleeping in Xen (SCHEDOP_block) rather than
 * spinning. cond is evaluated with interrupts disabled, so an event handler
 * cannot change the answer between the check and the block; the block itself
 * runs with interrupts enabled and cannot miss an upcall (xen/evtchn.c).
 * Returns with the interrupt flag as it was on entry.
 */
void xen_block_until(bool (*cond)(void *arg), void *arg);

#endif

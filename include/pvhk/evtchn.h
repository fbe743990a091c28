/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels, 2-level ABI.
 *
 * Xen marks a port pending in shared_info->evtchn_pending[], sets the word's
 * bit in vcpu_info->evtchn_pending_sel and vcpu_info->evtchn_upcall_pending,
 * and (for a PVH/HVM guest using the callback vector) injects
 * EVTCHN_UPCALL_VECTOR whenever upcall_pending is set and RFLAGS.IF allows.
 * The upcall handler scans the pending ports and calls each port's handler.
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

/* ---- event channels -------------------------------------------------- */

/*
 * The IDT vector of the upcall. Any free vector >= 32 works: a callback
 * vector bypasses the local APIC, so nothing else needs programming (and no
 * EOI is due, see xen/evtchn.c).
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
int evtchn_bind_virq(uint32_t virq, evtchn_port_t *port);
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

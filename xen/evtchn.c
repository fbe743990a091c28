/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels (2-level ABI) for a PVH guest: the upcall vector, per-port
 * handlers, the EVTCHNOP_* calls, and blocking in Xen until something
 * happens. The scan of the pending bitmaps is pure code (xen/evtchn_2l.c).
 *
 * Upcall delivery. HVM_PARAM_CALLBACK_IRQ with type "vector" (2 in bits
 * 63:56) makes Xen inject that vector directly, as the event-channel
 * interrupt source, on every VM entry where vcpu_info->evtchn_upcall_pending
 * is set and RFLAGS.IF allows it (hvm_vcpu_has_pending_irq() in Xen's
 * arch/x86/hvm/irq.c). The vector never goes through the virtual local APIC,
 * so no EOI is due, and the line is effectively level-triggered on
 * upcall_pending: the handler clears that byte before scanning. Linux's HVM
 * and PVH guests use the same mechanism and EOI only when they use the
 * per-vCPU HVMOP_set_evtchn_upcall_vector instead, which Xen delivers through
 * the LAPIC (sysvec_xen_hvm_callback() in arch/x86/xen/enlighten_hvm.c).
 * The global callback vector targets vCPU 0 only, which is all pvhk runs on.
 */
#include <pvhk/arch.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/trap.h>
#include <pvhk/xen.h>
#include <xen/errno.h>
#include <xen/features.h>
#include <xen/hvm/params.h>
#include <xen/sched.h>

_Static_assert(sizeof(xen_ulong_t) == sizeof(uint64_t) &&
               ARRAY_SIZE(((struct shared_info *)0)->evtchn_pending) == EVTCHN_2L_WORDS,
               "the 2-level scan assumes 64 words of 64 ports");

/* Rounds of the scan per upcall before leaving the rest to the next one. */
#define SCAN_ROUNDS 8

struct evtchn_stats evtchn_stats;

static struct {
    evtchn_handler_t fn;
    void *data;
} handlers[EVTCHN_2L_NR_PORTS];

static struct evtchn_2l bitmaps;        /* points into the shared info */
static struct evtchn_scan scan_state;
static bool upcalls_ready;

/* The block window, see xen_block_until(). */
extern const char xen_block_window[], xen_block_window_end[];

static void dispatch(void *arg, unsigned port)
{
    evtchn_handler_t fn = handlers[port].fn;

    (void)arg;
    if (!fn) {
        /* Only a port closed while its event was in flight gets here:
         * ports without a handler are kept masked. */
        evtchn_stats.unhandled++;
        return;
    }
    evtchn_stats.dispatched++;
    fn(port, handlers[port].data);
}

/* Interrupts disabled: the vector's gate, or local_irq_save() in unmask. */
static void scan_pending(void)
{
    evtchn_scan_2l(&scan_state, &bitmaps, dispatch, NULL, SCAN_ROUNDS);
}

static void evtchn_upcall(struct trap_frame *f)
{
    /*
     * Landed between the sti and the SCHEDOP_block of xen_block_until():
     * the event we are about to handle may be the one its caller waits
     * for, so the block must not happen. Resume after it instead; the
     * caller re-checks its condition.
     */
    if (f->rip >= (uint64_t)(uintptr_t)xen_block_window &&
        f->rip < (uint64_t)(uintptr_t)xen_block_window_end) {
        f->rip = (uint64_t)(uintptr_t)xen_block_window_end;
        evtchn_stats.block_skips++;
    }
    evtchn_stats.upcalls++;
    scan_pending();
}

int evtchn_init(void)
{
    struct shared_info *s = xen_shared_info;

    if (!s)
        return -XEN_ENODEV;
    if (!xen_feature(XENFEAT_hvm_callback_vector))
        return -XEN_EOPNOTSUPP;
    bitmaps = (struct evtchn_2l){
        .pending = (uint64_t *)s->evtchn_pending,
        .mask = (uint64_t *)s->evtchn_mask,
        .sel = (uint64_t *)&s->vcpu_info[0].evtchn_pending_sel,
        .upcall_pending = &s->vcpu_info[0].evtchn_upcall_pending,
    };
    /* Invariant from here on: a port without a handler is masked. */
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        __atomic_store_n(&bitmaps.mask[w], ~0ull, __ATOMIC_SEQ_CST);
    trap_set_irq_handler(EVTCHN_UPCALL_VECTOR, evtchn_upcall);

    int rc = xen_hvm_param_set(HVM_PARAM_CALLBACK_IRQ,
                               ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) |
                               EVTCHN_UPCALL_VECTOR);
    if (rc)
        return rc;
    upcalls_ready = true;
    return 0;
}

int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *data)
{
    if (port >= EVTCHN_2L_NR_PORTS)
        return -XEN_EINVAL;
    unsigned long flags = local_irq_save();
    if (!fn)
        evtchn_mask(port);
    handlers[port].fn = fn;
    handlers[port].data = data;
    if (fn)
        evtchn_unmask(port);
    local_irq_restore(flags);
    return 0;
}

void evtchn_mask(evtchn_port_t port)
{
    if (port < EVTCHN_2L_NR_PORTS && upcalls_ready)
        evtchn_mask_2l(&bitmaps, port);
}

/*
 * An event that became pending while the port was masked set only its
 * pending bit: Xen raises the selector and upcall_pending for unmasked
 * ports alone, so nothing would ever deliver it. evtchn_unmask_2l() puts
 * the selector and upcall_pending bits back as Xen would have; we then run
 * the scan right here. A PV or multi-vCPU guest would instead have Xen do
 * it (EVTCHNOP_unmask raises the upcall if it finds the mask bit set, which
 * is why Linux re-masks before calling it on HVM); with one vCPU and
 * interrupts off, scanning here is the same as taking the upcall, minus a
 * hypercall. Leaving upcall_pending set for Xen to notice would not do:
 * Xen only looks at it on its next VM entry, which may be long in coming.
 */
void evtchn_unmask(evtchn_port_t port)
{
    if (port >= EVTCHN_2L_NR_PORTS || !upcalls_ready)
        return;
    unsigned long flags = local_irq_save();
    if (evtchn_unmask_2l(&bitmaps, port))
        scan_pending();
    local_irq_restore(flags);
}

static bool test_port_bit(const uint64_t *words, evtchn_port_t port)
{
    return __atomic_load_n(&words[port / 64], __ATOMIC_SEQ_CST) & (1ull << (port % 64));
}

bool evtchn_is_pending(evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_PORTS && upcalls_ready && test_port_bit(bitmaps.pending, port);
}

bool evtchn_is_masked(evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_PORTS && upcalls_ready && test_port_bit(bitmaps.mask, port);
}

/* ---- hypercalls ------------------------------------------------------ */

int evtchn_bind_virq(uint32_t virq, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = 0 };
    int rc = (int)xen_event_channel_op(EVTCHNOP_bind_virq, &op);

    if (!rc)
        *port = op.port;
    return rc;
}

int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
    int rc = (int)xen_event_channel_op(EVTCHNOP_alloc_unbound, &op);

    if (!rc)
        *port = op.port;
    return rc;
}

int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
    int rc = (int)xen_event_channel_op(EVTCHNOP_bind_interdomain, &op);

    if (!rc)
        *port = op.local_port;
    return rc;
}

int evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };

    return (int)xen_event_channel_op(EVTCHNOP_send, &op);
}

int evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    *st = (struct evtchn_status){ .dom = DOMID_SELF, .port = port };
    return (int)xen_event_channel_op(EVTCHNOP_status, st);
}

int evtchn_close(evtchn_port_t port)
{
    struct evtchn_close op = { .port = port };

    if (port >= EVTCHN_2L_NR_PORTS)
        return -XEN_EINVAL;
    /* Masked and handler-less first, so the number is safe to reuse:
     * whatever Xen allocates there next stays quiet until bound. */
    evtchn_bind_handler(port, NULL, NULL);
    int rc = (int)xen_event_channel_op(EVTCHNOP_close, &op);
    if (upcalls_ready)
        __atomic_fetch_and(&bitmaps.pending[port / 64], ~(1ull << (port % 64)),
                           __ATOMIC_SEQ_CST);
    return rc;
}

/* ---- blocking -------------------------------------------------------- */

/*
 * sti, then SCHEDOP_block, without losing a wakeup.
 *
 * Xen's vcpu_block() declines to sleep if an event is deliverable, but for
 * an HVM vCPU "deliverable" means the upcall could be injected right now:
 * with RFLAGS.IF clear, or inside the one-instruction interrupt shadow of
 * an sti, a pending upcall does not count (hvm_local_events_need_delivery()
 * checks hvm_interrupt_blocked()). So neither "cli; SCHEDOP_block" nor
 * "sti; SCHEDOP_block" is safe: an event posted after the caller's check
 * would leave the vCPU asleep with the upcall pending, and since Xen raises
 * the upcall only on a 0->1 change of upcall_pending, later events would
 * not wake it either.
 *
 * Instead: sti, one more instruction (so the shadow ends), then the
 * hypercall with IF set and no shadow, where Xen's check is exact. An
 * upcall taken between the sti and the hypercall (the window) would make
 * the block wrong, since its handler may just have satisfied the caller's
 * condition; evtchn_upcall() sees the interrupted RIP in the window and
 * resumes at its end, skipping the hypercall. (Xen's own HLT emulation is
 * the other safe route: "sti; hlt" makes Xen block with the shadow already
 * gone.) Returns with interrupts enabled.
 */
static __attribute__((noinline)) void block_irqs_on(void)
{
    register uint64_t r10 __asm__("r10");
    register uint64_t r8 __asm__("r8");
    uint64_t rax = __HYPERVISOR_sched_op, rdi = SCHEDOP_block, rsi = 0, rdx;

    __asm__ volatile(
        "sti\n\t"
        ".globl xen_block_window, xen_block_window_end\n"
        "xen_block_window:\n\t"
        "nop\n\t"                       /* the sti shadow ends here */
        "cmpb $0, hypercall_use_vmmcall(%%rip)\n\t"
        "jne 1f\n\t"
        "vmcall\n\t"
        "jmp xen_block_window_end\n"
        "1:\tvmmcall\n"
        "xen_block_window_end:"
        : "+a"(rax), "+D"(rdi), "+S"(rsi), "=d"(rdx), "=r"(r10), "=r"(r8)
        : : "memory", "cc");
}

void xen_block_until(bool (*cond)(void *arg), void *arg)
{
    /* Without the upcall nothing would ever wake us. */
    BUG_ON(!upcalls_ready);
    unsigned long flags = local_irq_save();
    while (!cond(arg)) {
        evtchn_stats.blocks++;
        block_irqs_on();
        local_irq_disable();
    }
    local_irq_restore(flags);
}

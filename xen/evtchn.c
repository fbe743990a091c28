/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels (2-level ABI) for a PVH guest: the upcall vector, per-port
 * handlers, the EVTCHNOP_* calls, and blocking in Xen until something
 * happens. The scan of the pending bitmaps is pure code (xen/evtchn_2l.c).
 *
 * Upcall delivery, per vCPU. HVMOP_set_evtchn_upcall_vector names the
 * vector for one vCPU; Xen then raises it in that vCPU's virtual local APIC
 * whenever it marks one of the vCPU's ports (hvm_assert_evtchn_irq() in
 * Xen's arch/x86/hvm/irq.c), edge-triggered, so the handler EOIs it first
 * and an event posted during the scan raises it again; Linux does the same
 * (sysvec_xen_hvm_callback() in arch/x86/xen/enlighten_hvm.c).
 *
 * The fallback, and what pvhk also sets so the toolstack sees a guest that
 * takes events: HVM_PARAM_CALLBACK_IRQ with type "vector" (2 in bits
 * 63:56), the domain-wide callback, which Xen injects directly on every VM
 * entry where the vCPU's evtchn_upcall_pending is set and RFLAGS.IF allows
 * it (hvm_vcpu_has_pending_irq()); it bypasses the local APIC, so no EOI is
 * due, and is effectively level-triggered on upcall_pending: the handler
 * clears that byte before scanning.
 *
 * Ports and vCPUs. Each vCPU has its own vcpu_info (selector, upcall flag)
 * but all share shared_info's pending and mask words; a vCPU scans only
 * the ports bound to it (port_cpu, bound[]).
 */
#include <pvhk/arch.h>
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/lapic.h>
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/trap.h>
#include <pvhk/xen.h>
#include <xen/errno.h>
#include <xen/features.h>
#include <xen/hvm/hvm_op.h>
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

/*
 * Per vCPU: its view of the bitmaps (the shared pending and mask words, its
 * own selector and upcall flag, the ports bound to it) and its scan state.
 * bitmaps[0]'s pending and mask serve every vCPU (they are shared_info's).
 */
static struct evtchn_2l bitmaps[NR_CPUS];
static struct evtchn_scan scan_state[NR_CPUS];
static uint64_t bound[NR_CPUS][EVTCHN_2L_WORDS];
/* The vCPU each port notifies: Xen binds a new port to vCPU 0, a VIRQ or
 * IPI port to the vCPU named, EVTCHNOP_bind_vcpu moves one. */
static uint8_t port_cpu[EVTCHN_2L_NR_PORTS];
_Static_assert(NR_CPUS <= 256, "port_cpu holds a CPU number in 8 bits");
static bool upcalls_ready;
bool evtchn_percpu_vector;
/* Bindings and handlers change under it; the scan reads them without. */
static spinlock_t bind_lock = SPINLOCK_INIT("event-channel bindings");

/* The block window, see xen_block_until(). */
extern const char xen_block_window[], xen_block_window_end[];

static void dispatch(void *arg, unsigned port)
{
    evtchn_handler_t fn = handlers[port].fn;

    (void)arg;
    if (!fn) {
        /* Only a port closed while its event was in flight gets here:
         * ports without a handler are kept masked. */
        __atomic_fetch_add(&evtchn_stats.unhandled, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&evtchn_stats.dispatched, 1, __ATOMIC_RELAXED);
    fn(port, handlers[port].data);
}

/* This vCPU's ports. Interrupts disabled: the vector's gate, or
 * local_irq_save() in unmask. */
static void scan_pending(void)
{
    unsigned cpu = smp_processor_id();

    evtchn_scan_2l(&scan_state[cpu], &bitmaps[cpu], dispatch, NULL, SCAN_ROUNDS);
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
        __atomic_fetch_add(&evtchn_stats.block_skips, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&evtchn_stats.upcalls, 1, __ATOMIC_RELAXED);
    /* The per-vCPU vector comes through the local APIC: acknowledge it
     * first, so an event posted during the scan raises it again. */
    if (evtchn_percpu_vector)
        lapic_eoi();
    scan_pending();
}

/*
 * vCPU cpu's bitmaps (its vcpu_info must be final: registered, or its
 * shared_info slot) and its upcall vector. HVMOP_set_evtchn_upcall_vector
 * makes Xen deliver the vCPU's upcall through its local APIC, in
 * preference to the domain-wide HVM_PARAM_CALLBACK_IRQ
 * (hvm_assert_evtchn_irq() in xen/arch/x86/hvm/irq.c); the handler then
 * owes an EOI. If Xen refuses it for vCPU 0, every vCPU stays on the
 * domain-wide callback vector, which Xen injects into whichever vCPU has
 * upcall_pending set (the same function).
 */
int evtchn_cpu_init(unsigned cpu)
{
    struct vcpu_info *vi = per_cpu(cpu)->vcpu_info;
    struct shared_info *s = xen_shared_info;

    if (!s || !vi)
        return -XEN_ENODEV;
    bitmaps[cpu] = (struct evtchn_2l){
        .pending = (uint64_t *)s->evtchn_pending,
        .mask = (uint64_t *)s->evtchn_mask,
        .sel = (uint64_t *)&vi->evtchn_pending_sel,
        .upcall_pending = &vi->evtchn_upcall_pending,
        .bound = bound[cpu],
    };
    if (cpu && !evtchn_percpu_vector)
        return 0;
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = cpu, .vector = EVTCHN_UPCALL_VECTOR };
    int rc = (int)xen_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
    if (!cpu)
        evtchn_percpu_vector = rc == 0;
    return cpu ? rc : 0;
}

int evtchn_init(void)
{
    struct shared_info *s = xen_shared_info;

    if (!s)
        return -XEN_ENODEV;
    if (!xen_feature(XENFEAT_hvm_callback_vector))
        return -XEN_EOPNOTSUPP;
    /* Every port starts bound to vCPU 0. */
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        bound[0][w] = ~0ull;
    int rc = evtchn_cpu_init(0);
    if (rc)
        return rc;
    /* Invariant from here on: a port without a handler is masked. */
    for (unsigned w = 0; w < EVTCHN_2L_WORDS; w++)
        __atomic_store_n(&bitmaps[0].mask[w], ~0ull, __ATOMIC_SEQ_CST);
    trap_set_irq_handler(EVTCHN_UPCALL_VECTOR, evtchn_upcall);

    /* The domain-wide callback too: the fallback, and what tells the
     * toolstack that the guest takes event channels. */
    rc = xen_hvm_param_set(HVM_PARAM_CALLBACK_IRQ,
                           ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) |
                           EVTCHN_UPCALL_VECTOR);
    if (rc)
        return rc;
    upcalls_ready = true;
    return 0;
}

/* Record that port notifies cpu (bind_lock held, or no other CPU yet). */
static void set_port_cpu(evtchn_port_t port, unsigned cpu)
{
    unsigned old = port_cpu[port];
    uint64_t b = 1ull << (port % 64);

    __atomic_fetch_and(&bound[old][port / 64], ~b, __ATOMIC_SEQ_CST);
    port_cpu[port] = (uint8_t)cpu;
    __atomic_fetch_or(&bound[cpu][port / 64], b, __ATOMIC_SEQ_CST);
}

static void note_binding(evtchn_port_t port, unsigned cpu)
{
    if (port >= EVTCHN_2L_NR_PORTS)
        return;
    unsigned long f = spin_lock_irqsave(&bind_lock);
    set_port_cpu(port, cpu);
    spin_unlock_irqrestore(&bind_lock, f);
}

unsigned evtchn_port_cpu(evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_PORTS ? port_cpu[port] : 0;
}

int evtchn_bind_handler(evtchn_port_t port, evtchn_handler_t fn, void *data)
{
    if (port >= EVTCHN_2L_NR_PORTS)
        return -XEN_EINVAL;
    unsigned long flags = spin_lock_irqsave(&bind_lock);
    if (!fn)
        evtchn_mask(port);
    handlers[port].fn = fn;
    handlers[port].data = data;
    spin_unlock_irqrestore(&bind_lock, flags);
    if (fn)
        evtchn_unmask(port);
    return 0;
}

void evtchn_mask(evtchn_port_t port)
{
    if (port < EVTCHN_2L_NR_PORTS && upcalls_ready)
        evtchn_mask_2l(&bitmaps[0], port);
}

/*
 * An event that became pending while the port was masked set only its
 * pending bit: Xen raises the selector and upcall_pending for unmasked
 * ports alone, so nothing would ever deliver it. evtchn_unmask_2l() puts
 * the selector and upcall_pending bits back as Xen would have; we then run
 * the scan right here when the port is bound to this vCPU: with interrupts
 * off, scanning here is the same as taking the upcall, minus a hypercall.
 * Leaving upcall_pending set for Xen to notice would not do: Xen only looks
 * at it on its next VM entry, which may be long in coming. A port bound to
 * another vCPU is Xen's to re-raise: EVTCHNOP_unmask clears the mask bit
 * and, if it was set and the port is pending, marks the port's vCPU and
 * kicks it (evtchn_2l_unmask() in xen/common/event_2l.c).
 */
void evtchn_unmask(evtchn_port_t port)
{
    if (port >= EVTCHN_2L_NR_PORTS || !upcalls_ready)
        return;
    unsigned long flags = local_irq_save();
    unsigned me = smp_processor_id();
    if (port_cpu[port] != me) {
        struct evtchn_unmask op = { .port = port };
        xen_event_channel_op(EVTCHNOP_unmask, &op);
    } else if (evtchn_unmask_2l(&bitmaps[me], port)) {
        scan_pending();
    }
    local_irq_restore(flags);
}

static bool test_port_bit(const uint64_t *words, evtchn_port_t port)
{
    return __atomic_load_n(&words[port / 64], __ATOMIC_SEQ_CST) & (1ull << (port % 64));
}

bool evtchn_is_pending(evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_PORTS && upcalls_ready && test_port_bit(bitmaps[0].pending, port);
}

bool evtchn_is_masked(evtchn_port_t port)
{
    return port < EVTCHN_2L_NR_PORTS && upcalls_ready && test_port_bit(bitmaps[0].mask, port);
}

/* ---- hypercalls ------------------------------------------------------ */

int evtchn_bind_virq(uint32_t virq, evtchn_port_t *port)
{
    return evtchn_bind_virq_cpu(virq, 0, port);
}

int evtchn_bind_virq_cpu(uint32_t virq, unsigned cpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = cpu };
    int rc = (int)xen_event_channel_op(EVTCHNOP_bind_virq, &op);

    if (!rc) {
        *port = op.port;
        note_binding(op.port, cpu);
    }
    return rc;
}

int evtchn_bind_ipi(unsigned cpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = { .vcpu = cpu };
    int rc = (int)xen_event_channel_op(EVTCHNOP_bind_ipi, &op);

    if (!rc) {
        *port = op.port;
        note_binding(op.port, cpu);
    }
    return rc;
}

/*
 * Move port's notifications to vCPU cpu. Masked across the move, so an
 * event in flight is neither lost nor handled on the old vCPU after it;
 * the unmask then delivers what is pending on the new one.
 */
int evtchn_bind_vcpu(evtchn_port_t port, unsigned cpu)
{
    struct evtchn_bind_vcpu op = { .port = port, .vcpu = cpu };

    if (port >= EVTCHN_2L_NR_PORTS || cpu >= NR_CPUS)
        return -XEN_EINVAL;
    bool was_masked = evtchn_is_masked(port);
    evtchn_mask(port);
    int rc = (int)xen_event_channel_op(EVTCHNOP_bind_vcpu, &op);
    if (!rc)
        note_binding(port, cpu);
    if (!was_masked)
        evtchn_unmask(port);
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
        __atomic_fetch_and(&bitmaps[0].pending[port / 64], ~(1ull << (port % 64)),
                           __ATOMIC_SEQ_CST);
    /* Xen binds the next port with this number to vCPU 0. */
    note_binding(port, 0);
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
        __atomic_fetch_add(&evtchn_stats.blocks, 1, __ATOMIC_RELAXED);
        block_irqs_on();
        local_irq_disable();
    }
    local_irq_restore(flags);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers on Xen's per-vCPU singleshot timer.
 *
 * Each vCPU keeps its pending timers in a list sorted by deadline; its
 * Xen singleshot timer (VCPUOP_set_singleshot_timer, absolute system time)
 * is programmed for the head. When it expires Xen sends VIRQ_TIMER; the handler runs every timer
 * whose deadline has passed by the pvclock and programs the next one.
 *
 * The deadline is in Xen system time, the same clock Xen compares against,
 * so "late" is measurable and "early" cannot happen beyond the pvclock's
 * own error. A deadline in the past fires at once (we do not set
 * VCPU_SSHOTTMR_future, which would make Xen refuse it with -ETIME instead).
 * If the VIRQ arrives while the head is still, by our clock, a little in
 * the future, reprogramming makes Xen fire again straight away: the loop
 * ends as soon as the two clocks agree.
 */
#include <pvhk/evtchn.h>
#include <pvhk/hypercall.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <xen/errno.h>
#include <xen/vcpu.h>

struct xtimer_stats xtimer_stats;
uint32_t xtimer_virq_port;

/*
 * Per vCPU: Xen's singleshot timer and VIRQ_TIMER are per vCPU, and so is
 * the list. A timer runs on the CPU that armed it. The lock lets another
 * CPU cancel it; the callbacks run without it (they may re-arm).
 */
static struct timer_cpu {
    struct xtimer *head;
    bool up;
    bool in_virq;               /* the handler reprograms once, at its end */
    evtchn_port_t port;
    spinlock_t lock;
} tcpu[NR_CPUS];

static void note_rc(long rc)
{
    __atomic_fetch_add(&xtimer_stats.programs, 1, __ATOMIC_RELAXED);
    if (rc) {
        __atomic_fetch_add(&xtimer_stats.program_errors, 1, __ATOMIC_RELAXED);
        xtimer_stats.last_error = rc;
    }
}

/* Point this vCPU's singleshot at its head, or stop it. Interrupts
 * disabled, on the CPU that owns tc (Xen sets only the caller's timer). */
static void program(struct timer_cpu *tc)
{
    unsigned vcpu = this_cpu()->vcpu_id;

    if (tc->head) {
        struct vcpu_set_singleshot_timer st = {
            .timeout_abs_ns = tc->head->deadline,
            .flags = 0,
        };
        note_rc(xen_vcpu_op(VCPUOP_set_singleshot_timer, vcpu, &st));
    } else {
        note_rc(xen_vcpu_op(VCPUOP_stop_singleshot_timer, vcpu, NULL));
    }
}

/* After any timer with the same deadline: equal deadlines fire in arming order. */
static void list_insert(struct timer_cpu *tc, struct xtimer *t)
{
    struct xtimer **pp = &tc->head;

    while (*pp && (*pp)->deadline <= t->deadline)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

static void list_remove(struct timer_cpu *tc, struct xtimer *t)
{
    for (struct xtimer **pp = &tc->head; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            t->next = NULL;
            return;
        }
}

void xtimer_setup(struct xtimer *t, void (*fn)(struct xtimer *t), void *data)
{
    *t = (struct xtimer){ .fn = fn, .data = data };
}

bool xtimer_cancel(struct xtimer *t)
{
    unsigned long flags = local_irq_save();
    struct timer_cpu *tc = &tcpu[t->cpu];
    unsigned me = smp_processor_id();

    raw_spin_lock(&tc->lock);
    bool was_armed = t->armed;
    if (was_armed) {
        bool was_head = tc->head == t;

        list_remove(tc, t);
        t->armed = false;
        /* A stale singleshot would only cost a spurious VIRQ; stop or move
         * it anyway so Xen's timer always means something (only the
         * owning vCPU can). */
        if (was_head && !tc->in_virq && t->cpu == me)
            program(tc);
    }
    raw_spin_unlock(&tc->lock);
    local_irq_restore(flags);
    return was_armed;
}

void xtimer_arm(struct xtimer *t, uint64_t deadline)
{
    unsigned long flags = local_irq_save();
    unsigned me = smp_processor_id();

    /* Armed on another CPU: take it off that one's list first. */
    if (t->armed && t->cpu != me)
        xtimer_cancel(t);
    struct timer_cpu *tc = &tcpu[me];
    raw_spin_lock(&tc->lock);
    struct xtimer *old_head = tc->head;
    if (t->armed)
        list_remove(tc, t);
    t->deadline = deadline;
    t->armed = true;
    t->cpu = me;
    list_insert(tc, t);
    if (tc->head != old_head || tc->head == t)
        if (!tc->in_virq)
            program(tc);
    raw_spin_unlock(&tc->lock);
    local_irq_restore(flags);
}

static void timer_virq(evtchn_port_t port, void *data)
{
    struct timer_cpu *tc = &tcpu[smp_processor_id()];

    (void)port;
    (void)data;
    __atomic_fetch_add(&xtimer_stats.virqs, 1, __ATOMIC_RELAXED);
    raw_spin_lock(&tc->lock);
    tc->in_virq = true;
    for (uint64_t now = xen_clock_ns(); tc->head && tc->head->deadline <= now;
         now = xen_clock_ns()) {
        struct xtimer *t = tc->head;

        tc->head = t->next;
        t->next = NULL;
        t->armed = false;
        __atomic_fetch_add(&xtimer_stats.fired, 1, __ATOMIC_RELAXED);
        raw_spin_unlock(&tc->lock);
        t->fn(t);
        raw_spin_lock(&tc->lock);
    }
    tc->in_virq = false;
    /* Xen's singleshot is spent: only a remaining head needs it again. */
    if (tc->head)
        program(tc);
    raw_spin_unlock(&tc->lock);
}

int xtimer_cpu_init(unsigned cpu)
{
    evtchn_port_t port;
    long rc;

    /*
     * Xen may start a vCPU with a periodic tick on VIRQ_TIMER (100 Hz for
     * PV guests); stop it so every VIRQ_TIMER is one of ours. Any vCPU of
     * the domain may be named here; the singleshot only by the vCPU itself.
     */
    rc = xen_vcpu_op(VCPUOP_stop_periodic_timer, cpu, NULL);
    if (rc)
        return (int)rc;
    rc = evtchn_bind_virq_cpu(VIRQ_TIMER, cpu, &port);
    if (rc)
        return (int)rc;
    tcpu[cpu].lock = (spinlock_t)SPINLOCK_INIT("timer list");
    tcpu[cpu].port = port;
    rc = evtchn_bind_handler(port, timer_virq, NULL);
    if (rc)
        return (int)rc;
    tcpu[cpu].up = true;
    return 0;
}

uint32_t xtimer_cpu_port(unsigned cpu)
{
    return cpu < NR_CPUS ? tcpu[cpu].port : 0;
}

int xtimer_init(void)
{
    int rc = xtimer_cpu_init(0);

    if (!rc)
        xtimer_virq_port = tcpu[0].port;
    return rc;
}

static bool timers_up_here(void)
{
    return tcpu[smp_processor_id()].up;
}

/* ---- waiting --------------------------------------------------------- */

static void set_flag(struct xtimer *t)
{
    *(volatile bool *)t->data = true;
}

static bool flag_is_set(void *arg)
{
    return *(volatile bool *)arg;
}

int xsleep_ns(uint64_t ns)
{
    struct xtimer t;
    bool done = false;

    if (!timers_up_here())
        return -1;
    xtimer_setup(&t, set_flag, &done);
    xtimer_arm(&t, xen_clock_ns() + ns);
    xen_block_until(flag_is_set, &done);
    return 0;
}

struct wait_ctx {
    bool (*cond)(void *arg);
    void *arg;
    bool expired;
};

static bool cond_or_expired(void *arg)
{
    struct wait_ctx *w = arg;

    return *(volatile bool *)&w->expired || w->cond(w->arg);
}

bool xwait_timeout(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    struct wait_ctx w = { cond, arg, false };
    struct xtimer t;

    if (!timers_up_here())
        return cond(arg);
    xtimer_setup(&t, set_flag, &w.expired);
    xtimer_arm(&t, xen_clock_ns() + timeout_ns);
    xen_block_until(cond_or_expired, &w);
    xtimer_cancel(&t);
    unsigned long flags = local_irq_save();
    bool ok = cond(arg);
    local_irq_restore(flags);
    return ok;
}

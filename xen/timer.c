/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers on Xen's per-vCPU singleshot timer.
 *
 * Pending timers sit in one list sorted by deadline; Xen's singleshot timer
 * (VCPUOP_set_singleshot_timer, absolute system time) is programmed for the
 * head. When it expires Xen sends VIRQ_TIMER; the handler runs every timer
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
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <xen/errno.h>
#include <xen/vcpu.h>

struct xtimer_stats xtimer_stats;
uint32_t xtimer_virq_port;

static struct xtimer *timer_head;
static bool timers_up;
static bool in_virq;    /* the handler reprograms once, at its end */

static void note_rc(long rc)
{
    xtimer_stats.programs++;
    if (rc) {
        xtimer_stats.program_errors++;
        xtimer_stats.last_error = rc;
    }
}

/* Point Xen's singleshot at the head, or stop it. Interrupts disabled. */
static void program(void)
{
    if (timer_head) {
        struct vcpu_set_singleshot_timer st = {
            .timeout_abs_ns = timer_head->deadline,
            .flags = 0,
        };
        note_rc(xen_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st));
    } else {
        note_rc(xen_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL));
    }
}

/* After any timer with the same deadline: equal deadlines fire in arming order. */
static void list_insert(struct xtimer *t)
{
    struct xtimer **pp = &timer_head;

    while (*pp && (*pp)->deadline <= t->deadline)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

static void list_remove(struct xtimer *t)
{
    for (struct xtimer **pp = &timer_head; *pp; pp = &(*pp)->next)
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

void xtimer_arm(struct xtimer *t, uint64_t deadline)
{
    unsigned long flags = local_irq_save();
    struct xtimer *old_head = timer_head;

    if (t->armed)
        list_remove(t);
    t->deadline = deadline;
    t->armed = true;
    list_insert(t);
    if (timer_head != old_head || timer_head == t)
        if (!in_virq)
            program();
    local_irq_restore(flags);
}

bool xtimer_cancel(struct xtimer *t)
{
    unsigned long flags = local_irq_save();
    bool was_armed = t->armed;

    if (was_armed) {
        bool was_head = timer_head == t;

        list_remove(t);
        t->armed = false;
        /* A stale singleshot would only cost a spurious VIRQ; stop or move
         * it anyway so Xen's timer always means something. */
        if (was_head && !in_virq)
            program();
    }
    local_irq_restore(flags);
    return was_armed;
}

static void timer_virq(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    xtimer_stats.virqs++;
    in_virq = true;
    for (uint64_t now = xen_clock_ns(); timer_head && timer_head->deadline <= now;
         now = xen_clock_ns()) {
        struct xtimer *t = timer_head;

        timer_head = t->next;
        t->next = NULL;
        t->armed = false;
        xtimer_stats.fired++;
        t->fn(t);
    }
    in_virq = false;
    /* Xen's singleshot is spent: only a remaining head needs it again. */
    if (timer_head)
        program();
}

int xtimer_init(void)
{
    evtchn_port_t port;
    long rc;

    /*
     * Xen may start a vCPU with a periodic tick on VIRQ_TIMER (100 Hz for
     * PV guests); stop it so every VIRQ_TIMER is one of ours.
     */
    rc = xen_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    if (rc)
        return (int)rc;
    rc = evtchn_bind_virq(VIRQ_TIMER, &port);
    if (rc)
        return (int)rc;
    xtimer_virq_port = port;
    rc = evtchn_bind_handler(port, timer_virq, NULL);
    if (rc)
        return (int)rc;
    timers_up = true;
    return 0;
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

    if (!timers_up)
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

    if (!timers_up)
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

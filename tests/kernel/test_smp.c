/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-tests of the secondary CPUs (docs/smp.md): every CPU the platform
 * reports runs, IPIs and cross-calls reach each CPU, per-vCPU timers and a
 * rebound event channel fire on their own CPU, a spinlock keeps a counter
 * exact under contention, its debug checks catch misuse, and a page-table
 * change followed by a shootdown is seen everywhere.
 */
#include <pvhk/arch.h>
#include <pvhk/evtchn.h>
#include <pvhk/paging.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>
#include <pvhk/vcpu.h>
#include <pvhk/xen.h>
#include <xen/errno.h>

#define MS 1000000ull

static bool has(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; s && *s; s++)
        if (!strncmp(s, word, n))
            return true;
    return false;
}

static bool need_cpus(struct ktest_ctx *t, unsigned n)
{
    if (num_online_cpus() >= n)
        return true;
    t->skip_reason = n == 2 ? "one CPU online" : "fewer CPUs online than the test needs";
    return false;
}

static bool xen_up(struct ktest_ctx *t)
{
    if (on_xen() && xen_services_up())
        return true;
    t->skip_reason = on_xen() ? "Xen services down" : "not running on Xen";
    return false;
}

/* Run fn(arg) on every online CPU at once: the others from their idle
 * loops (interrupts on), this one last; returns when all are done. */
static void run_everywhere(void (*fn)(void *), void *arg)
{
    unsigned me = smp_processor_id();

    for_each_cpu(c, &cpu_online_mask)
        if (c != me)
            smp_run_on(c, fn, arg);
    unsigned long f = local_save_flags();
    local_irq_enable();
    fn(arg);
    local_irq_restore(f);
    if (!(f & X86_EFLAGS_IF))
        local_irq_disable();
    for_each_cpu(c, &cpu_online_mask)
        if (c != me)
            smp_work_wait(c);
}

/* ---- every CPU is up ---------------------------------------------------- */

static uint32_t answered[NR_CPUS];

static void answer(void *arg)
{
    (void)arg;
    answered[smp_processor_id()] = 0x5a000000u | this_cpu()->apic_id;
}

KTEST(smp, every_cpu_up_and_answers)
{
    unsigned failed = cpumask_weight(&cpu_failed_mask);

    ktest_note(t, "%u of %u CPU(s) online (count from %s; %u reported), IPIs by %s",
               num_online_cpus(), nr_cpus, smp_count_source, nr_cpus_reported, smp_ipi_name);
    /* Only the CPU smp.hold= told to stay back may be missing. */
    KT_EXPECT(t, failed == (smp_hold_cpu && smp_hold_cpu < nr_cpus ? 1u : 0u));
    if (failed)
        KT_EXPECT(t, cpumask_test(&cpu_failed_mask, smp_hold_cpu));
    KT_EXPECT(t, num_online_cpus() + failed == nr_cpus);
    KT_EXPECT(t, nr_cpus == MIN(nr_cpus_reported, (unsigned)NR_CPUS));
    if (on_xen()) {
        /* Xen's count, asked again, and each vCPU's state by Xen. */
        KT_EXPECT(t, xen_vcpu_count(NR_CPUS + 1) == (int)nr_cpus_reported);
        for (unsigned c = 0; c < nr_cpus; c++)
            KT_EXPECT(t, xen_vcpu_is_up(c) == (cpumask_test(&cpu_failed_mask, c) ? 0 : 1));
    }
    memset(answered, 0, sizeof(answered));
    unsigned n = smp_call_function_others(answer, NULL);
    answer(NULL);
    KT_EXPECT(t, n == num_online_cpus() - 1);
    for (unsigned c = 0; c < nr_cpus; c++) {
        bool online = cpumask_test(&cpu_online_mask, c);
        KT_EXPECT(t, !online || answered[c] == (0x5a000000u | per_cpu(c)->apic_id));
        KT_EXPECT(t, online || answered[c] == 0);
    }
    /* APIC ids are distinct: each answer came from a different CPU. */
    for (unsigned a = 0; a < nr_cpus; a++)
        for (unsigned b = a + 1; b < nr_cpus; b++)
            KT_EXPECT(t, !answered[a] || answered[a] != answered[b]);
}

/* ---- IPIs and cross-calls ------------------------------------------------- */

struct ping_job { unsigned target; unsigned ok; };

static void ping_from_here(void *arg)
{
    struct ping_job *j = arg;

    j->ok = smp_ping(j->target, 2000000) ? 1 : 0;
}

KTEST(smp, ipi_ping_pong_every_pair)
{
    if (!need_cpus(t, 2))
        return;
    unsigned pairs = 0, good = 0;

    for_each_cpu(a, &cpu_online_mask)
        for_each_cpu(b, &cpu_online_mask) {
            if (a == b)
                continue;
            struct ping_job j = { b, 0 };
            /* Interrupts on here too: this CPU may be the one pinged. */
            unsigned long f = local_save_flags();
            local_irq_enable();
            if (a == smp_processor_id()) {
                ping_from_here(&j);
            } else {
                KT_EXPECT(t, smp_run_on(a, ping_from_here, &j) == 0);
                smp_work_wait(a);
            }
            if (!(f & X86_EFLAGS_IF))
                local_irq_disable();
            pairs++;
            good += j.ok;
            if (!j.ok)
                ktest_note(t, "CPU %u -> CPU %u: no pong", a, b);
        }
    KT_EXPECT(t, good == pairs);
    ktest_note(t, "%u ordered pairs, %u answered", pairs, good);
}

struct square { uint64_t in[NR_CPUS], out[NR_CPUS]; };

static void square_mine(void *arg)
{
    struct square *s = arg;
    unsigned me = smp_processor_id();

    s->out[me] = s->in[me] * s->in[me];
}

KTEST(smp, cross_call_to_all_returns_each_answer)
{
    static struct square s;

    for (unsigned c = 0; c < NR_CPUS; c++) {
        s.in[c] = 1000 + c;
        s.out[c] = 0;
    }
    unsigned n = smp_call_function_others(square_mine, &s);
    KT_EXPECT(t, n == num_online_cpus() - 1);
    for_each_cpu(c, &cpu_online_mask)
        KT_EXPECT(t, c == smp_processor_id() || s.out[c] == (1000 + c) * (1000 + c));
    /* Not online, or this CPU: refused, nothing run. */
    KT_EXPECT(t, smp_call_function_single(smp_processor_id(), square_mine, &s) == -1);
    KT_EXPECT(t, smp_call_function_single(NR_CPUS, square_mine, &s) == -1);
    KT_EXPECT(t, s.out[smp_processor_id()] == 0);
}

/* ---- per-vCPU timers -------------------------------------------------------- */

struct timer_job {
    struct xtimer tm[3];
    unsigned order[3], cpu_seen[3], n;
    bool done;
};

static void timer_fired(struct xtimer *tm)
{
    struct timer_job *j = tm->data;
    unsigned i = (unsigned)(tm - j->tm);

    j->cpu_seen[i] = smp_processor_id();
    j->order[j->n++] = i;
}

static bool timers_done(void *arg)
{
    return ((struct timer_job *)arg)->n == 3;
}

/* Armed latest-deadline first: they must fire earliest first. */
static void timer_task(void *arg)
{
    struct timer_job *j = &((struct timer_job *)arg)[smp_processor_id()];
    /* All three armed before any can fire (a slow vCPU may take longer
     * than the gaps between the deadlines to arm them). */
    unsigned long f = local_irq_save();
    uint64_t now = xen_clock_ns();

    for (unsigned i = 0; i < 3; i++)
        xtimer_setup(&j->tm[i], timer_fired, j);
    xtimer_arm(&j->tm[2], now + 9 * MS);
    xtimer_arm(&j->tm[1], now + 6 * MS);
    xtimer_arm(&j->tm[0], now + 3 * MS);
    local_irq_restore(f);
    j->done = xwait_timeout(timers_done, j, 2000 * MS);
}

KTEST(smp, per_cpu_timers_fire_on_their_cpu_in_order)
{
    static struct timer_job jobs[NR_CPUS];

    if (!xen_up(t))
        return;
    memset(jobs, 0, sizeof(jobs));
    run_everywhere(timer_task, jobs);
    for_each_cpu(c, &cpu_online_mask) {
        struct timer_job *j = &jobs[c];
        KT_EXPECT(t, j->done && j->n == 3);
        for (unsigned i = 0; i < j->n; i++) {
            KT_EXPECT(t, j->order[i] == i);
            KT_EXPECT(t, j->cpu_seen[i] == c);
        }
        if (!j->done)
            ktest_note(t, "CPU %u: %u of 3 timers fired", c, j->n);
    }
    ktest_note(t, "3 timers on each of %u CPU(s), VIRQ_TIMER ports %u..%u", num_online_cpus(),
               xtimer_cpu_port(0), xtimer_cpu_port(nr_cpus - 1));
}

/* ---- an event channel rebound to each CPU ----------------------------------- */

static struct { volatile unsigned count, cpu; } rebound_seen;

static void rebound_event(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    rebound_seen.cpu = smp_processor_id();
    __atomic_fetch_add(&rebound_seen.count, 1, __ATOMIC_SEQ_CST);
}

static bool rebound_wait(unsigned want)
{
    uint64_t end = rdtsc() + 2000ull * tsc_khz;       /* 2 s */

    while (__atomic_load_n(&rebound_seen.count, __ATOMIC_SEQ_CST) < want)
        if (rdtsc() > end)
            return false;
        else
            cpu_relax();
    return true;
}

KTEST(smp, event_channel_rebound_delivers_on_that_cpu)
{
    evtchn_port_t a, b;

    if (!xen_up(t))
        return;
    KT_ASSERT(t, evtchn_alloc_unbound(DOMID_SELF, &a) == 0);
    if (evtchn_bind_interdomain(DOMID_SELF, a, &b)) {
        evtchn_close(a);
        KT_ASSERT(t, false);
    }
    rebound_seen.count = 0;
    KT_EXPECT(t, evtchn_bind_handler(a, rebound_event, NULL) == 0);
    unsigned n = 0;
    unsigned long f = local_irq_save();
    local_irq_enable();
    for_each_cpu(c, &cpu_online_mask) {
        int rc = evtchn_bind_vcpu(a, c);
        KT_EXPECT(t, rc == 0);
        KT_EXPECT(t, evtchn_port_cpu(a) == c);
        KT_EXPECT(t, evtchn_send(b) == 0);
        n++;
        bool got = rebound_wait(n);
        KT_EXPECT(t, got);
        KT_EXPECT(t, !got || rebound_seen.cpu == c);
        if (!got || rebound_seen.cpu != c)
            ktest_note(t, "bound to CPU %u (rc %d): %s on CPU %u", c, rc,
                       got ? "delivered" : "not delivered", rebound_seen.cpu);
        n = rebound_seen.count;
    }
    local_irq_restore(f);
    if (!(f & X86_EFLAGS_IF))
        local_irq_disable();
    /* Back to vCPU 0 before the port goes. */
    KT_EXPECT(t, evtchn_bind_vcpu(a, 0) == 0);
    evtchn_close(b);
    evtchn_close(a);
    /* An IPI port stays with its vCPU: Xen refuses to move it. */
    if (xen_ipi_port(0))
        KT_EXPECT(t, evtchn_bind_vcpu(xen_ipi_port(0), 0) == -XEN_EINVAL);
}

/* ---- spinlocks --------------------------------------------------------------- */

/* About 1200 lock hand-overs in all: enough contention, and bounded even
 * with many more vCPUs than host cores. */
#define COUNT_TOTAL 1200
static unsigned count_iters;

static DEFINE_SPINLOCK(counter_lock);
static volatile uint64_t counter;
static unsigned count_arrived;

static void count_up(void *arg)
{
    (void)arg;
    /* Start together, so the CPUs really contend. */
    __atomic_fetch_add(&count_arrived, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&count_arrived, __ATOMIC_SEQ_CST) < num_online_cpus())
        cpu_relax();
    for (unsigned i = 0; i < count_iters; i++) {
        unsigned long f = spin_lock_irqsave(&counter_lock);
        /* A plain read-modify-write with a window in the middle: without
         * the lock, increments from other CPUs land in it and are lost. */
        uint64_t v = counter;
        for (unsigned k = 0; k < 16; k++)
            cpu_relax();
        counter = v + 1;
        spin_unlock_irqrestore(&counter_lock, f);
    }
}

KTEST(smp, spinlock_counter_exact_from_every_cpu)
{
    counter = 0;
    count_arrived = 0;
    count_iters = MAX(30u, COUNT_TOTAL / num_online_cpus());
    uint64_t t0 = rdtsc();
    run_everywhere(count_up, NULL);
    uint64_t want = (uint64_t)count_iters * num_online_cpus();
    KT_EXPECT(t, counter == want);
    KT_EXPECT(t, !spin_is_locked(&counter_lock));
    ktest_note(t, "%llu increments from %u CPU(s) in %llu us, counter %llu",
               (unsigned long long)want, num_online_cpus(),
               (unsigned long long)(tsc_to_ns(rdtsc() - t0) / 1000),
               (unsigned long long)counter);
}

static DEFINE_SPINLOCK(debug_lock);

static void lock_in_irq(void *arg)
{
    spinlock_t *l = arg;

    /* A cross-call runs in the IPI handler: interrupt context. */
    if (spin_lock(l))
        spin_unlock(l);
}

KTEST(smp, spinlock_debug_catches_recursion_and_irq_misuse)
{
    struct percpu *me = this_cpu();
    unsigned long f = local_irq_save();

    me->spin_catch = true;
    me->spin_error = NULL;
    KT_EXPECT(t, spin_lock(&debug_lock));
    /* The same CPU again: reported, not taken (it would spin forever). */
    KT_EXPECT(t, !spin_lock(&debug_lock));
    KT_EXPECT(t, me->spin_error && has(me->spin_error, "recursive"));
    spin_unlock(&debug_lock);
    me->spin_error = NULL;
    spin_unlock(&debug_lock);           /* not held: reported */
    KT_EXPECT(t, me->spin_error && has(me->spin_error, "does not hold"));
    me->spin_error = NULL;
    me->spin_catch = false;
    local_irq_restore(f);

    if (!need_cpus(t, 2))
        return;
    static spinlock_t mixed = SPINLOCK_INIT("mixed");
    unsigned other = cpumask_next(&cpu_online_mask, 1);
    /* Taken inside an interrupt handler on another CPU... */
    KT_EXPECT(t, smp_call_function_single(other, lock_in_irq, &mixed) == 0);
    KT_EXPECT(t, mixed.used_in_irq);
    /* ...then here with interrupts enabled: reported. */
    f = local_irq_save();
    local_irq_enable();
    me->spin_catch = true;
    me->spin_error = NULL;
    bool took = spin_lock(&mixed);
    me->spin_catch = false;
    local_irq_restore(f);
    if (!(f & X86_EFLAGS_IF))
        local_irq_disable();
    KT_EXPECT(t, !took);
    KT_EXPECT(t, me->spin_error && has(me->spin_error, "interrupt handler"));
    if (took)
        spin_unlock(&mixed);
}

/* ---- TLB shootdown ------------------------------------------------------------ */

static uint64_t shoot_page[512] __aligned(4096);

struct shoot { uint64_t va; unsigned wrote[NR_CPUS], faulted[NR_CPUS]; uint64_t err[NR_CPUS]; };

static void write_va(void *arg)
{
    volatile uint64_t *p = arg;
    *p = *p + 1;
}

/* Write through the test mapping, catching a fault. */
static void try_write(void *arg)
{
    struct shoot *s = arg;
    struct caught_trap ct;
    unsigned me = smp_processor_id();

    if (trap_try(write_va, (void *)(uintptr_t)s->va, &ct)) {
        s->faulted[me] = ct.vector;
        s->err[me] = ct.error_code;
    } else {
        s->wrote[me]++;
    }
}

KTEST(smp, shootdown_makes_every_cpu_see_the_change)
{
    static struct shoot s;
    uint64_t va = VMAP_TEST;

    memset(&s, 0, sizeof(s));
    memset(shoot_page, 0, sizeof(shoot_page));
    s.va = va;
    KT_ASSERT(t, paging_map_4k(va, (uint64_t)(uintptr_t)shoot_page, PTE_W | PTE_NX) == 0);
    tlb_shootdown(va, 1);
    /* Every CPU writes: each now holds the writable translation. */
    smp_call_function_others(try_write, &s);
    try_write(&s);
    for_each_cpu(c, &cpu_online_mask)
        KT_EXPECT(t, s.wrote[c] == 1 && !s.faulted[c]);
    KT_EXPECT(t, shoot_page[0] == num_online_cpus());

    /* Read-only, then the shootdown: a write must fault everywhere. */
    KT_ASSERT(t, paging_set_4k(va, PTE_NX) == 0);
    tlb_shootdown(va, 1);
    smp_call_function_others(try_write, &s);
    try_write(&s);
    for_each_cpu(c, &cpu_online_mask) {
        KT_EXPECT(t, s.wrote[c] == 1);
        KT_EXPECT(t, s.faulted[c] == X86_EXC_PF);
        KT_EXPECT(t, (s.err[c] & (PFEC_PRESENT | PFEC_WRITE)) == (PFEC_PRESENT | PFEC_WRITE));
    }
    KT_EXPECT(t, shoot_page[0] == num_online_cpus());
    paging_unmap_4k(va);
    tlb_shootdown(va, 1);
    ktest_note(t, "%u CPU(s) wrote, then faulted after the shootdown", num_online_cpus());
}

/* ---- parking and restarting a vCPU (what vCPU hotplug does) ------------------- */

/*
 * The path `xl vcpu-set` takes once the cpu/<id>/availability watch fires
 * (xen/vcpu_hotplug.c): the CPU parks itself with VCPUOP_down, Xen has it
 * down, cross-calls leave it out; VCPUOP_up resumes it and it answers
 * again. (The guest cannot write those nodes itself: they are the
 * toolstack's, EACCES to it, so the test calls the parking directly.)
 */
KTEST(smp, vcpu_parked_and_restarted)
{
    if (!xen_up(t) || !need_cpus(t, 2))
        return;
    unsigned cpu = 0;
    for_each_cpu(c, &cpu_online_mask)
        cpu = c;

    KT_ASSERT(t, smp_cpu_park(cpu) == 0);
    KT_EXPECT(t, smp_cpu_parked(cpu));
    KT_EXPECT(t, !cpumask_test(&cpu_online_mask, cpu));
    uint64_t end = rdtsc() + 2000ull * tsc_khz;
    while (xen_vcpu_is_up(cpu) == 1 && rdtsc() < end)
        cpu_relax();
    KT_EXPECT(t, xen_vcpu_is_up(cpu) == 0);
    memset(answered, 0, sizeof(answered));
    KT_EXPECT(t, smp_call_function_single(cpu, answer, NULL) == -1);
    KT_EXPECT(t, smp_call_function_others(answer, NULL) == num_online_cpus() - 1);
    KT_EXPECT(t, answered[cpu] == 0);
    /* Parked already: a second park is refused. */
    KT_EXPECT(t, smp_cpu_park(cpu) == -1);

    KT_ASSERT(t, smp_cpu_unpark(cpu) == 0);
    KT_EXPECT(t, cpumask_test(&cpu_online_mask, cpu) && !smp_cpu_parked(cpu));
    KT_EXPECT(t, xen_vcpu_is_up(cpu) == 1);
    KT_EXPECT(t, smp_call_function_single(cpu, answer, NULL) == 0);
    KT_EXPECT(t, answered[cpu] == (0x5a000000u | per_cpu(cpu)->apic_id));
    /* Its IPI and timer still work after the restart. */
    unsigned long f = local_save_flags();
    local_irq_enable();
    KT_EXPECT(t, smp_ping(cpu, 2000000));
    if (!(f & X86_EFLAGS_IF))
        local_irq_disable();
    KT_EXPECT(t, smp_cpu_unpark(0) == -1 && smp_cpu_park(0) == -1);
    ktest_note(t, "CPU %u parked (VCPUOP_down) and restarted (VCPUOP_up)", cpu);
}

/* ---- a panic on another CPU (opt-in: the run ends with ERROR) ---------------- */

static void panic_here(void *arg)
{
    (void)arg;
    panic("deliberate panic on a secondary CPU");
}

KTEST_OPTIN(smp, deliberate_ap_panic, "selftest.ap_panic")
{
    if (!need_cpus(t, 2))
        return;
    smp_call_function_single(cpumask_next(&cpu_online_mask, 1), panic_here, NULL);
    KT_EXPECT(t, false);        /* not reached: the panic ends the run */
}

/* ---- figures (make bench: selftest=smp smp.bench=1) --------------------------- */

static void noop(void *arg)
{
    (void)arg;
}

/* One IPI to this CPU, sent and handled (interrupts on): the reference. */
static bool self_ipi(void)
{
    struct percpu *me = this_cpu();
    uint64_t pongs = __atomic_load_n(&me->pongs, __ATOMIC_SEQ_CST);
    uint64_t end = rdtsc() + 1000ull * tsc_khz;

    smp_send_ipi(me->cpu, IPI_PONG);
    while (__atomic_load_n(&me->pongs, __ATOMIC_SEQ_CST) == pongs)
        if (rdtsc() > end)
            return false;
        else
            cpu_relax();
    return true;
}

static void ratio(char *buf, size_t len, uint64_t v, uint64_t ref)
{
    if (!ref)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%llu.%02llux", (unsigned long long)(v / ref),
                 (unsigned long long)(v % ref * 100 / ref));
}

KTEST_OPTIN(smp, bench_figures, "smp.bench")
{
    enum { N = 200 };
    char r[32];
    unsigned long f = local_save_flags();

    local_irq_enable();
    uint64_t t0 = rdtsc();
    unsigned ok = 0;
    for (unsigned i = 0; i < N; i++)
        ok += self_ipi();
    uint64_t ref = ok ? tsc_to_ns(rdtsc() - t0) / ok : 0;
    printk("    # bench smp reference: IPI to self (%s), sent and handled: %llu ns (%u of %u)\n",
           smp_ipi_name, (unsigned long long)ref, ok, N);

    uint64_t sum = 0;
    unsigned n = 0;
    for (unsigned c = 1; c < nr_cpus; c++) {
        if (!smp_bringup_ns[c])
            continue;
        sum += smp_bringup_ns[c];
        n++;
        ratio(r, sizeof(r), smp_bringup_ns[c], ref);
        printk("    # bench smp bring-up CPU %u: %llu us (%s the reference)\n", c,
               (unsigned long long)(smp_bringup_ns[c] / 1000), r);
    }
    if (n) {
        ratio(r, sizeof(r), sum / n, ref);
        printk("    # bench smp bring-up per CPU, mean of %u: %llu us (%s)\n", n,
               (unsigned long long)(sum / n / 1000), r);
    }
    for_each_cpu(c, &cpu_online_mask) {
        if (c == smp_processor_id())
            continue;
        t0 = rdtsc();
        ok = 0;
        for (unsigned i = 0; i < N; i++)
            ok += smp_ping(c, 1000000);
        uint64_t rt = ok ? tsc_to_ns(rdtsc() - t0) / ok : 0;
        ratio(r, sizeof(r), rt, ref);
        printk("    # bench smp IPI round trip CPU %u -> %u -> %u: %llu ns (%s), %u of %u\n",
               smp_processor_id(), c, smp_processor_id(), (unsigned long long)rt, r, ok, N);
        KT_EXPECT(t, ok == N);
    }
    if (num_online_cpus() > 1) {
        t0 = rdtsc();
        for (unsigned i = 0; i < N; i++)
            smp_call_function_others(noop, NULL);
        uint64_t cc = tsc_to_ns(rdtsc() - t0) / N;
        ratio(r, sizeof(r), cc, ref);
        printk("    # bench smp cross-call to all %u other CPU(s): %llu ns (%s)\n",
               num_online_cpus() - 1, (unsigned long long)cc, r);
    }
    if (!(f & X86_EFLAGS_IF))
        local_irq_disable();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Secondary CPUs (include/pvhk/smp.h): preparing and entering one, its idle
 * loop, IPIs, cross-CPU calls, idle work, TLB shootdown, and stopping the
 * others when the run breaks. How a CPU is started (VCPUOP_up or
 * INIT-SIPI-SIPI) and how many there are is the platform's business
 * (common/smp_boot.c); everything here is common to both.
 */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/mm.h>
#include <pvhk/lapic.h>
#include <pvhk/paging.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/report.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>

#define STACK_PAGES     4               /* 16 KiB, like the boot stack */
#define STACK_SLOT      (8 * PAGE_SIZE) /* per CPU in VMAP_STACKS: guard, stack, gap */
#define CALL_TIMEOUT_US 5000000         /* a cross-call not answered by then is a bug */
#define UP_PARK_TIMEOUT_US 3000000      /* parking or restarting a CPU */

cpumask_t cpu_online_mask, cpu_failed_mask;
unsigned nr_cpus = 1, nr_cpus_reported = 1;
const char *smp_count_source = "boot CPU only";
const char *smp_ipi_name = "none";

static void (*ipi_sender)(unsigned cpu);
static void (*ap_hook)(unsigned cpu);
static void (*park_self)(unsigned cpu);
static int (*restart_cpu)(unsigned cpu);

/* Per CPU: 0 being started, 1 online, 2 given up by the boot CPU. */
static uint32_t start_state[NR_CPUS];

/*
 * The AP's first instructions in 64-bit mode: %rsp is its own stack, %rdi
 * its number. Kept in this file so the entry and ap_start() are one object.
 */
__asm__(
    ".text\n"
    ".globl ap_entry64\n"
    "ap_entry64:\n\t"
    "xor %ebp, %ebp\n\t"
    "call ap_start\n"
    "1:\tcli\n\thlt\n\tjmp 1b\n");

/* ---- IPIs ---------------------------------------------------------------- */

void smp_set_ipi_sender(void (*send)(unsigned cpu), const char *name)
{
    ipi_sender = send;
    smp_ipi_name = name;
}

void smp_send_ipi(unsigned cpu, unsigned kind)
{
    __atomic_fetch_or(&per_cpu(cpu)->ipi_pending, 1u << kind, __ATOMIC_SEQ_CST);
    ipi_sender(cpu);
}

static struct {
    void (*fn)(void *);
    void *arg;
    cpumask_t todo;
} call;
static spinlock_t call_lock = SPINLOCK_INIT("cross-call");

/* Run the cross-call if this CPU is one of its targets. */
static void run_pending_call(void)
{
    unsigned me = smp_processor_id();

    if (!cpumask_test(&call.todo, me))
        return;
    call.fn(call.arg);
    cpumask_clear_cpu(&call.todo, me);
}

void smp_ipi_handle(void)
{
    struct percpu *me = this_cpu();
    uint32_t p = __atomic_exchange_n(&me->ipi_pending, 0, __ATOMIC_ACQ_REL);

    __atomic_fetch_add(&me->ipis, 1, __ATOMIC_RELAXED);
    if (p & (1u << IPI_CALL))
        run_pending_call();
    if (p & (1u << IPI_PING)) {
        uint64_t from = __atomic_exchange_n(&me->ping_from, 0, __ATOMIC_ACQ_REL);
        for (unsigned c = 0; from; c++, from >>= 1)
            if (from & 1)
                smp_send_ipi(c, IPI_PONG);
    }
    if (p & (1u << IPI_PONG))
        __atomic_fetch_add(&me->pongs, 1, __ATOMIC_SEQ_CST);
}

/* Bare (and Xen before its event channels): a LAPIC fixed IPI. */
static void lapic_ipi_send(unsigned cpu)
{
    lapic_send(per_cpu(cpu)->apic_id, APIC_DM_FIXED | LAPIC_IPI_VECTOR);
}

static void lapic_ipi_irq(struct trap_frame *f)
{
    (void)f;
    lapic_eoi();
    smp_ipi_handle();
}

/* ---- cross-CPU calls ------------------------------------------------------- */

static uint64_t us_to_tsc(uint64_t us)
{
    return us * (tsc_khz ? tsc_khz : 1000000) / 1000;
}

static unsigned call_many(const cpumask_t *targets, void (*fn)(void *), void *arg)
{
    unsigned me = smp_processor_id(), n = 0;
    unsigned long flags = local_irq_save();

    /* Waiting for the lock, still answer the call its holder may be
     * making to us. */
    unsigned spins = 0;
    while (!raw_spin_trylock(&call_lock)) {
        run_pending_call();
        spin_backoff(&spins);
    }
    call.fn = fn;
    call.arg = arg;
    for_each_cpu(c, targets)
        if (c != me && cpumask_test(&cpu_online_mask, c)) {
            cpumask_set(&call.todo, c);
            n++;
        }
    for_each_cpu(c, &call.todo)
        smp_send_ipi(c, IPI_CALL);
    uint64_t deadline = rdtsc() + us_to_tsc(CALL_TIMEOUT_US);
    while (cpumask_weight(&call.todo)) {
        if (rdtsc() > deadline)
            panic("smp: CPU %u did not run a cross-call within %u ms",
                  cpumask_next(&call.todo, 0), CALL_TIMEOUT_US / 1000);
        spin_backoff(&spins);
    }
    raw_spin_unlock(&call_lock);
    local_irq_restore(flags);
    return n;
}

int smp_call_function_single(unsigned cpu, void (*fn)(void *), void *arg)
{
    cpumask_t m = { { 0 } };

    if (cpu >= NR_CPUS || cpu == smp_processor_id() || !cpumask_test(&cpu_online_mask, cpu))
        return -1;
    cpumask_set(&m, cpu);
    return call_many(&m, fn, arg) == 1 ? 0 : -1;
}

unsigned smp_call_function_others(void (*fn)(void *), void *arg)
{
    return call_many(&cpu_online_mask, fn, arg);
}

/* ---- idle work, ping --------------------------------------------------------- */

int smp_run_on(unsigned cpu, void (*fn)(void *), void *arg)
{
    uint32_t idle = 0;

    if (cpu >= NR_CPUS || cpu == smp_processor_id() || !cpumask_test(&cpu_online_mask, cpu))
        return -1;
    struct percpu *p = per_cpu(cpu);
    /* Claim the slot (3 while filling it in), then post it. */
    if (!__atomic_compare_exchange_n(&p->work_state, &idle, 3, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return -1;
    p->work_fn = fn;
    p->work_arg = arg;
    __atomic_store_n(&p->work_state, 1, __ATOMIC_RELEASE);
    smp_send_ipi(cpu, IPI_WAKE);
    return 0;
}

void smp_work_wait(unsigned cpu)
{
    unsigned n = 0;

    while (__atomic_load_n(&per_cpu(cpu)->work_state, __ATOMIC_ACQUIRE)) {
        run_pending_call();
        spin_backoff(&n);
    }
}

bool smp_ping(unsigned cpu, uint64_t timeout_us)
{
    struct percpu *me = this_cpu();
    uint64_t pongs = __atomic_load_n(&me->pongs, __ATOMIC_SEQ_CST);
    uint64_t deadline = rdtsc() + us_to_tsc(timeout_us);

    __atomic_fetch_or(&per_cpu(cpu)->ping_from, 1ull << me->cpu, __ATOMIC_SEQ_CST);
    smp_send_ipi(cpu, IPI_PING);
    while (__atomic_load_n(&me->pongs, __ATOMIC_SEQ_CST) == pongs) {
        if (rdtsc() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

/* ---- TLB shootdown --------------------------------------------------------------- */

struct flush_req { uint64_t va, pages; };

static void flush_local(void *arg)
{
    const struct flush_req *r = arg;

    if (!r->pages || r->pages > 64) {
        write_cr3(read_cr3());
        return;
    }
    for (uint64_t i = 0; i < r->pages; i++)
        invlpg(r->va + i * PAGE_SIZE);
}

void tlb_shootdown(uint64_t va, uint64_t pages)
{
    struct flush_req r = { va, pages };

    flush_local(&r);
    if (num_online_cpus() > 1)
        smp_call_function_others(flush_local, &r);
}

/* ---- stopping the others ----------------------------------------------------------- */

static bool stopping;
static cpumask_t stopped;

static bool stop_nmi(struct trap_frame *f)
{
    (void)f;
    if (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
        return false;
    cpumask_set(&stopped, smp_processor_id());
    halt_forever();
    return true;
}

void smp_stop_others(void)
{
    unsigned others = num_online_cpus() - 1;

    if (!others)
        return;
    __atomic_store_n(&stopping, true, __ATOMIC_SEQ_CST);
    lapic_send(0, APIC_DM_NMI | APIC_DEST_OTHERS);
    /* Bounded: a CPU that does not stop must not keep the verdict back. */
    uint64_t deadline = rdtsc() + us_to_tsc(200000);
    while (cpumask_weight(&stopped) < others && rdtsc() < deadline)
        cpu_relax();
    printk("pvhk: smp: CPU %u stopped %u of %u other CPU(s)\n", smp_processor_id(),
           cpumask_weight(&stopped), others);
}

/* ---- bring-up -------------------------------------------------------------------------- */

void smp_boot_cpu_init(void)
{
    struct percpu *me = this_cpu();

    if (!xen_cpuid_base)
        pic_disable();
    lapic_init();
    me->apic_id = lapic_id();
    me->stack_top = (uint64_t)(uintptr_t)boot_stack_top;
    trap_set_irq_handler(LAPIC_IPI_VECTOR, lapic_ipi_irq);
    trap_set_nmi_handler(stop_nmi);
    smp_set_ipi_sender(lapic_ipi_send, "local APIC");
    cpumask_set(&cpu_online_mask, 0);
    report_set_stop_others(smp_stop_others);
}

int smp_prepare_cpu(unsigned cpu)
{
    struct percpu *p = per_cpu(cpu);
    uint64_t slot = VMAP_STACKS + cpu * STACK_SLOT;
    uint8_t *stack = alloc_pages(2, 0);         /* STACK_PAGES */
    uint8_t *ist = alloc_pages(3, 0);           /* 3 IST stacks, 8 KiB each */

    _Static_assert(STACK_PAGES == 4 && 3 * IST_STACK_SIZE <= 8 * PAGE_SIZE, "orders above");
    if (!stack || !ist) {
        if (stack)
            free_pages(stack, 2);
        if (ist)
            free_pages(ist, 3);
        return -1;
    }
    /* The guard page at slot + 0 stays unmapped: an overflow faults. */
    for (unsigned i = 0; i < STACK_PAGES; i++)
        if (paging_map_4k(slot + (i + 1) * PAGE_SIZE,
                          (uint64_t)(uintptr_t)stack + i * PAGE_SIZE, PTE_W | PTE_NX))
            return -1;
    memset(p, 0, sizeof(*p));
    p->stack_top = slot + (STACK_PAGES + 1) * PAGE_SIZE;
    desc_setup_cpu(cpu, ist);
    __atomic_store_n(&start_state[cpu], 0, __ATOMIC_SEQ_CST);
    return 0;
}

void smp_set_ap_hook(void (*fn)(unsigned cpu))
{
    ap_hook = fn;
}

/* ---- parking (vCPU hotplug) ------------------------------------------------------------ */

void smp_set_park_ops(void (*park)(unsigned cpu), int (*restart)(unsigned cpu))
{
    park_self = park;
    restart_cpu = restart;
}

/*
 * On the CPU being parked, interrupts off. It leaves cpu_online_mask while
 * holding the cross-call lock (answering calls meanwhile), so every call
 * either finished with it or will not aim at it; then the platform takes
 * it down, returning here once it is restarted.
 */
static void park(void)
{
    struct percpu *me = this_cpu();

    while (!raw_spin_trylock(&call_lock)) {
        run_pending_call();
        cpu_relax();
    }
    run_pending_call();
    cpumask_clear_cpu(&cpu_online_mask, me->cpu);
    raw_spin_unlock(&call_lock);
    __atomic_store_n(&me->park_state, 2, __ATOMIC_SEQ_CST);
    park_self(me->cpu);
    /* Restarted: back where we were. */
    __atomic_store_n(&me->park_state, 0, __ATOMIC_SEQ_CST);
    cpumask_set(&cpu_online_mask, me->cpu);
}

int smp_cpu_park(unsigned cpu)
{
    uint32_t running = 0;

    if (!park_self || !cpu || cpu >= NR_CPUS || cpu == smp_processor_id() ||
        !cpumask_test(&cpu_online_mask, cpu))
        return -1;
    struct percpu *p = per_cpu(cpu);
    if (!__atomic_compare_exchange_n(&p->park_state, &running, 1, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        return -1;
    smp_send_ipi(cpu, IPI_WAKE);
    uint64_t deadline = rdtsc() + us_to_tsc(UP_PARK_TIMEOUT_US);
    while (__atomic_load_n(&p->park_state, __ATOMIC_SEQ_CST) != 2) {
        if (rdtsc() > deadline)
            return -1;
        run_pending_call();
        cpu_relax();
    }
    return 0;
}

bool smp_cpu_parked(unsigned cpu)
{
    return cpu < NR_CPUS && __atomic_load_n(&per_cpu(cpu)->park_state, __ATOMIC_SEQ_CST) == 2;
}

int smp_cpu_unpark(unsigned cpu)
{
    if (!restart_cpu || !smp_cpu_parked(cpu))
        return -1;
    int rc = restart_cpu(cpu);
    if (rc)
        return rc;
    uint64_t deadline = rdtsc() + us_to_tsc(UP_PARK_TIMEOUT_US);
    while (!cpumask_test(&cpu_online_mask, cpu)) {
        if (rdtsc() > deadline)
            return -1;
        cpu_relax();
    }
    return 0;
}

static __noreturn void idle_loop(void)
{
    struct percpu *me = this_cpu();

    for (;;) {
        local_irq_disable();
        if (__atomic_load_n(&me->park_state, __ATOMIC_ACQUIRE) == 1) {
            park();
            continue;
        }
        if (__atomic_load_n(&me->work_state, __ATOMIC_ACQUIRE) == 1) {
            __atomic_store_n(&me->work_state, 2, __ATOMIC_RELAXED);
            local_irq_enable();
            me->work_fn(me->work_arg);
            local_irq_disable();
            __atomic_store_n(&me->work_state, 0, __ATOMIC_RELEASE);
            continue;
        }
        /* sti's shadow covers hlt: an interrupt cannot slip in between
         * the check above and the halt (under Xen, HLT blocks the vCPU
         * until an event, the same guarantee). */
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

/* From ap_entry64, on the AP's own stack. */
__noreturn void ap_start(unsigned cpu);
__noreturn void ap_start(unsigned cpu)
{
    uint32_t starting = 0;

    percpu_init(cpu);
    this_cpu()->boot_tsc = rdtsc();
    desc_load_cpu(cpu);
    lapic_init();
    this_cpu()->apic_id = lapic_id();
    if (ap_hook)
        ap_hook(cpu);
    if (!__atomic_compare_exchange_n(&start_state[cpu], &starting, 1, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        /* The boot CPU gave up on us: stay out of the way. */
        printk("pvhk: smp: CPU %u came up after the boot CPU gave up on it; parked\n", cpu);
        halt_forever();
    }
    cpumask_set(&cpu_online_mask, cpu);
    idle_loop();
}

bool smp_wait_online(unsigned cpu, uint64_t timeout_us)
{
    uint64_t deadline = rdtsc() + us_to_tsc(timeout_us);
    uint32_t starting = 0;

    while (rdtsc() < deadline)
        if (cpumask_test(&cpu_online_mask, cpu))
            return true;
        else
            cpu_relax();
    /* Give up, unless it made it at the last moment. */
    if (__atomic_compare_exchange_n(&start_state[cpu], &starting, 2, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        cpumask_set(&cpu_failed_mask, cpu);
        return false;
    }
    while (!cpumask_test(&cpu_online_mask, cpu))
        cpu_relax();
    return true;
}

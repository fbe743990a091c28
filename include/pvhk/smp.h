/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPUs: numbering, the per-CPU area, CPU masks, cross-CPU calls, TLB
 * shootdown and stopping the others (docs/smp.md).
 *
 * CPU numbers are dense, 0 .. nr_cpus - 1, 0 the boot CPU. On Xen CPU n is
 * vCPU n; bare, CPU n is the n-th enabled processor of the ACPI MADT (the
 * boot CPU first). Each CPU's GS base points at its struct percpu, whose
 * first field points at itself, so this_cpu() is one %gs-relative load.
 */
#ifndef PVHK_SMP_H
#define PVHK_SMP_H

#define NR_CPUS         64

/* Offsets used from assembly (checked by static asserts in arch/percpu.c). */
#define PERCPU_SELF         0
#define PERCPU_CPU          8
#define PERCPU_TRAP_CATCH   16

#ifndef __ASSEMBLY__
#include <pvhk/types.h>

/* What trap_try() parks (arch/trap_try.S: offsets fixed there). */
struct trap_catch_state {
    uint64_t rsp, rbx, rbp, r12, r13, r14, r15;
    struct caught_trap *info;
    uint64_t armed;
};

/* IPI kinds (bits of percpu.ipi_pending). */
enum {
    IPI_CALL,       /* run the pending cross-CPU call */
    IPI_PING,       /* answer with IPI_PONG to every CPU in ping_from */
    IPI_PONG,       /* count a pong */
    IPI_WAKE,       /* nothing: leave hlt and look for idle work */
    IPI_NR
};

struct percpu {
    struct percpu *self;            /* PERCPU_SELF */
    uint32_t cpu;                   /* PERCPU_CPU */
    uint32_t irq_depth;             /* interrupt handlers running (nested) */
    struct trap_catch_state trap_catch;     /* PERCPU_TRAP_CATCH */
    uint32_t apic_id;               /* local APIC id (x2APIC id when in use) */
    uint32_t vcpu_id;               /* Xen's vCPU id (= cpu) */
    uint64_t stack_top;             /* the CPU's kernel stack */
    void *vcpu_info;                /* Xen: this vCPU's struct vcpu_info */
    uint32_t ipi_pending;           /* 1 << IPI_* (atomic) */
    uint64_t ping_from;             /* CPUs awaiting a pong (atomic) */
    uint64_t pongs;                 /* IPI_PONG received (atomic) */
    uint64_t ipis;                  /* IPI handler runs */
    /* Idle work (smp_run_on): set by another CPU, run by the idle loop. */
    void (*work_fn)(void *arg);
    void *work_arg;
    uint32_t work_state;            /* 0 idle, 1 queued, 2 running */
    uint32_t park_state;            /* 0 running, 1 asked to park, 2 parked */
    /* Spinlock debug checks: a self-test may catch a report instead of a panic. */
    bool spin_catch;
    const char *spin_error;
    uint64_t boot_tsc;              /* AP: when it reached C (rdtsc) */
} __aligned(64);

extern struct percpu percpu_area[NR_CPUS];

#ifndef PVHK_HOST
static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    /* volatile: never moved above percpu_init() (the GS base write). */
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

static inline unsigned smp_processor_id(void)
{
    unsigned cpu;
    __asm__ volatile("movl %%gs:8, %0" : "=r"(cpu));
    return cpu;
}
#endif

static inline struct percpu *per_cpu(unsigned cpu)
{
    return &percpu_area[cpu];
}

/* Point this CPU's GS base at percpu_area[cpu] (filled in first). */
void percpu_init(unsigned cpu);

/* ---- CPU masks ----------------------------------------------------------- */

typedef struct { uint64_t bits[(NR_CPUS + 63) / 64]; } cpumask_t;

static inline void cpumask_set(cpumask_t *m, unsigned cpu)
{
    __atomic_fetch_or(&m->bits[cpu / 64], 1ull << (cpu % 64), __ATOMIC_SEQ_CST);
}

static inline void cpumask_clear_cpu(cpumask_t *m, unsigned cpu)
{
    __atomic_fetch_and(&m->bits[cpu / 64], ~(1ull << (cpu % 64)), __ATOMIC_SEQ_CST);
}

static inline bool cpumask_test(const cpumask_t *m, unsigned cpu)
{
    return cpu < NR_CPUS &&
           (__atomic_load_n(&m->bits[cpu / 64], __ATOMIC_SEQ_CST) >> (cpu % 64) & 1);
}

static inline unsigned cpumask_weight(const cpumask_t *m)
{
    unsigned n = 0;
    /* No libgcc: count bits by clearing the lowest set one. */
    for (unsigned i = 0; i < ARRAY_SIZE(m->bits); i++)
        for (uint64_t w = __atomic_load_n(&m->bits[i], __ATOMIC_SEQ_CST); w; w &= w - 1)
            n++;
    return n;
}

/* The first CPU in m at or after cpu, or NR_CPUS. */
static inline unsigned cpumask_next(const cpumask_t *m, unsigned cpu)
{
    for (; cpu < NR_CPUS; cpu++)
        if (cpumask_test(m, cpu))
            return cpu;
    return NR_CPUS;
}

#define for_each_cpu(c, m) \
    for (unsigned c = cpumask_next((m), 0); c < NR_CPUS; c = cpumask_next((m), c + 1))

/* ---- the CPUs ------------------------------------------------------------ */

extern cpumask_t cpu_online_mask;   /* running and taking IPIs */
extern unsigned nr_cpus;            /* CPUs the platform reports (<= NR_CPUS) */
extern unsigned nr_cpus_reported;   /* before clamping to NR_CPUS */
extern const char *smp_count_source;
extern cpumask_t cpu_failed_mask;   /* reported but did not come up in time */

static inline unsigned num_online_cpus(void) { return cpumask_weight(&cpu_online_mask); }

/* ---- IPIs, cross-CPU calls, idle work (arch/smp.c) ------------------------ */

/* How the platform delivers an IPI to cpu (LAPIC vector or event channel). */
void smp_set_ipi_sender(void (*send)(unsigned cpu), const char *name);
extern const char *smp_ipi_name;
/* Post IPI kind to cpu and interrupt it. */
void smp_send_ipi(unsigned cpu, unsigned kind);
/* The receiving side: every IPI handler calls this (interrupts disabled). */
void smp_ipi_handle(void);

/*
 * Run fn(arg) on cpu (online, not this CPU), in its IPI handler with
 * interrupts disabled, and wait until it returned. 0, or -1 for a CPU that
 * is not online. Calls are serialised; a CPU waiting here still runs the
 * calls aimed at it, so two CPUs calling each other cannot deadlock.
 */
int smp_call_function_single(unsigned cpu, void (*fn)(void *), void *arg);
/* The same on every online CPU but this one; returns how many ran it. */
unsigned smp_call_function_others(void (*fn)(void *), void *arg);

/*
 * Run fn(arg) on cpu's idle loop, interrupts enabled (so fn may wait for
 * interrupts, timers and IPIs), and return at once; smp_work_wait() waits
 * for it to finish. -1 if cpu is not online, is this CPU, or has work queued.
 */
int smp_run_on(unsigned cpu, void (*fn)(void *), void *arg);
void smp_work_wait(unsigned cpu);

/* IPI_PING to cpu, wait for its IPI_PONG (interrupts must be enabled);
 * false after timeout_us. */
bool smp_ping(unsigned cpu, uint64_t timeout_us);

/*
 * After a change to pvhk's page tables: invalidate [va, va + pages pages)
 * on this CPU and, by cross-call, on every other online CPU; returns when
 * all have. pages 0 flushes the whole TLB (CR3 reload).
 */
void tlb_shootdown(uint64_t va, uint64_t pages);

/* ---- bring-up --------------------------------------------------------------- */

/*
 * The boot CPU: percpu_init(0) and, once heap and descriptors exist,
 * smp_boot_cpu_init() (LAPIC, IPI handler).
 */
void smp_boot_cpu_init(void);
/* Per-AP preparation by the boot CPU: stack with a guard page, IST stacks,
 * descriptors. 0 or -1 (no memory). */
int smp_prepare_cpu(unsigned cpu);
/* The 64-bit entry of an AP (arch/smp_entry.S): rdi = CPU number, rsp =
 * per_cpu(cpu)->stack_top, paging and long mode as on the boot CPU. */
extern const char ap_entry64[];
/* Called by each AP once its descriptors and LAPIC are up, before it
 * reports itself online (the Xen per-vCPU set-up, for instance). */
void smp_set_ap_hook(void (*fn)(unsigned cpu));
/* Wait until cpu is online, at most timeout_us; true if it is. */
bool smp_wait_online(unsigned cpu, uint64_t timeout_us);

/* Bare: the page below 1 MiB reserved for the AP trampoline (mm/heap.c,
 * memblock label "ap trampoline"), 0 if none. */
extern paddr_t smp_trampoline_pa;
/* Start the other CPUs (common/smp_boot.c); after smp_boot_cpu_init() and,
 * on Xen, xen_services_init(). */
void smp_boot(void);
extern uint64_t smp_bringup_ns[NR_CPUS];
extern unsigned smp_hold_cpu;

/*
 * Parking a CPU (vCPU hotplug, xen/vcpu_hotplug.c): smp_cpu_park() asks an
 * online AP to leave cpu_online_mask and take itself down through the
 * platform's park hook (under Xen VCPUOP_down on itself), and returns once
 * it has (0) or after 3 s (-1); smp_cpu_unpark() restarts it through the
 * restart hook (VCPUOP_up) and returns once it is online again. Neither
 * works without the hooks (bare: -1); CPU 0 is never parked.
 */
void smp_set_park_ops(void (*park)(unsigned cpu), int (*restart)(unsigned cpu));
int smp_cpu_park(unsigned cpu);
int smp_cpu_unpark(unsigned cpu);
bool smp_cpu_parked(unsigned cpu);

/* Stop every other CPU (NMI) and wait a bounded time for them: panic's path. */
void smp_stop_others(void);

#endif /* __ASSEMBLY__ */
#endif

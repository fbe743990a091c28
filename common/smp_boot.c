/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Starting the secondary CPUs (docs/smp.md): how many there are and how
 * each is started depends on the platform; what each does once running is
 * arch/smp.c's.
 *
 *   Xen (dom0, domU): the count from VCPUOP_is_up probing (xen/vcpu.c);
 *     for each vCPU the per-vCPU Xen services (xen/services.c), then
 *     VCPUOP_initialise + VCPUOP_up straight into ap_entry64.
 *   bare: the enabled processors of the ACPI MADT; each gets INIT, then a
 *     startup IPI (twice if needed, as the MP protocol has it) pointing at
 *     the real-mode trampoline (arch/trampoline.S) below 1 MiB.
 *
 * One CPU at a time, each within a bound: one that is not up by then is
 * reported by number and the boot goes on with the others.
 */
#include <pvhk/acpi.h>
#include <pvhk/arch.h>
#include <pvhk/cmdline.h>
#include <pvhk/lapic.h>
#include <pvhk/madt.h>
#include <pvhk/paging.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/vcpu.h>
#include <pvhk/hypercall.h>
#include <pvhk/spinlock.h>
#include <pvhk/xen.h>
#include <xen/sched.h>
#include <xen/errno.h>

#define UP_TIMEOUT_US   3000000         /* per CPU */

uint64_t smp_bringup_ns[NR_CPUS];       /* start call to online, per AP */
unsigned smp_hold_cpu;                  /* smp.hold=N: that AP never reports in */

/* The parameter block at the end of the trampoline (arch/trampoline.S). */
struct tramp_params {
    uint64_t cr4, cr3, efer, cr0, rsp, cpu;
    uint32_t apic_id, unused;
    uint64_t entry;
};
extern const uint8_t ap_tramp_start[], ap_tramp_end[], ap_tramp_gdt[], ap_tramp_gdt_desc[],
    ap_tramp_pm32[], ap_tramp_lm64[], ap_tramp_params[], ap_tramp_pm32_code[],
    ap_tramp_lm64_code[];

static uint8_t *tramp;                  /* the low page, identity mapped */

#define TOFF(sym)   ((uintptr_t)(sym) - (uintptr_t)ap_tramp_start)

static void tramp_writable(bool w)
{
    /* W^X: writable and NX, or read-only and executable. */
    paging_set_4k((uintptr_t)tramp, w ? PTE_W | PTE_NX : 0);
    invlpg((uintptr_t)tramp);
}

static bool tramp_init(void)
{
    if (!smp_trampoline_pa)
        return false;
    tramp = (uint8_t *)(uintptr_t)smp_trampoline_pa;
    uint32_t base = (uint32_t)smp_trampoline_pa;
    size_t len = (size_t)(ap_tramp_end - ap_tramp_start);

    memcpy(tramp, ap_tramp_start, len);
    uint32_t v;
    v = base + (uint32_t)TOFF(ap_tramp_gdt);
    memcpy(tramp + TOFF(ap_tramp_gdt_desc) + 2, &v, 4);
    v = base + (uint32_t)TOFF(ap_tramp_pm32_code);
    memcpy(tramp + TOFF(ap_tramp_pm32), &v, 4);
    v = base + (uint32_t)TOFF(ap_tramp_lm64_code);
    memcpy(tramp + TOFF(ap_tramp_lm64), &v, 4);
    return true;
}

static int start_bare(unsigned cpu)
{
    struct percpu *p = per_cpu(cpu);
    struct tramp_params tp = {
        .cr4 = read_cr4(), .cr3 = read_cr3(), .efer = rdmsr(MSR_EFER) & ~(1ull << 10),
        .cr0 = read_cr0(), .rsp = p->stack_top, .cpu = cpu, .apic_id = p->apic_id,
        .entry = (uint64_t)(uintptr_t)ap_entry64,
    };

    tramp_writable(true);
    memcpy(tramp + TOFF(ap_tramp_params), &tp, sizeof(tp));
    tramp_writable(false);
    /* INIT, 10 ms, SIPI, 200 us, and a second SIPI if it did not start. */
    lapic_send(p->apic_id, APIC_DM_INIT | APIC_LEVEL_ASSERT);
    udelay(10000);
    uint32_t sipi = APIC_DM_STARTUP | (uint32_t)(smp_trampoline_pa >> 12);
    lapic_send(p->apic_id, sipi);
    udelay(200);
    if (!p->boot_tsc)
        lapic_send(p->apic_id, sipi);
    return 0;
}

static int start_xen(unsigned cpu)
{
    return xen_vcpu_start(cpu, (uint64_t)(uintptr_t)ap_entry64, per_cpu(cpu)->stack_top, cpu);
}

/* Parking under Xen: the vCPU takes itself down; VCPUOP_up from another
 * vCPU resumes it right after the hypercall. */
static void xen_park_self(unsigned cpu)
{
    xen_vcpu_down(cpu);
}

static int xen_restart(unsigned cpu)
{
    /* The parked CPU says so just before its VCPUOP_down: wait until Xen
     * has it down, or the VCPUOP_up could come first and be undone. */
    uint64_t end = rdtsc() + 3000ull * tsc_khz;
    while (xen_vcpu_is_up(cpu) == 1)
        if (rdtsc() > end)
            return -XEN_ETIMEDOUT;
    return xen_vcpu_up(cpu);
}

static void xen_yield(void)
{
    xen_sched_op(SCHEDOP_yield, NULL);
}

static void hold_hook(unsigned cpu)
{
    if (smp_hold_cpu && cpu == smp_hold_cpu)
        halt_forever();
}

/* Bare: CPU numbers for the MADT's processors, the boot CPU being 0. */
static unsigned count_bare(void)
{
    static struct madt_cpus m;
    uint32_t len = 0;
    const void *t = acpi_find_table("APIC", &len);

    if (!t) {
        printk("pvhk: smp: no MADT (%s): boot CPU only\n", acpi_error);
        return 1;
    }
    int rc = madt_parse(t, len, &m);
    if (rc) {
        printk("pvhk: smp: MADT refused: %s: boot CPU only\n", madt_strerror(rc));
        return 1;
    }
    smp_count_source = "ACPI MADT";
    nr_cpus_reported = m.listed;
    unsigned n = 1, me = per_cpu(0)->apic_id;
    bool found = false;
    for (unsigned i = 0; i < m.n; i++) {
        if (m.apic_id[i] == me) {
            found = true;
            continue;
        }
        if (n < NR_CPUS)
            per_cpu(n++)->apic_id = m.apic_id[i];
    }
    if (!found)
        printk("pvhk: smp: WARNING: the boot CPU's APIC id %u is not in the MADT\n", me);
    return n;
}

void smp_boot(void)
{
    int (*start)(unsigned cpu);

    smp_hold_cpu = (unsigned)cmdline_u64_max(boot_cmdline, "smp.hold", 0, NR_CPUS - 1);
    if (on_xen()) {
        int n = xen_vcpu_count(NR_CPUS + 1);
        if (n < 1) {
            printk("pvhk: smp: VCPUOP_is_up probing failed (%d): boot CPU only\n", n);
            return;
        }
        smp_count_source = "VCPUOP_is_up";
        nr_cpus_reported = (unsigned)n;
        nr_cpus = MIN((unsigned)n, NR_CPUS);
        start = start_xen;
        smp_set_park_ops(xen_park_self, xen_restart);
        spin_set_yield(xen_yield);
    } else {
        nr_cpus = count_bare();
        if (nr_cpus > 1 && !tramp_init()) {
            printk("pvhk: smp: no trampoline page below 1 MiB: boot CPU only\n");
            nr_cpus = 1;
        }
        start = start_bare;
    }
    if (nr_cpus_reported > NR_CPUS)
        printk("pvhk: smp: %u CPUs reported; pvhk runs at most %u\n", nr_cpus_reported, NR_CPUS);
    smp_set_ap_hook(hold_hook);

    uint64_t t_all = rdtsc();
    for (unsigned cpu = 1; cpu < nr_cpus; cpu++) {
        uint32_t apic = per_cpu(cpu)->apic_id;
        if (smp_prepare_cpu(cpu)) {
            printk("pvhk: smp: CPU %u: no memory for its stacks; not started\n", cpu);
            cpumask_set(&cpu_failed_mask, cpu);
            continue;
        }
        per_cpu(cpu)->apic_id = apic;
        if (on_xen()) {
            int rc = xen_services_cpu_prepare(cpu);
            if (rc)
                printk("pvhk: smp: CPU %u: per-vCPU Xen services: %d\n", cpu, rc);
        }
        uint64_t t0 = rdtsc();
        int rc = start(cpu);
        if (rc) {
            printk("pvhk: smp: CPU %u: start failed (%d)\n", cpu, rc);
            cpumask_set(&cpu_failed_mask, cpu);
            continue;
        }
        if (!smp_wait_online(cpu, UP_TIMEOUT_US)) {
            printk("pvhk: smp: CPU %u did not come up within %u ms; going on without it\n",
                   cpu, UP_TIMEOUT_US / 1000);
            /* Under Xen, take it down too: Xen stops scheduling it. */
            if (on_xen()) {
                int drc = xen_vcpu_down(cpu);
                if (drc)
                    printk("pvhk: smp: CPU %u: VCPUOP_down: %d\n", cpu, drc);
            }
            continue;
        }
        smp_bringup_ns[cpu] = tsc_to_ns(rdtsc() - t0);
    }
    if (tramp)
        tramp_writable(true);
    uint64_t all_us = tsc_to_ns(rdtsc() - t_all) / 1000;
    printk("pvhk: smp: %u of %u CPU(s) online (count from %s), IPIs by %s, local APIC in %s "
           "mode, %llu us to start the others\n", num_online_cpus(), nr_cpus, smp_count_source,
           smp_ipi_name, lapic_x2apic ? "x2APIC" : "xAPIC", (unsigned long long)all_us);
}

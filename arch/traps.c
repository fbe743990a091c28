/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exception dispatch. An exception nobody expects is reported in full
 * (vector, error code, RIP, CR2, registers, backtrace) and ends the run with
 * an ERROR verdict (common/report.c); a self-test may instead catch it with
 * trap_try() (arch/trap_try.S).
 */
#include <pvhk/arch.h>
#include <pvhk/printk.h>
#include <pvhk/trap.h>
#include <pvhk/report.h>
#include <pvhk/smp.h>

extern const char trap_try_resume[];

static irq_handler_t irq_handlers[256];
static bool (*nmi_handler)(struct trap_frame *f);

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization",
    "#CP control protection",
};

const char *exception_name(unsigned vector)
{
    if (vector < 32 && exc_names[vector])
        return exc_names[vector];
    return vector < 32 ? "reserved" : "interrupt";
}

void trap_set_irq_handler(unsigned vector, irq_handler_t fn)
{
    irq_handlers[vector & 0xff] = fn;
}

void trap_set_nmi_handler(bool (*fn)(struct trap_frame *f))
{
    nmi_handler = fn;
}

static void report(const struct trap_frame *f, uint64_t cr2)
{
    printk("pvhk: EXCEPTION vector %llu (%s) error_code 0x%llx on CPU %u\n",
           (unsigned long long)f->vector, exception_name(f->vector),
           (unsigned long long)f->error_code, smp_processor_id());
    printk("  RIP %04llx:%016llx RFLAGS %016llx RSP %04llx:%016llx\n",
           (unsigned long long)f->cs, (unsigned long long)f->rip,
           (unsigned long long)f->rflags, (unsigned long long)f->ss,
           (unsigned long long)f->rsp);
    printk("  CR2 %016llx CR3 %016llx\n", (unsigned long long)cr2,
           (unsigned long long)read_cr3());
    printk("  RAX %016llx RBX %016llx RCX %016llx\n", (unsigned long long)f->rax,
           (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    printk("  RDX %016llx RSI %016llx RDI %016llx\n", (unsigned long long)f->rdx,
           (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    printk("  RBP %016llx R8  %016llx R9  %016llx\n", (unsigned long long)f->rbp,
           (unsigned long long)f->r8, (unsigned long long)f->r9);
    printk("  R10 %016llx R11 %016llx R12 %016llx\n", (unsigned long long)f->r10,
           (unsigned long long)f->r11, (unsigned long long)f->r12);
    printk("  R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)f->r13,
           (unsigned long long)f->r14, (unsigned long long)f->r15);
    if (f->vector == X86_EXC_PF)
        printk("  #PF: %s, %s access%s\n",
               f->error_code & PFEC_PRESENT ? "protection violation" : "page not present",
               f->error_code & PFEC_INSN ? "instruction" :
               f->error_code & PFEC_WRITE ? "write" : "read",
               cr2 < 0x1000 ? " (NULL pointer?)" : "");
    backtrace_from(f->rbp, f->rip);
}

void trap_dispatch(struct trap_frame *f)
{
    struct percpu *me = this_cpu();

    if (f->vector >= 32) {
        me->irq_depth++;
        if (irq_handlers[f->vector])
            irq_handlers[f->vector](f);
        else
            printk("pvhk: spurious interrupt vector %llu on CPU %u\n",
                   (unsigned long long)f->vector, me->cpu);
        me->irq_depth--;
        return;
    }
    /* An NMI another CPU sent to stop this one (smp_stop_others). */
    if (f->vector == X86_EXC_NMI && nmi_handler && nmi_handler(f))
        return;

    uint64_t cr2 = read_cr2();
    struct trap_catch_state *c = &me->trap_catch;

    if (c->armed && f->vector != X86_EXC_DF && f->vector != X86_EXC_NMI) {
        struct caught_trap *info = c->info;

        c->armed = 0;
        if (info)
            *info = (struct caught_trap){ f->vector, f->error_code, f->rip, cr2 };
        f->rip = (uint64_t)trap_try_resume;
        f->rsp = c->rsp;
        return;
    }

    report(f, cr2);
    report_error("unexpected exception");
}

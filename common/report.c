/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The run's verdict line and its end (include/pvhk/report.h), and panic().
 * Everything that ends a run comes here, so the rest of the kernel (the
 * runner, the trap handler, panic's callers) depends on this file only.
 */
#include <pvhk/arch.h>
#include <pvhk/hypercall.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/report.h>
#include <pvhk/smp.h>
#include <pvhk/trap.h>
#include <xen/sched.h>

enum run_end { END_PASS, END_FAIL, END_ERROR };

static const char *cur_suite, *cur_name;
static void (*stop_others)(void);
/* The CPU ending the run as an ERROR, or -1: one CPU reports, the others halt. */
static int error_cpu = -1;

void report_set_stop_others(void (*fn)(void))
{
    stop_others = fn;
}

/*
 * Claim the ERROR report for this CPU. A second CPU failing at the same
 * time halts here (the first one's report and verdict are the run's); the
 * same CPU failing again (a fault while reporting) gets false.
 */
static bool claim_error(void)
{
    int me = (int)smp_processor_id(), expect = -1;

    if (__atomic_compare_exchange_n(&error_cpu, &expect, me, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return true;
    if (expect != me)
        halt_forever();
    return false;
}

void report_test_begin(const char *suite, const char *name)
{
    cur_suite = suite;
    cur_name = name;
}

void report_test_end(void)
{
    cur_suite = cur_name = NULL;
}

static __noreturn void machine_stop(enum run_end end)
{
    if (on_xen()) {
        /*
         * PASS/FAIL: dom0 reboots (a poweroff would only halt Xen, and QEMU
         * would never exit; -no-reboot turns the reboot into an exit); a
         * domU powers off, so xl's on_poweroff applies. ERROR: crash, so
         * the toolstack sees a crash (xl's on_crash). For dom0, Xen's
         * hwdom_shutdown() prints "Hardware Dom0 crashed: rebooting machine
         * in 5 seconds." and restarts the machine (it halts instead when
         * booted with `noreboot`).
         */
        struct sched_shutdown s = {
            .reason = end == END_ERROR ? SHUTDOWN_crash :
                      platform == PLATFORM_XEN_DOM0 ? SHUTDOWN_reboot : SHUTDOWN_poweroff,
        };
        xen_sched_op(SCHEDOP_shutdown, &s);
    } else {
        /* QEMU isa-debug-exit (iobase 0xf4) if the harness added it: QEMU
         * exits with (value << 1) | 1, so 1 (PASS), 3 (FAIL) or 5 (ERROR). */
        outb(0xf4, end == END_PASS ? 0 : end == END_FAIL ? 1 : 2);
        /* ACPI S5 via PM1a_CNT at 0x604 (QEMU's PIIX4 and ICH9 with the
         * firmware's PM base 0x600): SLP_EN with SLP_TYP 0. */
        outw(0x604, 0x2000);
    }
    halt_forever();
    __builtin_unreachable();
}

void report_finish(unsigned passed, unsigned failed, unsigned skipped)
{
    report_test_end();
    printk("pvhk: verdict: %s (%u passed, %u failed, %u skipped)\n",
           failed ? "FAIL" : "PASS", passed, failed, skipped);
    machine_stop(failed ? END_FAIL : END_PASS);
}

static __noreturn void report_error_claimed(const char *why)
{
    static bool reported;
    unsigned cpu = smp_processor_id();

    /* A fault while reporting must not print a second verdict. */
    if (reported)
        machine_stop(END_ERROR);
    reported = true;
    /* The other CPUs stop before the verdict, so nothing follows it. */
    if (stop_others)
        stop_others();
    if (cur_name)
        printk("pvhk: verdict: ERROR (aborted in %s.%s: %s, on CPU %u)\n", cur_suite, cur_name,
               why, cpu);
    else
        printk("pvhk: verdict: ERROR (%s, on CPU %u)\n", why, cpu);
    machine_stop(END_ERROR);
}

void report_error(const char *why)
{
    claim_error();
    report_error_claimed(why);
}

void panic(const char *fmt, ...)
{
    static bool in_panic;
    char msg[256];
    bool first = claim_error();
    va_list ap;
    uint64_t rbp;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (in_panic || !first) {
        printk("pvhk: PANIC (nested): %s\n", msg);
        machine_stop(END_ERROR);
    }
    in_panic = true;
    printk("pvhk: PANIC on CPU %u: %s\n", smp_processor_id(), msg);
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    backtrace_from(rbp, (uint64_t)__builtin_return_address(0));
    report_error_claimed(msg);
}

/* Ending a run so that QEMU exits by itself, and panic(). */
#include <pvhk/arch.h>
#include <pvhk/hypercall.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/trap.h>
#include <xen/sched.h>

void machine_exit(bool success)
{
    if (on_xen()) {
        /*
         * dom0: a poweroff would only halt Xen and QEMU would never exit, so
         * reboot and let QEMU's -no-reboot turn it into an exit. domU:
         * poweroff, so xl's on_poweroff applies and the toolstack sees an
         * orderly end.
         */
        struct sched_shutdown s = {
            .reason = platform == PLATFORM_XEN_DOM0 ? SHUTDOWN_reboot : SHUTDOWN_poweroff,
        };
        xen_sched_op(SCHEDOP_shutdown, &s);
    } else {
        /* QEMU isa-debug-exit (iobase 0xf4) if the harness added it: QEMU
         * exits with (value << 1) | 1. */
        outb(0xf4, success ? 0 : 1);
        /* ACPI S5 via PM1a_CNT at 0x604 (QEMU's PIIX4 and ICH9 with the
         * firmware's PM base 0x600): SLP_EN with SLP_TYP 0. */
        outw(0x604, 0x2000);
    }
    halt_forever();
    __builtin_unreachable();
}

void panic(const char *fmt, ...)
{
    static bool in_panic;
    char msg[256];
    va_list ap;
    uint64_t rbp;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (in_panic) {
        printk("pvhk: PANIC (nested): %s\n", msg);
        machine_exit(false);
    }
    in_panic = true;
    printk("pvhk: PANIC: %s\n", msg);
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    backtrace_from(rbp, (uint64_t)__builtin_return_address(0));
    selftest_abort(msg);
}

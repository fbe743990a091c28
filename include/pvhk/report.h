/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The run's verdict and its end. One place owns both: the self-test runner
 * registers the test it is running and, at the end, hands over its counts;
 * panic and the trap handler hand over what broke. Each ends the run with
 * exactly one verdict line, then stops the machine:
 *
 *   pvhk: verdict: PASS (N passed, 0 failed, K skipped)   every test passed
 *   pvhk: verdict: FAIL (N passed, F failed, K skipped)   a test found a fault
 *   pvhk: verdict: ERROR (aborted in suite.name: why, on CPU n)   the run itself broke
 *
 * FAIL means the code under test did something a test does not expect (a
 * KT_EXPECT/KT_ASSERT that does not hold); the run finished and its counts
 * are complete. ERROR means the run could not finish: a panic or an
 * unexpected exception, inside a test or outside any ("pvhk: verdict: ERROR
 * (why, on CPU n)"), and no counts can be believed. The CPU that broke
 * first reports; before its verdict it stops the other CPUs (the hook
 * below), and any other CPU that breaks meanwhile halts without a word.
 *
 * How the machine stops (docs/domu-rig.md, README "Platforms"):
 *   PASS/FAIL  domU: SCHEDOP_shutdown(poweroff); dom0: (reboot), which QEMU's
 *              -no-reboot turns into an exit; bare: isa-debug-exit 0 or 1,
 *              then ACPI S5.
 *   ERROR      domU and dom0: SCHEDOP_shutdown(crash): xl applies the
 *              config's on_crash; for dom0 Xen prints "Hardware Dom0
 *              crashed" and reboots the machine after 5 s. bare:
 *              isa-debug-exit 2, then ACPI S5.
 */
#ifndef PVHK_REPORT_H
#define PVHK_REPORT_H

#include <pvhk/types.h>

/* The test now running (the runner calls these around each test). */
void report_test_begin(const char *suite, const char *name);
void report_test_end(void);

/* All selected tests ran: print PASS or FAIL with the counts, end the run. */
void report_finish(unsigned passed, unsigned failed, unsigned skipped) __noreturn;

/* The run broke (panic, unexpected exception): ERROR verdict, crash. */
void report_error(const char *why) __noreturn;

/* How to stop the other CPUs before an ERROR verdict (arch/smp.c sets it
 * once they may be running). */
void report_set_stop_others(void (*fn)(void));

#endif

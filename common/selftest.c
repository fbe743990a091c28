/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-test runner: KTAP version 1 with one nested level per suite. It tells
 * common/report.c which test is running and, at the end, the counts; that
 * prints the single verdict line a harness matches in a noisy log and ends
 * the run (include/pvhk/report.h).
 */
#include <pvhk/arch.h>
#include <pvhk/cmdline.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/report.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>

extern const struct ktest __ktests_start[], __ktests_end[];

static unsigned n_pass, n_fail, n_skip;

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *expr)
{
    t->failures++;
    printk("        # %s: FAIL at %s:%d: %s\n", t->name, file, line, expr);
}

void ktest_note(struct ktest_ctx *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printk("        # %s: %s\n", t->name, buf);
}

static bool enabled(const struct ktest *k, const char *sel)
{
    if (k->optin && !cmdline_bool(boot_cmdline, k->optin, false))
        return false;
    /* Benchmarks are not tests: they run only when named (selftest=bench). */
    if (!strcmp(sel, "all"))
        return strcmp(k->suite, "bench") != 0;
    return list_contains(sel, k->suite);
}

/* Tests of one suite are contiguous (the linker sorts .ktests.<suite>). */
static const struct ktest *suite_end(const struct ktest *k)
{
    const struct ktest *e = k;
    while (e < __ktests_end && !strcmp(e->suite, k->suite))
        e++;
    return e;
}

static unsigned count_enabled(const struct ktest *b, const struct ktest *e, const char *sel)
{
    unsigned n = 0;
    for (; b < e; b++)
        n += enabled(b, sel);
    return n;
}

void selftest_run(const char *sel)
{
    unsigned nsuites = 0, suite_no = 0;

    for (const struct ktest *k = __ktests_start; k < __ktests_end; k = suite_end(k))
        nsuites += count_enabled(k, suite_end(k), sel) > 0;

    printk("KTAP version 1\n");
    printk("1..%u\n", nsuites);
    for (const struct ktest *k = __ktests_start; k < __ktests_end; k = suite_end(k)) {
        const struct ktest *end = suite_end(k);
        unsigned n = count_enabled(k, end, sel), no = 0;
        bool suite_ok = true;

        if (!n)
            continue;
        printk("    KTAP version 1\n");
        printk("    # Subtest: %s\n", k->suite);
        printk("    1..%u\n", n);
        for (const struct ktest *t = k; t < end; t++) {
            if (!enabled(t, sel))
                continue;
            struct ktest_ctx ctx = { .name = t->name };
            report_test_begin(t->suite, t->name);
            t->fn(&ctx);
            report_test_end();
            no++;
            if (ctx.failures) {
                n_fail++;
                suite_ok = false;
                printk("    not ok %u %s\n", no, t->name);
            } else if (ctx.skip_reason) {
                n_skip++;
                printk("    ok %u %s # SKIP %s\n", no, t->name, ctx.skip_reason);
            } else {
                n_pass++;
                printk("    ok %u %s\n", no, t->name);
            }
        }
        printk("%s %u %s\n", suite_ok ? "ok" : "not ok", ++suite_no, k->suite);
    }
    report_finish(n_pass, n_fail, n_skip);
}

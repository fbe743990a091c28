/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-kernel self-tests, reported in KTAP version 1. A test is registered with
 * KTEST(suite, name) and placed in a linker section (.ktests.<suite>), so
 * suites come out sorted by name and tests in link order within a suite.
 *
 *   KTEST(mm, buddy_coalesces) { KT_EXPECT(t, x == y); }
 *
 * KT_EXPECT records a failure with file:line and continues; KT_ASSERT records
 * and returns; KT_SKIP marks the test skipped with a reason.
 */
#ifndef PVHK_SELFTEST_H
#define PVHK_SELFTEST_H

#include <pvhk/types.h>

struct ktest_ctx {
    const char *name;
    unsigned failures;
    const char *skip_reason;
};

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(struct ktest_ctx *t);
    /* Opt-in tests run only when the command line sets this key to 1. */
    const char *optin;
};

#define KTEST_OPTIN(suite_, name_, key_)                                    \
    static void kt_##suite_##_##name_(struct ktest_ctx *t);                 \
    static const struct ktest kt_desc_##suite_##_##name_                    \
        __section(".ktests." #suite_) __attribute__((used, aligned(8))) =   \
        { #suite_, #name_, kt_##suite_##_##name_, key_ };                   \
    static void kt_##suite_##_##name_(struct ktest_ctx *t)

#define KTEST(suite_, name_) KTEST_OPTIN(suite_, name_, NULL)

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *expr);
void ktest_note(struct ktest_ctx *t, const char *fmt, ...) __printf(2, 3);

#define KT_EXPECT(t, cond) do {                                             \
    if (!(cond)) ktest_fail((t), __FILE__, __LINE__, #cond);                \
} while (0)
#define KT_ASSERT(t, cond) do {                                             \
    if (!(cond)) { ktest_fail((t), __FILE__, __LINE__, #cond); return; }    \
} while (0)
#define KT_SKIP(t, reason) do { (t)->skip_reason = (reason); return; } while (0)

/* Run the suites the command line selects and print KTAP; then the
 * verdict (PASS or FAIL, include/pvhk/report.h) ends the run. */
void selftest_run(const char *selection) __noreturn;

#endif

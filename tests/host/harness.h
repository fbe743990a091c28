/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Minimal host unit-test harness. Each HOST_TEST registers itself with a
 * constructor; main.c runs them all (or those whose name contains argv[1])
 * and ends with the line "N passed, N failed".
 *
 * CHECK() records a failure and continues; REQUIRE() records and returns.
 * host_soak is true under `make soak` (tests scale their iteration counts).
 */
#ifndef HOST_HARNESS_H
#define HOST_HARNESS_H

#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

struct host_test {
    const char *name;
    void (*fn)(void);
    struct host_test *next;
};

void host_test_register(struct host_test *t);
void host_test_fail(const char *file, int line, const char *expr);
extern bool host_soak;

#define HOST_TEST(name_)                                                    \
    static void name_(void);                                                \
    static struct host_test name_##_reg = { #name_, name_, NULL };          \
    __attribute__((constructor)) static void name_##_ctor(void)             \
    { host_test_register(&name_##_reg); }                                   \
    static void name_(void)

#define CHECK(cond) do {                                                    \
    if (!(cond)) host_test_fail(__FILE__, __LINE__, #cond);                 \
} while (0)

#define REQUIRE(cond) do {                                                  \
    if (!(cond)) { host_test_fail(__FILE__, __LINE__, #cond); return; }     \
} while (0)

/* CHECK with a printf-style explanation on failure. */
#define CHECKF(cond, ...) do {                                              \
    if (!(cond)) {                                                          \
        host_test_fail(__FILE__, __LINE__, #cond);                          \
        fprintf(stderr, "    ");                                            \
        fprintf(stderr, __VA_ARGS__);                                       \
        fprintf(stderr, "\n");                                              \
    }                                                                       \
} while (0)

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test runner: runs every registered HOST_TEST (or those whose name
 * contains any of the arguments), prints a summary. Exit status 1 when a test
 * failed or when a filter matched no test.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"

static struct host_test *head, **tail = &head;
static unsigned cur_failures;
bool host_soak;

void host_test_register(struct host_test *t)
{
    /* Keep registration order (file order within a translation unit). */
    *tail = t;
    tail = &t->next;
}

void host_test_fail(const char *file, int line, const char *expr)
{
    if (cur_failures++ < 20)
        fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
}

/* Does the test's name contain any of the filters (every non-option argument)? */
static bool name_matches(const char *name, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--soak") && strstr(name, argv[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    unsigned passed = 0, failed = 0;
    const char *filter = NULL;      /* the first filter, for the message */
    int nfilters = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--soak"))
            host_soak = true;
        else if (!nfilters++)
            filter = argv[i];
    }
    if (getenv("PVHK_SOAK"))
        host_soak = true;

    for (struct host_test *t = head; t; t = t->next) {
        struct timespec a, b;

        if (nfilters && !name_matches(t->name, argc, argv))
            continue;
        cur_failures = 0;
        clock_gettime(CLOCK_MONOTONIC, &a);
        t->fn();
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        if (cur_failures) {
            failed++;
            printf("not ok %s (%u failures, %.0f ms)\n", t->name, cur_failures, ms);
        } else {
            passed++;
            printf("ok %s (%.0f ms)\n", t->name, ms);
        }
        fflush(stdout);
    }
    printf("%u passed, %u failed\n", passed, failed);
    if (nfilters && !passed && !failed) {
        /* A typo in the filter must not look like a clean run. */
        fprintf(stderr, "hosttests: no test name contains \"%s\"%s\n", filter,
                nfilters > 1 ? " or the other filters" : "");
        return 1;
    }
    return failed ? 1 : 0;
}

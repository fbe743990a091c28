/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the every-CPU self-tests share (test_heap.c, test_gnttab.c): one
 * function started on every other online CPU so that all begin at the same
 * moment, and the wait for them. A team is static (the CPUs read it until
 * team_wait() returns) and used by one test at a time.
 */
#ifndef PVHK_TESTS_CPU_TEAM_H
#define PVHK_TESTS_CPU_TEAM_H

#include <pvhk/smp.h>

struct cpu_team {
    void (*fn)(void *);
    void *arg;
    cpumask_t started;          /* the CPUs fn was started on */
    unsigned ready, go;         /* the start line */
};

/* On each started CPU: wait at the start line, then run. */
static inline void team_entry(void *arg)
{
    struct cpu_team *tm = arg;

    __atomic_add_fetch(&tm->ready, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&tm->go, __ATOMIC_ACQUIRE))
        cpu_relax();
    tm->fn(tm->arg);
}

/*
 * fn(arg) on every online CPU but this one, all released together once
 * every one has reached the start line; returns how many were started
 * (tm->started says which). A caller that works too calls fn right after:
 * it starts with them.
 */
static inline unsigned team_start(struct cpu_team *tm, void (*fn)(void *), void *arg)
{
    unsigned me = smp_processor_id(), n = 0;

    *tm = (struct cpu_team){ .fn = fn, .arg = arg };
    for_each_cpu(c, &cpu_online_mask)
        if (c != me && smp_run_on(c, team_entry, tm) == 0) {
            cpumask_set(&tm->started, c);
            n++;
        }
    while (__atomic_load_n(&tm->ready, __ATOMIC_ACQUIRE) < n)
        cpu_relax();
    __atomic_store_n(&tm->go, 1, __ATOMIC_RELEASE);
    return n;
}

/* Until every started CPU has returned from fn. */
static inline void team_wait(struct cpu_team *tm)
{
    for_each_cpu(c, &tm->started)
        smp_work_wait(c);
}

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page allocator from several CPUs at once, threads standing in for
 * CPUs: throughput with 1 and 2 threads on three paths, each on 4 GiB at
 * frame 0x100000, all free after init, with the same lock type (pa_lock_t):
 *
 *   per-CPU      pas_alloc/pas_free (mm/page_smp.c): a lock per CPU, the
 *                heap lock on a refill or a give-back
 *   global lock  one lock around pa_alloc/pa_free: the baseline, what the
 *                allocator would be with a single heap lock (Xen's heap_lock)
 *   own heap     every thread its own allocator and table, pa_alloc/pa_free
 *                with no lock: nothing shared at all, so its 2:1 ratio is
 *                what this machine gives two threads of this code (memory
 *                bandwidth, caches, SMT), the ceiling for the others
 *
 *   pair   each thread: order-0 alloc + free pairs
 *   s2     each thread: bench/alloc_bench.c's S2 on its own (orders uniform
 *          0..9, allocate with probability (4096 - live) / 4096, else free
 *          a uniformly chosen live block; splitmix64 seeded per thread)
 *
 * Prints operations per second (an alloc and a free are two), the best of
 * three runs, for each workload, path and thread count, and the ratios.
 * Wall-clock figures on a shared machine: noisy; nothing here asserts.
 *
 *   smp_bench [-n PAIRS] [-s S2OPS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <pvhk/page_smp.h>

#define BASE    0x100000ULL
#define NFRAMES 0x100000ULL

static struct page_alloc pa, own[2];
static struct pa_smp smp;
static pa_lock_t global;
static void *table, *own_table[2];
static uint64_t npairs = 4000000, ns2 = 4000000;
static pthread_barrier_t start;

enum { PERCPU, GLOBAL, OWN, NR_PATHS };
static const char *const path_name[NR_PATHS] = { "per-CPU", "global lock", "own heap" };

struct job {
    unsigned cpu, path;
    unsigned s2;                /* 0 pair, 10 s2 (orders 0..9) */
    uint64_t ops;
};

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static inline pfn_t do_alloc(const struct job *j, unsigned k)
{
    pfn_t f;

    if (j->path == PERCPU)
        return pas_alloc(&smp, j->cpu, k, 0, NULL);
    if (j->path == OWN)
        return pa_alloc(&own[j->cpu], k, 0);
    pa_lock(&global);
    f = pa_alloc(&pa, k, 0);
    pa_unlock(&global);
    return f;
}

static inline void do_free(const struct job *j, pfn_t f, unsigned k)
{
    int rc;

    if (j->path == PERCPU) {
        rc = pas_free(&smp, j->cpu, f, k, NULL, NULL);
    } else if (j->path == OWN) {
        rc = pa_free(&own[j->cpu], f, k);
    } else {
        pa_lock(&global);
        rc = pa_free(&pa, f, k);
        pa_unlock(&global);
    }
    if (rc) {
        fprintf(stderr, "smp_bench: free(%#llx, %u): %s\n", (unsigned long long)f, k,
                pa_strerror(rc));
        exit(3);
    }
}

static void *worker(void *arg)
{
    struct job *j = arg;
    static __thread struct { pfn_t f; unsigned k; } live[4096];
    uint64_t nlive = 0, sm = 42 + j->cpu;

    pthread_barrier_wait(&start);
    if (!j->s2) {
        for (uint64_t i = 0; i < npairs; i++) {
            pfn_t f = do_alloc(j, 0);

            do_free(j, f, 0);
        }
        j->ops = 2 * npairs;
        return NULL;
    }
    for (uint64_t i = 0; i < ns2; i++) {
        uint64_t z = (sm += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        if ((z & 0xfff) >= nlive) {
            unsigned k = (unsigned)((z >> 12) % j->s2);
            pfn_t f = do_alloc(j, k);

            if (f != PA_NO_FRAME) {
                live[nlive].f = f;
                live[nlive++].k = k;
            }
        } else {
            uint64_t x = (z >> 20) % nlive;

            do_free(j, live[x].f, live[x].k);
            live[x] = live[--nlive];
        }
    }
    while (nlive) {
        nlive--;
        do_free(j, live[nlive].f, live[nlive].k);
    }
    j->ops = ns2;
    return NULL;
}

/* A fresh 4 GiB heap in *pa, its table in *t (unmapped first if there). */
static void fresh_heap(struct page_alloc *h, void **t)
{
    if (*t)
        munmap(*t, pa_table_bytes(NFRAMES));
    *t = mmap(NULL, pa_table_bytes(NFRAMES), PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (*t == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    pa_setup(h, *t, NFRAMES, PA_TABLE_ZEROED);
    if (pa_add_range(h, BASE, NFRAMES) || pa_init_range(h, BASE, NFRAMES)) {
        fprintf(stderr, "smp_bench: setup failed\n");
        exit(2);
    }
}

static void fresh(unsigned path, unsigned nthreads)
{
    if (path == OWN) {
        for (unsigned i = 0; i < nthreads; i++)
            fresh_heap(&own[i], &own_table[i]);
        return;
    }
    fresh_heap(&pa, &table);
    pas_init(&smp, &pa, 2);
    pa_lock_init(&global, "global");
}

/* Everything back, the heap whole: the run did what it says. */
static void whole(struct page_alloc *h)
{
    struct pa_violation v;

    pa_drain(h, PA_ALL_CPUS);
    if (pa_check(h, &v) || pa_nr_frames(h, PA_FREE) != NFRAMES) {
        fprintf(stderr, "smp_bench: heap not whole after the run\n");
        exit(3);
    }
}

/* Operations per second of one run: nthreads workers on a fresh heap. */
static double run(unsigned nthreads, unsigned path, unsigned s2)
{
    pthread_t th[2];
    struct job jobs[2];
    uint64_t ops = 0;
    double t0, t1;

    fresh(path, nthreads);
    pthread_barrier_init(&start, NULL, nthreads + 1);
    for (unsigned i = 0; i < nthreads; i++) {
        jobs[i] = (struct job){ .cpu = i, .path = path, .s2 = s2 };
        if (pthread_create(&th[i], NULL, worker, &jobs[i])) {
            perror("pthread_create");
            exit(2);
        }
    }
    pthread_barrier_wait(&start);
    t0 = now_s();
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        ops += jobs[i].ops;
    }
    t1 = now_s();
    pthread_barrier_destroy(&start);
    if (path == OWN)
        for (unsigned i = 0; i < nthreads; i++)
            whole(&own[i]);
    else
        whole(&pa);
    return ops / (t1 - t0);
}

static double best(unsigned nthreads, unsigned path, unsigned s2)
{
    double b = 0;

    for (int i = 0; i < 3; i++) {
        double r = run(nthreads, path, s2);

        b = r > b ? r : b;
    }
    return b;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; unsigned s2; } load[] = {
        { "pair", 0 }, { "s2", 10 },
    };
    double r[2][NR_PATHS][2];   /* [load][path][threads - 1] */
    int c;

    while ((c = getopt(argc, argv, "n:s:")) != -1) {
        if (c == 'n')
            npairs = strtoull(optarg, NULL, 0);
        else if (c == 's')
            ns2 = strtoull(optarg, NULL, 0);
        else {
            fprintf(stderr, "usage: smp_bench [-n PAIRS] [-s S2OPS]\n");
            return 2;
        }
    }
    printf("%-6s %-12s %14s %14s %7s\n", "load", "path", "1 thread", "2 threads", "2:1");
    for (unsigned l = 0; l < 2; l++)
        for (unsigned p = 0; p < NR_PATHS; p++) {
            r[l][p][0] = best(1, p, load[l].s2);
            r[l][p][1] = best(2, p, load[l].s2);
            printf("%-6s %-12s %10.2f M/s %10.2f M/s %7.2f\n", load[l].name, path_name[p],
                   r[l][p][0] / 1e6, r[l][p][1] / 1e6, r[l][p][1] / r[l][p][0]);
        }
    printf("per-CPU / global lock, 2 threads: pair %.2f, s2 %.2f\n",
           r[0][PERCPU][1] / r[0][GLOBAL][1], r[1][PERCPU][1] / r[1][GLOBAL][1]);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page allocator from several CPUs at once (mm/page_smp.c), threads
 * standing in for CPUs. Built into build/host/hosttests (address and UB
 * sanitizers) and, on its own, into build/host/hosttests-tsan under
 * ThreadSanitizer, which reports any access to shared state the locks and
 * atomics do not order.
 *
 * page_smp_concurrent_random: each thread is a CPU doing random
 * allocations (orders 0-6, some below 4 GiB), frees (its own blocks, and
 * blocks another CPU allocated, handed over through mailboxes), and
 * offline/online of random frames. What it proves:
 *   - no block is handed out twice: every frame of an allocated block is
 *     tagged (CPU, sequence) with a compare-and-swap from "free", which
 *     fails if another holder tagged it first; the tag is checked whole
 *     before the block is freed;
 *   - linearisability: every operation draws a stamp while it holds the
 *     locks that make its effect (pas_*(), include/pvhk/page_smp.h). Two
 *     operations either share a lock, and the stamps order them as the
 *     lock did, or touch disjoint state (two CPUs' caches and the blocks
 *     their callers hold) and commute. So replaying the log in stamp
 *     order, one operation at a time, on the model (tests/host/
 *     page_model.h) must give every answer the threads got: each block
 *     returned is suitable in the model at that point (all FREE, below 4
 *     GiB when asked), a failed allocation finds nothing suitable in the
 *     whole model, each free/offline/online answers with the same code,
 *     err_frame and new state;
 *   - at the end: every frame's state and every count equal the replayed
 *     model's, pa_check() passes with the caches full, and after every
 *     block is freed, every frame onlined and every cache drained, the
 *     heap is whole again (everything FREE, fully coalesced: pa_check()).
 *
 * page_smp_double_free_across_cpus: a block freed on CPU 0 sits in CPU 0's
 * cache; freeing it on CPU 1 is refused with PA_E_DOUBLE_FREE.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "page_model.h"
#include <pvhk/page_smp.h>

#define NTHREADS    4
#define NMAIL       8

/* Two ranges below 4 GiB, one above: PM_MAX_FRAMES frames in all. */
static const pfn_t smp_ranges[][2] = {
    { 0x1000, 0x600 }, { 0x2000, 0x600 }, { 0x100000, 0x400 },
};

enum { OP_ALLOC, OP_FREE, OP_OFFLINE, OP_ONLINE };

struct logent {
    uint64_t stamp;
    uint8_t kind, order, cpu, newstate;
    unsigned flags;
    int rc;
    pfn_t f, err;
};

struct thr {
    unsigned cpu;
    uint64_t seed, nops;
    struct logent *log;
    uint64_t nlog;
    unsigned problems;
    char why[200];
};

static struct page_alloc spa;
static struct pa_smp smp;
static uint64_t *tags;              /* per frame index: (CPU + 1) << 32 | sequence, 0 free */
static uint64_t mail[NMAIL];        /* a block handed to another CPU: f << 8 | order, 0 empty */

static unsigned tag_ix(pfn_t f)
{
    for (unsigned i = 0, base = 0; i < ARRAY_SIZE(smp_ranges); base += (unsigned)smp_ranges[i][1], i++)
        if (f - smp_ranges[i][0] < smp_ranges[i][1])
            return base + (unsigned)(f - smp_ranges[i][0]);
    abort();
}

static uint64_t xrnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void problem(struct thr *t, const char *what, pfn_t f)
{
    if (!t->problems++)
        snprintf(t->why, sizeof(t->why), "CPU %u: %s (frame %#llx)", t->cpu, what,
                 (unsigned long long)f);
}

/* Tag every frame of a block just allocated; a tag already there means the
 * block was handed out twice. */
static void tag_block(struct thr *t, pfn_t f, unsigned k, uint64_t tag)
{
    for (pfn_t q = f; q < f + (1ULL << k); q++) {
        uint64_t want = 0;

        if (!__atomic_compare_exchange_n(&tags[tag_ix(q)], &want, tag, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            problem(t, "frame handed out twice", q);
    }
}

/* Check and clear the tags of a block about to be freed. */
static void untag_block(struct thr *t, pfn_t f, unsigned k)
{
    uint64_t tag = __atomic_load_n(&tags[tag_ix(f)], __ATOMIC_ACQUIRE);

    if (!tag)
        problem(t, "block to free carries no tag", f);
    for (pfn_t q = f; q < f + (1ULL << k); q++)
        if (__atomic_exchange_n(&tags[tag_ix(q)], 0, __ATOMIC_ACQ_REL) != tag)
            problem(t, "block's tags changed while it was held", q);
}

static void logop(struct thr *t, uint8_t kind, unsigned k, unsigned flags, pfn_t f, int rc,
                  pfn_t err, unsigned ns, uint64_t stamp)
{
    t->log[t->nlog++] = (struct logent){ stamp, kind, (uint8_t)k, (uint8_t)t->cpu,
                                         (uint8_t)ns, flags, rc, f, err };
}

static void *cpu_main(void *arg)
{
    struct thr *t = arg;
    struct { pfn_t f; unsigned k; } live[256];
    unsigned nlive = 0;
    uint64_t s = t->seed;

    for (uint64_t i = 0; i < t->nops; i++) {
        unsigned r = (unsigned)(xrnd(&s) % 100), k, flags, ns = 0;
        uint64_t stamp;
        pfn_t f, err = PA_NO_FRAME;
        int rc;

        if (r < 45 && nlive == ARRAY_SIZE(live))
            r = 45;                 /* hands full: free one instead */
        if (r < 45) {
            k = xrnd(&s) % 8 ? (unsigned)(xrnd(&s) % 4) : (unsigned)(xrnd(&s) % 7);
            flags = xrnd(&s) % 4 ? 0 : PA_ALLOC_LOW;
            f = pas_alloc(&smp, t->cpu, k, flags, &stamp);
            logop(t, OP_ALLOC, k, flags, f, 0, 0, 0, stamp);
            if (f != PA_NO_FRAME) {
                tag_block(t, f, k, (uint64_t)(t->cpu + 1) << 32 | i);
                live[nlive].f = f;
                live[nlive++].k = k;
            }
        } else if (r < 90) {
            unsigned j;
            uint64_t got;

            if (!nlive)
                continue;
            j = (unsigned)(xrnd(&s) % nlive);

            f = live[j].f;
            k = live[j].k;
            live[j] = live[--nlive];
            if (xrnd(&s) % 4 == 0) {
                /* Hand it to whichever CPU looks in this mailbox next; free
                 * what was there (another CPU's block) instead. */
                got = __atomic_exchange_n(&mail[xrnd(&s) % NMAIL], f << 8 | k,
                                          __ATOMIC_ACQ_REL);
                if (!got)
                    continue;
                f = got >> 8;
                k = got & 0xff;
            }
            untag_block(t, f, k);
            rc = pas_free(&smp, t->cpu, f, k, &err, &stamp);
            logop(t, OP_FREE, k, 0, f, rc, err, 0, stamp);
            if (rc)
                problem(t, pa_strerror(rc), f);
        } else if (r < 95) {
            unsigned i2 = (unsigned)(xrnd(&s) % ARRAY_SIZE(smp_ranges));

            f = smp_ranges[i2][0] + xrnd(&s) % smp_ranges[i2][1];
            /* Offline one frame in 100 operations; online one in 25 (most
             * random frames are not offlined: those are refused). */
            if (r < 91)
                rc = pas_offline(&smp, f, (enum pa_state *)&ns, &err, &stamp);
            else
                rc = pas_online(&smp, f, (enum pa_state *)&ns, &err, &stamp);
            logop(t, r < 91 ? OP_OFFLINE : OP_ONLINE, 0, 0, f, rc, err, ns, stamp);
        }
    }
    /* What is still held goes back, through this CPU. */
    while (nlive) {
        uint64_t stamp;
        pfn_t err = PA_NO_FRAME;
        int rc;

        nlive--;
        untag_block(t, live[nlive].f, live[nlive].k);
        rc = pas_free(&smp, t->cpu, live[nlive].f, live[nlive].k, &err, &stamp);
        logop(t, OP_FREE, live[nlive].k, 0, live[nlive].f, rc, err, 0, stamp);
    }
    return NULL;
}

static int by_stamp(const void *a, const void *b)
{
    const struct logent *x = a, *y = b;

    return x->stamp < y->stamp ? -1 : x->stamp > y->stamp;
}

static void smp_setup(struct pa_frame **table, struct pm *m)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < ARRAY_SIZE(smp_ranges); i++)
        total += smp_ranges[i][1];
    *table = calloc(total, sizeof(struct pa_frame));
    tags = calloc(total, sizeof(uint64_t));
    memset(mail, 0, sizeof(mail));
    pa_setup(&spa, *table, total, PA_TABLE_ZEROED);
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < ARRAY_SIZE(smp_ranges); i++) {
        CHECK(pa_add_range(&spa, smp_ranges[i][0], smp_ranges[i][1]) == 0);
        pm_add_range(m, smp_ranges[i][0], smp_ranges[i][1]);
        /* Half initialised at once, half deferred (lazy init under the heap lock). */
        CHECK(pa_init_range(&spa, smp_ranges[i][0], smp_ranges[i][1] / 2) == 0);
        CHECK(pa_defer(&spa, smp_ranges[i][0] + smp_ranges[i][1] / 2,
                       smp_ranges[i][1] / 2) == 0);
        CHECK(pm_init(m, smp_ranges[i][0], smp_ranges[i][1]) == 0);
    }
}

/* Replay the log in stamp order on the model; false at the first difference. */
static bool replay(struct pm *m, struct logent *log, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        const struct logent *e = &log[i];
        unsigned ms = 0;
        int mrc;

        if (e->stamp != i) {
            CHECKF(false, "stamps: %llu-th operation has stamp %llu (a stamp missing or "
                   "drawn twice)", (unsigned long long)i, (unsigned long long)e->stamp);
            return false;
        }
        switch (e->kind) {
        case OP_ALLOC:
            if (e->f == PA_NO_FRAME) {
                if (!pm_policy_allows(m, e->order, e->flags, PA_NO_FRAME)) {
                    CHECKF(false, "stamp %llu: CPU %u's alloc(%u, %#x) failed; the model "
                           "has a suitable block", (unsigned long long)i, e->cpu, e->order,
                           e->flags);
                    return false;
                }
                continue;
            }
            if (!pm_suitable(m, e->f, e->order) ||
                ((e->flags & PA_ALLOC_LOW) && e->f >= PA_LOW_LIMIT)) {
                CHECKF(false, "stamp %llu: CPU %u's alloc(%u, %#x) gave %#llx, not suitable "
                       "in the model at that point", (unsigned long long)i, e->cpu, e->order,
                       e->flags, (unsigned long long)e->f);
                return false;
            }
            pm_alloc_at(m, e->f, e->order);
            continue;
        case OP_FREE:
            mrc = pm_free(m, e->f, e->order);
            break;
        case OP_OFFLINE:
            mrc = pm_offline(m, e->f, &ms);
            break;
        default:
            mrc = pm_online(m, e->f, &ms);
            break;
        }
        if (mrc != e->rc || (mrc && m->err != e->err) || (!mrc && e->kind >= OP_OFFLINE &&
                                                           ms != e->newstate)) {
            CHECKF(false, "stamp %llu: CPU %u's op %u on %#llx answered '%s' (frame %#llx, "
                   "state %u), the model '%s' (frame %#llx, state %u)", (unsigned long long)i,
                   e->cpu, e->kind, (unsigned long long)e->f, pa_strerror(e->rc),
                   (unsigned long long)e->err, e->newstate, pa_strerror(mrc),
                   (unsigned long long)m->err, ms);
            return false;
        }
    }
    return true;
}

HOST_TEST(page_smp_concurrent_random)
{
    static struct pm m;
    static uint8_t st[PM_MAX_FRAMES];
    struct pa_frame *table;
    pthread_t th[NTHREADS];
    struct thr t[NTHREADS];
    uint64_t nops = host_soak ? 1000000 : 50000, total = 0;
    struct logent *all;
    struct pa_violation v;
    bool ok;

    smp_setup(&table, &m);
    pas_init(&smp, &spa, NTHREADS);
    for (unsigned i = 0; i < NTHREADS; i++) {
        t[i] = (struct thr){ .cpu = i, .seed = 0x9e3779b97f4a7c15ULL * (i + 1), .nops = nops };
        t[i].log = calloc(nops + 300, sizeof(struct logent));
        REQUIRE(pthread_create(&th[i], NULL, cpu_main, &t[i]) == 0);
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECKF(!t[i].problems, "%u problem(s), the first: %s", t[i].problems, t[i].why);
        total += t[i].nlog;
    }
    /* Blocks still in mailboxes go back too (on CPU 0, after the others). */
    for (unsigned j = 0; j < NMAIL; j++)
        if (mail[j]) {
            struct thr *z = &t[0];

            z->log = realloc(z->log, (z->nlog + 1) * sizeof(struct logent));
            untag_block(z, mail[j] >> 8, mail[j] & 0xff);
            z->log[z->nlog].rc = pas_free(&smp, 0, mail[j] >> 8, mail[j] & 0xff,
                                          &z->log[z->nlog].err, &z->log[z->nlog].stamp);
            z->log[z->nlog].kind = OP_FREE;
            z->log[z->nlog].f = mail[j] >> 8;
            z->log[z->nlog].order = mail[j] & 0xff;
            z->nlog++;
            total++;
        }
    all = malloc(total * sizeof(*all));
    total = 0;
    for (unsigned i = 0; i < NTHREADS; i++) {
        memcpy(all + total, t[i].log, t[i].nlog * sizeof(*all));
        total += t[i].nlog;
        free(t[i].log);
    }
    qsort(all, total, sizeof(*all), by_stamp);
    {
        uint64_t n[4] = { 0 }, nofr = 0, bad = 0;

        for (uint64_t i = 0; i < total; i++) {
            n[all[i].kind]++;
            nofr += all[i].kind == OP_ALLOC && all[i].f == PA_NO_FRAME;
            bad += all[i].kind != OP_ALLOC && all[i].rc;
        }
        printf("# %u CPUs, %llu operations: %llu allocations (%llu failed), %llu frees, "
               "%llu offline, %llu online (%llu refused)\n", NTHREADS,
               (unsigned long long)total, (unsigned long long)n[OP_ALLOC],
               (unsigned long long)nofr, (unsigned long long)n[OP_FREE],
               (unsigned long long)n[OP_OFFLINE], (unsigned long long)n[OP_ONLINE],
               (unsigned long long)bad);
    }
    ok = replay(&m, all, total);
    CHECKF(ok, "replay of %llu operations in stamp order", (unsigned long long)total);
    /* States and counts exact, caches still holding what they hold. */
    pas_lock_all(&smp);
    for (unsigned i = 0; ok && i < m.nr; i++) {
        pa_states(&spa, m.start[i], m.end[i] - m.start[i], st);
        for (pfn_t j = 0; j < m.end[i] - m.start[i]; j++)
            if (st[j] != m.st[m.base[i] + j]) {
                CHECKF(false, "frame %#llx is %s, the replayed model says %s",
                       (unsigned long long)(m.start[i] + j), pa_state_name(st[j]),
                       pa_state_name(m.st[m.base[i] + j]));
                break;
            }
    }
    for (unsigned s = 0; ok && s < PA_NR_STATES; s++)
        CHECKF(pa_nr_frames(&spa, s) == pm_count(&m, s), "%llu frames %s, model %llu",
               (unsigned long long)pa_nr_frames(&spa, s), pa_state_name(s),
               (unsigned long long)pm_count(&m, s));
    CHECKF(!pa_check(&spa, &v), "pa_check with the caches full: %s at %#llx", v.what,
           (unsigned long long)v.frame);
    /* Everything back: online every frame, drain every cache: one free heap. */
    for (unsigned i = 0; i < m.nr; i++)
        for (pfn_t f = m.start[i]; f < m.end[i]; f++) {
            enum pa_state ns;

            if (pa_state(&spa, f) == PA_OFFLINED)
                CHECK(pa_online(&spa, f, &ns) == 0);
        }
    pa_drain(&spa, PA_ALL_CPUS);
    CHECK(pa_nr_frames(&spa, PA_FREE) == spa.used);
    CHECKF(!pa_check(&spa, &v), "pa_check at the end: %s at %#llx", v.what,
           (unsigned long long)v.frame);
    for (unsigned i = 0; i < ARRAY_SIZE(smp_ranges); i++)
        CHECK(pa_alloc(&spa, 9, smp_ranges[i][0] < PA_LOW_LIMIT ? PA_ALLOC_LOW : 0) !=
              PA_NO_FRAME);     /* each range's 1024-frame blocks whole again */
    pas_unlock_all(&smp);
    free(all);
    free(table);
    free(tags);
}

static pthread_barrier_t bar;

struct df {
    unsigned cpu;
    pfn_t f;
    bool wait;              /* meet the other thread at the barrier first */
    int rc;
    pfn_t err;
};

static unsigned df_ready;

static void *df_free(void *arg)
{
    struct df *d = arg;

    if (d->wait) {
        /* Both running, then both spinning: they leave within nanoseconds. */
        pthread_barrier_wait(&bar);
        __atomic_add_fetch(&df_ready, 1, __ATOMIC_ACQ_REL);
        while (__atomic_load_n(&df_ready, __ATOMIC_ACQUIRE) % 2)
            __builtin_ia32_pause();
    }
    d->err = PA_NO_FRAME;
    d->rc = pas_free(&smp, d->cpu, d->f, 0, &d->err, NULL);
    return NULL;
}

static void *df_alloc(void *arg)
{
    struct df *d = arg;

    d->f = pas_alloc(&smp, d->cpu, 0, 0, NULL);
    return NULL;
}

static void run_on(void *(*fn)(void *), struct df *d)
{
    pthread_t th;

    if (pthread_create(&th, NULL, fn, d) == 0)
        pthread_join(th, NULL);
    else
        CHECK(!"pthread_create");
}

HOST_TEST(page_smp_double_free_across_cpus)
{
    static struct pm m;
    struct pa_frame *table;
    struct df d0 = { .cpu = 0 }, d1 = { .cpu = 1 };
    struct pa_violation v;
    unsigned won[2] = { 0, 0 };

    smp_setup(&table, &m);
    pas_init(&smp, &spa, 2);
    /* CPU 0 allocates and frees a block: it waits in CPU 0's cache. */
    run_on(df_alloc, &d0);
    REQUIRE(d0.f != PA_NO_FRAME);
    run_on(df_free, &d0);
    CHECK(d0.rc == PA_OK);
    pas_lock_all(&smp);
    CHECK(pa_cache_cpu(&spa, d0.f) == 0);
    pas_unlock_all(&smp);
    /* CPU 1 frees it again: a double free, named. */
    d1.f = d0.f;
    run_on(df_free, &d1);
    CHECKF(d1.rc == PA_E_DOUBLE_FREE && d1.err == d0.f, "CPU 1's free: '%s' at %#llx",
           pa_strerror(d1.rc), (unsigned long long)d1.err);
    pas_lock_all(&smp);
    CHECK(pa_cache_cpu(&spa, d0.f) == 0 && pa_state(&spa, d0.f) == PA_FREE);
    pas_unlock_all(&smp);

    /* Two CPUs free the same in-use block at the same moment: exactly one
     * free succeeds, the other is a double free. */
    pthread_barrier_init(&bar, NULL, 2);
    for (unsigned i = 0; i < 200; i++) {
        pthread_t a, b;

        run_on(df_alloc, &d0);
        REQUIRE(d0.f != PA_NO_FRAME);
        d1.f = d0.f;
        d0.wait = d1.wait = true;
        REQUIRE(pthread_create(&a, NULL, df_free, &d0) == 0);
        REQUIRE(pthread_create(&b, NULL, df_free, &d1) == 0);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        d0.wait = d1.wait = false;
        CHECKF((d0.rc == PA_OK) + (d1.rc == PA_OK) == 1 &&
               (d0.rc == PA_E_DOUBLE_FREE || d1.rc == PA_E_DOUBLE_FREE),
               "round %u: CPU 0 '%s', CPU 1 '%s'", i, pa_strerror(d0.rc), pa_strerror(d1.rc));
        won[d1.rc == PA_OK]++;
    }
    pthread_barrier_destroy(&bar);
    pas_lock_all(&smp);
    CHECKF(!pa_check(&spa, &v), "pa_check: %s at %#llx", v.what, (unsigned long long)v.frame);
    pas_unlock_all(&smp);
    printf("# double frees raced 200 times: CPU 0 won %u, CPU 1 won %u\n", won[0], won[1]);
    free(table);
    free(tags);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Page allocator benchmark: the scenarios of docs/bench.md on
 * 1,048,576 frames (4 GiB) starting at frame 0x100000, all free after init.
 *
 *   s1cold   from a fresh allocator, 1M order-0 alloc+free pairs (LIFO)
 *   s1hot    the same after first holding one frame
 *   s2       10M ops, orders uniform 0..9, splitmix64 seed 42; each op
 *            allocates with probability (8192 - live)/8192, else frees a
 *            uniformly chosen live block
 *   s3       order-0 until failure; free odd frames; 100,000 order-1
 *            attempts (all fail); free even frames; top order until failure
 *   once     one order-0 alloc and one free on the s1hot state (to check the
 *            per-call figures by hand: callgrind --dump-instr=yes)
 *   init4g, init64g   setup + add_range + init_range of 4 GiB / 64 GiB on a
 *            table handed over zero-filled (the ZEROED flag: no lazy memset)
 *   lazy4g, lazy64g   the same on a table of garbage with flags 0, as the
 *            kernel hands it over (mm/heap.c): the allocator zeroes each
 *            chunk's slice of the table when it first touches it
 *   bytes    table and state sizes
 *   all      every scenario but once (the default)
 *
 *   alloc_bench [-i IMPL] [SCENARIO]     IMPL: pa (default), or another
 *   alloc_bench -l                       implementation built in; -l lists
 *                                        them as "name alloc-fn free-fn
 *                                        init-fns"
 *
 * Prints, per scenario, the calls made and ns per call (native timing).
 * Instruction counts come from scripts/bench-alloc.sh, which runs this under
 * callgrind and reads the inclusive cost of the calls to the allocator's
 * public functions (nothing of the driving loop, nor of the clock reads).
 * The measured regions are also bracketed with CALLGRIND_TOGGLE_COLLECT so
 * that set-up outside them is not collected at all.
 *
 * Implementations: the scenarios are written once, against struct alloc_ops
 * (the public API only). BENCH_IMPL() instantiates them for one allocator
 * with direct calls (the ops are compile-time constants and every scenario is
 * inlined into its instantiation, so the compiler calls pa_alloc itself, not
 * a pointer). A second allocator with the same API under another prefix
 * (pr_* of <pvhk/page_ref.h>, the reference allocator) is one more BENCH_IMPL() line and one
 * entry in impls[]; it is built in when its header exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <valgrind/callgrind.h>
#include <pvhk/page_alloc.h>
#include <pvhk/page_smp.h>
#if __has_include(<pvhk/page_ref.h>)
#include <pvhk/page_ref.h>
#define BENCH_HAVE_REF 1
#endif

#define INLINE static inline __attribute__((always_inline))

#define BASE    0x100000ULL
#define NFRAMES 0x100000ULL

/* The allocator under test, public API only. `st` is its state. */
struct alloc_ops {
    const char *name;
    const char *fn_alloc, *fn_free, *fn_init;   /* names callgrind sees */
    size_t (*table_bytes)(uint64_t frames);
    void (*setup)(void *st, void *table, uint64_t frames, unsigned flags);
    int (*add_range)(void *st, uint64_t base, uint64_t count);
    int (*init_range)(void *st, uint64_t base, uint64_t count);
    uint64_t (*alloc)(void *st, unsigned order, unsigned flags);
    int (*free)(void *st, uint64_t frame, unsigned order);
    uint64_t (*nr_free)(void *st);
    uint64_t no_frame;
    unsigned max_order;         /* top order */
    unsigned zeroed;            /* setup flag: table storage is zero-filled */
};

/*
 * One implementation: P is its prefix (P##_setup, P##_alloc, ...), T its
 * state type, the rest its constants. The wrappers only adapt `void *` to T
 * and are inlined away.
 */
#define BENCH_IMPL(P, T, NO_FRAME, MAX_ORDER, ZEROED, FREE_STATE)                       \
    BENCH_IMPL_AS(P, T, NO_FRAME, MAX_ORDER, ZEROED, FREE_STATE, #P "_alloc", #P "_free")

/* The same, with the names callgrind sees for the alloc and free calls
 * (a wrapper inlined into the bench calls them from the bench's code). */
#define BENCH_IMPL_AS(P, T, NO_FRAME, MAX_ORDER, ZEROED, FREE_STATE, FN_ALLOC, FN_FREE)    \
    static T bench_##P;                                                                \
    INLINE size_t P##_w_table_bytes(uint64_t n) { return P##_table_bytes(n); }   \
    INLINE void P##_w_setup(void *s, void *t, uint64_t n, unsigned f)            \
    { P##_setup(s, t, n, f); }                                                          \
    INLINE int P##_w_add_range(void *s, uint64_t b, uint64_t n)                  \
    { return P##_add_range(s, b, n); }                                                  \
    INLINE int P##_w_init_range(void *s, uint64_t b, uint64_t n)                 \
    { return P##_init_range(s, b, n); }                                                 \
    INLINE uint64_t P##_w_alloc(void *s, unsigned k, unsigned f)                 \
    { return P##_alloc(s, k, f); }                                                      \
    INLINE int P##_w_free(void *s, uint64_t f, unsigned k)                       \
    { return P##_free(s, f, k); }                                                       \
    INLINE uint64_t P##_w_nr_free(void *s) { return P##_nr_frames(s, FREE_STATE); } \
    static const struct alloc_ops P##_ops = {                                           \
        #P, FN_ALLOC, FN_FREE, #P "_setup," #P "_add_range," #P "_init_range",          \
        P##_w_table_bytes, P##_w_setup, P##_w_add_range, P##_w_init_range,              \
        P##_w_alloc, P##_w_free, P##_w_nr_free, NO_FRAME, MAX_ORDER, ZEROED,            \
    };                                                                                  \
    static void P##_run(const char *w) { run(&P##_ops, &bench_##P, w); }



static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Zero-filled storage; `resident`: pre-faulted, as a kernel's mapped memory is. */
static void *zeroed(size_t bytes, bool resident)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (resident ? MAP_POPULATE : MAP_NORESERVE), -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static void *table;
static size_t table_len;

static void drop_table(void)
{
    if (table)
        munmap(table, table_len);
    table = NULL;
}

INLINE void fresh(const struct alloc_ops *o, void *st, uint64_t frames)
{
    drop_table();
    table_len = o->table_bytes(frames);
    table = zeroed(table_len, false);
    o->setup(st, table, frames, o->zeroed);
    if (o->add_range(st, BASE, frames) || o->init_range(st, BASE, frames)) {
        fprintf(stderr, "setup failed\n");
        exit(2);
    }
}

static void report(const char *name, uint64_t nalloc, double ns_alloc, uint64_t nfree,
                   double ns_free, const char *note)
{
    printf("%-8s allocs %9llu  %6.1f ns/alloc   frees %9llu  %6.1f ns/free   %s\n", name,
           (unsigned long long)nalloc, nalloc ? ns_alloc / nalloc : 0.0,
           (unsigned long long)nfree, nfree ? ns_free / nfree : 0.0, note);
}

static void must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench: %s\n", what);
        exit(3);
    }
}

/* S1: the pair is timed as a whole; ns are split evenly for the table. */
INLINE void s1(const struct alloc_ops *o, void *st, bool hot)
{
    const uint64_t n = 1 << 20;
    double t0, t1;

    fresh(o, st, NFRAMES);
    if (hot)
        must(o->alloc(st, 0, 0) != o->no_frame, "hold");
    t0 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t f = o->alloc(st, 0, 0);
        o->free(st, f, 0);
    }
    CALLGRIND_TOGGLE_COLLECT;
    t1 = now_ns();
    report(hot ? "s1hot" : "s1cold", n, (t1 - t0) / 2, n, (t1 - t0) / 2,
           "(pair timed together)");
}

/* One pair on the s1hot state, for a hand count of the per-call figures. */
INLINE void once(const struct alloc_ops *o, void *st)
{
    uint64_t f;

    fresh(o, st, NFRAMES);
    must(o->alloc(st, 0, 0) != o->no_frame, "hold");
    f = o->alloc(st, 0, 0);             /* warm: the pair below is s1hot's */
    o->free(st, f, 0);
    CALLGRIND_TOGGLE_COLLECT;
    f = o->alloc(st, 0, 0);
    o->free(st, f, 0);
    CALLGRIND_TOGGLE_COLLECT;
    report("once", 1, 0, 1, 0, "(not timed)");
}

static uint64_t sm_state;

static uint64_t splitmix64(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

INLINE void s2(const struct alloc_ops *o, void *st)
{
    static struct { uint64_t f; unsigned k; } live[8192];
    const uint64_t ops = 10000000;
    uint64_t nlive = 0, na = 0, nf = 0, fails = 0;
    double ta = 0, tf = 0, t0;

    fresh(o, st, NFRAMES);
    sm_state = 42;
    for (uint64_t i = 0; i < ops; i++) {
        if (splitmix64() % 8192 >= nlive) {
            unsigned k = (unsigned)(splitmix64() % 10);
            uint64_t f;

            t0 = now_ns();
            CALLGRIND_TOGGLE_COLLECT;
            f = o->alloc(st, k, 0);
            CALLGRIND_TOGGLE_COLLECT;
            ta += now_ns() - t0;
            na++;
            if (f == o->no_frame)
                fails++;
            else
                live[nlive++] = (typeof(live[0])){ f, k };
        } else {
            uint64_t j = splitmix64() % nlive;
            int rc;

            t0 = now_ns();
            CALLGRIND_TOGGLE_COLLECT;
            rc = o->free(st, live[j].f, live[j].k);
            CALLGRIND_TOGGLE_COLLECT;
            tf += now_ns() - t0;
            nf++;
            must(rc == 0, "s2 free");
            live[j] = live[--nlive];
        }
    }
    /* Timing each call includes clock_gettime's cost; it is reported as is. */
    report("s2", na, ta, nf, tf, fails ? "(some allocs failed)" : "(ns include clock reads)");
}

INLINE void s3(const struct alloc_ops *o, void *st)
{
    const uint64_t tries = 100000;
    const unsigned top_order = o->max_order;
    uint64_t n = 0, nf = 0, top = 0;
    double t0, t1, t2, t3, t4, t5;

    fresh(o, st, NFRAMES);
    t0 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    while (o->alloc(st, 0, 0) != o->no_frame)
        n++;
    t1 = now_ns();
    for (uint64_t f = BASE + 1; f < BASE + NFRAMES; f += 2, nf++)
        must(o->free(st, f, 0) == 0, "s3 odd free");
    t2 = now_ns();
    for (uint64_t i = 0; i < tries; i++)
        must(o->alloc(st, 1, 0) == o->no_frame, "s3 order-1 must fail");
    t3 = now_ns();
    for (uint64_t f = BASE; f < BASE + NFRAMES; f += 2, nf++)
        must(o->free(st, f, 0) == 0, "s3 even free");
    t4 = now_ns();
    while (o->alloc(st, top_order, 0) != o->no_frame)
        top++;
    CALLGRIND_TOGGLE_COLLECT;
    t5 = now_ns();
    must(n == NFRAMES, "s3: not every frame allocated");
    must(top == NFRAMES >> top_order, "s3: top-order blocks did not all come back");
    report("s3", (n + 1) + tries + (top + 1), (t1 - t0) + (t3 - t2) + (t5 - t4), nf,
           (t2 - t1) + (t4 - t3), "");
    printf("s3-parts order0-allocs %.1f ns  failed-order1 %.1f ns  odd-frees %.1f ns  "
           "even-frees(merging) %.1f ns  top-blocks %llu\n",
           (t1 - t0) / (double)(n + 1), (t3 - t2) / tries, (t2 - t1) / (NFRAMES / 2),
           (t4 - t3) / (NFRAMES / 2), (unsigned long long)top);
}

/*
 * Init of `frames` frames. zeroed: the table is handed over zero-filled and
 * setup is told so (no zeroing by the allocator: whoever provided the memory
 * zeroed it; here the kernel's fresh anonymous mapping). !zeroed: the table
 * holds garbage (0xa5, written before the measured region) and setup gets
 * flags 0, as mm/heap.c calls it on memory from memblock: the allocator
 * zeroes each chunk's slice of the table when it first touches it, so those
 * memsets are part of the figure. The clock is read outside the collected
 * region, and the instruction figure is the calls' inclusive cost only.
 */
INLINE void init(const struct alloc_ops *o, void *st, const char *name, uint64_t frames,
                 bool zeroed_table)
{
    /* Resident storage: the figure is the allocator's, not the host's page faults. */
    size_t bytes = o->table_bytes(frames);
    void *t = zeroed(bytes, true);
    double t0, t1;
    int rc;

    /* Written before the measured region either way, so every page of it is
     * present and private (a fresh mapping's first write to a page faults). */
    memset(t, zeroed_table ? 0 : 0xa5, bytes);
    t0 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    o->setup(st, t, frames, zeroed_table ? o->zeroed : 0);
    rc = o->add_range(st, BASE, frames) || o->init_range(st, BASE, frames);
    CALLGRIND_TOGGLE_COLLECT;
    t1 = now_ns();
    must(!rc && o->nr_free(st) == frames, "init");
    /* How much of the garbage the allocator overwrote (zeroing included). */
    uint64_t written = 0;
    if (!zeroed_table)
        for (const uint64_t *p = t; p < (const uint64_t *)((char *)t + bytes); p++)
            written += *p != 0xa5a5a5a5a5a5a5a5ULL;
    printf("%-8s frames %llu  %.1f us  (%llu top-order blocks)  table %s", name,
           (unsigned long long)frames, (t1 - t0) / 1e3,
           (unsigned long long)(frames >> o->max_order),
           zeroed_table ? "handed over zeroed (ZEROED flag: the allocator zeroes nothing)\n"
                        : "of garbage, flags 0 (the allocator zeroes the chunks it touches): ");
    if (!zeroed_table)
        printf("written %.1f MiB\n", written * 8 / 1048576.0);
    munmap(t, bytes);
}

INLINE void run(const struct alloc_ops *o, void *st, const char *w)
{
    bool all = !strcmp(w, "all");

    if (all || !strcmp(w, "s1cold"))
        s1(o, st, false);
    if (all || !strcmp(w, "s1hot"))
        s1(o, st, true);
    if (!strcmp(w, "once"))
        once(o, st);
    if (all || !strcmp(w, "s2"))
        s2(o, st);
    if (all || !strcmp(w, "s3"))
        s3(o, st);
    if (all || !strcmp(w, "init4g"))
        init(o, st, "init4g", NFRAMES, true);
    if (all || !strcmp(w, "init64g"))
        init(o, st, "init64g", 16 * NFRAMES, true);
    if (all || !strcmp(w, "lazy4g"))
        init(o, st, "lazy4g", NFRAMES, false);
    if (all || !strcmp(w, "lazy64g"))
        init(o, st, "lazy64g", 16 * NFRAMES, false);
    drop_table();
}

BENCH_IMPL(pa, struct page_alloc, PA_NO_FRAME, PA_MAX_ORDER, PA_TABLE_ZEROED, PA_FREE)
#ifdef BENCH_HAVE_REF
BENCH_IMPL(pr, struct page_ref, PA_NO_FRAME, PA_MAX_ORDER, PA_TABLE_ZEROED, PA_FREE)
#endif

/*
 * The per-CPU path, on CPU 0: `pac`, pa_alloc_on()/pa_free_on() (the
 * cache, no lock: what one CPU's operation costs in itself); `pas`,
 * pas_alloc()/pas_free() (mm/page_smp.c: the same with CPU 0's lock, and
 * the heap lock on a refill), as the kernel calls it.
 */
#define pac_table_bytes pa_table_bytes
#define pac_setup       pa_setup
#define pac_add_range   pa_add_range
#define pac_init_range  pa_init_range
#define pac_nr_frames   pa_nr_frames
INLINE pfn_t pac_alloc(struct page_alloc *s, unsigned k, unsigned f)
{
    return pa_alloc_on(s, 0, k, f);
}
INLINE int pac_free(struct page_alloc *s, pfn_t f, unsigned k)
{
    return pa_free_on(s, 0, f, k);
}
BENCH_IMPL_AS(pac, struct page_alloc, PA_NO_FRAME, PA_MAX_ORDER, PA_TABLE_ZEROED, PA_FREE,
              "pa_alloc_on", "pa_free_on")

struct pas_state {
    struct page_alloc pa;
    struct pa_smp smp;
};
#define lk_table_bytes  pa_table_bytes
INLINE void lk_setup(struct pas_state *s, void *t, uint64_t n, unsigned f)
{
    pa_setup(&s->pa, t, n, f);
    pas_init(&s->smp, &s->pa, 2);
}
INLINE int lk_add_range(struct pas_state *s, uint64_t b, uint64_t n)
{
    return pa_add_range(&s->pa, b, n);
}
INLINE int lk_init_range(struct pas_state *s, uint64_t b, uint64_t n)
{
    return pa_init_range(&s->pa, b, n);
}
INLINE uint64_t lk_nr_frames(struct pas_state *s, enum pa_state st)
{
    return pa_nr_frames(&s->pa, st);
}
INLINE pfn_t lk_alloc(struct pas_state *s, unsigned k, unsigned f)
{
    return pas_alloc(&s->smp, 0, k, f, NULL);
}
INLINE int lk_free(struct pas_state *s, pfn_t f, unsigned k)
{
    return pas_free(&s->smp, 0, f, k, NULL, NULL);
}
BENCH_IMPL_AS(lk, struct pas_state, PA_NO_FRAME, PA_MAX_ORDER, PA_TABLE_ZEROED, PA_FREE,
              "pas_alloc", "pas_free")

static const struct {
    const struct alloc_ops *ops;
    void (*run)(const char *w);
} impls[] = {
    { &pa_ops, pa_run },
    { &pac_ops, pac_run },
    { &lk_ops, lk_run },
#ifdef BENCH_HAVE_REF
    { &pr_ops, pr_run },
#endif
};
#define NR_IMPLS (sizeof(impls) / sizeof(impls[0]))

static void usage(void)
{
    fprintf(stderr, "usage: alloc_bench [-i IMPL] [s1cold|s1hot|s2|s3|once|init4g|init64g|"
            "lazy4g|lazy64g|bytes|all]\n       alloc_bench -l\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *impl = "pa", *w;
    int c;

    while ((c = getopt(argc, argv, "i:l")) != -1) {
        switch (c) {
        case 'i':
            impl = optarg;
            break;
        case 'l':
            for (size_t i = 0; i < NR_IMPLS; i++)
                printf("%s %s %s %s\n", impls[i].ops->name, impls[i].ops->fn_alloc,
                       impls[i].ops->fn_free, impls[i].ops->fn_init);
            return 0;
        default:
            usage();
        }
    }
    if (argc - optind > 1)
        usage();
    w = optind < argc ? argv[optind] : "all";
    char key[32];
    snprintf(key, sizeof(key), " %s ", w);
    if (!strstr(" all s1cold s1hot s2 s3 once init4g init64g lazy4g lazy64g bytes ", key) ||
        strchr(w, ' ') || !*w) {
        fprintf(stderr, "alloc_bench: unknown scenario '%s'\n", w);
        usage();
    }
    for (size_t i = 0; i < NR_IMPLS; i++) {
        if (strcmp(impls[i].ops->name, impl))
            continue;
        CALLGRIND_START_INSTRUMENTATION;
        impls[i].run(w);
        if (!strcmp(impl, "pa") && (!strcmp(w, "all") || !strcmp(w, "bytes")))
            printf("bytes    %zu B/frame table + %zu B allocator state (%.6f B/frame at "
                   "4 GiB)\n", sizeof(struct pa_frame), sizeof(struct page_alloc),
                   sizeof(struct pa_frame) + (double)sizeof(struct page_alloc) / NFRAMES);
        return 0;
    }
    fprintf(stderr, "alloc_bench: no implementation '%s' built in (-l lists them)\n", impl);
    return 2;
}

/*
 * Page allocator benchmark, scenarios as issue 5 defines them:
 * 1,048,576 frames (4 GiB) starting at frame 0x100000, all free after init.
 *
 *   s1cold   from a fresh allocator, 1M order-0 alloc+free pairs (LIFO)
 *   s1hot    the same after first holding one frame
 *   s2       10M ops, orders uniform 0..9, splitmix64 seed 42; each op
 *            allocates with probability (8192 - live)/8192, else frees a
 *            uniformly chosen live block
 *   s3       order-0 until failure; free odd frames; 100,000 order-1
 *            attempts (all fail); free even frames; top order until failure
 *   init4g, init64g   setup + range + init of 4 GiB / 64 GiB (zeroed storage)
 *   lazy64g  the same without PA_TABLE_ZEROED (chunks are memset when touched)
 *   all      every scenario (the default)
 *
 * Prints, per scenario, the calls made and ns per call (native timing).
 * Instruction counts come from scripts/bench-alloc.sh, which runs this
 * under callgrind: the measured region is bracketed with
 * CALLGRIND_TOGGLE_COLLECT so setup is not counted, and per-call counts
 * are pa_alloc's and pa_free's inclusive costs divided by the calls
 * printed here (only allocator instructions: the loop is not in them).
 * All validation is on: it is not optional in the allocator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <valgrind/callgrind.h>
#include <pvhk/page_alloc.h>

#define BASE    0x100000ULL
#define NFRAMES 0x100000ULL

static struct page_alloc pa;
static struct pa_frame *table;
static uint64_t table_cap;

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

static void fresh(uint64_t frames, unsigned flags)
{
    if (table)
        munmap(table, pa_table_bytes(table_cap));
    table_cap = frames;
    table = zeroed(pa_table_bytes(frames), false);
    pa_setup(&pa, table, frames, flags);
    if (pa_add_range(&pa, BASE, frames) || pa_init_range(&pa, BASE, frames)) {
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
static void s1(bool hot)
{
    const uint64_t n = 1 << 20;
    double t0, t1;

    fresh(NFRAMES, PA_TABLE_ZEROED);
    if (hot)
        must(pa_alloc(&pa, 0, 0) != PA_NO_FRAME, "hold");
    CALLGRIND_TOGGLE_COLLECT;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        pfn_t f = pa_alloc(&pa, 0, 0);
        pa_free(&pa, f, 0);
    }
    t1 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    report(hot ? "s1hot" : "s1cold", n, (t1 - t0) / 2, n, (t1 - t0) / 2,
           "(pair timed together)");
}

static uint64_t sm_state;

static uint64_t splitmix64(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void s2(void)
{
    static struct { pfn_t f; unsigned k; } live[8192];
    const uint64_t ops = 10000000;
    uint64_t nlive = 0, na = 0, nf = 0, fails = 0;
    double ta = 0, tf = 0, t0;

    fresh(NFRAMES, PA_TABLE_ZEROED);
    sm_state = 42;
    for (uint64_t i = 0; i < ops; i++) {
        if (splitmix64() % 8192 >= nlive) {
            unsigned k = (unsigned)(splitmix64() % 10);
            pfn_t f;

            t0 = now_ns();
            CALLGRIND_TOGGLE_COLLECT;
            f = pa_alloc(&pa, k, 0);
            CALLGRIND_TOGGLE_COLLECT;
            ta += now_ns() - t0;
            na++;
            if (f == PA_NO_FRAME)
                fails++;
            else
                live[nlive++] = (typeof(live[0])){ f, k };
        } else {
            uint64_t j = splitmix64() % nlive;
            int rc;

            t0 = now_ns();
            CALLGRIND_TOGGLE_COLLECT;
            rc = pa_free(&pa, live[j].f, live[j].k);
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

static void s3(void)
{
    const uint64_t tries = 100000;
    uint64_t n = 0, nf = 0, top = 0;
    double t0, t1, t2, t3, t4, t5;

    fresh(NFRAMES, PA_TABLE_ZEROED);
    CALLGRIND_TOGGLE_COLLECT;
    t0 = now_ns();
    while (pa_alloc(&pa, 0, 0) != PA_NO_FRAME)
        n++;
    t1 = now_ns();
    for (pfn_t f = BASE + 1; f < BASE + NFRAMES; f += 2, nf++)
        must(pa_free(&pa, f, 0) == 0, "s3 odd free");
    t2 = now_ns();
    for (uint64_t i = 0; i < tries; i++)
        must(pa_alloc(&pa, 1, 0) == PA_NO_FRAME, "s3 order-1 must fail");
    t3 = now_ns();
    for (pfn_t f = BASE; f < BASE + NFRAMES; f += 2, nf++)
        must(pa_free(&pa, f, 0) == 0, "s3 even free");
    t4 = now_ns();
    while (pa_alloc(&pa, PA_MAX_ORDER, 0) != PA_NO_FRAME)
        top++;
    t5 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    must(n == NFRAMES, "s3: not every frame allocated");
    must(top == NFRAMES >> PA_MAX_ORDER, "s3: top-order blocks did not all come back");
    report("s3", (n + 1) + tries + (top + 1), (t1 - t0) + (t3 - t2) + (t5 - t4), nf,
           (t2 - t1) + (t4 - t3), "");
    printf("s3-parts order0-allocs %.1f ns  failed-order1 %.1f ns  odd-frees %.1f ns  "
           "even-frees(merging) %.1f ns  top-blocks %llu\n",
           (t1 - t0) / (double)(n + 1), (t3 - t2) / tries, (t2 - t1) / (NFRAMES / 2),
           (t4 - t3) / (NFRAMES / 2), (unsigned long long)top);
}

static void init(const char *name, uint64_t frames, unsigned flags)
{
    /* Resident storage: the figure is the allocator's, not the host's page faults. */
    struct pa_frame *t = zeroed(pa_table_bytes(frames), true);
    double t0, t1;
    int rc;

    CALLGRIND_TOGGLE_COLLECT;
    t0 = now_ns();
    pa_setup(&pa, t, frames, flags);
    rc = pa_add_range(&pa, BASE, frames) || pa_init_range(&pa, BASE, frames);
    t1 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    must(!rc && pa_nr_frames(&pa, PA_FREE) == frames, "init");
    printf("%-8s frames %llu  %.1f us  (%llu top-order blocks)\n", name,
           (unsigned long long)frames, (t1 - t0) / 1e3,
           (unsigned long long)(frames >> PA_MAX_ORDER));
    munmap(t, pa_table_bytes(frames));
}

int main(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "all";
    bool all = !strcmp(w, "all");

    CALLGRIND_START_INSTRUMENTATION;
    if (all || !strcmp(w, "s1cold"))
        s1(false);
    if (all || !strcmp(w, "s1hot"))
        s1(true);
    if (all || !strcmp(w, "s2"))
        s2();
    if (all || !strcmp(w, "s3"))
        s3();
    if (all || !strcmp(w, "init4g"))
        init("init4g", NFRAMES, PA_TABLE_ZEROED);
    if (all || !strcmp(w, "init64g"))
        init("init64g", 16 * NFRAMES, PA_TABLE_ZEROED);
    if (all || !strcmp(w, "lazy64g"))
        init("lazy64g", 16 * NFRAMES, 0);
    if (all || !strcmp(w, "bytes"))
        printf("bytes    %zu B/frame table + %zu B allocator state (%.6f B/frame at 4 GiB)\n",
               sizeof(struct pa_frame), sizeof(struct page_alloc),
               sizeof(struct pa_frame) + (double)sizeof(struct page_alloc) / NFRAMES);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * alloc-trace: replay a page-allocator trace from stdin with the kernel's
 * own allocator code, one answer line per input line that holds an
 * operation, flushed as it is written (a program can drive it over pipes,
 * one request and one answer at a time). By default the fast allocator
 * (mm/page_alloc*.c) runs; with --ref, the reference (mm/page_ref.c).
 * Frames and counts are hex with 0x, orders and owners decimal.
 *
 *   range START COUNT      -> ok | error: REASON   frames become known, UNINITIALISED
 *   range-unbacked START COUNT -> ok | error: REASON   frames become known, RELEASED
 *   init START COUNT       -> ok | error: REASON
 *   defer START COUNT      -> ok | error: REASON   (FREE; lazy init)
 *   alloc ORDER [low]      -> 0xFRAME | FAIL  (low: below 4 GiB)
 *   free FRAME ORDER       -> ok | error: REASON
 *   mark FRAME ORDER       -> ok | error: REASON   (initialise straight into INUSE)
 *   reserve START COUNT OWNER   -> ok | error: REASON   (boot hand-over, OWNER 1..65535)
 *   unreserve START COUNT OWNER -> ok | error: REASON
 *   owner FRAME            -> OWNER (0: the heap's, or not in use) | error: REASON
 *   offline FRAME          -> offlining | offlined | error: REASON
 *   online FRAME           -> inuse | free | error: REASON
 *   state FRAME            -> uninitialised | free | inuse | offlining |
 *                             offlined | released | scratch | error: REASON
 *   count STATE            -> number of frames in that state, decimal
 *   check                  -> ok | error: VIOLATION
 *   initall                -> ok
 *   take|release|populate|scratch START COUNT -> ok | error: REASON
 *   unscratch START COUNT [released|uninitialised] -> ok | error: REASON
 *   cpu N|none             -> ok | error: REASON   the CPU the following alloc and
 *                             free lines run on (pa_alloc_on/pa_free_on, decimal
 *                             N below PA_MAX_CPUS); none (the start): pa_alloc/pa_free
 *   drain [N|all]          -> ok   give CPU N's cached blocks (default: every CPU's)
 *                             back to the lists
 *   cached FRAME           -> cpu N | none | error: REASON   which CPU's cache holds
 *                             the frame (the reference caches nothing: none)
 *
 * Blank lines and '#' comments are ignored. A malformed line (unknown
 * operation, a frame or count that is not exactly 0x followed by hex
 * digits whose value fits in 64 bits, an order or owner that is not a
 * decimal number up to 1000000, a NUL byte, trailing words) answers
 * "error: line N: WHAT" and the replay goes on. Exit status: 0, or 1 if
 * any line was malformed; 2 for a bad command-line option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <pvhk/page_alloc.h>
#include <pvhk/page_ref.h>

static struct page_alloc pa;
static struct page_ref ref;
static void *table;
static bool use_ref;
static unsigned cur_cpu = ~0U;      /* `cpu N`; ~0U: none */

/* The same operation on whichever implementation runs. */
#define CALL(fn, ...)   (use_ref ? pr_##fn(&ref, __VA_ARGS__) : pa_##fn(&pa, __VA_ARGS__))

static char *tok(char **s)
{
    char *p = *s, *t;

    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p)
        return NULL;
    t = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = 0;
    *s = p;
    return t;
}

/* Exactly "0x" and one or more hex digits whose value fits in 64 bits. */
static bool hex(const char *t, uint64_t *v)
{
    uint64_t x = 0;
    const char *p;

    if (!t || t[0] != '0' || (t[1] != 'x' && t[1] != 'X') || !t[2])
        return false;
    for (p = t + 2; *p; p++) {
        unsigned d;

        if (!isxdigit((unsigned char)*p))
            return false;
        d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                                       : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        if (x >> 60)
            return false;           /* another digit would overflow */
        x = x << 4 | d;
    }
    *v = x;
    return true;
}

static bool dec(const char *t, unsigned *v)
{
    char *end;
    unsigned long x;

    if (!t || !isdigit((unsigned char)t[0]))
        return false;
    errno = 0;
    x = strtoul(t, &end, 10);
    if (*end || errno || x > 1000000)
        return false;
    *v = (unsigned)x;
    return true;
}

static void answer(int rc)
{
    if (rc)
        printf("error: %s\n", pa_strerror(rc));
    else
        printf("ok\n");
}

/* Make room for `count` more table entries; the allocators keep indices. */
static int grow_table(uint64_t count)
{
    uint64_t used = use_ref ? ref.used : pa.used, cap = use_ref ? ref.capacity : pa.capacity;
    uint64_t need = used + count;
    size_t esz = use_ref ? sizeof(struct pr_frame) : sizeof(struct pa_frame);
    void *t;

    if (need <= cap)
        return 0;
    if (need > PA_NIL || need < used)
        return PA_E_NOSPACE;
    cap = MAX(need, MIN(2 * cap, (uint64_t)PA_NIL));
    t = calloc(cap, esz);
    if (!t)
        return PA_E_NOSPACE;
    if (used)
        memcpy(t, table, used * esz);
    free(table);
    table = t;
    if (use_ref)
        pr_move_table(&ref, t, cap);
    else
        pa_move_table(&pa, t, cap);
    return 0;
}

static bool state_of(const char *t, enum pa_state *st)
{
    for (unsigned s = 0; s < PA_NR_STATES; s++)
        if (t && !strcmp(t, pa_state_name(s))) {
            *st = s;
            return true;
        }
    return false;
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long n = 0;
    int status = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ref")) {
            use_ref = true;
        } else {
            fprintf(stderr, "usage: %s [--ref] < trace\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);           /* one flushed answer per line */
    if (use_ref)
        pr_setup(&ref, NULL, 0, PA_TABLE_ZEROED);
    else
        pa_setup(&pa, NULL, 0, PA_TABLE_ZEROED);    /* calloc'd storage */
    while ((len = getline(&line, &cap, stdin)) > 0) {
        char *s = line, *op, *extra;
        const char *bad = NULL;
        uint64_t a = 0, c = 0;
        unsigned k = 0;
        int rc;

        n++;
        if (memchr(line, 0, (size_t)len)) {
            printf("error: line %lu: NUL byte in line\n", n);
            status = 1;
            continue;
        }
        if ((op = strchr(line, '#')))
            *op = 0;
        op = tok(&s);
        if (!op)
            continue;

#define WANT(cond, what) do { if (!(cond)) { bad = what; goto malformed; } } while (0)
#define END() WANT(!(extra = tok(&s)), "trailing garbage")

        if (!strcmp(op, "range") || !strcmp(op, "range-unbacked") || !strcmp(op, "init") || !strcmp(op, "defer") ||
            !strcmp(op, "take") || !strcmp(op, "release") || !strcmp(op, "populate") ||
            !strcmp(op, "scratch") || !strcmp(op, "unscratch")) {
            const char *to = NULL;
            WANT(hex(tok(&s), &a), "expected START in hex (0x...)");
            WANT(hex(tok(&s), &c), "expected COUNT in hex (0x...)");
            if (!strcmp(op, "unscratch"))
                to = tok(&s);
            END();
            if (!strcmp(op, "range")) {
                rc = grow_table(c);
                answer(rc ? rc : CALL(add_range, a, c));
            } else if (!strcmp(op, "range-unbacked")) {
                rc = grow_table(c);
                answer(rc ? rc : CALL(add_range_unbacked, a, c));
            } else if (!strcmp(op, "init")) {
                answer(CALL(init_range, a, c));
            } else if (!strcmp(op, "defer")) {
                answer(CALL(defer, a, c));
            } else if (!strcmp(op, "take")) {
                answer(CALL(take, a, c));
            } else if (!strcmp(op, "release")) {
                answer(CALL(release, a, c));
            } else if (!strcmp(op, "populate")) {
                answer(CALL(populate, a, c));
            } else if (!strcmp(op, "scratch")) {
                answer(CALL(scratch, a, c));
            } else {
                WANT(!to || !strcmp(to, "released") || !strcmp(to, "uninitialised"),
                     "expected 'released' or 'uninitialised'");
                answer(CALL(unscratch, a, c, to && !strcmp(to, "uninitialised")
                                                   ? PA_UNINITIALISED : PA_RELEASED));
            }
        } else if (!strcmp(op, "alloc")) {
            const char *fl;
            pfn_t f;
            WANT(dec(tok(&s), &k), "expected ORDER in decimal");
            fl = tok(&s);
            WANT(!fl || !strcmp(fl, "low"), "expected 'low' or nothing after ORDER");
            END();
            f = cur_cpu == ~0U ? CALL(alloc, k, fl ? PA_ALLOC_LOW : 0)
                               : CALL(alloc_on, cur_cpu, k, fl ? PA_ALLOC_LOW : 0);
            if (f == PA_NO_FRAME)
                printf("FAIL\n");
            else
                printf("%#llx\n", (unsigned long long)f);
        } else if (!strcmp(op, "free") || !strcmp(op, "mark")) {
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            WANT(dec(tok(&s), &k), "expected ORDER in decimal");
            END();
            if (op[0] == 'm')
                answer(CALL(mark_inuse, a, k));
            else
                answer(cur_cpu == ~0U ? CALL(free, a, k) : CALL(free_on, cur_cpu, a, k));
        } else if (!strcmp(op, "cpu")) {
            const char *t = tok(&s);
            WANT(t && (!strcmp(t, "none") || dec(t, &k)), "expected CPU in decimal or 'none'");
            END();
            if (strcmp(t, "none") && k >= PA_MAX_CPUS) {
                answer(PA_E_INVAL);
                continue;
            }
            cur_cpu = strcmp(t, "none") ? k : ~0U;
            answer(PA_OK);
        } else if (!strcmp(op, "drain")) {
            const char *t = tok(&s);
            WANT(!t || !strcmp(t, "all") || dec(t, &k), "expected CPU in decimal or 'all'");
            END();
            if (t && strcmp(t, "all") && k >= PA_MAX_CPUS) {
                answer(PA_E_INVAL);
                continue;
            }
            (void)(use_ref ? pr_drain(&ref, t && strcmp(t, "all") ? k : PA_ALL_CPUS)
                           : pa_drain(&pa, t && strcmp(t, "all") ? k : PA_ALL_CPUS));
            answer(PA_OK);
        } else if (!strcmp(op, "cached")) {
            int c;
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            END();
            if ((use_ref ? pr_state(&ref, a) : pa_state(&pa, a)) == PA_OUTSIDE) {
                answer(PA_E_OUTSIDE);
                continue;
            }
            c = use_ref ? pr_cache_cpu(&ref, a) : pa_cache_cpu(&pa, a);
            if (c == PA_NO_CPU)
                printf("none\n");
            else
                printf("cpu %d\n", c);
        } else if (!strcmp(op, "offline") || !strcmp(op, "online") || !strcmp(op, "state")) {
            enum pa_state ns;
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            END();
            if (op[1] == 't') {
                ns = use_ref ? pr_state(&ref, a) : pa_state(&pa, a);
                if (ns == PA_OUTSIDE)
                    answer(PA_E_OUTSIDE);
                else
                    printf("%s\n", pa_state_name(ns));
                continue;
            }
            rc = op[1] == 'f' ? CALL(offline, a, &ns) : CALL(online, a, &ns);
            if (rc)
                answer(rc);
            else
                printf("%s\n", pa_state_name(ns));
        } else if (!strcmp(op, "reserve") || !strcmp(op, "unreserve")) {
            WANT(hex(tok(&s), &a), "expected START in hex (0x...)");
            WANT(hex(tok(&s), &c), "expected COUNT in hex (0x...)");
            WANT(dec(tok(&s), &k), "expected OWNER in decimal");
            END();
            answer(op[0] == 'r' ? CALL(reserve, a, c, k) : CALL(unreserve, a, c, k));
        } else if (!strcmp(op, "owner")) {
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            END();
            if ((use_ref ? pr_state(&ref, a) : pa_state(&pa, a)) == PA_OUTSIDE)
                answer(PA_E_OUTSIDE);
            else
                printf("%u\n", use_ref ? pr_owner(&ref, a) : pa_owner(&pa, a));
        } else if (!strcmp(op, "count")) {
            enum pa_state st;
            WANT(state_of(tok(&s), &st), "expected a state name");
            END();
            printf("%llu\n", (unsigned long long)(use_ref ? pr_nr_frames(&ref, st)
                                                          : pa_nr_frames(&pa, st)));
        } else if (!strcmp(op, "check")) {
            struct pa_violation v;
            END();
            if (use_ref ? pr_check(&ref, &v) : pa_check(&pa, &v))
                printf("error: %s at %#llx\n", v.what, (unsigned long long)v.frame);
            else
                printf("ok\n");
        } else if (!strcmp(op, "initall")) {
            END();
            use_ref ? pr_init_all(&ref) : pa_init_all(&pa);
            printf("ok\n");
        } else {
            bad = "unknown operation";
            goto malformed;
        }
        continue;
malformed:
        printf("error: line %lu: %s\n", n, bad);
        status = 1;
    }
    free(line);
    free(table);
    return status;
}

/*
 * alloc-trace: replay a page-allocator trace from stdin with the kernel's
 * own allocator code (mm/page_alloc.c, mm/page_check.c), one answer line
 * per operation. Frames and counts are hex with 0x, orders decimal.
 *
 *   range START COUNT      -> ok             frames become known, UNINITIALISED
 *   range-unbacked START COUNT -> ok | error: REASON   frames become known, RELEASED
 *   init START COUNT       -> ok | error: REASON
 *   alloc ORDER [low]      -> 0xFRAME | FAIL  (low: below 4 GiB)
 *   free FRAME ORDER       -> ok | error: REASON
 *   offline FRAME          -> offlining | offlined | error: REASON
 *   online FRAME           -> inuse | free | error: REASON
 *   state FRAME            -> uninitialised | free | inuse | offlining |
 *                             offlined | released | scratch | error: REASON
 *   check                  -> ok | error: VIOLATION
 *   mark FRAME ORDER       -> ok | error: REASON   (initialise straight into INUSE)
 *   defer START COUNT      -> ok | error: REASON   (lazy init)
 *   initall                -> ok
 *   take|release|populate|scratch START COUNT -> ok | error: REASON
 *   unscratch START COUNT [released|uninitialised] -> ok | error: REASON
 *
 * Blank lines and '#' comments are ignored. A malformed line answers
 * "error: line N: WHAT" and the replay goes on. Exit status: 0, or 1 if
 * any line was malformed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <pvhk/page_alloc.h>

static struct page_alloc pa;
static struct pa_frame *table;

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

static bool hex(const char *t, uint64_t *v)
{
    char *end;

    if (!t || t[0] != '0' || (t[1] != 'x' && t[1] != 'X') || !isxdigit((unsigned char)t[2]))
        return false;
    errno = 0;
    *v = strtoull(t + 2, &end, 16);
    return !*end && !errno;
}

static bool dec(const char *t, unsigned *v)
{
    char *end;
    unsigned long x;

    if (!t || !isdigit((unsigned char)t[0]))
        return false;
    errno = 0;
    x = strtoul(t, &end, 10);
    if (*end || errno || x > 1000)
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

/* Make room for `count` more table entries; the allocator only keeps indices. */
static int grow_table(uint64_t count)
{
    uint64_t need = pa.used + count, cap = pa.capacity;
    struct pa_frame *t;

    if (need <= cap)
        return 0;
    if (need > PA_NIL)
        return PA_E_NOSPACE;
    cap = MAX(need, MIN(2 * cap, (uint64_t)PA_NIL));
    t = calloc(cap, sizeof(*t));
    if (!t)
        return PA_E_NOSPACE;
    if (pa.used)
        memcpy(t, table, pa.used * sizeof(*t));
    free(table);
    table = t;
    pa_move_table(&pa, table, cap);
    return 0;
}

int main(void)
{
    char line[512];
    unsigned long n = 0;
    int status = 0;

    pa_setup(&pa, NULL, 0, PA_TABLE_ZEROED);    /* calloc'd storage */
    while (fgets(line, sizeof(line), stdin)) {
        char *s = line, *op, *extra;
        const char *bad = NULL;
        uint64_t a = 0, c = 0;
        unsigned k = 0;
        int rc;

        n++;
        if (!strchr(line, '\n') && !feof(stdin)) {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
            printf("error: line %lu: line too long\n", n);
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
                answer(rc ? rc : pa_add_range(&pa, a, c));
            } else if (!strcmp(op, "range-unbacked")) {
                rc = grow_table(c);
                answer(rc ? rc : pa_add_range_unbacked(&pa, a, c));
            } else if (!strcmp(op, "init")) {
                answer(pa_init_range(&pa, a, c));
            } else if (!strcmp(op, "defer")) {
                answer(pa_defer(&pa, a, c));
            } else if (!strcmp(op, "take")) {
                answer(pa_take(&pa, a, c));
            } else if (!strcmp(op, "release")) {
                answer(pa_release(&pa, a, c));
            } else if (!strcmp(op, "populate")) {
                answer(pa_populate(&pa, a, c));
            } else if (!strcmp(op, "scratch")) {
                answer(pa_scratch(&pa, a, c));
            } else {
                WANT(!to || !strcmp(to, "released") || !strcmp(to, "uninitialised"),
                     "expected 'released' or 'uninitialised'");
                answer(pa_unscratch(&pa, a, c, to && !strcmp(to, "uninitialised")
                                                   ? PA_UNINITIALISED : PA_RELEASED));
            }
        } else if (!strcmp(op, "alloc")) {
            const char *fl;
            pfn_t f;
            WANT(dec(tok(&s), &k), "expected ORDER in decimal");
            fl = tok(&s);
            WANT(!fl || !strcmp(fl, "low"), "expected 'low' or nothing after ORDER");
            END();
            f = pa_alloc(&pa, k, fl ? PA_ALLOC_LOW : 0);
            if (f == PA_NO_FRAME)
                printf("FAIL\n");
            else
                printf("%#llx\n", (unsigned long long)f);
        } else if (!strcmp(op, "free") || !strcmp(op, "mark")) {
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            WANT(dec(tok(&s), &k), "expected ORDER in decimal");
            END();
            answer(op[0] == 'f' ? pa_free(&pa, a, k) : pa_mark_inuse(&pa, a, k));
        } else if (!strcmp(op, "offline") || !strcmp(op, "online") || !strcmp(op, "state")) {
            enum pa_state ns;
            WANT(hex(tok(&s), &a), "expected FRAME in hex (0x...)");
            END();
            if (op[1] == 't') {
                ns = pa_state(&pa, a);
                if (ns == PA_OUTSIDE)
                    answer(PA_E_OUTSIDE);
                else
                    printf("%s\n", pa_state_name(ns));
                continue;
            }
            rc = op[1] == 'f' ? pa_offline(&pa, a, &ns) : pa_online(&pa, a, &ns);
            if (rc)
                answer(rc);
            else
                printf("%s\n", pa_state_name(ns));
        } else if (!strcmp(op, "check")) {
            struct pa_violation v;
            END();
            if (pa_check(&pa, &v))
                printf("error: %s at %#llx\n", v.what, (unsigned long long)v.frame);
            else
                printf("ok\n");
        } else if (!strcmp(op, "initall")) {
            END();
            pa_init_all(&pa);
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
    free(table);
    return status;
}

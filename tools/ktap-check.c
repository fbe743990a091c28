/*
 * ktap-check: read a serial log, find pvhk's KTAP output and verdict, and
 * say whether the run passed.
 *
 *   ktap-check [--domain N] [--quiet] LOGFILE|-
 *
 * Lines may carry Xen's decorations: "(XEN) ", a "[   1.234567] " timestamp,
 * "(dN) " for a domU's port-0xE9 output, and "\r\n" endings. With --domain N
 * only text after "(dN) " is read (wherever it starts on the line: other
 * output may be glued in front); otherwise lines with a "(dN) " prefix are
 * ignored (they belong to some guest).
 *
 * Exit status: 0 PASS; 1 a test failed (or the KTAP is inconsistent);
 * 2 no verdict (the kernel hung or died silently); 3 panic or exception.
 * Every failing test is printed as "ktap-check: FAILED suite.name".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <stdbool.h>

static int domain = -1;

/* Strip known prefixes; return NULL if the line is not for us. */
static char *strip(char *l)
{
    size_t n = strlen(l);
    while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
        l[--n] = '\0';
    /* A line may carry stray \r in the middle from interleaved output. */
    for (char *p = l; *p; p++)
        if (*p == '\r')
            *p = ' ';

    /*
     * A domU's lines: Xen prints each one whole, but dom0's own console
     * output shares the serial and may be glued in front of it ("RIG: ...
     * (d3) [ts] ok 5 foo"). So take the text after the first "(dN) "
     * anywhere on the line, then its timestamp.
     */
    if (domain >= 0) {
        char needle[24];
        snprintf(needle, sizeof(needle), "(d%d) ", domain);
        char *p = strstr(l, needle);
        if (!p)
            return NULL;
        l = p + strlen(needle);
        if (l[0] == '[') {
            char *e = l + 1;
            while (*e == ' ' || isdigit((unsigned char)*e) || *e == '.')
                e++;
            if (*e == ']' && e[1] == ' ' && e > l + 1)
                l = e + 2;
        }
        return l;
    }

    for (;;) {
        if (!strncmp(l, "(XEN) ", 6)) {
            l += 6;
            continue;
        }
        if (l[0] == '[') {
            char *e = l + 1;
            while (*e == ' ' || isdigit((unsigned char)*e) || *e == '.')
                e++;
            if (*e == ']' && e[1] == ' ' && e > l + 1) {
                l = e + 2;
                continue;
            }
        }
        if (l[0] == '(' && l[1] == 'd' && isdigit((unsigned char)l[2])) {
            char *e;
            (void)strtol(l + 2, &e, 10);
            if (e[0] == ')' && e[1] == ' ')
                return NULL;        /* some guest's line: not ours */
        }
        break;
    }
    return l;
}

/* "ok N name..." / "not ok N name..." at the given indent. */
static bool parse_result(const char *l, bool *ok, unsigned *num, char *name, size_t nlen,
                         bool *skip)
{
    const char *p = l;
    if (!strncmp(p, "not ok ", 7)) {
        *ok = false;
        p += 7;
    } else if (!strncmp(p, "ok ", 3)) {
        *ok = true;
        p += 3;
    } else {
        return false;
    }
    char *e;
    *num = (unsigned)strtoul(p, &e, 10);
    if (e == p || *e != ' ')
        return false;
    p = e + 1;
    size_t i = 0;
    while (p[i] && p[i] != ' ' && i + 1 < nlen) {
        name[i] = p[i];
        i++;
    }
    name[i] = '\0';
    *skip = strstr(p, "# SKIP") != NULL;
    return true;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool quiet = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--domain") && i + 1 < argc)
            domain = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quiet"))
            quiet = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return fprintf(stderr, "usage: ktap-check [--domain N] [--quiet] LOGFILE|-\n"), 64;
        else
            path = argv[i];
    }
    if (!path)
        return fprintf(stderr, "usage: ktap-check [--domain N] [--quiet] LOGFILE|-\n"), 64;
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return perror(path), 64;

    char buf[4096], suite[128] = "", name[128];
    unsigned top_plan = 0, suites_seen = 0, sub_plan = 0, sub_seen = 0;
    unsigned pass = 0, fail = 0, skip = 0, inconsistent = 0;
    bool saw_ktap = false, verdict = false, verdict_pass = false, fatal = false;
    char fatal_msg[512] = "", verdict_line[512] = "";

    while (fgets(buf, sizeof(buf), f)) {
        char *l = strip(buf);
        bool ok, sk;
        unsigned num;

        if (!l)
            continue;
        if (!strncmp(l, "pvhk: PANIC", 11) || !strncmp(l, "pvhk: EXCEPTION", 15)) {
            if (!fatal)
                snprintf(fatal_msg, sizeof(fatal_msg), "%s", l);
            fatal = true;
            continue;
        }
        if (!strncmp(l, "pvhk: verdict: ", 15)) {
            verdict = true;
            verdict_pass = !strncmp(l + 15, "PASS", 4);
            snprintf(verdict_line, sizeof(verdict_line), "%s", l);
            continue;
        }
        if (!strcmp(l, "KTAP version 1")) {
            saw_ktap = true;
            continue;
        }
        if (!strncmp(l, "1..", 3)) {
            top_plan = (unsigned)atoi(l + 3);
            continue;
        }
        if (!strncmp(l, "    # Subtest: ", 15)) {
            snprintf(suite, sizeof(suite), "%s", l + 15);
            sub_seen = 0;
            continue;
        }
        if (!strncmp(l, "    1..", 7)) {
            sub_plan = (unsigned)atoi(l + 7);
            continue;
        }
        if (!strncmp(l, "    ", 4) && parse_result(l + 4, &ok, &num, name, sizeof(name), &sk)) {
            sub_seen++;
            if (num != sub_seen)
                inconsistent++;
            if (!ok) {
                fail++;
                printf("ktap-check: FAILED %s.%s\n", suite, name);
            } else if (sk) {
                skip++;
            } else {
                pass++;
            }
            continue;
        }
        if (parse_result(l, &ok, &num, name, sizeof(name), &sk)) {
            suites_seen++;
            if (num != suites_seen || strcmp(name, suite) || sub_seen != sub_plan) {
                inconsistent++;
                printf("ktap-check: suite %s: %u of %u planned results\n", name, sub_seen,
                       sub_plan);
            }
            continue;
        }
    }
    if (f != stdin)
        fclose(f);

    if (saw_ktap && verdict && !fatal && suites_seen != top_plan) {
        inconsistent++;
        printf("ktap-check: %u of %u planned suites reported\n", suites_seen, top_plan);
    }
    if (!quiet && verdict_line[0])
        printf("ktap-check: %s\n", verdict_line);
    printf("ktap-check: %u passed, %u failed, %u skipped in %u suite(s)\n", pass, fail, skip,
           suites_seen);
    if (fatal) {
        printf("ktap-check: CRASH: %s\n", fatal_msg);
        return 3;
    }
    if (!verdict) {
        printf("ktap-check: NO VERDICT: the kernel hung or died before reporting%s\n",
               saw_ktap ? " (KTAP output started)" : "");
        return 2;
    }
    if (fail || !verdict_pass || inconsistent) {
        if (!fail && !verdict_pass)
            printf("ktap-check: FAIL verdict: %s\n", verdict_line);
        if (inconsistent)
            printf("ktap-check: %u inconsistencies in the KTAP output\n", inconsistent);
        return 1;
    }
    return 0;
}

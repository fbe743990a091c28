/* SPDX-License-Identifier: BSD-2-Clause */
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
 * ignored (they belong to some guest). Lines are read whole, whatever their
 * length; a NUL byte inside a line is read as '?', so text behind it never
 * starts a line of its own.
 *
 * A run reports exactly one verdict, after the KTAP it sums up. A PASS
 * verdict counts only with KTAP before it and counts that match the results
 * found there: "pvhk: verdict: PASS (P passed, F failed, S skipped)". A FAIL
 * verdict (same form) says a test found a fault; an ERROR verdict,
 * "pvhk: verdict: ERROR (aborted in suite.name: why)" or "... ERROR (why)",
 * says the run itself broke (a panic or an unexpected exception) and
 * carries no counts.
 *
 * Exit status: 0 PASS; 1 a test failed, the KTAP is inconsistent, or the
 * verdict cannot be believed (no KTAP, counts that disagree, more than one
 * verdict); 2 no verdict (the kernel hung or died silently); 3 the run broke:
 * an ERROR verdict, or a panic or exception report whatever the verdict.
 * Every failing test is printed as "ktap-check: FAILED suite.name", every
 * other reason for a failure on a line of its own.
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

/*
 * The counts of a verdict, "(P passed, F failed, S skipped)" and nothing
 * after it (what selftest_run() prints). False if p is not exactly that.
 */
static bool parse_counts(const char *p, unsigned *pass, unsigned *fail, unsigned *skip)
{
    static const char *const words[3] = { " passed, ", " failed, ", " skipped)" };
    unsigned *out[3] = { pass, fail, skip };

    if (*p++ != '(')
        return false;
    for (int i = 0; i < 3; i++) {
        char *e;
        if (!isdigit((unsigned char)*p))
            return false;
        unsigned long v = strtoul(p, &e, 10);
        if (v > 0xffffffffUL || strncmp(e, words[i], strlen(words[i])))
            return false;
        *out[i] = (unsigned)v;
        p = e + strlen(words[i]);
    }
    while (*p == ' ')
        p++;
    return *p == '\0';
}

static int usage(void)
{
    fprintf(stderr, "usage: ktap-check [--domain N] [--quiet] LOGFILE|-\n");
    return 64;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool quiet = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--domain") && i + 1 < argc) {
            char *e;
            long d = strtol(argv[++i], &e, 10);
            if (!isdigit((unsigned char)argv[i][0]) || *e || d > 0x7fef)
                return usage();
            domain = (int)d;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if ((argv[i][0] == '-' && argv[i][1]) || path) {
            return usage();
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return usage();
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return perror(path), 64;

    char *buf = NULL, suite[128] = "", name[128];
    size_t cap = 0;
    ssize_t len;
    unsigned top_plan = 0, suites_seen = 0, sub_plan = 0, sub_seen = 0, ktap_docs = 0;
    unsigned pass = 0, fail = 0, skip = 0, inconsistent = 0, verdicts = 0;
    unsigned v_pass = 0, v_fail = 0, v_skip = 0;
    bool verdict_pass = false, verdict_counts = false, fatal = false, late_ktap = false;
    bool verdict_error = false;
    char fatal_msg[512] = "", verdict_line[512] = "", last_verdict[512] = "";

    while ((len = getline(&buf, &cap, f)) != -1) {
        /* A NUL must not end the line early: what follows it is still this
         * line, never the start of another. */
        for (ssize_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = '?';
        char *l = strip(buf);
        bool ok, sk, ktap_line = true;
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
            if (!verdicts++) {
                const char *w = l + 15;
                verdict_pass = !strncmp(w, "PASS ", 5) || !strcmp(w, "PASS");
                verdict_error = !strncmp(w, "ERROR ", 6) || !strcmp(w, "ERROR");
                if (!strncmp(w, "PASS ", 5) || !strncmp(w, "FAIL ", 5))
                    verdict_counts = parse_counts(w + 5, &v_pass, &v_fail, &v_skip);
                snprintf(verdict_line, sizeof(verdict_line), "%s", l);
            }
            snprintf(last_verdict, sizeof(last_verdict), "%s", l);
            continue;
        }
        if (!strcmp(l, "KTAP version 1")) {
            ktap_docs++;
        } else if (!strncmp(l, "1..", 3)) {
            top_plan = (unsigned)atoi(l + 3);
        } else if (!strncmp(l, "    # Subtest: ", 15)) {
            snprintf(suite, sizeof(suite), "%s", l + 15);
            sub_seen = 0;
        } else if (!strncmp(l, "    1..", 7)) {
            sub_plan = (unsigned)atoi(l + 7);
        } else if (!strncmp(l, "    ", 4) &&
                   parse_result(l + 4, &ok, &num, name, sizeof(name), &sk)) {
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
        } else if (parse_result(l, &ok, &num, name, sizeof(name), &sk)) {
            suites_seen++;
            if (num != suites_seen || strcmp(name, suite) || sub_seen != sub_plan) {
                inconsistent++;
                printf("ktap-check: suite %s: %u of %u planned results\n", name, sub_seen,
                       sub_plan);
            }
        } else {
            ktap_line = false;
        }
        if (ktap_line && verdicts)
            late_ktap = true;
    }
    free(buf);
    if (ferror(f)) {
        perror(path);
        return 64;
    }
    if (f != stdin)
        fclose(f);

    bool saw_ktap = ktap_docs > 0;
    if (saw_ktap && verdicts && !fatal && !verdict_error && suites_seen != top_plan) {
        inconsistent++;
        printf("ktap-check: %u of %u planned suites reported\n", suites_seen, top_plan);
    }
    if (ktap_docs > 1) {
        inconsistent++;
        printf("ktap-check: %u KTAP documents (one run prints one)\n", ktap_docs);
    }
    if (late_ktap) {
        inconsistent++;
        printf("ktap-check: KTAP output after the verdict\n");
    }
    if (!quiet && verdict_line[0])
        printf("ktap-check: %s\n", verdict_line);
    printf("ktap-check: %u passed, %u failed, %u skipped in %u suite(s)\n", pass, fail, skip,
           suites_seen);
    if (fatal || verdict_error) {
        if (fatal)
            printf("ktap-check: CRASH: %s\n", fatal_msg);
        if (verdict_error)
            printf("ktap-check: ERROR: the run broke: %s\n", verdict_line);
        else if (verdicts)
            printf("ktap-check: the verdict after a crash is not ERROR: %s\n", verdict_line);
        return 3;
    }
    if (!verdicts) {
        printf("ktap-check: NO VERDICT: the kernel hung or died before reporting%s\n",
               saw_ktap ? " (KTAP output started)" : "");
        return 2;
    }

    /* Whether the verdict can be believed. */
    unsigned unbelievable = 0;
    if (verdicts > 1) {
        unbelievable++;
        printf("ktap-check: %u verdict lines (one run reports one): first \"%s\", last \"%s\"\n",
               verdicts, verdict_line, last_verdict);
    }
    if (!saw_ktap) {
        unbelievable++;
        printf("ktap-check: verdict without KTAP output: it sums up no test results\n");
    }
    if (verdict_pass && !verdict_counts) {
        unbelievable++;
        printf("ktap-check: the verdict carries no counts \"(P passed, F failed, S skipped)\"\n");
    }
    if (saw_ktap && verdict_counts && (v_pass != pass || v_fail != fail || v_skip != skip)) {
        unbelievable++;
        printf("ktap-check: the verdict says %u passed, %u failed, %u skipped; the KTAP has "
               "%u passed, %u failed, %u skipped\n", v_pass, v_fail, v_skip, pass, fail, skip);
    }

    if (fail || !verdict_pass || inconsistent || unbelievable) {
        if (!fail && !verdict_pass)
            printf("ktap-check: FAIL verdict: %s\n", verdict_line);
        if (inconsistent)
            printf("ktap-check: %u inconsistencies in the KTAP output\n", inconsistent);
        return 1;
    }
    return 0;
}

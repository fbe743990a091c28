/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * e820: sanitise a memory map with the kernel's own code (mm/e820.c).
 *
 *   build/tools/e820 [-l] < map
 *
 * Input: one entry a line, "START SIZE TYPE": START and SIZE hexadecimal
 * with 0x, TYPE decimal.  Blank lines and lines starting with '#' are
 * ignored, as is a '#' comment after TYPE.  SIZE may be up to 2^64
 * (0x10000000000000000) so that any output can be read back.
 *
 * Output: the sanitised entries in the same format (START and SIZE as 16
 * hex digits; the one entry that could cover all of [0, 2^64) prints its
 * SIZE as 0x10000000000000000), then '#' lines with the entry count and
 * the pages of each type.  -l prints Linux-style lines instead of entries.
 *
 * Warnings (clipped entries, unknown types, zero sizes) go to stderr.
 * Every malformed line is named on stderr by its number (a NUL byte
 * anywhere in a line makes it malformed; it never ends or splits a line),
 * and then no map is printed. Each output line is flushed as it is written,
 * so a write error is seen (and reported) at once.
 * Exit status: 0 done, 1 malformed input, a map the sanitiser rejects (the
 * message names the lines or the count) or an I/O error, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <pvhk/e820.h>

static const char *prog = "e820";

static void usage(void)
{
    fprintf(stderr, "usage: %s [-l] < map\n"
            "  map: lines \"START SIZE TYPE\" (hex with 0x, hex with 0x, decimal)\n"
            "  -l   print Linux-style \"[mem 0x...-0x...] type\" lines\n", prog);
    exit(2);
}

/* Parse "0x..." (at most max) into *v; false if malformed or too big. */
static bool parse_hex(const char *s, unsigned __int128 max, unsigned __int128 *v)
{
    unsigned __int128 x = 0;

    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    for (s += 2; *s; s++) {
        int d;

        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        x = x * 16 + d;
        if (x > max)
            return false;
    }
    *v = x;
    return true;
}

static bool parse_dec32(const char *s, uint32_t *v)
{
    uint64_t x = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        x = x * 10 + (*s - '0');
        if (x > UINT32_MAX)
            return false;
    }
    *v = (uint32_t)x;
    return true;
}

struct input {
    struct e820_entry *e;
    size_t n, cap;
};

static bool add(struct input *in, uint64_t addr, uint64_t size, uint32_t type)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 64;
        struct e820_entry *e = realloc(in->e, cap * sizeof(*e));

        if (!e) {
            perror(prog);
            return false;
        }
        in->e = e;
        in->cap = cap;
    }
    in->e[in->n++] = (struct e820_entry){ addr, size, type };
    return true;
}

/* Name a malformed line; returns the -1 parse_line() gives for it. */
static int malformed(unsigned long line, const char *what, const char *tok)
{
    if (tok)
        fprintf(stderr, "%s: line %lu: %s: '%s'\n", prog, line, what, tok);
    else
        fprintf(stderr, "%s: line %lu: %s\n", prog, line, what);
    return -1;
}

/*
 * One input line (len bytes, NULs included) into in; blank and comment
 * lines add nothing. 0 done, -1 malformed (named on stderr), -2 out of
 * memory.
 */
static int parse_line(struct input *in, char *line, size_t len, unsigned long lineno)
{
    const unsigned __int128 two64 = (unsigned __int128)1 << 64;
    char *tok[3], *save, *nul = memchr(line, '\0', len);
    int n = 0;
    unsigned __int128 start, size;
    uint32_t type;

    if (nul) {
        char what[64];
        snprintf(what, sizeof(what), "contains a NUL byte (column %zu)", (size_t)(nul - line) + 1);
        return malformed(lineno, what, NULL);
    }
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';   /* a comment, whole-line or after TYPE */
    for (char *p = strtok_r(line, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == 3)
            return malformed(lineno, "unexpected text after TYPE", p);
        tok[n++] = p;
    }
    if (n == 0)
        return 0;
    if (n < 3)
        return malformed(lineno, "missing fields", NULL);
    if (!parse_hex(tok[0], two64 - 1, &start))
        return malformed(lineno, "START is not a hex number with 0x below 2^64", tok[0]);
    if (!parse_hex(tok[1], two64, &size))
        return malformed(lineno, "SIZE is not a hex number with 0x up to 2^64", tok[1]);
    if (!parse_dec32(tok[2], &type))
        return malformed(lineno, "TYPE is not a decimal number below 2^32", tok[2]);

    bool ok;
    if (size < two64) {
        ok = add(in, (uint64_t)start, (uint64_t)size, type);
    } else if (start == 0) {
        /* All of [0, 2^64): two halves, which the sanitiser merges. */
        ok = add(in, 0, 1ULL << 63, type) && add(in, 1ULL << 63, 1ULL << 63, type);
    } else {
        /* Runs past 2^64 either way: clipped at the same place. */
        ok = add(in, (uint64_t)start, UINT64_MAX, type);
    }
    return ok ? 0 : -2;
}

/* printf one output line and flush it; false (reported) on a write error. */
static bool __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = vprintf(fmt, ap);
    va_end(ap);
    if (rc < 0 || fflush(stdout) == EOF) {
        perror("e820: writing the output");
        return false;
    }
    return true;
}

static void warn_report(const struct e820_report *rep)
{
    if (rep->nr_clipped)
        fprintf(stderr, "%s: warning: %u %s past 2^64, clipped there\n", prog,
                rep->nr_clipped, rep->nr_clipped == 1 ? "entry runs" : "entries run");
    if (rep->nr_unknown) {
        fprintf(stderr, "%s: warning: %u %s of unknown type, taken as reserved (2):",
                prog, rep->nr_unknown, rep->nr_unknown == 1 ? "entry" : "entries");
        for (uint32_t i = 0; i < rep->nr_unknown_types; i++)
            fprintf(stderr, "%s %u", i ? "," : "", rep->unknown_types[i]);
        if (rep->nr_unknown_types == E820_REPORT_TYPES)
            fprintf(stderr, ", ...");
        fprintf(stderr, "\n");
    }
    if (rep->nr_zero)
        fprintf(stderr, "%s: warning: %u zero-sized %s ignored\n", prog,
                rep->nr_zero, rep->nr_zero == 1 ? "entry" : "entries");
}

/* Sanitise what was read and print it; the exit status. */
static int sanitise_and_print(const struct input *in, bool linux_style)
{
    static struct e820_scratch scratch;
    static struct e820_map map;
    struct e820_report rep;
    struct e820_totals tot;
    int rc = e820_sanitise(in->e, in->n, &map, &scratch, &rep);

    if (rc == E820_ETOOMANY) {
        fprintf(stderr, "%s: %zu entries, at most %u are accepted\n", prog,
                in->n, E820_MAX_INPUT);
        return 1;
    }
    warn_report(&rep);
    if (rc == E820_ENOSPC) {
        fprintf(stderr, "%s: the sanitised map needs %u entries, more than "
                "its capacity of %u\n", prog, rep.nr_needed, E820_MAX_ENTRIES);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, e820_strerror(rc));
        return 1;
    }

    for (uint32_t i = 0; i < map.nr; i++) {
        const struct e820_entry *e = &map.entries[i];
        char buf[E820_FORMAT_LEN];
        bool ok;

        if (linux_style) {
            e820_format(e, buf, sizeof(buf));
            ok = out("%s\n", buf);
        } else if (e->size == 0) {
            ok = out("0x%016lx 0x10000000000000000 %u\n", e->addr, e->type);
        } else {
            ok = out("0x%016lx 0x%016lx %u\n", e->addr, e->size, e->type);
        }
        if (!ok)
            return 1;
    }
    if (!out("# %u %s\n", map.nr, map.nr == 1 ? "entry" : "entries"))
        return 1;
    e820_totals(&map, &tot);
    for (uint32_t t = E820_RAM; t <= E820_TYPE_MAX; t++)
        if (tot.pages[t] && !out("# %s (%u): %lu pages, %lu KiB\n", e820_type_name(t), t,
                                 tot.pages[t], tot.pages[t] << (PAGE_SHIFT - 10)))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    struct input in = { 0 };
    bool linux_style = false;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    unsigned long lineno = 0, bad = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-l"))
            linux_style = true;
        else
            usage();
    }

    /* Every line is read, and every malformed one named, before any
     * output: a bad map prints no entries at all. */
    while ((len = getline(&line, &linecap, stdin)) != -1) {
        int prc = parse_line(&in, line, (size_t)len, ++lineno);

        if (prc == -2) {
            rc = 1;
            break;
        }
        bad += prc < 0;
    }
    if (!rc && ferror(stdin)) {
        perror("e820: reading the input");
        rc = 1;
    }
    if (!rc && bad) {
        fprintf(stderr, "%s: %lu malformed %s of %lu; expected \"START SIZE TYPE\", "
                "e.g. \"0x100000 0x1ff00000 1\"\n", prog, bad, bad == 1 ? "line" : "lines",
                lineno);
        rc = 1;
    }
    if (!rc)
        rc = sanitise_and_print(&in, linux_style);
    free(line);
    free(in.e);
    return rc;
}

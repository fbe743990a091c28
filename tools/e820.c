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
 * Exit status: 0 done, 1 malformed input or a map the sanitiser rejects
 * (the message names the line or the count), 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
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

static void add(struct input *in, uint64_t addr, uint64_t size, uint32_t type)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 64;
        in->e = realloc(in->e, in->cap * sizeof(*in->e));
        if (!in->e) {
            perror(prog);
            exit(1);
        }
    }
    in->e[in->n++] = (struct e820_entry){ addr, size, type };
}

static void malformed(unsigned long line, const char *what, const char *tok)
{
    if (tok)
        fprintf(stderr, "%s: line %lu: %s: '%s'\n", prog, line, what, tok);
    else
        fprintf(stderr, "%s: line %lu: %s\n", prog, line, what);
    fprintf(stderr, "%s: expected \"START SIZE TYPE\", e.g. \"0x100000 0x1ff00000 1\"\n",
            prog);
    exit(1);
}

/* One input line into in; blank and comment lines add nothing. */
static void parse_line(struct input *in, char *line, unsigned long lineno)
{
    const unsigned __int128 two64 = (unsigned __int128)1 << 64;
    char *tok[4];
    int n = 0;
    unsigned __int128 start, size;
    uint32_t type;
    char *hash = strchr(line, '#');

    if (hash)
        *hash = '\0';   /* a comment, whole-line or after TYPE */
    for (char *p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == 3)
            malformed(lineno, "unexpected text after TYPE", p);
        tok[n++] = p;
    }
    if (n == 0)
        return;
    if (n < 3)
        malformed(lineno, "missing fields", NULL);
    if (!parse_hex(tok[0], two64 - 1, &start))
        malformed(lineno, "START is not a hex number with 0x below 2^64", tok[0]);
    if (!parse_hex(tok[1], two64, &size))
        malformed(lineno, "SIZE is not a hex number with 0x up to 2^64", tok[1]);
    if (!parse_dec32(tok[2], &type))
        malformed(lineno, "TYPE is not a decimal number below 2^32", tok[2]);

    if (size < two64) {
        add(in, (uint64_t)start, (uint64_t)size, type);
    } else if (start == 0) {
        /* All of [0, 2^64): two halves, which the sanitiser merges. */
        add(in, 0, 1ULL << 63, type);
        add(in, 1ULL << 63, 1ULL << 63, type);
    } else {
        /* Runs past 2^64 either way: clipped at the same place. */
        add(in, (uint64_t)start, UINT64_MAX, type);
    }
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

int main(int argc, char **argv)
{
    static struct e820_scratch scratch;
    static struct e820_map map;
    struct input in = { 0 };
    struct e820_report rep;
    struct e820_totals tot;
    bool linux_style = false;
    char *line = NULL;
    size_t linecap = 0;
    unsigned long lineno = 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-l"))
            linux_style = true;
        else
            usage();
    }

    while (getline(&line, &linecap, stdin) != -1)
        parse_line(&in, line, ++lineno);
    if (ferror(stdin)) {
        perror(prog);
        return 1;
    }
    free(line);

    rc = e820_sanitise(in.e, in.n, &map, &scratch, &rep);
    if (rc == E820_ETOOMANY) {
        fprintf(stderr, "%s: %zu entries, at most %u are accepted\n", prog,
                in.n, E820_MAX_INPUT);
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

        if (linux_style) {
            e820_format(e, buf, sizeof(buf));
            printf("%s\n", buf);
        } else if (e->size == 0) {
            printf("0x%016lx 0x10000000000000000 %u\n", e->addr, e->type);
        } else {
            printf("0x%016lx 0x%016lx %u\n", e->addr, e->size, e->type);
        }
    }
    printf("# %u %s\n", map.nr, map.nr == 1 ? "entry" : "entries");
    e820_totals(&map, &tot);
    for (uint32_t t = E820_RAM; t <= E820_TYPE_MAX; t++)
        if (tot.pages[t])
            printf("# %s (%u): %lu pages, %lu KiB\n", e820_type_name(t), t,
                   tot.pages[t], tot.pages[t] << (PAGE_SHIFT - 10));
    free(in.e);
    return ferror(stdout) ? 1 : 0;
}

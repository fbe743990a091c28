/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * depcycles: find dependency cycles between object files from their symbol
 * tables.
 *
 *   nm -A -P -g OBJ... | depcycles [-]
 *
 * Input is nm's POSIX output with file names ("FILE: NAME TYPE [VALUE SIZE]",
 * global symbols only). An object that references a symbol (type U, or an
 * undefined weak w/v) depends on every other object that defines it (any
 * other type). The tool builds that graph, finds its strongly connected
 * components (Tarjan), and prints each component of two or more objects as
 * one cycle: a shortest closed path through its first object, then every
 * dependency inside it with the symbols that make it:
 *
 *   depcycles: cycle 1: 3 objects
 *     a.o -> b.o -> c.o -> a.o
 *     a.o -> b.o: g
 *     ...
 *
 * Exit status: 0 no cycle; 1 at least one cycle; 2 bad input (a malformed
 * line, named by its number, an unreadable file, or no symbol at all: an
 * empty pipe must not pass), with nothing but the error printed; 64 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

struct sym {
    char *name;
    unsigned obj;
    bool def;
};

static char **objs;
static unsigned nobjs;
static struct sym *syms;
static size_t nsyms, capsyms;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "depcycles: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static unsigned obj_index(const char *name)
{
    for (unsigned i = nobjs; i-- > 0;)
        if (!strcmp(objs[i], name))
            return i;
    objs = xrealloc(objs, (nobjs + 1) * sizeof(*objs));
    objs[nobjs] = xstrdup(name);
    return nobjs++;
}

/* Parse one line in place; false if it is malformed. */
static bool parse(char *l, size_t len)
{
    if (strlen(l) != len)               /* a NUL byte inside the line */
        return false;
    while (len && (l[len - 1] == '\n' || l[len - 1] == '\r' || l[len - 1] == ' '))
        l[--len] = '\0';
    if (!len)
        return true;                    /* blank lines are allowed */
    char *sep = strstr(l, ": ");
    if (!sep || sep == l)
        return false;
    *sep = '\0';
    char *save, *name = strtok_r(sep + 2, " \t", &save);
    char *type = strtok_r(NULL, " \t", &save);
    if (!name || !type || strlen(type) != 1)
        return false;
    /* VALUE and SIZE, when present, are hex; nothing may follow them. */
    for (int i = 0; i < 3; i++) {
        char *f = strtok_r(NULL, " \t", &save);
        if (!f)
            break;
        if (i == 2 || f[strspn(f, "0123456789abcdefABCDEF")])
            return false;
    }
    char t = type[0];
    if (!((t >= 'A' && t <= 'Z') || (t >= 'a' && t <= 'z')))
        return false;
    if (nsyms == capsyms) {
        capsyms = capsyms ? 2 * capsyms : 256;
        syms = xrealloc(syms, capsyms * sizeof(*syms));
    }
    syms[nsyms++] = (struct sym){
        .name = xstrdup(name),
        .obj = obj_index(l),
        .def = !(t == 'U' || t == 'w' || t == 'v'),
    };
    return true;
}

static int by_name(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->def - (int)y->def;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Edge a -> b carries the names of the symbols that make it. */
struct edge {
    char **names;
    unsigned n;
};
static struct edge *edges;      /* nobjs * nobjs */

static struct edge *edge(unsigned a, unsigned b) { return &edges[(size_t)a * nobjs + b]; }

static void add_edge(unsigned a, unsigned b, char *name)
{
    struct edge *e = edge(a, b);
    if (e->n && !strcmp(e->names[e->n - 1], name))
        return;                         /* one symbol referenced twice */
    e->names = xrealloc(e->names, (e->n + 1) * sizeof(*e->names));
    e->names[e->n++] = name;
}

/* Tarjan's strongly connected components, recursive (the graph is small). */
static int *idx, *low, *comp, *stack;
static bool *onstack;
static int counter, sp, ncomps;

static void strongconnect(unsigned v)
{
    idx[v] = low[v] = counter++;
    stack[sp++] = (int)v;
    onstack[v] = true;
    for (unsigned w = 0; w < nobjs; w++) {
        if (!edge(v, w)->n)
            continue;
        if (idx[w] < 0) {
            strongconnect(w);
            if (low[w] < low[v])
                low[v] = low[w];
        } else if (onstack[w] && idx[w] < low[v]) {
            low[v] = idx[w];
        }
    }
    if (low[v] == idx[v]) {
        int w;
        do {
            w = stack[--sp];
            onstack[w] = false;
            comp[w] = ncomps;
        } while (w != (int)v);
        ncomps++;
    }
}

/* A shortest path from s back to s inside component c (breadth first). */
static void print_shortest_cycle(unsigned s, int c)
{
    int *prev = xrealloc(NULL, nobjs * sizeof(int));
    unsigned *queue = xrealloc(NULL, nobjs * sizeof(unsigned)), head = 0, tail = 0;
    int last = -1;

    for (unsigned i = 0; i < nobjs; i++)
        prev[i] = -1;
    queue[tail++] = s;
    while (head < tail && last < 0) {
        unsigned v = queue[head++];
        for (unsigned w = 0; w < nobjs; w++) {
            if (!edge(v, w)->n || comp[w] != c)
                continue;
            if (w == s) {
                last = (int)v;
                break;
            }
            if (prev[w] < 0) {
                prev[w] = (int)v;
                queue[tail++] = w;
            }
        }
    }
    /* Walk back from the last object before s, then print forwards. */
    unsigned n = 0;
    for (int v = last; v >= 0 && (unsigned)v != s; v = prev[v])
        queue[n++] = (unsigned)v;
    printf("  %s", objs[s]);
    while (n)
        printf(" -> %s", objs[queue[--n]]);
    printf(" -> %s\n", objs[s]);
    free(prev);
    free(queue);
}

int main(int argc, char **argv)
{
    FILE *in = stdin;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
        fprintf(stderr, "usage: nm -A -P -g OBJ... | depcycles [FILE|-]\n");
        return 64;
    }
    if (argc == 2 && strcmp(argv[1], "-") && !(in = fopen(argv[1], "r"))) {
        fprintf(stderr, "depcycles: %s: cannot open\n", argv[1]);
        return 2;
    }
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (!parse(line, (size_t)len)) {
            fprintf(stderr, "depcycles: line %zu: not \"FILE: NAME TYPE [VALUE SIZE]\" "
                    "(nm -A -P output)\n", lineno);
            free(line);
            if (in != stdin)
                fclose(in);
            return 2;
        }
    }
    free(line);
    if (!nsyms) {
        fprintf(stderr, "depcycles: no symbols read\n");
        return 2;
    }

    /* Objects sorted by name, so the output does not depend on input order. */
    char **sorted = xrealloc(NULL, nobjs * sizeof(*sorted));
    unsigned *rank = xrealloc(NULL, nobjs * sizeof(*rank));
    memcpy(sorted, objs, nobjs * sizeof(*sorted));
    qsort(sorted, nobjs, sizeof(*sorted), by_str);
    for (unsigned i = 0; i < nobjs; i++)
        for (unsigned j = 0; j < nobjs; j++)
            if (sorted[j] == objs[i])
                rank[i] = j;
    for (size_t i = 0; i < nsyms; i++)
        syms[i].obj = rank[syms[i].obj];
    free(objs);
    objs = sorted;
    free(rank);

    /* Per symbol name: references (def false) sort before definitions. */
    qsort(syms, nsyms, sizeof(*syms), by_name);
    edges = xrealloc(NULL, (size_t)nobjs * nobjs * sizeof(*edges));
    memset(edges, 0, (size_t)nobjs * nobjs * sizeof(*edges));
    unsigned nedges = 0;
    for (size_t b = 0, e; b < nsyms; b = e) {
        for (e = b; e < nsyms && !strcmp(syms[e].name, syms[b].name); e++)
            ;
        for (size_t r = b; r < e && !syms[r].def; r++)
            for (size_t d = b; d < e; d++)
                if (syms[d].def && syms[d].obj != syms[r].obj) {
                    nedges += !edge(syms[r].obj, syms[d].obj)->n;
                    add_edge(syms[r].obj, syms[d].obj, syms[r].name);
                }
    }

    idx = xrealloc(NULL, nobjs * sizeof(int));
    low = xrealloc(NULL, nobjs * sizeof(int));
    comp = xrealloc(NULL, nobjs * sizeof(int));
    stack = xrealloc(NULL, nobjs * sizeof(int));
    onstack = xrealloc(NULL, nobjs * sizeof(bool));
    for (unsigned v = 0; v < nobjs; v++) {
        idx[v] = -1;
        onstack[v] = false;
    }
    for (unsigned v = 0; v < nobjs; v++)
        if (idx[v] < 0)
            strongconnect(v);

    /* Components of two or more objects, in the order of their first object. */
    int *size = xrealloc(NULL, ncomps * sizeof(int));
    bool *shown = xrealloc(NULL, ncomps * sizeof(bool));
    for (int c = 0; c < ncomps; c++) {
        size[c] = 0;
        shown[c] = false;
    }
    for (unsigned v = 0; v < nobjs; v++)
        size[comp[v]]++;
    int ncycles = 0;
    for (unsigned s = 0; s < nobjs; s++) {
        int c = comp[s];
        if (size[c] < 2 || shown[c])
            continue;
        shown[c] = true;
        printf("depcycles: cycle %d: %d objects\n", ++ncycles, size[c]);
        print_shortest_cycle(s, c);
        for (unsigned a = 0; a < nobjs; a++)
            for (unsigned b = 0; b < nobjs; b++) {
                struct edge *e = edge(a, b);
                if (comp[a] != c || comp[b] != c || !e->n)
                    continue;
                printf("  %s -> %s:", objs[a], objs[b]);
                for (unsigned i = 0; i < e->n; i++)
                    printf(" %s", e->names[i]);
                printf("\n");
            }
    }
    if (ncycles)
        printf("depcycles: %d cycle(s) among %u objects\n", ncycles, nobjs);
    else
        printf("depcycles: no cycle among %u objects (%u dependencies)\n", nobjs, nedges);

    for (size_t i = 0; i < nsyms; i++)
        free(syms[i].name);
    for (size_t i = 0; i < (size_t)nobjs * nobjs; i++)
        free(edges[i].names);
    for (unsigned i = 0; i < nobjs; i++)
        free(objs[i]);
    free(syms); free(edges); free(objs); free(idx); free(low); free(comp);
    free(stack); free(onstack); free(size); free(shown);
    if (in != stdin)
        fclose(in);
    return ncycles ? 1 : 0;
}

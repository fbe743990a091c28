/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line parsing. Pure: used by the kernel and by host tests. */
#include <pvhk/cmdline.h>
#include <pvhk/string.h>

cmdline_warn_fn cmdline_warn;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The value of the last `key=value` (or bare `key`) word, in place. */
static bool find_value(const char *cmd, const char *key, const char **val, size_t *vlen)
{
    size_t klen = strlen(key);
    bool found = false;

    if (!cmd)
        return false;
    while (*cmd) {
        while (is_space(*cmd))
            cmd++;
        const char *w = cmd;
        while (*cmd && !is_space(*cmd))
            cmd++;
        size_t wlen = cmd - w;
        if (wlen < klen || strncmp(w, key, klen) || (wlen > klen && w[klen] != '='))
            continue;
        found = true;           /* keep scanning: the last occurrence wins */
        *val = w + klen + (wlen > klen);
        *vlen = wlen > klen ? wlen - klen - 1 : 0;
    }
    return found;
}

bool cmdline_find(const char *cmd, const char *key, char *buf, size_t len)
{
    const char *v;
    size_t vlen;

    if (!find_value(cmd, key, &v, &vlen))
        return false;
    if (buf && len) {
        if (vlen > len - 1)
            vlen = len - 1;
        memcpy(buf, v, vlen);
        buf[vlen] = '\0';
    }
    return true;
}

bool cmdline_bool(const char *cmd, const char *key, bool dflt)
{
    char v[8];

    if (!cmdline_find(cmd, key, v, sizeof(v)))
        return dflt;
    if (!v[0] || !strcmp(v, "1") || !strcmp(v, "y") || !strcmp(v, "yes") || !strcmp(v, "on"))
        return true;
    if (!strcmp(v, "0") || !strcmp(v, "n") || !strcmp(v, "no") || !strcmp(v, "off"))
        return false;
    return dflt;
}

/* NULL and *x set if v[0..n) is a number (see cmdline.h), else why not. */
static const char *parse_u64(const char *p, size_t n, uint64_t *x)
{
    const char *e = p + n;
    unsigned base = 10, shift = 0;
    uint64_t v = 0;

    if (!n)
        return "no value";
    if (*p == '-')
        return "negative";
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    const char *digits = p;
    for (; p < e; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (v > (UINT64_MAX - d) / base)
            return "too large for 64 bits";
        v = v * base + d;
    }
    if (p == digits)
        return "not a number";
    if (p < e) {
        switch (*p) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return "not a number";
        }
        if (++p < e)
            return "not a number";
        if (v > (UINT64_MAX >> shift))
            return "too large for 64 bits";
    }
    *x = v << shift;
    return NULL;
}

uint64_t cmdline_u64_max(const char *cmd, const char *key, uint64_t dflt, uint64_t max)
{
    const char *v, *why;
    size_t vlen;
    uint64_t x;

    if (!find_value(cmd, key, &v, &vlen))
        return dflt;
    why = parse_u64(v, vlen, &x);
    if (why) {
        if (cmdline_warn)
            cmdline_warn(key, v, vlen, dflt, why);
        return dflt;
    }
    if (x > max) {
        if (cmdline_warn)
            cmdline_warn(key, v, vlen, max, "above the maximum");
        return max;
    }
    return x;
}

uint64_t cmdline_u64(const char *cmd, const char *key, uint64_t dflt)
{
    return cmdline_u64_max(cmd, key, dflt, UINT64_MAX);
}

bool list_contains(const char *list, const char *item)
{
    size_t ilen = strlen(item);

    while (list && *list) {
        const char *e = strchr(list, ',');
        size_t n = e ? (size_t)(e - list) : strlen(list);
        if (n == ilen && !strncmp(list, item, n))
            return true;
        list = e ? e + 1 : NULL;
    }
    return false;
}

bool cmdline_is_harness_word(const char *w, size_t n)
{
    size_t k = 0;

    while (k < n && w[k] != '=')
        k++;
    if (k == 8 && !strncmp(w, "selftest", 8))
        return true;
    return (k > 9 && !strncmp(w, "selftest.", 9)) || (k > 7 && !strncmp(w, "expect.", 7));
}

/* The next word at or after *p (before end): its start and length. */
static bool next_word(const char **p, const char *end, const char **w, size_t *n)
{
    const char *s = *p;

    while (s < end && is_space(*s))
        s++;
    if (s == end)
        return false;
    *w = s;
    while (s < end && !is_space(*s))
        s++;
    *n = s - *w;
    *p = s;
    return true;
}

size_t cmdline_keep(char *dst, size_t cap, const char *src, size_t len,
                    struct cmdline_keep_report *rep)
{
    const char *end = src + len, *p, *w;
    size_t n, used = 0, budget = cap - 1, harness_rest = 0;
    bool cut = false;

    memset(rep, 0, sizeof(*rep));
    rep->given = len;
    rep->cut_at = len;
    if (len <= budget) {
        memcpy(dst, src, len);
        dst[len] = '\0';
        rep->kept = len;
        return len;
    }
    /* What the harness words need, each with a separator. */
    for (p = src; next_word(&p, end, &w, &n);)
        if (cmdline_is_harness_word(w, n))
            harness_rest += n + 1;
    for (p = src; next_word(&p, end, &w, &n);) {
        bool harness = cmdline_is_harness_word(w, n);
        size_t cost = n + (used != 0);

        if (harness)
            harness_rest -= n + 1;
        /* Room for this word and every harness word after it? */
        bool fits = used + cost + harness_rest <= budget;
        if (harness ? !fits : cut || !fits) {
            if (!harness && !cut) {
                cut = true;
                rep->cut_at = w - src;
            }
            if (harness)
                rep->harness_dropped++;
            else
                rep->words_dropped++;
            continue;
        }
        if (used)
            dst[used++] = ' ';
        memcpy(dst + used, w, n);
        used += n;
        if (cut)
            rep->harness_after_cut++;
    }
    dst[used] = '\0';
    rep->kept = used;
    rep->truncated = true;
    return used;
}

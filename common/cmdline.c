/* Command line parsing. Pure: used by the kernel and by host tests. */
#include <pvhk/cmdline.h>
#include <pvhk/string.h>

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cmdline_find(const char *cmd, const char *key, char *buf, size_t len)
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
        if (buf && len) {
            size_t vlen = wlen > klen ? wlen - klen - 1 : 0;
            if (vlen > len - 1)
                vlen = len - 1;
            memcpy(buf, w + klen + (wlen > klen), vlen);
            buf[vlen] = '\0';
        }
    }
    return found;
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

uint64_t cmdline_u64(const char *cmd, const char *key, uint64_t dflt)
{
    char v[32];
    const char *p = v;
    unsigned base = 10;
    uint64_t x = 0;

    if (!cmdline_find(cmd, key, v, sizeof(v)) || !v[0])
        return dflt;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p)
        return dflt;
    for (; *p; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (x > (UINT64_MAX - d) / base)
            return dflt;
        x = x * base + d;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: return dflt;
    }
    if (*p || (shift && x > (UINT64_MAX >> shift)))
        return dflt;
    return x << shift;
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

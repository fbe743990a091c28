/* Host tests of the boot path's pure pieces: start_info checks, the command
 * line parser (its warnings, and what is kept of a line too long for the
 * kernel's buffer), and the kernel's printf (common/printf.c: in the host build it
 * is the snprintf every test links, so it is checked against fixed strings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pvhk/cmdline.h>
#include <pvhk/start_info.h>
#include "harness.h"

HOST_TEST(start_info_magic_and_version)
{
    char buf[128];
    const char *why;

    CHECK(start_info_refusal(0x336ec578, 0, buf, sizeof(buf)) == NULL);
    CHECK(start_info_refusal(0x336ec578, 1, buf, sizeof(buf)) == NULL);
    why = start_info_refusal(0x12345678, 1, buf, sizeof(buf));
    REQUIRE(why != NULL);
    CHECK(strstr(why, "bad magic 0x12345678") != NULL);
    why = start_info_refusal(0x336ec578, 2, buf, sizeof(buf));
    REQUIRE(why != NULL);
    CHECK(strstr(why, "unknown version 2") != NULL);
    /* A bad magic is reported as such even with a strange version. */
    why = start_info_refusal(0, 7, buf, sizeof(buf));
    REQUIRE(why != NULL);
    CHECK(strstr(why, "bad magic") != NULL);
}

HOST_TEST(cmdline_words)
{
    char v[16];
    const char *c = "selftest=mm,xen  selftest.fail  quiet=0 mem=0x10M n=12k bad=12q selftest=boot";

    CHECK(cmdline_find(c, "selftest", v, sizeof(v)) && !strcmp(v, "boot"));   /* last wins */
    CHECK(cmdline_find(c, "selftest.fail", v, sizeof(v)) && v[0] == '\0');
    CHECK(!cmdline_find(c, "selftest.f", v, sizeof(v)));                        /* whole words */
    CHECK(!cmdline_find(c, "self", NULL, 0));
    CHECK(cmdline_bool(c, "selftest.fail", false));
    CHECK(!cmdline_bool(c, "quiet", true));
    CHECK(cmdline_bool(c, "absent", true));
    CHECK(cmdline_u64(c, "mem", 0) == 0x10ull << 20);
    CHECK(cmdline_u64(c, "n", 0) == 12ull << 10);
    CHECK(cmdline_u64(c, "bad", 77) == 77);                                    /* malformed */
    CHECK(cmdline_u64("x=99999999999999999999", "x", 5) == 5);                 /* overflow */
    CHECK(cmdline_find("a=123456789", "a", v, 4) && !strcmp(v, "123"));        /* truncated */
    CHECK(!cmdline_find(NULL, "a", v, sizeof(v)));
    CHECK(list_contains("mm,xen,boot", "xen"));
    CHECK(!list_contains("mm,xenx", "xen"));
    CHECK(!list_contains("", "xen"));
}

/* What cmdline_warn was told, call by call. */
static struct {
    unsigned calls;
    char key[32], given[64], why[48];
    uint64_t used;
} warned;

static void record_warning(const char *key, const char *given, size_t len, uint64_t used,
                           const char *why)
{
    warned.calls++;
    snprintf(warned.key, sizeof(warned.key), "%s", key);
    snprintf(warned.given, sizeof(warned.given), "%.*s", (int)len, given);
    snprintf(warned.why, sizeof(warned.why), "%s", why);
    warned.used = used;
}

/* cmdline_u64_max(cmd, "n", dflt, max): the value, and what was warned. */
static uint64_t u64_warned(const char *cmd, uint64_t dflt, uint64_t max)
{
    memset(&warned, 0, sizeof(warned));
    cmdline_warn = record_warning;
    uint64_t v = cmdline_u64_max(cmd, "n", dflt, max);
    cmdline_warn = NULL;
    return v;
}

HOST_TEST(cmdline_numbers_warn_when_not_used_as_given)
{
    /* Good values: used, nothing said. */
    CHECK(u64_warned("n=42", 10, UINT64_MAX) == 42 && warned.calls == 0);
    CHECK(u64_warned("n=0x2a", 10, UINT64_MAX) == 42 && warned.calls == 0);
    CHECK(u64_warned("n=2K", 10, UINT64_MAX) == 2048 && warned.calls == 0);
    CHECK(u64_warned("n=0", 10, UINT64_MAX) == 0 && warned.calls == 0);
    CHECK(u64_warned("n=18446744073709551615", 10, UINT64_MAX) == UINT64_MAX && warned.calls == 0);
    CHECK(u64_warned("other=abc", 10, UINT64_MAX) == 10 && warned.calls == 0);   /* absent */

    /* Values that do not parse: the default is used, and said so. */
    static const struct { const char *cmd, *given, *why; } bad[] = {
        { "n=abc", "abc", "not a number" },
        { "n=-1", "-1", "negative" },
        { "n=99999999999999999999999", "99999999999999999999999", "too large for 64 bits" },
        { "n=18446744073709551616", "18446744073709551616", "too large for 64 bits" },
        { "n=0x10000000000000000", "0x10000000000000000", "too large for 64 bits" },
        { "n=17179869184G", "17179869184G", "too large for 64 bits" },
        { "n=12q", "12q", "not a number" },
        { "n=12KK", "12KK", "not a number" },
        { "n=0x", "0x", "not a number" },
        { "n=K", "K", "not a number" },
        { "n=", "", "no value" },
        { "n", "", "no value" },
        { "n=5 n=x5", "x5", "not a number" },          /* the last word counts */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = u64_warned(bad[i].cmd, 10, UINT64_MAX);
        CHECKF(v == 10 && warned.calls == 1 && !strcmp(warned.key, "n") &&
               !strcmp(warned.given, bad[i].given) && warned.used == 10 &&
               !strcmp(warned.why, bad[i].why),
               "\"%s\": got %llu, %u warning(s): %s=\"%s\" used %llu (%s)", bad[i].cmd,
               (unsigned long long)v, warned.calls, warned.key, warned.given,
               (unsigned long long)warned.used, warned.why);
    }
    /* A value longer than any buffer is parsed whole, never cut short
     * into some other number. */
    CHECK(u64_warned("n=000000000000000000000000000000000000000000000000007", 10, UINT64_MAX) == 7 &&
          warned.calls == 0);
    CHECK(u64_warned("n=100000000000000000000000000000000000000000000000000", 10, UINT64_MAX) == 10 &&
          warned.calls == 1);

    /* Clamped: the maximum is used, and said so. */
    CHECK(u64_warned("n=4294967296", 10, UINT32_MAX) == UINT32_MAX && warned.calls == 1 &&
          !strcmp(warned.given, "4294967296") && warned.used == UINT32_MAX &&
          !strcmp(warned.why, "above the maximum"));
    CHECK(u64_warned("n=4294967295", 10, UINT32_MAX) == UINT32_MAX && warned.calls == 0);

    /* With no listener the values are the same, silently. */
    CHECK(cmdline_u64("n=abc", "n", 7) == 7);
    CHECK(cmdline_u64_max("n=9", "n", 7, 8) == 8);
}

/* A command line of n words "w0001=..."; harness words spliced in. */
static char *long_cmdline(unsigned words, const char *tail)
{
    size_t cap = words * 16 + strlen(tail) + 2;
    char *s = malloc(cap);
    size_t pos = 0;

    for (unsigned i = 0; i < words; i++)
        pos += snprintf(s + pos, cap - pos, "%sw%04u=xxxxx", i ? " " : "", i);
    snprintf(s + pos, cap - pos, "%s%s", *tail ? " " : "", tail);
    return s;
}

/* Is every word of kept a word of orig, in the same order? */
static bool words_in_order(const char *kept, const char *orig)
{
    const char *o = orig;

    for (const char *k = kept; *k;) {
        size_t n = strcspn(k, " ");
        bool found = false;
        while (*o && !found) {
            o += strspn(o, " \t");
            size_t m = strcspn(o, " \t");
            found = m == n && !strncmp(o, k, n);
            o += m;
        }
        if (!found)
            return false;
        k += n;
        k += strspn(k, " ");
    }
    return true;
}

HOST_TEST(cmdline_keep_fits)
{
    char dst[64];
    struct cmdline_keep_report rep;
    const char *s = "  a=1\tselftest=boot  b ";

    CHECK(cmdline_keep(dst, sizeof(dst), s, strlen(s), &rep) == strlen(s));
    CHECK(!strcmp(dst, s) && !rep.truncated && rep.given == strlen(s) && rep.kept == strlen(s));
    CHECK(rep.cut_at == strlen(s) && !rep.words_dropped && !rep.harness_after_cut);
    /* Exactly cap - 1 bytes still fits. */
    char full[64];
    memset(full, 'x', 63);
    CHECK(cmdline_keep(dst, sizeof(dst), full, 63, &rep) == 63 && !rep.truncated);
    CHECK(cmdline_keep(dst, sizeof(dst), "", 0, &rep) == 0 && dst[0] == '\0' && !rep.truncated);
}

HOST_TEST(cmdline_keep_too_long)
{
    static char dst[2048];
    struct cmdline_keep_report rep;
    const char *tail = "selftest=boot,arch selftest.fail=1 other=1 expect.platform=bare";
    char *s = long_cmdline(300, tail);         /* 300 x 12 bytes, then the tail */
    size_t len = strlen(s);

    size_t kept = cmdline_keep(dst, sizeof(dst), s, len, &rep);
    CHECK(rep.truncated && rep.given == len && rep.kept == kept && kept == strlen(dst));
    CHECK(kept <= sizeof(dst) - 1);
    /* Whole words only, in their order; the harness's words survive. */
    CHECK(words_in_order(dst, s));
    CHECK(strstr(dst, " selftest=boot,arch selftest.fail=1 expect.platform=bare") != NULL);
    CHECK(!strstr(dst, "other=1"));
    char v[32];
    CHECK(cmdline_find(dst, "expect.platform", v, sizeof(v)) && !strcmp(v, "bare"));
    CHECK(cmdline_find(dst, "selftest", v, sizeof(v)) && !strcmp(v, "boot,arch"));
    CHECK(cmdline_bool(dst, "selftest.fail", false));
    /* The kept words are a prefix of the original up to cut_at. */
    CHECK(rep.cut_at < len && !strncmp(dst, s, rep.cut_at - 1) && s[rep.cut_at - 1] == ' ');
    CHECK(!strncmp(s + rep.cut_at, "w", 1));
    CHECK(rep.harness_after_cut == 3 && rep.harness_dropped == 0);
    /* Every word is kept or counted as dropped. */
    unsigned kept_words = 1;
    for (const char *p = dst; *p; p++)
        kept_words += *p == ' ';
    CHECK(kept_words + rep.words_dropped == 300 + 4);
    /* As much as fits is kept: one more word would not have. */
    CHECK(kept + 1 + 11 > sizeof(dst) - 1);
    free(s);
}

HOST_TEST(cmdline_keep_edge_cases)
{
    char dst[32];
    struct cmdline_keep_report rep;

    /* One word longer than the buffer: nothing of it is kept. */
    const char *huge = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa selftest=x";
    cmdline_keep(dst, sizeof(dst), huge, strlen(huge), &rep);
    CHECK(!strcmp(dst, "selftest=x") && rep.cut_at == 0 && rep.words_dropped == 1);
    /* Harness words alone overflow: the later ones are kept (last wins). */
    const char *many = "selftest=aaaaaaaaaa selftest=bbbbbbbbbb selftest=cccccccccc";
    cmdline_keep(dst, sizeof(dst), many, strlen(many), &rep);
    CHECK(!strcmp(dst, "selftest=cccccccccc") && rep.harness_dropped == 2);
    /* Not harness words: prefixes of them, or other keys that start alike. */
    CHECK(cmdline_is_harness_word("selftest", 8));
    CHECK(cmdline_is_harness_word("selftest=all", 12));
    CHECK(cmdline_is_harness_word("selftest.hang=1", 15));
    CHECK(cmdline_is_harness_word("expect.platform=dom0", 20));
    CHECK(!cmdline_is_harness_word("selftests=1", 11));
    CHECK(!cmdline_is_harness_word("selftest.", 9));
    CHECK(!cmdline_is_harness_word("expect", 6));
    CHECK(!cmdline_is_harness_word("expected.x=1", 12));
    CHECK(!cmdline_is_harness_word("x=selftest", 10));
    /* Whitespace of any kind separates words; the copy uses single spaces. */
    const char *ws = "a=1\t\tb=2\n\nselftest=boot   ccccccccccccccccccccccc";
    cmdline_keep(dst, sizeof(dst), ws, strlen(ws), &rep);
    CHECK(!strcmp(dst, "a=1 b=2 selftest=boot") && rep.cut_at == strlen(ws) - 23);
}

HOST_TEST(printf_formats)
{
    char b[64];

    snprintf(b, sizeof(b), "%d|%5d|%-5d|%05d|%x|%X|%llx", -42, 42, 42, 42, 0xbeef, 0xbeef,
             0x123456789abcdefull);
    CHECK(!strcmp(b, "-42|   42|42   |00042|beef|BEEF|123456789abcdef"));
    snprintf(b, sizeof(b), "%s|%.3s|%8s|%-4s|%c|%%|%u", "pvhk", "abcdef", "r", "l", 'z', 7u);
    CHECK(!strcmp(b, "pvhk|abc|       r|l   |z|%|7"));
    snprintf(b, sizeof(b), "%016llx|%lu|%zu", 0x10ull, 18446744073709551615ul, (size_t)3);
    CHECK(!strcmp(b, "0000000000000010|18446744073709551615|3"));
    /* Truncation: NUL-terminated, return value is the full length. (The
     * size goes through a volatile so the compiler does not warn.) */
    volatile size_t five = 5;
    CHECK(snprintf(b, five, "%s", "abcdefgh") == 8 && !strcmp(b, "abcd"));
    CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
    snprintf(b, sizeof(b), "%lld", -9223372036854775807ll - 1);
    CHECK(!strcmp(b, "-9223372036854775808"));
}

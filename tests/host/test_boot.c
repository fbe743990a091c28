/* SPDX-License-Identifier: BSD-2-Clause */
/* Host tests of the boot path's pure pieces: start_info checks, the command
 * line parser (its warnings, and what is kept of a line too long for the
 * kernel's buffer), and the kernel's printf (common/printf.c: in the host build it
 * is the snprintf every test links, so it is checked against fixed strings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/platform.h>
#include <pvhk/start_info.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>
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

/* A start_info as a loader lays it out, in host memory (pvhk reads physical
 * addresses as pointers; here the addresses are the host's). */
static struct {
    struct hvm_start_info si;
    struct hvm_modlist_entry mods[2];
    struct hvm_memmap_table_entry map[BOOT_MEMMAP_MAX + 1];
    char cmdline[64], mod0[16];
} fake;

static struct boot_info bi;
static char cmd[64];

static uint64_t addr(const void *p) { return (uint64_t)(uintptr_t)p; }

static const char *read_fake(uint32_t magic, uint32_t version, uint32_t flags, unsigned entries)
{
    memset(&fake, 0, sizeof(fake));
    fake.si.magic = magic;
    fake.si.version = version;
    fake.si.flags = flags;
    fake.si.rsdp_paddr = 0xe0000;
    snprintf(fake.cmdline, sizeof(fake.cmdline), "selftest=boot expect.platform=domU");
    fake.si.cmdline_paddr = addr(fake.cmdline);
    snprintf(fake.mod0, sizeof(fake.mod0), "initrd");
    fake.mods[0] = (struct hvm_modlist_entry){ .paddr = 0x200000, .size = 0x1000,
                                               .cmdline_paddr = addr(fake.mod0) };
    fake.si.modlist_paddr = addr(fake.mods);
    fake.si.nr_modules = 1;
    for (unsigned i = 0; i < entries; i++)
        fake.map[i] = (struct hvm_memmap_table_entry){ .addr = i * 0x10000ull, .size = 0x1000,
                                                       .type = XEN_HVM_MEMMAP_TYPE_RAM };
    fake.si.memmap_paddr = addr(fake.map);
    fake.si.memmap_entries = entries;
    memset(&bi, 0xa5, sizeof(bi));
    memset(cmd, 'x', sizeof(cmd));
    return start_info_read(&bi, cmd, sizeof(cmd), addr(&fake.si));
}

/* One read copies every field once; what the loader writes afterwards does
 * not reach the copy. */
HOST_TEST(start_info_read_copies)
{
    REQUIRE(read_fake(XEN_HVM_START_MAGIC_VALUE, 1, 0, 3) == NULL);
    CHECK(bi.header_ok && bi.refusal[0] == '\0');
    CHECK(bi.start_info_paddr == addr(&fake.si));
    CHECK(bi.version == 1 && bi.flags == 0 && bi.rsdp_paddr == 0xe0000);
    CHECK(!strcmp(cmd, "selftest=boot expect.platform=domU"));
    CHECK(bi.cmdline_len == strlen(fake.cmdline) && !bi.cmdline_rep.truncated);
    CHECK(bi.nr_modules == 1 && bi.modules[0].paddr == 0x200000 && bi.modules[0].size == 0x1000);
    CHECK(!strcmp(bi.modules[0].cmdline, "initrd"));
    CHECK(bi.nr_memmap == 3 && bi.memmap_entries_given == 3);
    CHECK(bi.memmap[2].addr == 0x20000 && bi.memmap[2].type == XEN_HVM_MEMMAP_TYPE_RAM);
    CHECK(bi.memmap_source && !strcmp(bi.memmap_source, "start_info v1 memmap"));
    fake.map[2].addr = 0xdead000;
    fake.si.flags = SIF_INITDOMAIN;
    CHECK(bi.memmap[2].addr == 0x20000 && bi.flags == 0);

    /* Version 0 has no memmap: whatever lies after its fields is not read. */
    REQUIRE(read_fake(XEN_HVM_START_MAGIC_VALUE, 0, SIF_INITDOMAIN | SIF_PRIVILEGED, 3) == NULL);
    CHECK(bi.nr_memmap == 0 && bi.memmap_source == NULL);
    CHECK(bi.flags == (SIF_INITDOMAIN | SIF_PRIVILEGED));

    /* A command line longer than the buffer is cut by cmdline_keep(). */
    memset(fake.cmdline, 'a', sizeof(fake.cmdline) - 1);
    fake.cmdline[sizeof(fake.cmdline) - 1] = '\0';
    REQUIRE(start_info_read(&bi, cmd, 16, addr(&fake.si)) == NULL);
    CHECK(bi.cmdline_len == sizeof(fake.cmdline) - 1 && bi.cmdline_rep.truncated);
    CHECK(strlen(cmd) < 16 && bi.cmdline_rep.kept == strlen(cmd));
}

/* A refused start_info is named, and nothing behind its header is read. */
HOST_TEST(start_info_read_refuses)
{
    const char *why;

    why = read_fake(0x12345678, 1, SIF_INITDOMAIN, 3);
    REQUIRE(why != NULL);
    CHECK(strstr(why, "bad magic 0x12345678") != NULL && why == bi.refusal);
    CHECK(!bi.header_ok && bi.flags == 0 && bi.nr_memmap == 0 && bi.nr_modules == 0);
    CHECK(cmd[0] == '\0');

    why = read_fake(XEN_HVM_START_MAGIC_VALUE, 2, SIF_INITDOMAIN, 3);
    REQUIRE(why != NULL);
    CHECK(strstr(why, "unknown version 2") != NULL && !bi.header_ok);

    /* One entry more than pvhk keeps: refused, though the flags were read. */
    why = read_fake(XEN_HVM_START_MAGIC_VALUE, 1, SIF_INITDOMAIN, BOOT_MEMMAP_MAX + 1);
    REQUIRE(why != NULL);
    CHECK(strstr(why, "memmap has 1025 entries, more than pvhk keeps (1024)") != NULL);
    CHECK(bi.header_ok && bi.flags == SIF_INITDOMAIN && bi.nr_memmap == 0);
    CHECK(read_fake(XEN_HVM_START_MAGIC_VALUE, 1, 0, BOOT_MEMMAP_MAX) == NULL);
    CHECK(bi.nr_memmap == BOOT_MEMMAP_MAX);

    why = start_info_read(&bi, cmd, sizeof(cmd), 0);
    REQUIRE(why != NULL);
    CHECK(strstr(why, "no hvm_start_info pointer") != NULL && !bi.header_ok);
}

/* The platform from Xen's CPUID base and the start_info read. */
HOST_TEST(platform_from_start_info)
{
    REQUIRE(read_fake(XEN_HVM_START_MAGIC_VALUE, 0, SIF_INITDOMAIN | SIF_PRIVILEGED, 0) == NULL);
    CHECK(platform_choose(0x40000000, &bi) == PLATFORM_XEN_DOM0);
    CHECK(platform_choose(0, &bi) == PLATFORM_BARE);
    REQUIRE(read_fake(XEN_HVM_START_MAGIC_VALUE, 1, 0, 1) == NULL);
    CHECK(platform_choose(0x40000100, &bi) == PLATFORM_XEN_DOMU);
    /* A refused header's flags are not believed (start_info_read() leaves
     * them zero; platform_choose() does not rely on that). */
    CHECK(read_fake(0, 0, SIF_INITDOMAIN, 0) != NULL);
    CHECK(platform_choose(0x40000000, &bi) == PLATFORM_XEN_DOMU);
    bi.flags = SIF_INITDOMAIN;
    CHECK(platform_choose(0x40000000, &bi) == PLATFORM_XEN_DOMU);
    CHECK(!strcmp(platform_name(PLATFORM_BARE), "bare"));
    CHECK(!strcmp(platform_name(PLATFORM_XEN_DOM0), "dom0"));
    CHECK(!strcmp(platform_name(PLATFORM_XEN_DOMU), "domU"));
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

/* Host tests of the boot path's pure pieces: start_info checks, the command
 * line parser, and the kernel's printf (common/printf.c: in the host build it
 * is the snprintf every test links, so it is checked against fixed strings). */
#include <stdio.h>
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

/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel command line parsing (pure). Words are `key` or `key=value`. */
#ifndef PVHK_CMDLINE_H
#define PVHK_CMDLINE_H

#include <pvhk/types.h>

/*
 * Find the last `key=value` (or bare `key`) word. Copies the value (empty for
 * a bare key) into buf, NUL-terminated and truncated to len-1. Returns true if
 * the key is present.
 */
bool cmdline_find(const char *cmdline, const char *key, char *buf, size_t len);
/* Bare key, or value 1/y/yes/on, is true; 0/n/no/off false; else dflt. */
bool cmdline_bool(const char *cmdline, const char *key, bool dflt);
/*
 * Decimal or 0x-hex, with an optional K/M/G suffix. dflt if the key is
 * absent. A value that is not such a number (no value, a sign, other
 * characters, more than 64 bits) gives dflt, and one above max gives max:
 * both are reported through cmdline_warn.
 */
uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t dflt);
uint64_t cmdline_u64_max(const char *cmdline, const char *key, uint64_t dflt, uint64_t max);
/* Is `item` one of the comma-separated entries of list? */
bool list_contains(const char *list, const char *item);

/*
 * Told of every value cmdline_u64*() could not use as given: the key, the
 * value's text (given, given_len bytes, not NUL-terminated), the value used
 * instead and why. NULL (the default): nothing is told. The kernel prints a
 * boot-log warning (boot/start_info.c).
 */
typedef void (*cmdline_warn_fn)(const char *key, const char *given, size_t given_len,
                                uint64_t used, const char *why);
extern cmdline_warn_fn cmdline_warn;

/*
 * The words the test harness relies on: `selftest`, `selftest.*` and
 * `expect.*` (w is n bytes, one word).
 */
bool cmdline_is_harness_word(const char *w, size_t n);

struct cmdline_keep_report {
    size_t given;               /* bytes in the original */
    size_t kept;                /* bytes in the copy */
    bool truncated;             /* given > cap - 1: words were dropped */
    size_t cut_at;              /* offset in the original of the first word
                                   not kept (given if none) */
    unsigned words_dropped;     /* other words not kept */
    unsigned harness_after_cut; /* harness words kept from after cut_at */
    unsigned harness_dropped;   /* harness words not kept (no room at all) */
};

/*
 * Copy the command line src (len bytes) into dst (cap bytes), NUL-terminated.
 * One that fits is copied as it is. One that does not keeps whole words
 * only, in their order, joined by single spaces: the words from the start up
 * to the first one that no longer fits, plus every harness word from anywhere
 * (room for them is set aside first; if even they do not all fit, the later
 * ones are kept, since the last occurrence of a key wins). Returns the bytes
 * kept.
 */
size_t cmdline_keep(char *dst, size_t cap, const char *src, size_t len,
                    struct cmdline_keep_report *rep);

/* The kernel's own copy of the command line (boot/start_info.c). */
extern char boot_cmdline[];

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the grant-table self-tests share (test_gnttab.c, test_peer.c): the
 * scratch pool's level, the P2M account's check, and the xenstore steps
 * two domains take to meet in one directory.
 */
#ifndef PVHK_TESTS_GNT_UTIL_H
#define PVHK_TESTS_GNT_UTIL_H

#include <pvhk/grant.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <pvhk/xenstore.h>

/* Free scratch frames, plus the table frames taken from the pool (for
 * good: a grant-table frame is never unmapped) since we started. */
static inline uint64_t gnt_pool_level(void)
{
    return scratch_available(&scratch) + gnt_book.nr_frames;
}

static inline bool gnt_account_matches(struct ktest_ctx *t)
{
    struct p2m_result r;
    int rc = p2m_check(&p2m, &r);

    if (rc)
        ktest_note(t, "account %ld != reservation %ld", r.expected, r.reservation);
    return rc == 0;
}

static inline int meet_put(const char *dir, const char *key, const char *val)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write_str(xenbus(), 0, path, val);
}

/* Poll dir/key every 20 ms until it reads `want` (or anything, if want is
 * NULL), for at most ns; its value is left in buf. */
static inline int meet_wait(const char *dir, const char *key, const char *want, char *buf,
                            size_t bufsz, uint64_t ns)
{
    char path[96];
    uint64_t t0 = now_ns();
    uint32_t len;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    while (now_ns() - t0 < ns) {
        int rc = xs_read(xenbus(), 0, path, buf, bufsz, &len);
        if (rc == 0 && (!want || strcmp(buf, want) == 0))
            return 0;
        /* Not there yet, or not open to us yet (perms come after mkdir). */
        if (rc && rc != -XEN_ENOENT && rc != -XEN_EACCES)
            return rc;
        xsleep_ns(20ull * 1000 * 1000);
    }
    return -XEN_ETIMEDOUT;
}

#endif

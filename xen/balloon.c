/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The balloon driver: follow the toolstack's memory/target.
 *
 * `xl mem-set` writes memory/target (KiB) under the domain's path and
 * lowers or raises the domain's maximum reservation; the guest is expected
 * to give pages back to Xen or take them, and `xl list` shows what Xen
 * then counts for the domain: its tot_pages, from the hypervisor, not from
 * anything the guest writes (libxl's domain info takes current_memkb from
 * the domain's page count). Linux's balloon (drivers/xen/xen-balloon.c)
 * accordingly writes nothing back; it only reads memory/target, and so does
 * this driver. Nothing else in memory/ is the guest's to write: libxl
 * leaves it read-only to the domain.
 *
 * What the target means here: the pages of guest RAM the toolstack gave
 * us. pvhk released part of that RAM at boot to make guest-physical space
 * for its scratch pool (shared info, grant frames: Xen's pages, which Xen
 * does not count as ours); that RAM stays unbacked, so the frames we keep
 * backed are the target less the pool. At boot the two agree with the
 * trimmed reservation, so the initial watch event changes nothing; later
 * targets move the backed count by exactly the toolstack's step, and `xl
 * list` moves with it. (Linux's HVM balloon gets the same effect by
 * measuring the gap between static-max and its own count at the first
 * event and subtracting it from every later target.)
 */
#include <pvhk/printk.h>
#include <pvhk/spinlock.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>

/* Never balloon below this: the kernel needs room to keep running. */
#define BALLOON_MIN_PAGES   1024    /* 4 MiB */

struct balloon_state balloon;

/* RAM the boot path released into the scratch pool (domU). */
static uint64_t pool_ram_pages(void)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < extra_mem.nr_regions; i++)
        if (extra_mem.region[i].origin == EXTRA_MEM_RELEASED_RAM)
            n += extra_mem.region[i].nr_pfns;
    return n;
}

static void target_changed(void *arg, const char *path, const char *token)
{
    struct xs_conn *c = xenbus();
    struct p2m_result res;
    char val[24];
    uint32_t len, kib;
    int rc;

    (void)arg;
    (void)path;
    (void)token;
    rc = xs_read(c, 0, "memory/target", val, sizeof(val), &len);
    if (rc == -XEN_ENOENT)
        return;                         /* no target: nothing to follow */
    if (!rc)
        rc = xs_parse_u32(val, len, &kib);
    if (rc) {
        printk("pvhk: balloon: cannot read memory/target: %s\n", xs_errno_name(rc));
        return;
    }
    uint64_t pages = kib >> (PAGE_SHIFT - 10);
    uint64_t want = pages > balloon.pool_pages ? pages - balloon.pool_pages : 0;
    if (want < BALLOON_MIN_PAGES) {
        printk("pvhk: balloon: target %u KiB is below the floor: keeping %u pages\n", kib,
               BALLOON_MIN_PAGES);
        want = BALLOON_MIN_PAGES;
    }
    balloon.events++;
    balloon.target_kib = kib;
    balloon.wanted = want;
    spin_lock(&p2m_lock);
    rc = p2m_set_target(&p2m, want, &res);
    balloon.reached = p2m.backed;
    spin_unlock(&p2m_lock);
    balloon.rc = rc;
    balloon.reservation = res.reservation;
    if (rc || p2m.backed != want) {
        balloon.failures++;
        p2m_print_result("balloon", rc, &res);
    }
    printk("pvhk: balloon: target %u KiB, reached %llu pages (wanted %llu; %llu moved in "
           "%llu hypercalls; reservation %ld pages, %ld KiB)%s\n", kib,
           (unsigned long long)balloon.reached, (unsigned long long)want,
           (unsigned long long)res.done, (unsigned long long)res.hypercalls, res.reservation,
           res.reservation << (PAGE_SHIFT - 10), rc ? " FAILED" : "");
}

int balloon_init(void)
{
    struct xs_conn *c = xenbus();

    if (!c)
        return -XEN_ENODEV;
    if (!p2m_ready)
        return -XEN_ENODEV;
    balloon.pool_pages = pool_ram_pages();
    int slot = xs_watch(c, "memory/target", target_changed, NULL);
    if (slot < 0)
        return slot;
    balloon.active = true;
    printk("pvhk: balloon: following memory/target (%llu pages of RAM are the scratch pool's)\n",
           (unsigned long long)balloon.pool_pages);
    return 0;
}

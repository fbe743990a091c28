/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's guest-physical memory under Xen. The P2M core's hypervisor
 * backend, p2m_xen_ops: each op is one XENMEM_* call on DOMID_SELF
 * (xen/include/public/memory.h). decrease_reservation and populate_physmap
 * return the number of extents done, stopping at the first one Xen could
 * not do; a negative return is a whole-call error. Also here: the kernel's
 * one P2M, extra memory and scratch pool, the scratch-frame helpers, and
 * what Xen backs behind the map's non-RAM ranges (p2m_backing_scan).
 */
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/xen.h>
#include <pvhk/e820.h>
#include <pvhk/page_alloc.h>
#include <pvhk/spinlock.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>

struct p2m p2m;
struct extra_mem extra_mem;
struct extra_mem_report extra_mem_rep;
struct scratch_pool scratch;
bool p2m_ready, scratch_ready;
const char *scratch_source = "none";

static long reservation_op(unsigned cmd, const uint64_t *gpfns, unsigned nr, unsigned order)
{
    struct xen_memory_reservation r = {
        .nr_extents = nr,
        .extent_order = order,
        .mem_flags = 0,
        .domid = DOMID_SELF,
    };
    /* xen_pfn_t is 64-bit on x86-64, so the list is passed as it is. */
    set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(uintptr_t)gpfns);
    return xen_memory_op(cmd, &r);
}

static long x_decrease(void *ctx, const uint64_t *gpfns, unsigned nr, unsigned order)
{
    (void)ctx;
    return reservation_op(XENMEM_decrease_reservation, gpfns, nr, order);
}

static long x_populate(void *ctx, const uint64_t *gpfns, unsigned nr, unsigned order)
{
    (void)ctx;
    return reservation_op(XENMEM_populate_physmap, gpfns, nr, order);
}

static long x_current(void *ctx) { (void)ctx; return xen_current_reservation(); }
static long x_maximum(void *ctx) { (void)ctx; return xen_maximum_reservation(); }

static void x_scrub(void *ctx, uint64_t pfn, uint64_t count)
{
    (void)ctx;
    /* The direct map is an identity map covering RAM and UNUSABLE space. */
    memset((void *)(uintptr_t)PFN_PHYS(pfn), 0, count << PAGE_SHIFT);
}

const struct p2m_ops p2m_xen_ops = {
    .decrease_reservation = x_decrease,
    .populate_physmap = x_populate,
    .current_reservation = x_current,
    .maximum_reservation = x_maximum,
    .scrub = x_scrub,
};

spinlock_t p2m_lock = SPINLOCK_INIT("p2m");

int scratch_frames_get(uint64_t count, uint64_t align, uint64_t *pfn)
{
    int rc;

    if (!scratch_ready)
        return -XEN_ENODEV;
    spin_lock(&p2m_lock);
    rc = scratch_get(&scratch, count, align, pfn);
    spin_unlock(&p2m_lock);
    return rc;
}

int scratch_frames_put_run(uint64_t pfn, uint64_t count)
{
    int rc;

    spin_lock(&p2m_lock);
    rc = scratch_put(&scratch, pfn, count, NULL);
    spin_unlock(&p2m_lock);
    return rc;
}

int scratch_frames_put(uint64_t pfn, uint64_t count)
{
    uint64_t bad = 0;
    int rc;

    spin_lock(&p2m_lock);
    rc = scratch_put(&scratch, pfn, count, &bad);
    spin_unlock(&p2m_lock);

    if (rc)
        printk("pvhk: scratch: refused to take back 0x%llx+%llu (frame 0x%llx): %d\n",
               (unsigned long long)pfn, (unsigned long long)count, (unsigned long long)bad, rc);
    return rc;
}

void p2m_print_result(const char *what, int rc, const struct p2m_result *r)
{
    printk("pvhk: p2m: %s: rc %d, %llu of %llu frames, %llu hypercalls, reservation %ld "
           "(expected %ld)%s%s%s%s%s%s%s\n", what, rc, (unsigned long long)r->done,
           (unsigned long long)r->requested, (unsigned long long)r->hypercalls, r->reservation,
           r->expected, r->flags & P2M_R_SHORT ? " SHORT" : "",
           r->flags & P2M_R_REFUSED ? " REFUSED" : "", r->flags & P2M_R_MISMATCH ? " MISMATCH" : "",
           r->flags & P2M_R_CALL_ERROR ? " CALL-ERROR" : "",
           r->flags & P2M_R_HEAP_EMPTY ? " HEAP-EMPTY" : "",
           r->flags & P2M_R_NO_ROOM ? " NO-ROOM" : "",
           r->flags & P2M_R_BAD_COUNT ? " BAD-COUNT" : "");
}

/*
 * What Xen backs behind the map's non-RAM ranges, asked one frame at a time
 * with xen_gfn_mem_type() (xen/ops.c says what its answers mean).
 */
const char *p2m_bk_class_name(enum p2m_bk_class c)
{
    static const char *const n[P2M_BK_NR] = {
        "RESERVED", "ACPI", "NVS", "UNUSABLE", "other", "gap",
    };
    return c < P2M_BK_NR ? n[c] : "?";
}

static enum p2m_bk_class bk_class(uint32_t type)
{
    switch (type) {
    case E820_RESERVED: return P2M_BK_RESERVED;
    case E820_ACPI:     return P2M_BK_ACPI;
    case E820_NVS:      return P2M_BK_NVS;
    case E820_UNUSABLE: return P2M_BK_UNUSABLE;
    default:            return P2M_BK_OTHER;
    }
}

static void bk_note_run(struct p2m_backing *b, enum p2m_bk_class c, uint64_t f)
{
    struct p2m_bk_run *r = b->nr_runs ? &b->run[b->nr_runs - 1] : NULL;

    if (r && r->cls == c && r->pfn + r->count == f) {
        r->count++;
    } else if (b->nr_runs < P2M_BK_RUNS) {
        b->run[b->nr_runs++] = (struct p2m_bk_run){ f, 1, c };
    } else {
        b->runs_dropped++;
    }
}

static void bk_frame(struct p2m_backing *b, enum p2m_bk_class c, uint64_t f,
                     const struct page_alloc *pa)
{
    struct p2m_bk_count *k = &b->c[c];
    unsigned int type = 0;
    long rc = xen_gfn_mem_type(f, &type);
    enum pa_state st;

    b->queries++;
    k->asked++;
    if (rc) {
        if (!b->error) {
            b->error = rc;
            b->error_pfn = f;
        }
        return;
    }
    if (type != HVMMEM_ram_rw && type != HVMMEM_ram_ro)
        return;
    k->backed++;
    st = pa_state(pa, f);
    if (st == PA_RELEASED)
        k->released_backed++;
    else if (st != PA_OUTSIDE)
        k->accounted++;
    else
        bk_note_run(b, c, f);
}

static void bk_range(struct p2m_backing *b, enum p2m_bk_class c, uint64_t pfn,
                     uint64_t count, const struct page_alloc *pa, bool full)
{
    const uint64_t small = 2 * P2M_BK_EDGE + P2M_BK_SAMPLES;

    b->c[c].ranges++;
    b->c[c].frames += count;
    if (full || count <= small) {
        for (uint64_t f = pfn; f < pfn + count; f++)
            bk_frame(b, c, f, pa);
        return;
    }
    /* Both edges whole (where Xen places things next to a boundary), and
     * evenly spread samples of the middle. */
    uint64_t mid = count - 2 * P2M_BK_EDGE, step = mid / P2M_BK_SAMPLES;

    for (uint64_t i = 0; i < P2M_BK_EDGE; i++)
        bk_frame(b, c, pfn + i, pa);
    for (uint64_t i = 0; i < P2M_BK_SAMPLES; i++)
        bk_frame(b, c, pfn + P2M_BK_EDGE + i * step, pa);
    for (uint64_t i = count - P2M_BK_EDGE; i < count; i++)
        bk_frame(b, c, pfn + i, pa);
}

void p2m_backing_scan(const struct e820_map *map, const struct page_alloc *pa,
                      bool full, struct p2m_backing *out)
{
    uint64_t top = 0, next = 0;     /* end of the highest RAM range; next unseen pfn */

    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < map->nr; i++)
        if (map->entries[i].type == E820_RAM)
            top = PFN_DOWN(map->entries[i].addr) + e820_pages(&map->entries[i]);
    /* The map is sorted and disjoint (sanitised): gaps are what lies
     * between consecutive entries, walked only below the top of RAM (above
     * it lies nothing the guest was given). Non-RAM ranges are walked whole. */
    for (uint32_t i = 0; i < map->nr; i++) {
        const struct e820_entry *e = &map->entries[i];
        uint64_t s = PFN_DOWN(e->addr), n = e820_pages(e);

        if (s > next && next < top)
            bk_range(out, P2M_BK_GAP, next, MIN(s, top) - next, pa, full);
        if (e->type != E820_RAM)
            bk_range(out, bk_class(e->type), s, n, pa, full);
        next = s + n;
    }
}

/*
 * The P2M core's hypervisor backend: each op is one XENMEM_* call on
 * DOMID_SELF (xen/include/public/memory.h). decrease_reservation and
 * populate_physmap return the number of extents done, stopping at the
 * first one Xen could not do; a negative return is a whole-call error.
 */
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/xenmem.h>
#include <xen/memory.h>

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

long xen_current_reservation(void)
{
    domid_t self = DOMID_SELF;
    return xen_memory_op(XENMEM_current_reservation, &self);
}

long xen_maximum_reservation(void)
{
    domid_t self = DOMID_SELF;
    return xen_memory_op(XENMEM_maximum_reservation, &self);
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

int scratch_frames_get(uint64_t count, uint64_t align, uint64_t *pfn)
{
    if (!scratch_ready)
        return -XEN_ENODEV;
    return scratch_get(&scratch, count, align, pfn);
}

int scratch_frames_put(uint64_t pfn, uint64_t count)
{
    uint64_t bad = 0;
    int rc = scratch_put(&scratch, pfn, count, &bad);

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

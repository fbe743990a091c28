/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The scratch pool: hands out runs of unbacked frames from registered
 * extra memory for Xen to map things into. See include/pvhk/scratch.h
 * for the rules and docs/p2m.md for why.
 */
#include <pvhk/scratch.h>
#include <pvhk/string.h>
#include <pvhk/page_alloc.h>

void scratch_init(struct scratch_pool *sp, struct extra_mem *em,
                  const struct scratch_frame_ops *ops)
{
    memset(sp, 0, sizeof(*sp));
    sp->em = em;
    sp->ops = *ops;
}

static enum scratch_fstate fstate(const struct scratch_pool *sp, uint64_t pfn)
{
    return sp->ops.state(sp->ops.ft, pfn);
}

int scratch_register(struct scratch_pool *sp, uint64_t pfn, uint64_t count,
                     unsigned int flags, uint64_t *bad)
{
    if (count == 0 || pfn + count < pfn)
        return -XEN_EINVAL;
    /* Only unbacked frames: registering backed RAM would have Xen map
     * over a page we still hold. */
    for (uint64_t f = pfn; f < pfn + count; f++) {
        if (fstate(sp, f) != SCRATCH_F_AVAILABLE) {
            if (bad)
                *bad = f;
            return -XEN_EBUSY;
        }
    }
    return extra_mem_add(sp->em, pfn, count,
                         (flags & SCRATCH_FROM_RELEASED_RAM) ?
                         EXTRA_MEM_RELEASED_RAM : EXTRA_MEM_UNUSABLE);
}

/*
 * First run of `count` available frames in [start, end) whose first frame
 * is aligned; P2M_NO_FRAME-like ~0 if none. On a busy frame the search
 * jumps past it, so each frame is looked at about once per alignment slot.
 */
static uint64_t find_run(const struct scratch_pool *sp, uint64_t start,
                         uint64_t end, uint64_t count, uint64_t align)
{
    uint64_t c = ALIGN_UP(start, align);

    while (c >= start && c < end && end - c >= count) {
        uint64_t f = c;

        while (f < c + count && fstate(sp, f) == SCRATCH_F_AVAILABLE)
            f++;
        if (f == c + count)
            return c;
        c = ALIGN_UP(f + 1, align);
    }
    return ~0ULL;
}

int scratch_get(struct scratch_pool *sp, uint64_t count, uint64_t align,
                uint64_t *pfn)
{
    unsigned int n = sp->em->nr_regions;

    if (align == 0)
        align = 1;
    if (count == 0 || (align & (align - 1)))
        return -XEN_EINVAL;
    /*
     * Next fit: start where the last get ended, then the other regions,
     * then the start of the first one again; a run of single-frame gets
     * costs O(1) each instead of rescanning what is already out.
     */
    for (unsigned int k = 0; k <= n && n; k++) {
        unsigned int i = (sp->hint + k) % n;
        const struct extra_mem_region *r = &sp->em->region[i];
        uint64_t start = r->start_pfn, end = r->start_pfn + r->nr_pfns, c;

        if (k == 0 && sp->hint_pfn > start && sp->hint_pfn < end)
            start = sp->hint_pfn;
        c = find_run(sp, start, end, count, align);
        if (c == ~0ULL)
            continue;
        /* The frame table re-checks every frame (RELEASED -> SCRATCH). */
        if (sp->ops.claim(sp->ops.ft, c, count))
            continue;
        sp->hint = i;
        sp->hint_pfn = c + count;
        sp->nr_out += count;
        sp->st.gets++;
        *pfn = c;
        return 0;
    }
    sp->st.exhausted++;
    return -XEN_ENOMEM;
}

int scratch_put(struct scratch_pool *sp, uint64_t pfn, uint64_t count,
                uint64_t *bad)
{
    if (!extra_mem_contains(sp->em, pfn, count)) {
        sp->st.bad_puts++;
        if (bad)
            *bad = pfn;
        return -XEN_EINVAL;
    }
    for (uint64_t f = pfn; f < pfn + count; f++) {
        if (fstate(sp, f) != SCRATCH_F_OUT) {
            sp->st.bad_puts++;
            if (bad)
                *bad = f;
            return -XEN_ENOENT;
        }
    }
    if (sp->ops.unclaim(sp->ops.ft, pfn, count)) {
        sp->st.bad_puts++;
        return -XEN_EBUSY;
    }
    sp->nr_out -= count;
    sp->st.puts++;
    return 0;
}

uint64_t scratch_available(const struct scratch_pool *sp)
{
    uint64_t n = 0;

    for (unsigned int i = 0; i < sp->em->nr_regions; i++) {
        const struct extra_mem_region *r = &sp->em->region[i];

        for (uint64_t f = r->start_pfn; f < r->start_pfn + r->nr_pfns; f++)
            n += fstate(sp, f) == SCRATCH_F_AVAILABLE;
    }
    return n;
}

/* ---- the frame table: page_alloc ------------------------------------------ */
static enum scratch_fstate pa_op_state(void *ft, uint64_t pfn)
{
    switch (pa_state(ft, pfn)) {
    case PA_RELEASED:
        return SCRATCH_F_AVAILABLE;
    case PA_SCRATCH:
        return SCRATCH_F_OUT;
    default:
        return SCRATCH_F_BUSY;
    }
}

static int pa_op_claim(void *ft, uint64_t pfn, uint64_t count)
{
    return pa_scratch(ft, pfn, count);
}

static int pa_op_unclaim(void *ft, uint64_t pfn, uint64_t count)
{
    return pa_unscratch(ft, pfn, count, PA_RELEASED);
}

void scratch_pa_ops(struct scratch_frame_ops *ops, struct page_alloc *pa)
{
    ops->state = pa_op_state;
    ops->claim = pa_op_claim;
    ops->unclaim = pa_op_unclaim;
    ops->ft = pa;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The scratch pool: guest-physical frames for things Xen maps in (shared
 * info, grant-table frames, foreign and grant mappings).
 *
 * Frames come ONLY from registered extra memory (include/pvhk/extra_mem.h):
 * E820 UNUSABLE ranges on dom0, released RAM on a domU. Never from a map
 * hole: on a real dom0 a hole may be a PCI BAR window that a device claims
 * later (Linux's PVH dom0 balloon met that, xen-devel, 2024). Never over backed
 * RAM: Xen would drop our page and keep counting it (a leak).
 *
 * The frame table is the single truth: a frame the pool may hand out is
 * RELEASED (unbacked, owned by nobody), a frame handed out is SCRATCH.
 * The balloon (xen/p2m.c) populates RELEASED frames of the same
 * regions, so a frame the balloon took is FREE/INUSE and the pool will not
 * hand it out; a SCRATCH frame is never populated. Rules:
 *   - scratch_get() hands out only frames that are RELEASED and inside one
 *     registered region; it reports exhaustion as -XEN_ENOMEM.
 *   - scratch_put() takes back only frames that lie in a registered region
 *     and are SCRATCH (handed out): anything else is an error, never
 *     ignored; a double return is -XEN_ENOENT.
 */
#ifndef PVHK_SCRATCH_H
#define PVHK_SCRATCH_H

#include <pvhk/types.h>
#include <pvhk/extra_mem.h>

enum scratch_fstate {
    SCRATCH_F_AVAILABLE,    /* RELEASED: unbacked, nobody's */
    SCRATCH_F_OUT,          /* SCRATCH: handed out by the pool */
    SCRATCH_F_BUSY,         /* anything else (backed, in the heap, ...) */
};

/*
 * Frame-table access, one-to-one with page_alloc (scratch_pa_ops() is the
 * page_alloc implementation): state() is pa_state() folded to the three
 * cases above, claim() is pa_scratch(), unclaim() is pa_unscratch(...,
 * PA_RELEASED). claim/unclaim are all-or-nothing and return non-zero on
 * refusal.
 */
struct scratch_frame_ops {
    enum scratch_fstate (*state)(void *ft, uint64_t pfn);
    int (*claim)(void *ft, uint64_t pfn, uint64_t count);
    int (*unclaim)(void *ft, uint64_t pfn, uint64_t count);
    void *ft;
};

/* The header, not a forward declaration: under PA_IMPL_REF it names the
 * allocator struct page_ref, and this prototype must say the same. */
#include <pvhk/page_alloc.h>
/* Fill ops with the page allocator's implementation over pa. */
void scratch_pa_ops(struct scratch_frame_ops *ops, struct page_alloc *pa);

struct scratch_stats {
    uint64_t gets, puts;            /* successful calls */
    uint64_t exhausted;             /* gets that found no room */
    uint64_t bad_puts;              /* puts refused */
};

struct scratch_pool {
    struct extra_mem *em;
    struct scratch_frame_ops ops;
    uint64_t nr_out;                /* frames handed out now */
    unsigned int hint;              /* region to search first (next fit) */
    uint64_t hint_pfn;              /* and the frame in it */
    struct scratch_stats st;
};

/* Flags for scratch_register(). */
#define SCRATCH_FROM_RELEASED_RAM   0x1

void scratch_init(struct scratch_pool *sp, struct extra_mem *em,
                  const struct scratch_frame_ops *ops);

/*
 * Add [pfn, pfn + count) to the pool's regions. Every frame must already
 * be RELEASED in the frame table (on a domU: the P2M released them; with
 * SCRATCH_FROM_RELEASED_RAM they are recorded as released RAM, which
 * counts as UNUSABLE from now on). Returns 0, -XEN_EBUSY (a frame is not
 * RELEASED: pfn of it in *bad if bad), or extra_mem_add()'s error.
 */
int scratch_register(struct scratch_pool *sp, uint64_t pfn, uint64_t count,
                     unsigned int flags, uint64_t *bad);

/*
 * Hand out `count` contiguous frames, the first aligned to `align` frames
 * (a power of two; 0 or 1 for none), all in one region. Returns 0 and the
 * first frame in *pfn, -XEN_EINVAL for bad arguments, -XEN_ENOMEM if no
 * such run of available frames exists.
 */
int scratch_get(struct scratch_pool *sp, uint64_t count, uint64_t align,
                uint64_t *pfn);

/*
 * Take back [pfn, pfn + count). Returns 0, or (nothing changes):
 *   -XEN_EINVAL  not inside one registered region (not scratch space);
 *   -XEN_ENOENT  a frame is not handed out (double return): *bad says which;
 *   -XEN_EBUSY   the frame table refused.
 */
int scratch_put(struct scratch_pool *sp, uint64_t pfn, uint64_t count,
                uint64_t *bad);

/* Frames available now (a walk over every region: for logs and tests). */
uint64_t scratch_available(const struct scratch_pool *sp);

#endif
